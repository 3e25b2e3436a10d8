package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.admin.AdminCommands;
import io.sallyport.admin.AdminSocket;
import io.sallyport.cli.ServerAssembly;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.LoopbackEcho;
import io.sallyport.testing.OpenSsh;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An operator sees who is connected and ends sessions through the admin socket, with the packaged
 * CLI against a real server that a stock {@code ssh -W} tunnel holds; every command and every
 * termination is audited, with the operator's uid as the kernel gave it.
 */
class AdminIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger COUNTER = new AtomicInteger();

    @TempDir
    static Path dir;
    static Path aliceKey;

    @BeforeAll
    static void keys() {
        OpenSsh.requireClient();
        aliceKey = OpenSsh.keygen(dir, "alice");
    }

    /** A bastion where alice may reach the echo service, with its admin socket in its own directory. */
    private static BastionFixture bastion(LoopbackEcho echo) throws Exception {
        Path work = Files.createDirectories(dir.resolve("b" + COUNTER.incrementAndGet()));
        String yaml = String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [ops]",
                "        keys: [\"" + OpenSsh.publicKeyLine(aliceKey) + "\"]",
                "policy:",
                "  unsafe_allow_loopback: true",
                "  roles:",
                "    ops:",
                "      allow: [\"127.0.0.2:" + echo.port() + "\"]",
                "admin:",
                "  socket: " + work.resolve("run/admin.sock"),
                "");
        return BastionFixture.start(work, yaml, TargetResolver.system());
    }

    /** The admin socket as `run` opens it, from the bastion's config file. */
    private static AdminSocket adminSocket(BastionFixture bastion) throws Exception {
        return ServerAssembly.adminSocket(ServerAssembly.load(bastion.configFile()), bastion.server(), bastion.auditor());
    }

    private static OpenSsh ssh(BastionFixture bastion) throws Exception {
        Path work = bastion.configFile().getParent();
        Path knownHosts = OpenSsh.addKnownHost(work.resolve("known_hosts"), "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        return OpenSsh.config()
                .host(OpenSsh.host("alice").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .writeTo(work.resolve("ssh_config"));
    }

    /** Alice's stock {@code ssh -W} to the echo service, with one line echoed through it. */
    private static ChildProcess tunnel(BastionFixture bastion, LoopbackEcho echo, String line) throws Exception {
        ChildProcess live = ChildProcess.start(ssh(bastion).command(List.of("-W", "127.0.0.2:" + echo.port(), "alice")));
        live.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        live.awaitStdout(out -> out.contains(line + "\n"), "the echo through alice's tunnel", TIMEOUT);
        return live;
    }

    private static long ownUid() throws Exception {
        return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
    }

    @Test
    void operatorSeesAliceAndHerTunnelThenEndsHerSessionsByUser() throws Exception {
        try (LoopbackEcho echo = new LoopbackEcho(); BastionFixture bastion = bastion(echo);
             AdminSocket admin = adminSocket(bastion); ChildProcess live = tunnel(bastion, echo, "hello")) {
            String config = bastion.configFile().toString();

            ChildProcess.Finished table = SallyportJar.run("sessions", "-c", config);
            assertThat(table.exitCode()).as(table.toString()).isZero();
            assertThat(table.stdoutLines().get(0)).startsWith("ID").contains("USER", "CLIENT", "AUTH", "STARTED", "TUNNELS", "BYTES");
            assertThat(table.stdout()).contains("alice", "127.0.0.1:", "local/publickey [ops]", "127.0.0.2:" + echo.port(), "6/6");

            ChildProcess.Finished json = SallyportJar.run("sessions", "-c", config, "--json");
            assertThat(json.exitCode()).as(json.toString()).isZero();
            JsonNode sessions = JSON.readTree(json.stdout()).path("sessions");
            assertThat(sessions).hasSize(1);
            JsonNode s = sessions.get(0);
            assertThat(s.path("user").asText()).isEqualTo("alice");
            assertThat(s.path("client").path("ip").asText()).isEqualTo("127.0.0.1");
            assertThat(s.path("auth").path("source").asText()).isEqualTo("local");
            assertThat(s.path("tunnels").get(0).path("target").path("host").asText()).isEqualTo("127.0.0.2");
            assertThat(s.path("tunnels").get(0).path("target").path("port").asInt()).isEqualTo(echo.port());
            assertThat(s.path("bytes_up").asLong()).isEqualTo(6);
            assertThat(s.path("bytes_down").asLong()).isEqualTo(6);

            ChildProcess.Finished kill = SallyportJar.run("kill", "-c", config, "--user", "alice");
            assertThat(kill.exitCode()).as(kill.toString()).isZero();
            assertThat(kill.stdout()).contains("ended " + s.path("id").asText() + " (alice from 127.0.0.1:");

            JsonNode terminate = bastion.audit().await("session.terminate", e -> true);
            assertThat(terminate.path("reason").asText()).isEqualTo("admin");
            assertThat(terminate.path("session").asText()).isEqualTo(s.path("id").asText());
            assertThat(terminate.path("user").asText()).isEqualTo("alice");
            assertThat(live.awaitExit(TIMEOUT).timedOut()).as("alice's ssh ended").isFalse();
            bastion.audit().await("session.close", e -> e.path("reason").asText().equals("admin"));

            List<JsonNode> commands = bastion.audit().named("admin.command");
            assertThat(commands).extracting(e -> e.path("command").asText()).containsExactly("sessions", "sessions", "kill");
            JsonNode killed = commands.get(2);
            assertThat(killed.path("args").toString()).isEqualTo("[\"--user\",\"alice\"]");
            assertThat(killed.path("uid").asLong()).isEqualTo(ownUid());
            assertThat(killed.path("user").asText()).isEqualTo(System.getProperty("user.name"));

            ChildProcess.Finished none = SallyportJar.run("kill", "-c", config, "--user", "alice");
            assertThat(none.exitCode()).as(none.toString()).isZero();
            assertThat(none.stdout()).contains("no live session of alice");
        }
    }

    @Test
    void operatorEndsOneSessionByIdAndAnUnknownIdIsReported() throws Exception {
        try (LoopbackEcho echo = new LoopbackEcho(); BastionFixture bastion = bastion(echo);
             AdminSocket admin = adminSocket(bastion);
             ChildProcess first = tunnel(bastion, echo, "one"); ChildProcess second = tunnel(bastion, echo, "two")) {
            String config = bastion.configFile().toString();
            JsonNode sessions = JSON.readTree(SallyportJar.run("sessions", "-c", config, "--json").stdout()).path("sessions");
            assertThat(sessions).hasSize(2);
            String id = sessions.get(0).path("id").asText();

            ChildProcess.Finished kill = SallyportJar.run("kill", "-c", config, id);
            assertThat(kill.exitCode()).as(kill.toString()).isZero();
            assertThat(kill.stdout()).contains("ended " + id);
            JsonNode terminate = bastion.audit().await("session.terminate", e -> true);
            assertThat(terminate.path("session").asText()).isEqualTo(id);
            assertThat(terminate.path("reason").asText()).isEqualTo("admin");

            ChildProcess.Finished again = SallyportJar.run("kill", "-c", config, id);
            assertThat(again.exitCode()).as(again.toString()).isEqualTo(1);
            assertThat(again.stderr()).contains("no live session " + id);
            SallyportJar.assertNoStackTrace(again);

            JsonNode left = JSON.readTree(SallyportJar.run("sessions", "-c", config, "--json").stdout()).path("sessions");
            assertThat(left).hasSize(1);
            assertThat(left.get(0).path("id").asText()).isNotEqualTo(id);
        }
    }

    /**
     * {@code run} opens the config's admin socket; a second server on the same socket does not
     * start, and after a crash ({@code kill -9}) the next start replaces the socket left behind.
     */
    @Test
    void runServesItsAdminSocketRefusesASecondServerOnItAndReplacesOneLeftByACrash() throws Exception {
        Path work = Files.createDirectories(dir.resolve("run" + COUNTER.incrementAndGet()));
        Path socket = work.resolve("admin.sock");
        List<Path> configs = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int port = SallyportJar.freePort();
            ports.add(port);
            configs.add(Files.writeString(work.resolve("server" + i + ".yaml"), String.join("\n",
                    "listen: [\"127.0.0.1:" + port + "\"]",
                    "host_keys: [\"" + work.resolve("host_key") + "\"]",
                    "admin:",
                    "  socket: " + socket,
                    "")));
        }
        try (ChildProcess first = SallyportJar.start("run", "-c", configs.get(0).toString())) {
            SallyportJar.awaitListening(first, "127.0.0.1", ports.get(0), TIMEOUT);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-rw----");
            ChildProcess.Finished listed = SallyportJar.run("sessions", "-c", configs.get(0).toString(), "--json");
            assertThat(listed.exitCode()).as(listed.toString()).isZero();
            assertThat(JSON.readTree(listed.stdout()).path("sessions").isArray()).isTrue();

            try (ChildProcess second = SallyportJar.start("run", "-c", configs.get(1).toString())) {
                ChildProcess.Finished refused = second.awaitExit(TIMEOUT);
                assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(1);
                assertThat(refused.stderr()).contains("sallyport: error: admin.socket " + socket
                        + ": another sallyport server is answering on it");
                SallyportJar.assertNoStackTrace(refused);
            }
            assertThat(SallyportJar.run("sessions", "--socket", socket.toString()).exitCode())
                    .as("the first server still answers").isZero();

            first.killHard();
            first.awaitExit(TIMEOUT);
        }
        assertThat(socket).as("left behind by kill -9").exists();
        try (ChildProcess third = SallyportJar.start("run", "-c", configs.get(2).toString())) {
            SallyportJar.awaitListening(third, "127.0.0.1", ports.get(2), TIMEOUT);
            ChildProcess.Finished listed = SallyportJar.run("sessions", "--socket", socket.toString());
            assertThat(listed.exitCode()).as(listed.toString()).isZero();
            ChildProcess.Finished stopped = third.terminate(TIMEOUT);
            assertThat(stopped.stderr()).contains("replacing a stale socket file");
        }
        assertThat(socket).as("removed at an orderly stop").doesNotExist();
    }

    @Test
    void withoutARunningServerTheCommandsSaySoAndExit1() throws Exception {
        Path socket = dir.resolve("nobody/admin.sock");
        for (List<String> args : List.of(List.of("sessions"), List.of("kill", "--user", "alice"), List.of("kill", "0123"))) {
            List<String> all = new ArrayList<>(args);
            all.addAll(List.of("--socket", socket.toString()));
            ChildProcess.Finished r = SallyportJar.run(all.toArray(String[]::new));
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
            assertThat(r.stderr().strip()).isEqualTo("sallyport: error: no sallyport server is answering on " + socket);
        }
    }

    @Test
    void badUsageOfKillExits2() {
        for (List<String> args : List.of(List.of("kill"), List.of("kill", "--user", "alice", "0123"),
                List.of("kill", "not-an-id"), List.of("sessions", "--bogus"))) {
            List<String> all = new ArrayList<>(args);
            all.addAll(List.of("--socket", dir.resolve("none.sock").toString()));
            ChildProcess.Finished r = SallyportJar.run(all.toArray(String[]::new));
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
            SallyportJar.assertNoStackTrace(r);
        }
    }

    /**
     * The socket's group decides who may connect, and the kernel enforces it: a user outside the
     * group gets EACCES at connect; a member is served, audited with their own uid.
     */
    @Test
    void aCallerOutsideTheAdminGroupIsRefusedByTheKernelAndAMemberIsServed() throws Exception {
        if (ownUid() != 0) {
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError("CI=true: this test needs root (groupadd, useradd, setpriv)");
            }
            Assumptions.abort("AdminIT: creating throwaway users and groups needs root; skipped");
        }
        String group = "sp-admin-it";
        String member = "sp-member-it";
        String outsider = "sp-outsider-it";
        exec("userdel", outsider);
        exec("userdel", member);
        exec("groupdel", group);
        try {
            assertThat(exec("groupadd", "-r", group)).isZero();
            assertThat(exec("useradd", "-r", "-M", "-s", "/usr/sbin/nologin", "-G", group, member)).isZero();
            assertThat(exec("useradd", "-r", "-M", "-s", "/usr/sbin/nologin", outsider)).isZero();
            // The others may pass through the test directories, as through /run; the socket alone decides.
            Path shared = Files.createDirectories(dir.resolve("shared"));
            for (Path p = shared; p.startsWith(dir.getParent()) && !p.equals(dir.getParent()); p = p.getParent()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-x--x"));
            }
            Path path = shared.resolve("admin.sock");
            try (LoopbackEcho echo = new LoopbackEcho(); BastionFixture bastion = bastion(echo);
                 AdminSocket admin = AdminSocket.open(path, Optional.of(group),
                         new AdminCommands(bastion.server().liveSessions(), bastion.auditor()))) {
                assertThat(Files.getAttribute(path, "posix:group").toString()).isEqualTo(group);
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(path))).isEqualTo("rw-rw----");

                ChildProcess.Finished refused = as(outsider, "sessions", "--socket", path.toString());
                assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(1);
                assertThat(refused.stderr()).contains("permission denied on " + path);
                assertThat(bastion.audit().named("admin.command")).as("the kernel refused it: nothing reached the server")
                        .isEmpty();

                ChildProcess.Finished served = as(member, "sessions", "--socket", path.toString(), "--json");
                assertThat(served.exitCode()).as(served.toString()).isZero();
                assertThat(JSON.readTree(served.stdout()).path("ok").asBoolean()).isTrue();
                JsonNode event = bastion.audit().await("admin.command", e -> true);
                assertThat(event.path("user").asText()).isEqualTo(member);
                assertThat(event.path("uid").asLong()).isEqualTo(uidOf(member));
            }
        } finally {
            exec("userdel", outsider);
            exec("userdel", member);
            exec("groupdel", group);
        }
    }

    /** The packaged CLI run as {@code user}, with that user's groups. */
    private static ChildProcess.Finished as(String user, String... args) {
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups",
                "--"));
        command.addAll(SallyportJar.command(args));
        return ChildProcess.run(command, null, SallyportJar.COMMAND_TIMEOUT);
    }

    private static long uidOf(String user) throws Exception {
        Process p = new ProcessBuilder("id", "-u", user).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
        return Long.parseLong(out);
    }

    private static int exec(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) ? p.exitValue() : -1;
    }
}
