package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.testing.LoopbackEcho;
import io.sallyport.testing.OpenSsh;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code limits.memory_high_water} on the packaged server in its own JVM, with a heap small enough
 * that a flood of tunnels would run it out of memory: run as the launcher runs it
 * ({@code -XX:+ExitOnOutOfMemoryError}), an exit would drop every user's sessions.
 */
class MemoryHighWaterIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Sessions and tunnels each; 3,000 tunnels is twice what ran a 64 MiB heap out of memory before. */
    private static final int SESSIONS = 10;
    private static final int TUNNELS_PER_SESSION = 300;

    @TempDir
    Path dir;

    @Test
    void floodOfTunnelsUnderASmallHeapIsRefusedAndTheServerGoesOnServing() throws Exception {
        OpenSsh.requireClient();
        Path aliceKey = OpenSsh.keygen(dir, "alice");
        Path malloryKey = OpenSsh.keygen(dir, "mallory");
        int port = SallyportJar.freePort();
        SshClient client = SshClient.setUpDefaultClient();
        client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
        client.start();
        try (LoopbackEcho echo = new LoopbackEcho();
             TunnelLimitsIT.ConnectionCounter sink = new TunnelLimitsIT.ConnectionCounter()) {
            Path config = dir.resolve("sallyport.yaml");
            Files.writeString(config, "listen: [\"127.0.0.1:" + port + "\"]\n"
                    + "host_keys: [\"host_key\"]\n"
                    + TunnelLimitsIT.users(aliceKey, malloryKey,
                            "    ops:\n      allow: [\"127.0.0.2:" + echo.port() + "\"]\n"
                                    + "    flood:\n      allow: [\"127.0.0.2:" + sink.port() + "\"]",
                            "  max_sessions_per_user: 100",
                            // Loose enough that only the heap's high water can stop the flood. Logins
                            // refused for memory do not count toward the penalty; the high limit keeps
                            // the retries below clear of it whatever else is refused.
                            "  max_auth_attempts: 100\n"
                                    + "  max_tunnels_per_session: 10000\n"
                                    + "  max_tunnels_per_user: 100000\n"
                                    + "  memory_high_water: 85%")
                    + "audit:\n  file: audit.jsonl\n");
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx64m", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
                    "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30",
                    "-jar", SallyportJar.jar().toString(), "run", "-c", config.toString()));
            try (ChildProcess server = ChildProcess.start(command)) {
                SallyportJar.awaitListening(server, "127.0.0.1", port, Duration.ofSeconds(60));
                Path knownHosts = OpenSsh.addKnownHost(dir.resolve("known_hosts"), "127.0.0.1", port,
                        SallyportJar.read(dir.resolve("host_key.pub")));
                OpenSsh ssh = OpenSsh.config()
                        .host(OpenSsh.host("alice").hostName("127.0.0.1").port(port).user("alice")
                                .identityFile(aliceKey).userKnownHostsFile(knownHosts))
                        .writeTo(dir.resolve("ssh_config"));
                ChildProcess live = ChildProcess.start(ssh.command(List.of("-W", "127.0.0.2:" + echo.port(), "alice")));
                live.write("before\n".getBytes(StandardCharsets.UTF_8));
                live.awaitStdout(out -> out.contains("before\n"), "the echo through alice's tunnel", Duration.ofSeconds(30));

                List<ClientSession> sessions = new ArrayList<>();
                List<OpenFuture> tunnels = new ArrayList<>();
                try {
                    // Logged in first: once the flood is above the high water, new logins are refused too.
                    for (int s = 0; s < SESSIONS; s++) {
                        sessions.add(TunnelLimitsIT.login(client, "mallory", malloryKey, port));
                    }
                    for (ClientSession session : sessions) {
                        for (int t = 0; t < TUNNELS_PER_SESSION; t++) {
                            tunnels.add(TunnelLimitsIT.requestTunnel(session, "127.0.0.2", sink.port()));
                        }
                    }
                    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                    for (OpenFuture f : tunnels) {
                        f.await(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                    }
                    assertThat(server.isAlive()).as("the server survived the flood\n" + server.describe()).isTrue();
                    long opened = tunnels.stream().filter(OpenFuture::isOpened).count();
                    assertThat(opened).as("some tunnels opened, and not all").isPositive().isLessThan(tunnels.size());
                } finally {
                    for (ClientSession session : sessions) {
                        session.close(true);
                    }
                }
                // The tunnel alice opened before the flood carried on through it.
                live.write("after\n".getBytes(StandardCharsets.UTF_8));
                live.awaitStdout(out -> out.contains("before\nafter\n"), "the echo through alice's tunnel after the flood",
                        Duration.ofSeconds(30));
                live.closeStdin();
                live.awaitExit(Duration.ofSeconds(30));

                // Once the flood is gone, new logins and tunnels are served again: the refusals stop
                // when a collection (which the server asks G1 for while refusing) finds the heap below the mark.
                OpenSsh.Result served = null;
                long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                int attempts = 0;
                while (System.nanoTime() < deadline) {
                    attempts++;
                    served = ssh.run(List.of("-W", "127.0.0.2:" + echo.port(), "alice"), "after the flood\n".getBytes(),
                            Duration.ofSeconds(30));
                    if (served.succeeded()) {
                        break;
                    }
                    Thread.sleep(1000);
                }
                assertThat(served.succeeded()).as(served.toString()).isTrue();
                assertThat(served.stdoutText()).isEqualTo("after the flood\n");
                assertThat(server.isAlive()).isTrue();
                assertThat(server.stderr()).doesNotContain("OutOfMemoryError");

                List<JsonNode> audit = readJsonLines(dir.resolve("audit.jsonl"));
                Map<String, Integer> reasons = new TreeMap<>();
                for (JsonNode e : audit) {
                    if (e.path("event").asText().equals("forward.reject")) {
                        reasons.merge(e.path("reason").asText().replaceAll("[: ].*", ""), 1, Integer::sum);
                    }
                }
                assertThat(reasons).as("forward.reject reasons").containsKey("memory_high_water");
                JsonNode refusal = audit.stream().filter(e -> e.path("reason").asText().startsWith("memory_high_water")).findFirst()
                        .orElseThrow();
                assertThat(refusal.path("event").asText()).isIn("forward.reject", "auth.reject");
                assertThat(refusal.path("reason").asText()).contains("of the heap's").endsWith("(limit 85%)");
                System.out.printf("memory_high_water: %d tunnel requests, %d opened, refusals %s, served again at attempt %d%n",
                        tunnels.size(),
                        audit.stream().filter(e -> e.path("event").asText().equals("forward.open")
                                && e.path("user").asText().equals("mallory")).count(), reasons, attempts);
            }
        } finally {
            client.stop();
        }
    }

    private static List<JsonNode> readJsonLines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }
}
