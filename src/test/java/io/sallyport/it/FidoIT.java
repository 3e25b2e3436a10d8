package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.LoopbackEcho;
import io.sallyport.testing.OpenSsh;
import io.sallyport.testing.SoftwareSecurityKey;
import io.sallyport.testing.SoftwareSecurityKey.KeyType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * FIDO keys, end to end without a device: keys enrolled by stock {@code ssh-keygen -t ed25519-sk}
 * and {@code -t ecdsa-sk} through a software security key provider, logins by stock {@code ssh}
 * through the same provider, with the signature flags the test chooses.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FidoIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;

    LoopbackEcho echo;
    BastionFixture bastion;
    OpenSsh ssh;

    @BeforeAll
    void start() throws Exception {
        OpenSsh.requireClient();
        Path provider = SoftwareSecurityKey.provider();
        Path ed25519 = SoftwareSecurityKey.enrol(dir, "ed25519_sk", KeyType.ED25519_SK);
        Path ecdsa = SoftwareSecurityKey.enrol(dir, "ecdsa_sk", KeyType.ECDSA_SK);
        echo = new LoopbackEcho();
        bastion = BastionFixture.start(Files.createDirectory(dir.resolve("bastion")), String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [ops]",
                "        keys:",
                "          - \"" + OpenSsh.publicKeyLine(ed25519) + "\"",
                "          - \"" + OpenSsh.publicKeyLine(ecdsa) + "\"",
                "policy:",
                "  roles:",
                "    ops:",
                "      allow: [\"" + echo.address() + "/32:" + echo.port() + "\"]",
                "  unsafe_allow_loopback: true",
                "limits:",
                "  max_auth_attempts: 100",
                ""), TargetResolver.system());
        Path knownHosts = OpenSsh.addKnownHost(dir.resolve("known_hosts"), "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        ssh = OpenSsh.config()
                .host(bastionHost("ed25519-sk", ed25519, provider, knownHosts))
                .host(bastionHost("ecdsa-sk", ecdsa, provider, knownHosts))
                .writeTo(dir.resolve("ssh_config"));
    }

    private OpenSsh.Host bastionHost(String alias, Path key, Path provider, Path knownHosts) {
        return OpenSsh.host(alias).hostName("127.0.0.1").port(bastion.port()).user("alice")
                .identityFile(key).userKnownHostsFile(knownHosts)
                .option("SecurityKeyProvider", provider.toString());
    }

    @AfterAll
    void stop() throws Exception {
        if (bastion != null) {
            bastion.close();
        }
        if (echo != null) {
            echo.close();
        }
    }

    /** {@code ssh -W} to the echo service through the bastion, signing with {@code flags}. */
    private OpenSsh.Result tunnel(KeyType type, int flags, String line) {
        return ssh.run(List.of("-W", echo.address() + ":" + echo.port(), type.keygenName()),
                (line + "\n").getBytes(StandardCharsets.UTF_8), SoftwareSecurityKey.flags(flags), TIMEOUT);
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void fidoKeyWithUserPresenceLogsInAndTunnels(KeyType type) throws Exception {
        int mark = bastion.audit().size();
        OpenSsh.Result r = tunnel(type, SoftwareSecurityKey.USER_PRESENT, "touched-" + type);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdoutText()).contains("touched-" + type);
        JsonNode accept = bastion.audit().await("auth.accept", e -> bastion.audit().since(mark).contains(e)
                && e.path("auth").path("key_type").asText().equals(type.sshName()));
        assertThat(accept.path("user").asText()).isEqualTo("alice");
        bastion.audit().await("forward.open", e -> e.path("session").equals(accept.path("session")));
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void fidoSignatureWithoutUserPresenceIsRefusedWithItsReason(KeyType type) throws Exception {
        int mark = bastion.audit().size();
        OpenSsh.Result r = tunnel(type, 0x00, "untouched");

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("Permission denied");
        JsonNode reject = bastion.audit().await("auth.reject", e -> bastion.audit().since(mark).contains(e));
        assertThat(reject.path("auth").path("key_type").asText()).isEqualTo(type.sshName());
        assertThat(reject.path("reason").asText())
                .isEqualTo("the FIDO signature does not assert user presence (the security key was not touched)");
        bastion.audit().await("session.close", e -> e.path("session").equals(reject.path("session")));
        assertThat(bastion.audit().since(mark)).noneMatch(e -> e.path("event").asText().equals("auth.accept"));
        assertThat(bastion.audit().since(mark).stream().filter(e -> e.path("event").asText().equals("auth.reject")))
                .as("one refusal for the one key").hasSize(1);
    }
}
