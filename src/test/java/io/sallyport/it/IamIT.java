package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.EchoServer;
import io.sallyport.testing.FakeIam;
import io.sallyport.testing.OpenSsh;
import io.sallyport.testing.PrivateSubnet;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * IAM as the identity source, end to end: the stock OpenSSH client logs in through sallyport with
 * keys that live in a fake IAM (spoken to by the real AWS SDK), roles from tags and groups open
 * exactly their targets, and withdrawing a key, the allow tag or the group cuts live tunnels at
 * the next refresh. The bastion refreshes every second here; production uses 60s.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IamIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int OPS_PORT = 7777;
    private static final int DB_PORT = 7778;
    private static final Duration REFRESH = Duration.ofSeconds(1);

    @TempDir
    static Path dir;

    PrivateSubnet subnet;
    EchoServer.Handle opsEcho;
    EchoServer.Handle dbEcho;
    FakeIam iam;
    BastionFixture bastion;
    OpenSsh ssh;
    Path knownHosts;
    final List<OpenSsh.Host> hosts = new ArrayList<>();
    final List<AutoCloseable> cleanup = new ArrayList<>();

    @BeforeAll
    void startWorld() throws Exception {
        OpenSsh.requireClient();
        subnet = PrivateSubnet.create();
        opsEcho = EchoServer.startIn(subnet, OPS_PORT);
        dbEcho = EchoServer.startIn(subnet, DB_PORT);
        iam = FakeIam.start();

        // SSH public key API (RSA only, IAM's rule) and tags (ed25519), Active, Inactive, Expired.
        iam.user("Alice", "/engineering/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops")
                .uploadKey(publicLine(key("alice", "rsa")));
        iam.user("bob", "/engineering/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops")
                .tag("sallyport:ssh-key", publicLine(key("bob", "ed25519")));
        // Carol and Dave also hold their withdrawn keys in key tags: the tags must not revive them,
        // though this bastion starts fresh, with no key body cached from before the withdrawal.
        iam.user("carol", "/engineering/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops")
                .tag("sallyport:ssh-key", publicLine(key("carol", "rsa")))
                .uploadKey(publicLine(key("carol", "rsa")), "Inactive");
        iam.user("dave", "/engineering/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops")
                .tag("sallyport:ssh-key-2", publicLine(key("dave", "rsa")))
                .uploadKey(publicLine(key("dave", "rsa")), "Expired");
        iam.user("erin", "/engineering/").join("developers").tag("sallyport:roles", "ops")
                .tag("sallyport:ssh-key", publicLine(key("erin", "ed25519")));
        iam.user("frank", "/contractors/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops")
                .tag("sallyport:ssh-key", publicLine(key("frank", "ed25519")));
        iam.user("gina", "/engineering/").join("bastion-users").join("dba")
                .tag("sallyport:ssh-key", publicLine(key("gina", "ed25519")));
        // Whose live tunnels the revocation test cuts: by key status, by allow tag, by group.
        iam.user("henry", "/engineering/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops")
                .uploadKey(publicLine(key("henry", "rsa")));
        iam.user("ivy", "/engineering/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops")
                .tag("sallyport:ssh-key-2", publicLine(key("ivy", "ed25519")));
        iam.user("jack", "/engineering/").join("bastion-users").tag("sallyport:roles", "ops")
                .tag("sallyport:ssh-key", publicLine(key("jack", "ed25519")));

        bastion = BastionFixture.start(Files.createDirectories(dir.resolve("bastion")), yaml(iam, "1m"), TargetResolver.system());
        knownHosts = dir.resolve("known_hosts");
        OpenSsh.addKnownHost(knownHosts, "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        for (String user : List.of("alice", "bob", "carol", "dave", "erin", "frank", "gina", "henry", "ivy", "jack")) {
            host(user, user, bastion.port(), user);
        }
        host("ALICE", "ALICE", bastion.port(), "alice");
        ssh = writeSshConfig();
    }

    @AfterAll
    void stopWorld() {
        cleanup.add(bastion);
        cleanup.add(iam);
        cleanup.add(dbEcho);
        cleanup.add(opsEcho);
        cleanup.add(subnet);
        for (AutoCloseable c : cleanup) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                System.err.println("cleanup: " + e);
            }
        }
    }

    private String yaml(FakeIam fake, String maxStaleness) {
        String target = subnet.targetAddress();
        return String.join("\n",
                "identity:",
                "  iam:",
                "    enabled: true",
                "    endpoint: \"" + fake.endpoint() + "\"",
                "    refresh: " + REFRESH.toSeconds() + "s",
                "    max_staleness: " + maxStaleness,
                "    path_prefix: /engineering/",
                "    allow_groups: [bastion-users]",
                "    group_roles: {dba: [db]}",
                "policy:",
                "  roles:",
                "    ops:",
                "      allow: [\"" + target + "/32:" + OPS_PORT + "\"]",
                "    db:",
                "      allow: [\"" + target + "/32:" + DB_PORT + "\"]",
                "  unsafe_allow_loopback: " + subnet.isLoopbackFallback(),
                "limits:",
                "  max_auth_attempts: 50",
                "");
    }

    private static Path key(String name, String type) {
        return type.equals("rsa") ? OpenSsh.keygen(dir.resolve("keys"), name, "rsa", 2048) : OpenSsh.keygen(dir.resolve("keys"), name, type);
    }

    private static Path keyFile(String name) {
        return dir.resolve("keys").resolve(name);
    }

    private static String publicLine(Path key) {
        return OpenSsh.publicKeyLine(key);
    }

    private void host(String alias, String user, int port, String keyName) {
        hosts.add(OpenSsh.host(alias).hostName("127.0.0.1").port(port).user(user)
                .identityFile(keyFile(keyName)).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"));
    }

    private OpenSsh writeSshConfig() {
        OpenSsh.ConfigBuilder b = OpenSsh.config();
        hosts.forEach(b::host);
        return b.writeTo(dir.resolve("ssh_config"));
    }

    private OpenSsh.Result tunnel(String alias, int port, byte[] payload) {
        return ssh.run(List.of("-W", subnet.targetAddress() + ":" + port, alias), payload, TIMEOUT);
    }

    // ---- Logins and roles -------------------------------------------------------------------

    @Test
    void rsaKeyFromTheSshPublicKeyApiLogsInCaseInsensitivelyAuditedInIamSpelling() throws Exception {
        byte[] payload = "through IAM\n".getBytes(StandardCharsets.UTF_8);
        OpenSsh.Result r = tunnel("ALICE", OPS_PORT, payload);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).isEqualTo(payload);
        JsonNode accept = bastion.audit().await("auth.accept", e -> e.path("user").asText().equals("Alice"));
        assertThat(accept.path("auth").path("source").asText()).isEqualTo("iam");
        assertThat(accept.path("auth").path("key_type").asText()).isEqualTo("ssh-rsa");
        assertThat(accept.path("auth").path("iam_arn").asText()).isEqualTo("arn:aws:iam::123456789012:user/engineering/Alice");
        assertThat(accept.path("auth").path("roles").toString()).isEqualTo("[\"ops\"]");
        JsonNode open = bastion.audit().await("forward.open", e -> e.path("session").equals(accept.path("session")));
        assertThat(open.path("user").asText()).isEqualTo("Alice");
    }

    @Test
    void ed25519KeyFromATagLogsIn() throws Exception {
        byte[] payload = "tagged key\n".getBytes(StandardCharsets.UTF_8);
        OpenSsh.Result r = tunnel("bob", OPS_PORT, payload);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).isEqualTo(payload);
        JsonNode accept = bastion.audit().await("auth.accept", e -> e.path("user").asText().equals("bob"));
        assertThat(accept.path("auth").path("key_type").asText()).isEqualTo("ssh-ed25519");
        assertThat(accept.path("auth").path("iam_arn").asText()).endsWith(":user/engineering/bob");
    }

    @Test
    void rolesFromTagAndGroupDecideWhichTargetsOpen() throws Exception {
        byte[] payload = "db\n".getBytes(StandardCharsets.UTF_8);
        OpenSsh.Result gina = tunnel("gina", DB_PORT, payload);
        assertThat(gina.exitCode()).as(gina.toString()).isZero();
        assertThat(gina.stdout()).isEqualTo(payload);
        OpenSsh.Result ginaOps = tunnel("gina", OPS_PORT, new byte[0]);
        assertThat(ginaOps.exitCode()).as(ginaOps.toString()).isNotZero();
        assertThat(ginaOps.stderr()).contains("administratively prohibited");

        OpenSsh.Result bobDb = tunnel("bob", DB_PORT, new byte[0]);
        assertThat(bobDb.exitCode()).as(bobDb.toString()).isNotZero();
        JsonNode reject = bastion.audit().await("forward.reject",
                e -> e.path("user").asText().equals("bob") && e.path("target").path("port").asInt() == DB_PORT);
        assertThat(reject.path("reason").asText()).contains("ops");
        JsonNode ginaAccept = bastion.audit().await("auth.accept", e -> e.path("user").asText().equals("gina"));
        assertThat(ginaAccept.path("auth").path("roles").toString()).isEqualTo("[\"db\"]");
    }

    @Test
    void inactiveAndExpiredKeysAreRefusedEvenHeldInAKeyTagOnAFreshStart() throws Exception {
        for (String user : List.of("carol", "dave")) {
            OpenSsh.Result r = tunnel(user, OPS_PORT, new byte[0]);

            assertThat(r.exitCode()).as(r.toString()).isNotZero();
            assertThat(r.stderr()).contains("Permission denied (publickey)");
            JsonNode reject = bastion.audit().await("auth.reject", e -> e.path("user").asText().equals(user));
            assertThat(reject.path("reason").asText()).startsWith("key " + reject.path("auth").path("key_fp").asText()
                    + " of IAM user " + user + " is " + (user.equals("carol") ? "Inactive" : "Expired")
                    + " (IAM SSH public key APKA");
        }
        assertThat(bastion.audit().named("auth.accept")).noneMatch(e -> List.of("carol", "dave").contains(e.path("user").asText()));
    }

    @Test
    void userWithoutTheAllowTagOrGroupIsRefused() throws Exception {
        OpenSsh.Result r = tunnel("erin", OPS_PORT, new byte[0]);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("Permission denied (publickey)");
        JsonNode reject = bastion.audit().await("auth.reject", e -> e.path("user").asText().equals("erin"));
        assertThat(reject.path("reason").asText()).isEqualTo("IAM user erin is not allowed to use the bastion"
                + " (needs tag sallyport:allow=true or membership of bastion-users)");
    }

    @Test
    void userOutsidePathPrefixIsRefused() throws Exception {
        OpenSsh.Result r = tunnel("frank", OPS_PORT, new byte[0]);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        JsonNode reject = bastion.audit().await("auth.reject", e -> e.path("user").asText().equals("frank"));
        assertThat(reject.path("reason").asText()).isEqualTo("unknown user");
    }

    @Test
    void sallyportRunFromTheShadedJarLoadsIamUsers() throws Exception {
        Path work = Files.createDirectories(dir.resolve("jar"));
        int port = SallyportJar.freePort();
        Path config = work.resolve("sallyport.yaml");
        Files.writeString(config, "listen: [\"127.0.0.1:" + port + "\"]\nhost_keys: [host_key]\n" + yaml(iam, "1m"));
        List<String> command = new ArrayList<>(SallyportJar.command("run", "-c", config.toString()));
        // The default credential chain of the real server, fed the way a test may: system properties.
        command.addAll(1, List.of("-Daws.accessKeyId=AKIAFAKEIAMTEST00000", "-Daws.secretAccessKey=fake",
                "-Daws.disableEc2Metadata=true"));
        try (ChildProcess server = ChildProcess.start(command)) {
            SallyportJar.awaitListening(server, "127.0.0.1", port, Duration.ofSeconds(30));
            OpenSsh.addKnownHost(knownHosts, "127.0.0.1", port, SallyportJar.read(work.resolve("host_key.pub")));
            OpenSsh jarSsh = OpenSsh.config().host(OpenSsh.host("bob-jar").hostName("127.0.0.1").port(port).user("bob")
                    .identityFile(keyFile("bob")).userKnownHostsFile(knownHosts)).writeTo(work.resolve("ssh_config"));
            byte[] payload = "shaded\n".getBytes(StandardCharsets.UTF_8);

            OpenSsh.Result r = jarSsh.run(List.of("-W", subnet.targetAddress() + ":" + OPS_PORT, "bob-jar"), payload, TIMEOUT);

            assertThat(r.exitCode()).as(r + "\n" + server.describe()).isZero();
            assertThat(r.stdout()).isEqualTo(payload);
            ChildProcess.Finished stopped = server.terminate(Duration.ofSeconds(20));
            assertThat(stopped.stderr()).contains("IAM refresh: ").contains("identity.iam.refresh is 1s");
            SallyportJar.assertNoStackTrace(stopped);
        }
    }

    // ---- Live revocation --------------------------------------------------------------------

    /** A {@code ssh -W} tunnel kept open, its echo checked, until the server cuts it. */
    private final class LiveTunnel implements AutoCloseable {
        final Process process;
        final String session;

        LiveTunnel(String alias, String iamUser) throws Exception {
            ProcessBuilder pb = new ProcessBuilder(ssh.command(List.of("-W", subnet.targetAddress() + ":" + OPS_PORT, alias)))
                    .redirectError(dir.resolve(alias + "-tunnel.err").toFile());
            pb.environment().remove("SSH_AUTH_SOCK");
            process = pb.start();
            OutputStream in = process.getOutputStream();
            in.write("alive?\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            InputStream out = process.getInputStream();
            byte[] echo = new byte[7];
            int n = 0;
            while (n < echo.length) {
                int r = out.read(echo, n, echo.length - n);
                if (r < 0) {
                    throw new AssertionError(alias + "'s tunnel closed before echoing: "
                            + Files.readString(dir.resolve(alias + "-tunnel.err")));
                }
                n += r;
            }
            assertThat(new String(echo, StandardCharsets.UTF_8)).isEqualTo("alive?\n");
            session = bastion.audit().await("forward.open", e -> e.path("user").asText().equals(iamUser)).path("session").asText();
        }

        @Override
        public void close() {
            process.destroy();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void liveTunnelsAreCutAtTheNextRefreshWhenTheKeyTheAllowTagOrTheGroupIsWithdrawn() throws Exception {
        try (LiveTunnel henry = new LiveTunnel("henry", "henry");
             LiveTunnel ivy = new LiveTunnel("ivy", "ivy");
             LiveTunnel jack = new LiveTunnel("jack", "jack");
             LiveTunnel bob = new LiveTunnel("bob", "bob")) {
            String henryKey = iam.user("henry").keyIds().get(0);

            long t0 = System.nanoTime();
            iam.user("henry").keyStatus(henryKey, "Inactive");
            iam.user("ivy").untag("sallyport:allow");
            iam.user("jack").leave("bastion-users");

            // Within one refresh period plus a few seconds.
            Duration limit = REFRESH.plusSeconds(4);
            for (LiveTunnel t : List.of(henry, ivy, jack)) {
                long left = limit.toNanos() - (System.nanoTime() - t0);
                assertThat(t.process.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS))
                        .as("tunnel of session %s cut within %s", t.session, limit).isTrue();
            }
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(took).isLessThan(limit);

            for (LiveTunnel t : List.of(henry, ivy, jack)) {
                JsonNode terminate = bastion.audit().await("session.terminate", e -> e.path("session").asText().equals(t.session));
                assertThat(terminate.path("reason").asText()).isEqualTo("revoked");
                JsonNode close = bastion.audit().await("session.close", e -> e.path("session").asText().equals(t.session));
                assertThat(close.path("reason").asText()).isEqualTo("revoked");
            }
            // Bob kept everything: his tunnel is untouched.
            assertThat(bob.process.isAlive()).isTrue();
            assertThat(bastion.audit().ofSession(bob.session)).extracting(e -> e.path("event").asText()).doesNotContain("session.terminate");
        } finally {
            // Put the world back for the other tests.
            iam.user("ivy").tag("sallyport:allow", "true");
            iam.user("jack").join("bastion-users");
        }
    }

    // ---- IAM outage ---------------------------------------------------------------------------

    @Test
    void duringAnOutageLoginsUseTheLastKnownGoodSetUntilMaxStalenessThenAreRefused() throws Exception {
        try (FakeIam flaky = FakeIam.start()) {
            // Ten users on five pages; zoe on the last one.
            flaky.maxPageSize(2);
            for (int i = 0; i < 9; i++) {
                flaky.user("user0" + i, "/engineering/").tag("sallyport:allow", "true");
            }
            flaky.user("zoe", "/engineering/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops")
                    .tag("sallyport:ssh-key", publicLine(key("zoe", "ed25519")));
            BastionFixture outage = BastionFixture.start(Files.createDirectories(dir.resolve("outage")),
                    yaml(flaky, "6s"), TargetResolver.system());
            cleanup.add(outage);
            OpenSsh.addKnownHost(knownHosts, "127.0.0.1", outage.port(), outage.hostKeyLine());
            hosts.add(OpenSsh.host("zoe").hostName("127.0.0.1").port(outage.port()).user("zoe")
                    .identityFile(keyFile("zoe")).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"));
            ssh = writeSshConfig();
            byte[] payload = "ok\n".getBytes(StandardCharsets.UTF_8);
            assertThat(tunnel("zoe", OPS_PORT, payload).exitCode()).isZero();
            Process liveZoe = new ProcessBuilder(ssh.command(List.of("-W", subnet.targetAddress() + ":" + OPS_PORT, "zoe")))
                    .redirectErrorStream(true).start();
            cleanup.add(liveZoe::destroy);
            outage.audit().await(e -> e.path("event").asText().equals("forward.open") && outage.audit().named("forward.open").size() == 2,
                    Duration.ofSeconds(15));

            // Page 3 of 5 fails, every time: zoe (page 5) must not be read as deleted.
            flaky.inject(FakeIam.Fault.serverError("GetAccountAuthorizationDetails").onPage(3));
            long t0 = System.nanoTime();
            awaitCalls(flaky, 6); // two failed refreshes, three attempts each
            assertThat(liveZoe.isAlive()).as("a failed refresh removes nobody").isTrue();
            OpenSsh.Result during = tunnel("zoe", OPS_PORT, payload);
            assertThat(during.exitCode()).as("logins served from the last-known-good set: " + during).isZero();

            // Past max_staleness (6s after the last success): refused, with the reason.
            OpenSsh.Result refused;
            do {
                Thread.sleep(500);
                refused = tunnel("zoe", OPS_PORT, payload);
            } while (refused.exitCode() == 0 && System.nanoTime() - t0 < Duration.ofSeconds(15).toNanos());
            assertThat(refused.exitCode()).as(refused.toString()).isNotZero();
            assertThat(refused.stderr()).contains("Permission denied (publickey)");
            JsonNode reject = outage.audit().await("auth.reject", e -> e.path("user").asText().equals("zoe"));
            assertThat(reject.path("reason").asText()).startsWith("IAM data is stale: last successful refresh ")
                    .contains("beyond identity.iam.max_staleness 6s")
                    .contains("last refresh failed: GetAccountAuthorizationDetails page 3 failed after 3 attempts (ServiceFailure");
            // Fail closed means no new logins; live sessions are not cut for IAM being unreachable.
            assertThat(liveZoe.isAlive()).isTrue();

            flaky.clearFaults();
            OpenSsh.Result back;
            long t1 = System.nanoTime();
            do {
                Thread.sleep(300);
                back = tunnel("zoe", OPS_PORT, payload);
            } while (back.exitCode() != 0 && System.nanoTime() - t1 < Duration.ofSeconds(10).toNanos());
            assertThat(back.exitCode()).as("IAM back: logins again " + back).isZero();
        }
    }

    private static void awaitCalls(FakeIam fake, int failedPage3Calls) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            if (fake.failedCalls() >= failedPage3Calls) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("IAM refreshes did not fail " + failedPage3Calls + " times: " + fake.callLog());
    }
}
