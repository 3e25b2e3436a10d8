package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.admin.AdminSocket;
import io.sallyport.cli.ServerAssembly;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.FakeIam;
import io.sallyport.testing.OpenSsh;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sallyport explain} from the packaged CLI: through a running server's admin socket it knows
 * that server's live identities (IAM users from a fake IAM spoken to by the real SDK, with the roles
 * their tags and groups give them now); with no server answering it decides from the config alone
 * and says so.
 */
class ExplainIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final AtomicInteger COUNTER = new AtomicInteger();

    @TempDir
    static Path dir;
    static String aliceKey;
    static String ginaKey;
    static String erinKey;

    @BeforeAll
    static void keys() {
        OpenSsh.requireClient();
        aliceKey = OpenSsh.publicKeyLine(OpenSsh.keygen(dir, "alice"));
        ginaKey = OpenSsh.publicKeyLine(OpenSsh.keygen(dir, "gina"));
        erinKey = OpenSsh.publicKeyLine(OpenSsh.keygen(dir, "erin"));
    }

    /** Local alice (ops); IAM users under /engineering/, roles from the roles tag and from group dba; refresh every second. */
    private static String yaml(Path socket, String iamEndpoint) {
        return String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [ops]",
                "        keys: [\"" + aliceKey + "\"]",
                "  iam:",
                "    enabled: true",
                "    endpoint: \"" + iamEndpoint + "\"",
                "    refresh: 1s",
                "    path_prefix: /engineering/",
                "    allow_groups: [bastion-users]",
                "    group_roles: {dba: [db]}",
                "policy:",
                "  roles:",
                "    ops:",
                "      allow: [\"10.0.0.0/16:22\"]",
                "    db:",
                "      allow: [\"10.0.20.0/24:5432\"]",
                "admin:",
                "  socket: " + socket,
                "");
    }

    private static ChildProcess.Finished explain(Path config, String user, String target) {
        ChildProcess.Finished r = SallyportJar.run("explain", "-c", config.toString(), "--user", user, "--target", target);
        assertThat(r.exitCode()).as("explain answers with its output, allowed or not\n" + r).isZero();
        assertThat(r.stderr()).as(r.toString()).isEmpty();
        SallyportJar.assertNoStackTrace(r);
        return r;
    }

    /** The value of an aligned {@code name:   value} line of explain's output. */
    private static String field(ChildProcess.Finished r, String name) {
        return r.stdoutLines().stream()
                .filter(l -> l.startsWith(name + ":"))
                .map(l -> l.substring(name.length() + 1).strip())
                .findFirst()
                .orElseThrow(() -> new AssertionError("no '" + name + ":' line in\n" + r));
    }

    @Test
    void explainThroughTheSocketKnowsAnIamUserAndTheRolesTheirTagsAndGroupsGiveNow() throws Exception {
        try (FakeIam iam = FakeIam.start()) {
            iam.user("Gina", "/engineering/").join("bastion-users").join("dba").tag("sallyport:roles", "ops")
                    .tag("sallyport:ssh-key", ginaKey);
            iam.user("erin", "/engineering/").tag("sallyport:roles", "ops").tag("sallyport:ssh-key", erinKey);
            Path work = Files.createDirectories(dir.resolve("live" + COUNTER.incrementAndGet()));
            Path socket = work.resolve("run/admin.sock");
            try (BastionFixture bastion = BastionFixture.start(work, yaml(socket, iam.endpoint()), TargetResolver.system());
                 AdminSocket admin = ServerAssembly.adminSocket(ServerAssembly.load(bastion.configFile()), bastion.server(),
                         bastion.auditor())) {
                Path config = bastion.configFile();

                ChildProcess.Finished db = explain(config, "gina", "10.0.20.9:5432");

                assertThat(field(db, "user")).isEqualTo("gina");
                assertThat(field(db, "identity")).as(db.toString()).isEqualTo("live (the server answering on " + socket + ")");
                assertThat(field(db, "source")).isEqualTo("iam (arn:aws:iam::123456789012:user/engineering/Gina)");
                assertThat(field(db, "roles")).isEqualTo("ops, db");
                assertThat(field(db, "decision")).isEqualTo("ALLOW");
                assertThat(field(db, "rule")).isEqualTo("10.0.20.0/24:5432 (role db)");
                assertThat(field(db, "connects")).isEqualTo("10.0.20.9:5432");

                ChildProcess.Finished notAllowed = explain(config, "erin", "10.0.3.17:22");
                assertThat(field(notAllowed, "decision")).as(notAllowed.toString()).isEqualTo("DENY");
                assertThat(field(notAllowed, "reason")).isEqualTo("login refused: IAM user erin is not allowed to use the"
                        + " bastion (needs tag sallyport:allow=true or membership of bastion-users)");

                // Gina leaves dba: after the next refresh explain answers with her roles as they are now.
                iam.user("Gina").leave("dba");
                ChildProcess.Finished after = null;
                long deadline = System.nanoTime() + TIMEOUT.toNanos();
                do {
                    Thread.sleep(500);
                    after = explain(config, "gina", "10.0.20.9:5432");
                } while (!field(after, "roles").equals("ops") && System.nanoTime() < deadline);
                assertThat(field(after, "roles")).as(after.toString()).isEqualTo("ops");
                assertThat(field(after, "decision")).isEqualTo("DENY");
                assertThat(field(after, "reason")).contains("no rule of role(s) ops allows 10.0.20.9:5432");

                ChildProcess.Finished local = explain(config, "alice", "10.0.3.17:22");
                assertThat(field(local, "source")).isEqualTo("local");
                assertThat(field(local, "rule")).isEqualTo("10.0.0.0/16:22 (role ops)");

                List<JsonNode> commands = bastion.audit().named("admin.command");
                assertThat(commands).isNotEmpty().allSatisfy(e -> assertThat(e.path("command").asText()).isEqualTo("explain"));
                assertThat(commands.get(0).path("args").toString())
                        .isEqualTo("[\"--user\",\"gina\",\"--target\",\"10.0.20.9:5432\"]");
                assertThat(commands.get(0).path("user").asText()).isEqualTo(System.getProperty("user.name"));
                assertThat(commands.get(0).has("reason")).isFalse();
            }
        }
    }

    /** {@code sallyport run} serves explain by the rules in force: after a reload, the new ones. */
    @Test
    void theRunningServerExplainsByTheRulesOfItsLastReload() throws Exception {
        Path work = Files.createDirectories(dir.resolve("run" + COUNTER.incrementAndGet()));
        int port = SallyportJar.freePort();
        String head = "listen: [\"127.0.0.1:" + port + "\"]\nhost_keys: [\"" + work.resolve("host_key") + "\"]\n"
                + "admin:\n  socket: " + work.resolve("admin.sock") + "\n"
                + "identity:\n  local:\n    users:\n      alice:\n        roles: [ops]\n        keys: [\"" + aliceKey + "\"]\n";
        Path config = Files.writeString(work.resolve("sallyport.yaml"),
                head + "policy:\n  roles:\n    ops:\n      allow: [\"10.0.0.0/16:22\"]\n");
        try (ChildProcess server = SallyportJar.start("run", "-c", config.toString())) {
            SallyportJar.awaitListening(server, "127.0.0.1", port, TIMEOUT);
            ChildProcess.Finished before = explain(config, "alice", "10.0.3.17:22");
            assertThat(field(before, "identity")).as(before.toString()).startsWith("live (");
            assertThat(field(before, "rule")).isEqualTo("10.0.0.0/16:22 (role ops)");

            Files.writeString(config, head + "policy:\n  roles:\n    ops:\n      allow: [\"10.0.3.0/24:2222\"]\n");
            ChildProcess.Finished reload = SallyportJar.run("reload", "-c", config.toString());
            assertThat(reload.exitCode()).as(reload.toString()).isZero();

            ChildProcess.Finished after = explain(config, "alice", "10.0.3.17:22");
            assertThat(field(after, "identity")).as(after.toString()).startsWith("live (");
            assertThat(field(after, "decision")).isEqualTo("DENY");
            assertThat(field(after, "reason")).isEqualTo("no rule of role(s) ops allows 10.0.3.17:22");
            assertThat(field(explain(config, "alice", "10.0.3.17:2222"), "rule")).isEqualTo("10.0.3.0/24:2222 (role ops)");
        }
    }

    @Test
    void withNoServerAnsweringExplainDecidesFromTheConfigAloneAndSaysSo() throws Exception {
        Path work = Files.createDirectories(dir.resolve("alone" + COUNTER.incrementAndGet()));
        Path socket = work.resolve("admin.sock");
        Path config = Files.writeString(work.resolve("sallyport.yaml"), yaml(socket, "http://127.0.0.1:9"));

        ChildProcess.Finished alice = explain(config, "alice", "10.0.3.17:22");
        ChildProcess.Finished gina = explain(config, "gina", "10.0.20.9:5432");

        assertThat(field(alice, "identity")).as(alice.toString())
                .isEqualTo("config only (no running server answered on " + socket + ")");
        assertThat(field(alice, "source")).isEqualTo("local");
        assertThat(field(alice, "decision")).isEqualTo("ALLOW");
        assertThat(field(alice, "rule")).isEqualTo("10.0.0.0/16:22 (role ops)");
        assertThat(field(gina, "decision")).as(gina.toString()).isEqualTo("DENY");
        assertThat(field(gina, "reason")).isEqualTo("no user 'gina' in identity.local; no login, so no tunnel");
        assertThat(field(gina, "note")).isEqualTo("IAM users are known only to the running server (identity.iam is on)");

        // A socket file left by a crashed server (nobody accepting on it) is no answer either.
        try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            crashed.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        ChildProcess.Finished stale = explain(config, "alice", "10.0.3.17:22");
        assertThat(field(stale, "identity")).as(stale.toString())
                .isEqualTo("config only (no running server answered on " + socket + ")");
        assertThat(field(stale, "decision")).isEqualTo("ALLOW");
    }

    @Test
    void explainWithABadClientAddressIsBadUsageBeforeAnyServerIsAsked() {
        ChildProcess.Finished r = SallyportJar.run("explain", "--socket", dir.resolve("none.sock").toString(),
                "--user", "alice", "--target", "10.0.3.17:22", "--from", "bastion.corp");

        assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
        assertThat(r.stderr().strip()).isEqualTo("sallyport: --from must be an IP address, not 'bastion.corp'");
        SallyportJar.assertNoStackTrace(r);
    }
}
