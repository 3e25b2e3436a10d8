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
 * reloads on SIGHUP ({@code systemctl reload}) and stops in order on SIGTERM ({@code systemctl stop}).
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
    private Path serverOut;
    private Path serverErr;
    private Path auditLog;
    private OpenSsh ssh;
    private int port;
    private Path config;

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

        this.port = port;
        this.config = config;
        serverOut = dir.resolve("server.out");
        serverErr = dir.resolve("server.err");
        server = launch();
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
    void sighupReloadsAndLeavesTheServerRunningAndServing() throws Exception {
        HostTool.Result kill = HostTool.require("kill", "procps").run("-HUP", Long.toString(server.pid()));
        assertThat(kill.exitCode()).as(kill.toString()).isZero();
        JsonNode reload = awaitAudit(e -> e.path("event").asText().equals("config.reload"));
        assertThat(reload.path("trigger").asText()).isEqualTo("signal");
        assertThat(reload.path("result").asText()).as("log:\n%s", log()).isEqualTo("applied");

        assertThat(server.isAlive()).as("server after SIGHUP; log:\n%s", log()).isTrue();
        byte[] payload = "still here after SIGHUP\n".getBytes();
        OpenSsh.Result r = ssh.run(List.of("-W", subnet.targetAddress() + ":" + ECHO_PORT, "bastion"), payload, TIMEOUT);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).isEqualTo(payload);
    }

    @Test
    @Order(4)
    void sigtermStopsItInOrderWithTheExitStatusTheUnitCountsAsSuccess() throws Exception {
        stopExpecting143();
        JsonNode stop = awaitAudit(e -> e.path("event").asText().equals("server.stop"));
        assertThat(stop.path("reason").asText()).isEqualTo("shutdown");
    }

    @Test
    @Order(5)
    void theFirstRunLeftAClassDataArchiveThatTheNextStartChecksAndUses() throws Exception {
        // Written by the JVM at its exit on SIGTERM (test 4), in the state directory, for this runtime.
        Path written = onlyArchiveFile();
        assertThat(written.getFileName().toString()).startsWith("cds-" + System.getProperty("java.runtime.version") + "-").endsWith(".jsa.new");

        server = launch();
        awaitListening(port);

        Path used = onlyArchiveFile();
        assertThat(used.getFileName().toString()).matches("cds-.*-" + Files.size(used) + "\\.jsa");
        assertThat(serverArgs()).contains("-XX:SharedArchiveFile=" + used, "-XX:+VerifySharedSpaces")
                .noneMatch(a -> a.startsWith("-XX:ArchiveClassesAtExit"));
        assertThat(log()).doesNotContain("[warning]").doesNotContain("[error");
        stopExpecting143();
    }

    @Test
    @Order(6)
    void aTruncatedArchiveIsDeletedAndTheServerStartsWithoutIt() throws Exception {
        Path archive = onlyArchiveFile();
        archive.toFile().setWritable(true);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(archive, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(archive) / 2); // mapped as it is, this crashes Java 17 with SIGBUS
        }

        server = launch();
        awaitListening(port);

        assertThat(archive).doesNotExist();
        assertThat(serverArgs()).noneMatch(a -> a.startsWith("-XX:SharedArchiveFile"))
                .anyMatch(a -> a.startsWith("-XX:ArchiveClassesAtExit=" + stateDir().resolve("cds-")));
        stopExpecting143();
        assertThat(onlyArchiveFile().getFileName().toString()).endsWith(".jsa.new");
    }

    @Test
    @Order(7)
    void aCorruptArchiveOfTheRightSizeIsRefusedByTheJvmWhichStartsWithoutIt() throws Exception {
        server = launch(); // checks the .new archive of test 6 and uses it
        awaitListening(port);
        stopExpecting143();
        Path archive = onlyArchiveFile();
        assertThat(archive.getFileName().toString()).endsWith(".jsa");
        archive.toFile().setWritable(true);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(archive, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[64 * 1024]), Files.size(archive) / 3);
        }

        server = launch();
        awaitListening(port);

        assertThat(serverArgs()).contains("-XX:SharedArchiveFile=" + archive);
        // The checksum check (-XX:+VerifySharedSpaces) turns it down; the JVM says so on stderr.
        assertThat(Files.readString(serverErr)).contains("Unable to use shared archive");
        // stdout carries audit events (audit.stdout): the JVM's own warnings stay off it.
        assertThat(Files.readString(serverOut)).doesNotContain("shared archive").doesNotContain("[warning]");
        stopExpecting143();
    }

    // ------------------------------------------------------------------------------------------

    private Process launch() throws IOException {
        Files.writeString(serverOut, "");
        Files.writeString(serverErr, "");
        ProcessBuilder pb = new ProcessBuilder(root.path("/usr/bin/sallyport").toString(), "run", "-c", config.toString())
                .redirectOutput(serverOut.toFile())
                .redirectError(serverErr.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(InstalledLauncher.environment(root));
        // the operator's opt-in (/etc/sysconfig/sallyport), so the archive's life cycle is tested
        pb.environment().put("SALLYPORT_CDS", "on");
        return pb.start();
    }

    /** SIGTERM, what systemctl stop sends; 143 is the exit status the unit counts as success. */
    private void stopExpecting143() throws Exception {
        server.destroy();
        assertThat(server.waitFor(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)).as("stopped").isTrue();
        assertThat(server.exitValue()).as("SuccessExitStatus=143 in the unit; log:\n%s", log()).isEqualTo(143);
    }

    private List<String> serverArgs() {
        return List.of(server.toHandle().info().arguments().orElseThrow());
    }

    private Path stateDir() {
        return root.path("/var/lib/sallyport");
    }

    private Path onlyArchiveFile() throws IOException {
        try (java.util.stream.Stream<Path> files = Files.list(stateDir())) {
            List<Path> archives = files.filter(f -> f.getFileName().toString().startsWith("cds-")).toList();
            assertThat(archives).as("class-data archives in %s", stateDir()).hasSize(1);
            return archives.get(0);
        }
    }


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
            return "--- stdout ---\n" + Files.readString(serverOut) + "--- stderr ---\n" + Files.readString(serverErr);
        } catch (IOException e) {
            return "(cannot read " + serverOut + " or " + serverErr + ": " + e + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
