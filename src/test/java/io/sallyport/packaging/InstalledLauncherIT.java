package io.sallyport.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.testing.EchoServer;
import io.sallyport.testing.HostTool;
import io.sallyport.testing.OpenSsh;
import io.sallyport.testing.PrivateSubnet;
import io.sallyport.testing.RpmRoot;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server as the RPM installs it: {@code /usr/bin/sallyport run} from a scratch root, running the
 * installed jar, answers the stock OpenSSH client's {@code ssh -W} jump to a private echo target,
 * shrugs off SIGHUP ({@code systemctl reload}) and stops in order on SIGTERM ({@code systemctl stop}).
 *
 * <p>The tests share one server and run in order; the last one stops it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InstalledLauncherIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int ECHO_PORT = 7777;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    private RpmRoot root;
    private PrivateSubnet subnet;
    private EchoServer.Handle echo;
    private Process server;
    private Path serverLog;
    private Path auditLog;
    private OpenSsh ssh;

    @BeforeAll
    void startInstalledServer() throws Exception {
        OpenSsh.requireClient();
        root = RpmRoot.create();
        root.install(BuiltPackage.rpm());
        subnet = PrivateSubnet.create();
        echo = EchoServer.startIn(subnet, ECHO_PORT);

        Path aliceKey = OpenSsh.keygen(dir, "alice");
        int port = freePort();
        auditLog = dir.resolve("audit.jsonl");
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
                "      allow: [\"" + subnet.targetAddress() + "/32:" + ECHO_PORT + "\"]",
                "  unsafe_allow_loopback: " + subnet.isLoopbackFallback(),
                "audit:",
                "  file: \"" + auditLog + "\"",
                ""));

        serverLog = dir.resolve("server.log");
        ProcessBuilder pb = new ProcessBuilder(root.path("/usr/bin/sallyport").toString(), "run", "-c", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(serverLog.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(InstalledLauncher.environment(root));
        server = pb.start();
        awaitListening(port);

        Path knownHosts = OpenSsh.addKnownHost(dir.resolve("known_hosts"), "127.0.0.1", port,
                Files.readString(dir.resolve("host_key.pub")));
        ssh = OpenSsh.config()
                .host(OpenSsh.host("bastion").hostName("127.0.0.1").port(port).user("alice")
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts))
                .writeTo(dir.resolve("ssh_config"));
    }

    @AfterAll
    void stopEverything() {
        if (server != null && server.isAlive()) {
            server.destroyForcibly();
        }
        for (AutoCloseable c : new AutoCloseable[] {echo, subnet, root}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                System.err.println("cleanup: " + e);
            }
        }
    }

    @Test
    @Order(1)
    void launcherBecomesTheJvmRunningTheInstalledJarWithServerFlags() {
        ProcessHandle.Info info = server.toHandle().info();
        // exec: systemd's main PID, its signals and the exit status are the JVM's own.
        assertThat(info.command()).as("the launcher exec'd java").hasValueSatisfying(c -> assertThat(c).endsWith("/java"));
        List<String> args = List.of(info.arguments().orElseThrow());
        assertThat(args).contains("-XX:+UseG1GC", "-XX:MaxRAMPercentage=50", "-XX:+ExitOnOutOfMemoryError",
                "-Dfile.encoding=UTF-8", "-XX:+DisplayVMOutputToStderr");
        assertThat(args).containsSubsequence("-jar", root.path("/usr/share/sallyport/sallyport.jar").toString(), "run");
    }

    @Test
    @Order(2)
    void installedServerAnswersAnSshWJumpToAPrivateTarget() throws Exception {
        byte[] payload = new byte[100_000];
        new Random(6).nextBytes(payload);

        OpenSsh.Result r = ssh.run(List.of("-W", subnet.targetAddress() + ":" + ECHO_PORT, "bastion"), payload, TIMEOUT);

        assertThat(r.exitCode()).as("%s\n--- server log ---\n%s", r, log()).isZero();
        assertThat(r.stdout()).isEqualTo(payload);
        JsonNode open = awaitAudit(e -> e.path("event").asText().equals("forward.open"));
        assertThat(open.path("user").asText()).isEqualTo("alice");
        assertThat(open.path("rule").asText()).isEqualTo(subnet.targetAddress() + "/32:" + ECHO_PORT);
        JsonNode close = awaitAudit(e -> e.path("event").asText().equals("forward.close"));
        assertThat(close.path("bytes_up").asLong()).isEqualTo(payload.length);
        assertThat(close.path("bytes_down").asLong()).isEqualTo(payload.length);
    }

    @Test
    @Order(3)
    void sighupLeavesTheServerRunningAndServing() throws Exception {
        HostTool.Result kill = HostTool.require("kill", "procps").run("-HUP", Long.toString(server.pid()));
        assertThat(kill.exitCode()).as(kill.toString()).isZero();
        Thread.sleep(1000);

        assertThat(server.isAlive()).as("server after SIGHUP; log:\n%s", log()).isTrue();
        byte[] payload = "still here after SIGHUP\n".getBytes();
        OpenSsh.Result r = ssh.run(List.of("-W", subnet.targetAddress() + ":" + ECHO_PORT, "bastion"), payload, TIMEOUT);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).isEqualTo(payload);
    }

    @Test
    @Order(4)
    void sigtermStopsItInOrderWithTheExitStatusTheUnitCountsAsSuccess() throws Exception {
        server.destroy(); // SIGTERM, what systemctl stop sends

        assertThat(server.waitFor(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)).as("stopped").isTrue();
        assertThat(server.exitValue()).as("SuccessExitStatus=143 in the unit; log:\n%s", log()).isEqualTo(143);
        JsonNode stop = awaitAudit(e -> e.path("event").asText().equals("server.stop"));
        assertThat(stop.path("reason").asText()).isEqualTo("shutdown");
    }

    // ------------------------------------------------------------------------------------------

    private void awaitListening(int port) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) {
                throw new AssertionError("installed sallyport exited with " + server.exitValue() + ":\n" + log());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                if (Files.exists(dir.resolve("host_key.pub"))) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new AssertionError("installed sallyport not listening on 127.0.0.1:" + port + " after " + TIMEOUT + ":\n" + log());
    }

    private JsonNode awaitAudit(Predicate<JsonNode> match) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            Optional<JsonNode> found = auditEvents().stream().filter(match).findFirst();
            if (found.isPresent()) {
                return found.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no such audit event in " + auditLog + ":\n"
                        + (Files.exists(auditLog) ? Files.readString(auditLog) : "(no file)"));
            }
            Thread.sleep(50);
        }
    }

    private List<JsonNode> auditEvents() throws IOException {
        List<JsonNode> events = new ArrayList<>();
        if (Files.exists(auditLog)) {
            for (String line : Files.readAllLines(auditLog)) {
                if (!line.isBlank()) {
                    events.add(JSON.readTree(line));
                }
            }
        }
        return events;
    }

    private String log() {
        try {
            return Files.exists(serverLog) ? Files.readString(serverLog) : "(no log)";
        } catch (IOException e) {
            return "(cannot read " + serverLog + ": " + e + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
