package io.sallyport.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostKeyStoreTest {
    @TempDir
    Path dir;

    @Test
    void missingHostKeyIsGeneratedAsEd25519WithOwnerOnlyMode() throws Exception {
        Path file = dir.resolve("state/ssh_host_ed25519_key");

        List<KeyPair> keys = HostKeyStore.loadOrGenerate(List.of(file));

        assertThat(keys).singleElement().satisfies(k -> assertThat(k.getPublic().getAlgorithm()).containsIgnoringCase("ed"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(Files.readString(file)).startsWith("-----BEGIN OPENSSH PRIVATE KEY-----");
        assertThat(Files.readString(file.resolveSibling("ssh_host_ed25519_key.pub"))).startsWith("ssh-ed25519 ");
    }

    @Test
    void existingHostKeyIsLoadedNotReplaced() throws Exception {
        Path file = dir.resolve("key");
        KeyPair first = HostKeyStore.loadOrGenerate(List.of(file)).get(0);
        byte[] bytes = Files.readAllBytes(file);

        KeyPair second = HostKeyStore.loadOrGenerate(List.of(file)).get(0);

        assertThat(second.getPublic()).isEqualTo(first.getPublic());
        assertThat(Files.readAllBytes(file)).isEqualTo(bytes);
    }

    @Test
    void unreadableHostKeyIsAnErrorAndTheFileIsNeverOverwritten() throws Exception {
        Path file = dir.resolve("key");
        Files.writeString(file, "this is not a key\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

        assertThatThrownBy(() -> HostKeyStore.loadOrGenerate(List.of(file)))
                .isInstanceOf(HostKeyStore.HostKeyException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("never replaced");
        assertThat(Files.readString(file)).isEqualTo("this is not a key\n");
    }

    @Test
    void hostKeyReadableByOthersIsRefused() throws Exception {
        Path file = dir.resolve("key");
        HostKeyStore.loadOrGenerate(List.of(file));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

        assertThatThrownBy(() -> HostKeyStore.loadOrGenerate(List.of(file)))
                .hasMessageContaining("readable by others")
                .hasMessageContaining("chmod 600");
    }

    @Test
    void generatingNeverOverwritesAnExistingFile() throws Exception {
        Path file = dir.resolve("key");
        Files.writeString(file, "precious");

        assertThatThrownBy(() -> HostKeyStore.generateKeyFile(file, "x")).hasMessageContaining("never overwritten");
        assertThat(Files.readString(file)).isEqualTo("precious");
    }
}
