package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.testing.OpenSsh;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several {@code sallyport run} processes that start at the same moment on the same missing host
 * key path (two units on one image, a restart overlapping a start). They used to race: each
 * generated a key and moved it over the others', so a server served a key that was no longer on
 * disk, the {@code .pub} named yet another key, and a server died on a temporary file another had
 * taken. Judged as a client would: the host key each server shows {@code ssh-keyscan}.
 */
@Timeout(180)
class HostKeyRaceIT {
    private static final Duration SERVER_START = Duration.ofSeconds(60);
    private static final Duration STOP = Duration.ofSeconds(15);
    private static final int SERVERS = 3;
    /** A race does not lose every time; against the old code every round lost when this was written. */
    private static final int ROUNDS = 2;

    @TempDir
    Path dir;

    @Test
    void threeServersStartingAtOnceOnAMissingHostKeyAllServeTheKeyOnDiskAndThePubMatches() throws Exception {
        OpenSsh.requireClient();
        for (int round = 0; round < ROUNDS; round++) {
            Path work = Files.createDirectories(dir.resolve("round" + round));
            Path hostKey = work.resolve("state/ssh_host_ed25519_key");
            List<Integer> ports = new ArrayList<>();
            List<Path> configs = new ArrayList<>();
            for (int i = 0; i < SERVERS; i++) {
                int port = SallyportJar.freePort();
                ports.add(port);
                configs.add(Files.writeString(work.resolve("server" + i + ".yaml"),
                        "listen: [\"127.0.0.1:" + port + "\"]\nhost_keys: [\"" + hostKey + "\"]\n"
                        + "admin:\n  socket: " + work.resolve("admin" + i + ".sock") + "\n"));
            }

            List<ChildProcess> servers = new ArrayList<>();
            try {
                for (Path config : configs) {
                    servers.add(SallyportJar.start("run", "-c", config.toString()));
                }
                for (int i = 0; i < SERVERS; i++) {
                    SallyportJar.awaitListening(servers.get(i), "127.0.0.1", ports.get(i), SERVER_START);
                }

                String onDisk = keyOf(run("ssh-keygen", "-y", "-f", hostKey.toString()).stdout());
                String fingerprint = run("ssh-keygen", "-l", "-E", "sha256", "-f", hostKey.toString()).stdout().split("\\s+")[1];
                assertThat(keyOf(SallyportJar.read(hostKey.resolveSibling("ssh_host_ed25519_key.pub"))))
                        .as("round %d: the .pub holds the private key's public half", round).isEqualTo(onDisk);
                for (int i = 0; i < SERVERS; i++) {
                    ChildProcess.Finished scan = run("ssh-keyscan", "-t", "ed25519", "-p", ports.get(i).toString(), "127.0.0.1");
                    String served = scan.stdoutLines().stream().filter(l -> !l.startsWith("#")).findFirst()
                            .map(l -> keyOf(l.substring(l.indexOf(' ') + 1))).orElse("(none)");
                    assertThat(served).as("round %d: server %d serves the key on disk\n%s\n%s", round, i, scan,
                            servers.get(i).describe()).isEqualTo(onDisk);
                    assertThat(servers.get(i).stderr()).as("server %d logs the key it serves", i)
                            .contains("host key " + hostKey).contains(fingerprint);
                }
                try (var left = Files.list(hostKey.getParent())) {
                    assertThat(left.map(p -> p.getFileName().toString())).as("no temporary files left behind")
                            .containsExactlyInAnyOrder("ssh_host_ed25519_key", "ssh_host_ed25519_key.pub");
                }
            } finally {
                for (ChildProcess server : servers) {
                    server.terminate(STOP);
                    server.close();
                }
            }
        }
    }

    /** {@code type base64} of a public key line. */
    private static String keyOf(String line) {
        String[] f = line.trim().split("\\s+");
        assertThat(f.length).as("a public key line: %s", line).isGreaterThanOrEqualTo(2);
        return f[0] + " " + f[1];
    }

    private static ChildProcess.Finished run(String... command) {
        ChildProcess.Finished r = ChildProcess.run(List.of(command), null, Duration.ofSeconds(30));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }
}
