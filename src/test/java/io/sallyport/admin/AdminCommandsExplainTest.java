package io.sallyport.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.audit.Auditor;
import io.sallyport.config.Config;
import io.sallyport.config.ConfigLoader;
import io.sallyport.config.ConfigProblem;
import io.sallyport.identity.Identity;
import io.sallyport.identity.IdentitySource;
import io.sallyport.identity.KeyPolicy;
import io.sallyport.identity.LocalIdentities;
import io.sallyport.identity.Logins;
import io.sallyport.identity.AuthDecision;
import io.sallyport.identity.SshPublicKey;
import io.sallyport.net.IpLiterals;
import io.sallyport.net.TargetResolver;
import io.sallyport.policy.PolicyCompiler;
import io.sallyport.ssh.Rules;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code explain} through {@link AdminCommands}: the decision the server would take by the rules it
 * holds at that moment, with the live identities, audited as {@code admin.command}.
 */
class AdminCommandsExplainTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AdminCommands.Caller OPERATOR = new AdminCommands.Caller(1000, "oper");
    private static final String POLICY = String.join("\n",
            "identity:",
            "  local:",
            "    users:",
            "      alice: {roles: [ops]}",
            "policy:",
            "  roles:",
            "    ops:",
            "      allow: [\"10.0.0.0/16:22\", \"*.internal.corp:22\"]",
            "    db:",
            "      allow: [\"10.0.20.0/24:5432\"]",
            "limits:",
            "  resolve_timeout: 1s",
            "");

    final ListSink audit = new ListSink();
    final Auditor auditor = new Auditor("test", Clock.systemUTC(), List.of(audit));
    final CountDownLatch dnsAnswers = new CountDownLatch(1);
    /** Answers {@code *.internal.corp} with 10.0.3.17; {@code slow.internal.corp} only once the test lets it. */
    final TargetResolver dns = name -> {
        if (name.equals("slow.internal.corp")) {
            // Like the system resolver: an interrupt does not end the wait.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            boolean interrupted = false;
            while (dnsAnswers.getCount() > 0 && System.nanoTime() < deadline) {
                try {
                    dnsAnswers.await(100, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (name.endsWith(".internal.corp")) {
            return List.of(IpLiterals.parse("10.0.3.17").orElseThrow());
        }
        throw new UnknownHostException(name);
    };

    @AfterEach
    void close() {
        dnsAnswers.countDown();
        auditor.close();
    }

    /** Stands in for the IAM source: users with roles, or every login refused (stale data). */
    static final class FakeIamSource implements IdentitySource {
        final Map<String, Identity> users = new HashMap<>();
        volatile Optional<String> refusingAll = Optional.empty();

        FakeIamSource user(String name, String... roles) {
            users.put(name.toLowerCase(), new Identity(name, List.of(roles), "iam",
                    Optional.of("arn:aws:iam::123456789012:user/" + name)));
            return this;
        }

        @Override
        public AuthDecision authenticate(String user, SshPublicKey key) {
            return new AuthDecision.UnknownUser();
        }

        @Override
        public Optional<Identity> lookup(String user) {
            return Optional.ofNullable(users.get(user.toLowerCase()));
        }

        @Override
        public Optional<String> loginRefusal(String user) {
            return refusingAll;
        }
    }

    private Rules rules(String yaml, IdentitySource... more) throws Exception {
        Config c = ConfigLoader.parse(yaml, Path.of("/etc/sallyport/sallyport.yaml"));
        List<ConfigProblem> problems = new ArrayList<>();
        List<IdentitySource> sources = new ArrayList<>(List.of(LocalIdentities.from(c, problems)));
        sources.addAll(List.of(more));
        var policy = PolicyCompiler.compile(c, dns, List::<InetAddress>of, problems);
        assertThat(problems).isEmpty();
        return new Rules(c, new Logins(new KeyPolicy(c.policy().minRsaBits()), sources), policy);
    }

    private static String request(String user, String target) {
        return "{\"command\":\"explain\",\"user\":\"" + user + "\",\"target\":\"" + target + "\"}";
    }

    private static JsonNode answer(AdminCommands commands, String line) throws Exception {
        return JSON.readTree(commands.handle(line, OPERATOR));
    }

    @Test
    void aLocalUserIsAllowedByTheRuleAsWrittenWithItsRoleAndAudited() throws Exception {
        AdminCommands commands = new AdminCommands(new FakeLiveSessions(), auditor, AdminCommands.noReload(), () -> rulesOrFail(POLICY));

        JsonNode r = answer(commands,
                "{\"command\":\"explain\",\"user\":\"alice\",\"target\":\"10.0.3.17:22\",\"from\":\"203.0.113.9\"}");

        assertThat(r.path("ok").asBoolean()).as(r.toString()).isTrue();
        assertThat(r.path("decision").asText()).isEqualTo("allow");
        assertThat(r.path("rule").asText()).isEqualTo("10.0.0.0/16:22");
        assertThat(r.path("role").asText()).isEqualTo("ops");
        assertThat(r.path("ip").asText()).isEqualTo("10.0.3.17");
        assertThat(r.path("identity").path("source").asText()).isEqualTo("local");
        assertThat(r.path("from").asText()).isEqualTo("203.0.113.9");
        JsonNode event = audit.named("admin.command").get(0);
        assertThat(event.path("command").asText()).isEqualTo("explain");
        assertThat(event.path("args").toString())
                .isEqualTo("[\"--user\",\"alice\",\"--target\",\"10.0.3.17:22\",\"--from\",\"203.0.113.9\"]");
        assertThat(event.path("uid").asLong()).isEqualTo(1000);
        assertThat(event.has("reason")).isFalse();
    }

    @Test
    void anIamUserIsKnownWithTheirCurrentRolesAndDecidedOnThem() throws Exception {
        FakeIamSource iam = new FakeIamSource().user("Gina", "db");
        Rules rules = rules(POLICY, iam);
        AdminCommands commands = new AdminCommands(new FakeLiveSessions(), auditor, AdminCommands.noReload(), () -> rules);

        JsonNode db = answer(commands, request("gina", "10.0.20.9:5432"));
        JsonNode ops = answer(commands, request("gina", "10.0.3.17:22"));

        assertThat(db.path("decision").asText()).as(db.toString()).isEqualTo("allow");
        assertThat(db.path("rule").asText()).isEqualTo("10.0.20.0/24:5432");
        assertThat(db.path("identity").path("user").asText()).isEqualTo("Gina");
        assertThat(db.path("identity").path("source").asText()).isEqualTo("iam");
        assertThat(db.path("identity").path("roles").toString()).isEqualTo("[\"db\"]");
        assertThat(db.path("identity").path("iam_arn").asText()).endsWith(":user/Gina");
        assertThat(ops.path("decision").asText()).isEqualTo("deny");
        assertThat(ops.path("reason").asText()).contains("no rule of role(s) db allows 10.0.3.17:22");
    }

    @Test
    void staleIamDataIsSaidNotHiddenTheLoginIsRefusedAsTheServerWould() throws Exception {
        FakeIamSource iam = new FakeIamSource().user("gina", "db");
        iam.refusingAll = Optional.of("IAM data is stale: last successful refresh 2026-11-28T10:00:00Z, 16m ago");
        AdminCommands commands = new AdminCommands(new FakeLiveSessions(), auditor, AdminCommands.noReload(), () -> rulesOrFail(POLICY, iam));

        JsonNode known = answer(commands, request("gina", "10.0.20.9:5432"));
        JsonNode unknown = answer(commands, request("nobody", "10.0.20.9:5432"));

        assertThat(known.path("decision").asText()).as(known.toString()).isEqualTo("deny");
        assertThat(known.path("reason").asText()).isEqualTo("login refused: IAM data is stale: last successful refresh"
                + " 2026-11-28T10:00:00Z, 16m ago");
        assertThat(known.path("identity").path("roles").toString()).as("roles as of the last good data").isEqualTo("[\"db\"]");
        assertThat(unknown.path("reason").asText()).startsWith("login refused: IAM data is stale");
        JsonNode local = answer(commands, request("alice", "10.0.3.17:22"));
        assertThat(local.path("decision").asText()).as("a local user is not IAM's to refuse").isEqualTo("allow");
    }

    @Test
    void anUnknownUserIsDeniedNamingWhereTheServerLooked() throws Exception {
        AdminCommands commands = new AdminCommands(new FakeLiveSessions(), auditor, AdminCommands.noReload(), () -> rulesOrFail(POLICY));

        JsonNode r = answer(commands, request("mallory", "10.0.3.17:22"));

        assertThat(r.path("decision").asText()).isEqualTo("deny");
        assertThat(r.path("reason").asText()).isEqualTo("no user 'mallory' in identity.local; no login, so no tunnel");
        assertThat(r.has("identity")).isFalse();
    }

    @Test
    void aCertificateUsersRolesAreSaidToComeFromTheCertificate() throws Exception {
        String yaml = POLICY.replace("identity:\n", "identity:\n  certificates:\n    authorities:\n      - name: corp-ca\n"
                + "        public_key: \"" + CA_KEY + "\"\n        grantable_roles: [ops, db]\n");
        AdminCommands commands = new AdminCommands(new FakeLiveSessions(), auditor, AdminCommands.noReload(), () -> rulesOrFail(yaml));

        JsonNode r = answer(commands, request("carol", "10.0.3.17:22"));

        assertThat(r.path("decision").asText()).as(r.toString()).isEqualTo("deny");
        assertThat(r.path("reason").asText()).isEqualTo("no user 'carol' in identity.local");
        assertThat(r.path("notes").toString()).contains("a certificate login as carol is not explained here: its roles come"
                + " from the certificate (roles@sallyport), within what its CA may grant: corp-ca (ops, db)");
    }

    @Test
    void eachExplainReadsTheRulesInForceThenNotOnesCachedEarlier() throws Exception {
        AtomicReference<Rules> current = new AtomicReference<>(rules(POLICY));
        AdminCommands commands = new AdminCommands(new FakeLiveSessions(), auditor, AdminCommands.noReload(), current::get);
        assertThat(answer(commands, request("alice", "10.0.20.9:5432")).path("decision").asText()).isEqualTo("deny");

        current.set(rules(POLICY.replace("alice: {roles: [ops]}", "alice: {roles: [ops, db]}")));

        assertThat(answer(commands, request("alice", "10.0.20.9:5432")).path("decision").asText()).isEqualTo("allow");
    }

    @Test
    void aNameThatNeverResolvesIsAnsweredAtResolveTimeoutWithTheServersReasonAndBusyBeyondTwo() throws Exception {
        AdminCommands commands = new AdminCommands(new FakeLiveSessions(), auditor, AdminCommands.noReload(), () -> rulesOrFail(POLICY));

        for (int i = 0; i < Explainer.MAX_DECIDING; i++) {
            long t0 = System.nanoTime();
            JsonNode r = answer(commands, request("alice", "slow.internal.corp:22"));
            Duration took = Duration.ofNanos(System.nanoTime() - t0);

            assertThat(r.path("decision").asText()).as(r.toString()).isEqualTo("deny");
            assertThat(r.path("reason").asText()).isEqualTo("resolve_timeout: slow.internal.corp not resolved within 1s");
            assertThat(took).isLessThan(Duration.ofSeconds(10));
        }
        // Both decision threads are still in the resolver: a third question is refused at once, audited.
        JsonNode busy = answer(commands, request("alice", "slow.internal.corp:22"));
        assertThat(busy.path("ok").asBoolean()).isFalse();
        assertThat(busy.path("error").asText()).startsWith("busy: 2 explain decisions are still waiting for the resolver");
        assertThat(audit.named("admin.command")).last().satisfies(e -> {
            assertThat(e.path("command").asText()).isEqualTo("explain");
            assertThat(e.path("reason").asText()).startsWith("busy: ");
        });

        dnsAnswers.countDown();
        JsonNode after = null;
        for (int i = 0; i < 100; i++) { // the stuck threads return and are free again
            after = answer(commands, request("alice", "db.internal.corp:22"));
            if (after.path("ok").asBoolean()) {
                break;
            }
            Thread.sleep(50);
        }
        assertThat(after.path("decision").asText()).as(String.valueOf(after)).isEqualTo("allow");
        assertThat(after.path("rule").asText()).isEqualTo("*.internal.corp:22");
    }

    /**
     * Through the socket itself: explains stuck on a name the resolver never answers are answered at
     * resolve_timeout, one beyond the decision threads is refused at once, and the other commands
     * are served all along.
     */
    @Test
    void aNameThatHangsTheResolverDoesNotHoldTheAdminSocket(@TempDir Path dir) throws Exception {
        FakeLiveSessions sessions = new FakeLiveSessions();
        Path path = dir.resolve("admin.sock");
        AdminProtocol.Request.Explain slow = new AdminProtocol.Request.Explain("alice",
                new Config.HostPort("slow.internal.corp", 22), Optional.empty());
        ExecutorService callers = Executors.newFixedThreadPool(Explainer.MAX_DECIDING);
        try (AdminSocket socket = AdminSocket.open(path, Optional.empty(),
                new AdminCommands(sessions, auditor, AdminCommands.noReload(), () -> rulesOrFail(POLICY)))) {
            List<Future<JsonNode>> stuck = new ArrayList<>();
            for (int i = 0; i < Explainer.MAX_DECIDING; i++) {
                stuck.add(callers.submit(() -> AdminSocketClient.call(path, slow)));
            }
            long t0 = System.nanoTime();
            assertThat(AdminSocketClient.call(path, new AdminProtocol.Request.Sessions()).path("ok").asBoolean()).isTrue();
            for (Future<JsonNode> f : stuck) {
                JsonNode r = f.get(10, TimeUnit.SECONDS);
                assertThat(r.path("reason").asText()).isEqualTo("resolve_timeout: slow.internal.corp not resolved within 1s");
            }
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));

            assertThatThrownBy(() -> AdminSocketClient.call(path, slow))
                    .hasMessageStartingWith("the server refused: busy: 2 explain decisions are still waiting for the resolver");
            assertThat(AdminSocketClient.call(path, new AdminProtocol.Request.Sessions()).path("ok").asBoolean()).isTrue();
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void aBadExplainIsRefusedAndAuditedWithItsReason() {
        AdminCommands commands = new AdminCommands(new FakeLiveSessions(), auditor, AdminCommands.noReload(), () -> rulesOrFail(POLICY));

        String r = commands.handle("{\"command\":\"explain\",\"user\":\"alice\",\"target\":\"10.0.3.17\"}", OPERATOR);

        assertThat(r).contains("\"ok\":false").contains("\\\"target\\\" must be HOST:PORT");
        assertThat(audit.named("admin.command").get(0).path("reason").asText()).startsWith("bad request: ");
    }

    @Test
    void aServerWithoutRulesRefusesExplain() throws Exception {
        AdminCommands commands = new AdminCommands(new FakeLiveSessions(), auditor);

        JsonNode r = answer(commands, request("alice", "10.0.3.17:22"));

        assertThat(r.path("ok").asBoolean()).isFalse();
        assertThat(audit.named("admin.command").get(0).path("reason").asText()).isEqualTo("explain is not served here");
    }

    private Rules rulesOrFail(String yaml, IdentitySource... more) {
        try {
            return rules(yaml, more);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Any ed25519 public key serves as a CA's: explain never verifies a certificate. */
    private static final String CA_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQvwQhxSkFRr8laF5f8JnR+5USPp0GS8aUaAv+kAG5w corp-ca";
}
