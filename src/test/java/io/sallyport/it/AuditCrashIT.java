package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.audit.SpoolFiles;
import io.sallyport.testing.FakeCloudWatchLogs;
import io.sallyport.testing.FakeImds;
import io.sallyport.testing.LoopbackEcho;
import io.sallyport.testing.OpenSsh;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL in the middle of a burst of sessions: the real server ({@code java -jar sallyport.jar
 * run}) is killed with {@code kill -9} while stock {@code ssh} clients keep logging in and
 * tunnelling, then started again; every event id that reached the spool or the audit file
 * before the kill must turn up in CloudWatch. Region and instance id come from a fake IMDSv2,
 * credentials from the environment, as on an instance.
 */
class AuditCrashIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String INSTANCE = "i-0c0ffee0c0ffee123";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void sigkillMidBurstLosesNoEventThatReachedTheSpool() throws Exception {
        OpenSsh.requireClient();
        Path aliceKey = OpenSsh.keygen(dir, "alice");
        try (FakeCloudWatchLogs cloudwatch = FakeCloudWatchLogs.start();
             FakeImds imds = FakeImds.start(INSTANCE, "eu-north-1");
             LoopbackEcho echo = new LoopbackEcho()) {
            // A slow service: calls are in flight when the kill lands, and a backlog waits in the spool.
            cloudwatch.latency(Duration.ofMillis(150));
            int port = freePort();
            Path spool = dir.resolve("spool");
            Path auditFile = dir.resolve("audit.jsonl");
            Path config = dir.resolve("sallyport.yaml");
            Files.writeString(config, String.join("\n",
                    "listen: [\"127.0.0.1:" + port + "\"]",
                    "host_keys: [\"" + dir.resolve("host_key") + "\"]",
                    "identity:",
                    "  local:",
                    "    users:",
                    "      alice:",
                    "        roles: [ops]",
                    "        keys: [\"" + OpenSsh.publicKeyLine(aliceKey) + "\"]",
                    "policy:",
                    "  roles:",
                    "    ops:",
                    "      allow: [\"" + echo.address() + "/32:" + echo.port() + "\"]",
                    "  unsafe_allow_loopback: true",
                    "  max_sessions_per_user: 100",
                    "limits:",
                    "  max_unauthenticated: 100",
                    "audit:",
                    "  file: " + auditFile,
                    "  spool_dir: " + spool,
                    "  cloudwatch:",
                    "    enabled: true",
                    "    endpoint: " + cloudwatch.endpoint(),
                    "    log_group: /sallyport/crash",
                    ""));

            Process first = startServer(config, imds, dir.resolve("run1.log"));
            Process second = null;
            try {
                awaitListening(port, first, dir.resolve("run1.log"));
                Path knownHosts = OpenSsh.addKnownHost(dir.resolve("known_hosts"), "127.0.0.1", port,
                        Files.readString(dir.resolve("host_key.pub")));
                OpenSsh ssh = OpenSsh.config()
                        .host(OpenSsh.host("bastion").hostName("127.0.0.1").port(port).user("alice")
                                .identityFile(aliceKey).userKnownHostsFile(knownHosts).connectTimeout(5))
                        .writeTo(dir.resolve("ssh_config"));

                // The burst: eight clients in a loop, each a full jump session through the tunnel.
                AtomicBoolean burst = new AtomicBoolean(true);
                AtomicInteger completed = new AtomicInteger();
                ExecutorService clients = Executors.newFixedThreadPool(8);
                for (int c = 0; c < 8; c++) {
                    clients.execute(() -> {
                        while (burst.get()) {
                            OpenSsh.Result r = ssh.run(List.of("-W", echo.address() + ":" + echo.port(), "bastion"),
                                    "through the sallyport\n".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(10));
                            if (r.succeeded()) {
                                completed.incrementAndGet();
                            }
                        }
                    });
                }
                long deadline = System.nanoTime() + TIMEOUT.toNanos();
                while (completed.get() < 30 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(completed.get()).as("sessions completed before the kill").isGreaterThanOrEqualTo(30);

                first.destroyForcibly(); // SIGKILL: no shutdown hook, no drain, no flush
                assertThat(first.waitFor(10, TimeUnit.SECONDS)).isTrue();
                assertThat(first.exitValue()).isEqualTo(137);
                burst.set(false);
                clients.shutdown();
                assertThat(clients.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

                // What the dead server left on disk: every event it had made durable.
                Set<String> written = new LinkedHashSet<>(ids(SpoolFiles.lines(spool)));
                written.addAll(ids(auditFileLines(auditFile)));
                List<String> unshipped = ids(SpoolFiles.unshippedLines(spool));
                Set<String> missingAtKill = new LinkedHashSet<>(written);
                cloudwatch.distinctIds().forEach(missingAtKill::remove);
                assertThat(written).as("events written before the kill").hasSizeGreaterThanOrEqualTo(30 * 5);
                assertThat(unshipped).as("the kill left a backlog in the spool").isNotEmpty();
                assertThat(missingAtKill).as("CloudWatch did not have everything at the kill").isNotEmpty();

                second = startServer(config, imds, dir.resolve("run2.log"));
                awaitListening(port, second, dir.resolve("run2.log"));

                boolean all = cloudwatch.awaitIds(written, TIMEOUT);
                Set<String> missing = new LinkedHashSet<>(written);
                cloudwatch.distinctIds().forEach(missing::remove);
                assertThat(missing).as("event ids written before the kill and not in CloudWatch (of %d; log: %s)",
                        written.size(), tail(dir.resolve("run2.log"))).isEmpty();
                assertThat(all).isTrue();
                assertThat(cloudwatch.streams("/sallyport/crash")).as("one stream, named by the IMDS instance id")
                        .containsExactly(INSTANCE);
                assertThat(cloudwatch.events()).allSatisfy(e -> assertThat(JSON.readTree(e.message()).path("instance").asText())
                        .isEqualTo(INSTANCE));
                assertThat(imds.unauthorizedReads()).isZero();

                // An orderly stop ships its own server.stop on the way out.
                awaitLines(auditFile, "\"event\":\"server.start\"", 2);
                second.destroy();
                assertThat(second.waitFor(20, TimeUnit.SECONDS)).isTrue();
                assertThat(cloudwatch.events()).as("server.stop shipped; exit %d; log: %s", second.exitValue(), tail(dir.resolve("run2.log")))
                        .anySatisfy(e -> assertThat(e.message()).contains("\"event\":\"server.stop\""));
            } finally {
                for (Process p : new Process[] {first, second}) {
                    if (p != null && p.isAlive()) {
                        p.destroyForcibly();
                        p.waitFor(10, TimeUnit.SECONDS);
                    }
                }
            }
        }
    }

    private static Process startServer(Path config, FakeImds imds, Path log) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String jar = System.getProperty("sallyport.jar", "target/sallyport.jar");
        ProcessBuilder pb = new ProcessBuilder(java, "-jar", jar, "run", "-c", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("AWS_ACCESS_KEY_ID", "AKIDTESTTESTTEST");
        env.put("AWS_SECRET_ACCESS_KEY", "test-secret");
        env.remove("AWS_SESSION_TOKEN");
        env.remove("AWS_PROFILE");
        env.remove("AWS_REGION");
        env.remove("AWS_DEFAULT_REGION");
        env.put("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint());
        return pb.start();
    }

    private static void awaitListening(int port, Process p, Path log) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(p.isAlive()).as("server running; log:\n%s", tail(log)).isTrue();
            try {
                new Socket(InetAddress.getLoopbackAddress(), port).close();
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("server not listening on " + port + "; log:\n" + tail(log));
    }

    private static void awaitLines(Path file, String containing, int count) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (auditFileLines(file).stream().filter(l -> l.contains(containing)).count() < count) {
            assertThat(System.nanoTime() < deadline).as(count + " lines with " + containing).isTrue();
            Thread.sleep(50);
        }
    }

    private static List<String> auditFileLines(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.endsWith("}")) {
                out.add(line);
            }
        }
        return out;
    }

    private static List<String> ids(List<String> lines) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            JsonNode n = JSON.readTree(line);
            out.add(n.path("id").asText());
        }
        return out;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String tail(Path log) {
        try {
            String s = Files.readString(log);
            return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
        } catch (IOException e) {
            return "(no log)";
        }
    }
}
