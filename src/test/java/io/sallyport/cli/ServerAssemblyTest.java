package io.sallyport.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sallyport.config.ConfigException;
import io.sallyport.net.TargetResolver;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The second half of validation: what the config points at must be usable before the server starts. */
class ServerAssemblyTest {
    @TempDir
    Path dir;

    private Path config(String revoked) throws Exception {
        Path file = dir.resolve("sallyport.yaml");
        Files.writeString(file, """
                identity:
                  certificates:
                    revoked: %s
                """.formatted(revoked));
        return file;
    }

    @Test
    void missingRevocationFileIsAProblemAtItsLine() throws Exception {
        Path file = config("revoked_keys");

        assertThatThrownBy(() -> ServerAssembly.load(file)).isInstanceOfSatisfying(ConfigException.class, e ->
                assertThat(e.problems()).singleElement().hasToString(file + ":3: identity.certificates.revoked: revocation file "
                        + dir.resolve("revoked_keys") + " does not exist"));
    }

    @Test
    void malformedRevocationFileIsAProblemAtItsLine() throws Exception {
        Files.write(dir.resolve("revoked.krl"), "SSHKRL\n\0\0\0\0\2".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        Path file = config("revoked.krl");

        assertThatThrownBy(() -> ServerAssembly.load(file)).isInstanceOfSatisfying(ConfigException.class, e ->
                assertThat(e.problems()).singleElement().satisfies(p ->
                        assertThat(p.message()).endsWith("malformed KRL: KRL format version 2 is not supported (only 1)")));
    }

    @Test
    void revocationFileIsLoadedForTheServer() throws Exception {
        Files.writeString(dir.resolve("revoked_keys"), "# nothing revoked yet\n");
        ServerAssembly.Validated v = ServerAssembly.validate(ServerAssembly.load(config("revoked_keys")), TargetResolver.system());

        assertThat(v.revoked()).hasValueSatisfying(r -> assertThat(r.current().description()).isEqualTo("list of 0 public keys"));
    }
}
