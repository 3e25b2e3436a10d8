package io.sallyport.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
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

    /**
     * Three servers started at once on the same missing key path: each used to generate its own
     * key and move it over the others', so one served a key that was no longer on disk, the
     * {@code .pub} could belong to yet another, and one died on a vanished temporary file. Many
     * rounds, since a race does not lose every time.
     */
    @Test
    void serversStartingTogetherOnAMissingHostKeyAllServeTheOneKeyOnDisk() throws Exception {
        int racers = 3;
        ExecutorService pool = Executors.newFixedThreadPool(racers);
        try {
            for (int round = 0; round < 30; round++) {
                Path file = dir.resolve("round" + round + "/ssh_host_ed25519_key");
                CyclicBarrier start = new CyclicBarrier(racers);
                List<Future<KeyPair>> served = new ArrayList<>();
                for (int i = 0; i < racers; i++) {
                    served.add(pool.submit(() -> {
                        start.await(10, TimeUnit.SECONDS);
                        return HostKeyStore.loadOrGenerate(List.of(file)).get(0);
                    }));
                }
                List<String> keys = new ArrayList<>();
                for (Future<KeyPair> f : served) {
                    keys.add(PublicKeyEntry.toString(f.get(20, TimeUnit.SECONDS).getPublic()));
                }
                String onDisk = PublicKeyEntry.toString(HostKeyStore.load(file).getPublic());
                assertThat(keys).as("round %d: every server serves the key on disk", round).containsOnly(onDisk);
                assertThat(publicLine(file)).as("round %d: the .pub is the key on disk", round).isEqualTo(onDisk);
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
                try (Stream<Path> left = Files.list(file.getParent())) {
                    assertThat(left.map(p -> p.getFileName().toString()))
                            .as("no temporary files left behind").containsExactlyInAnyOrder("ssh_host_ed25519_key", "ssh_host_ed25519_key.pub");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void pubThatNamesAnotherKeyIsRewrittenFromTheKeyOnDisk() throws Exception {
        Path file = dir.resolve("key");
        KeyPair key = HostKeyStore.loadOrGenerate(List.of(file)).get(0);
        HostKeyStore.generateKeyFile(dir.resolve("other"), "other");
        Files.copy(dir.resolve("other.pub"), dir.resolve("key.pub"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        KeyPair again = HostKeyStore.loadOrGenerate(List.of(file)).get(0);

        assertThat(again.getPublic()).isEqualTo(key.getPublic());
        assertThat(publicLine(file)).isEqualTo(PublicKeyEntry.toString(key.getPublic()));
    }

    @Test
    void missingPubBesideAnExistingKeyIsWrittenAndAMatchingOneIsLeftAlone() throws Exception {
        Path file = dir.resolve("key");
        KeyPair key = HostKeyStore.loadOrGenerate(List.of(file)).get(0);
        Path pub = dir.resolve("key.pub");
        Files.delete(pub);

        HostKeyStore.loadOrGenerate(List.of(file));
        assertThat(publicLine(file)).isEqualTo(PublicKeyEntry.toString(key.getPublic()));

        Files.writeString(pub, PublicKeyEntry.toString(key.getPublic()) + " root@build-host\n");
        HostKeyStore.loadOrGenerate(List.of(file));
        assertThat(Files.readString(pub)).as("same key, the operator's comment kept").endsWith(" root@build-host\n");
    }

    private static String publicLine(Path key) throws Exception {
        String[] f = Files.readString(key.resolveSibling(key.getFileName() + ".pub")).trim().split("\\s+");
        return f[0] + " " + f[1];
    }

    @Test
    void privateKeyTempFileLeftByAKilledStartIsRemovedOnTheNextStartButAFreshOneIsKept() throws Exception {
        Path file = dir.resolve("ssh_host_ed25519_key");
        HostKeyStore.loadOrGenerate(List.of(file));
        // kill -9 between createTempFile and its delete: a second link to the live private key stays.
        Path stale = dir.resolve(".ssh_host_ed25519_key.4711.tmp");
        Files.createLink(stale, file);
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofMinutes(5))));
        Path stalePub = dir.resolve(".ssh_host_ed25519_key.pub.4712.tmp");
        Files.writeString(stalePub, "ssh-ed25519 AAAA");
        Files.setLastModifiedTime(stalePub, FileTime.from(Instant.now().minus(Duration.ofMinutes(5))));
        // Another process publishing its candidate right now.
        Path fresh = dir.resolve(".ssh_host_ed25519_key.4713.tmp");
        Files.writeString(fresh, "candidate");
        Path other = dir.resolve(".other_key.4714.tmp");
        Files.writeString(other, "not ours");
        Files.setLastModifiedTime(other, FileTime.from(Instant.now().minus(Duration.ofMinutes(5))));

        HostKeyStore.loadOrGenerate(List.of(file));

        assertThat(stale).doesNotExist();
        assertThat(stalePub).doesNotExist();
        assertThat(fresh).exists();
        assertThat(other).as("another key's temporary file is not this key's to judge").exists();
        assertThat(file).exists();
        assertThat(Files.getAttribute(file, "unix:nlink")).isEqualTo(1);
    }
}
