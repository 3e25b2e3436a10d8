package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.cli.EchoService;
import io.sallyport.testing.FakeIam;
import io.sallyport.testing.OpenSsh;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running server takes a new policy without a restart ({@code sallyport reload}, {@code SIGHUP}),
 * and live sessions follow it: the next tunnel of a session already logged in is decided by the new
 * roles and rules, each open tunnel the new policy refuses is closed with the reason, and a session
 * left with nothing is ended. The server is the packaged jar ({@code run -c FILE}), so the signal is
 * real; the client is stock OpenSSH, holding one session as a multiplexing master
 * ({@code ssh -M -S CTL -N}) and opening tunnels through it ({@code ssh -S CTL -W}), each a new
 * {@code direct-tcpip} channel in the same login. Everything is checked in the audit file.
 */
class ReloadIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final String TARGET = "127.0.0.2";
    /** A second loopback target, so that a deny-list block can take it without taking {@link #TARGET}. */
    private static final String OTHER_TARGET = "127.0.0.3";

    @TempDir
    static Path dir;
    static Path aliceKey;

    @BeforeAll
    static void keys() {
        OpenSsh.requireClient();
        aliceKey = OpenSsh.keygen(dir, "alice");
    }

    // ---- (a) what an operator sees of one session holding tunnels ---------------------------

    @Test
    void sessionsListsTheTunnelsAliceHoldsThroughHerOneMultiplexedLogin() throws Exception {
        try (Echo a = new Echo(TARGET);
             Bastion bastion = Bastion.start(local(List.of("ops"), roles("ops", a.rule())));
             Master alice = new Master(bastion, "alice");
             Tunnel first = alice.open(a, "hello");
             Tunnel second = alice.open(a, "again")) {
            String config = bastion.config.toString();

            ChildProcess.Finished table = cli("sessions", "-c", config);
            assertThat(table.exitCode()).as(table.toString()).isZero();
            assertThat(table.stdout()).contains("alice", "127.0.0.1:", a.rule(), "12/12");

            ChildProcess.Finished listed = cli("sessions", "-c", config, "--json");
            assertThat(listed.exitCode()).as(listed.toString()).isZero();
            JsonNode sessions = JSON.readTree(listed.stdout()).path("sessions");
            assertThat(sessions).as(listed.stdout()).hasSize(1);
            JsonNode s = sessions.get(0);
            assertThat(s.path("id").asText()).isEqualTo(alice.session);
            assertThat(s.path("user").asText()).isEqualTo("alice");
            assertThat(s.path("client").path("ip").asText()).isEqualTo("127.0.0.1");
            assertThat(s.path("tunnels")).hasSize(2);
            for (JsonNode t : s.path("tunnels")) {
                assertThat(t.path("target").path("host").asText()).isEqualTo(TARGET);
                assertThat(t.path("target").path("port").asInt()).isEqualTo(a.port());
            }
            assertThat(s.path("bytes_up").asLong()).isEqualTo(12);
            assertThat(s.path("bytes_down").asLong()).isEqualTo(12);
            bastion.assertOneLoginOfAlice();
        }
    }

    // ---- (b) a reload reaches the session already logged in --------------------------------

    @Test
    void aReloadBySignalThenByCommandOpensNewTargetsToTheSameSessionWhileItsTunnelKeepsEchoing() throws Exception {
        try (Echo a = new Echo(TARGET); Echo b = new Echo(TARGET); Echo c = new Echo(TARGET);
             Bastion bastion = Bastion.start(local(List.of("ops"), roles("ops", a.rule())));
             Master alice = new Master(bastion, "alice");
             Tunnel held = alice.open(a, "held")) {
            alice.refused(b);

            // SIGHUP: a new role for b.
            int mark = bastion.audit.size();
            bastion.write(local(List.of("ops", "db"), roles("ops", a.rule(), "db", b.rule())));
            bastion.sighup();
            JsonNode bySignal = bastion.audit.awaitAfter(mark, "config.reload", e -> true);
            assertThat(bySignal.path("result").asText()).as(bySignal.toString()).isEqualTo("applied");
            assertThat(bySignal.path("trigger").asText()).isEqualTo("signal");
            assertThat(bySignal.path("config").asText()).isEqualTo(bastion.config.toString());
            assertThat(bySignal.path("digest").asText()).matches("sha256:[0-9a-f]{64}");
            assertThat(bySignal.path("restart_needed").isArray()).as(bySignal.toString()).isTrue();
            assertThat(bySignal.path("restart_needed")).isEmpty();
            assertThat(bastion.process.isAlive()).as("SIGHUP reloads; it does not stop the server").isTrue();

            held.echoes("still held");
            Tunnel toB = alice.open(b, "new role");

            // sallyport reload: a new rule in an existing role, for c.
            mark = bastion.audit.size();
            bastion.write(local(List.of("ops", "db"), roles("ops", a.rule(), c.rule(), "db", b.rule())));
            ChildProcess.Finished reload = bastion.reload();
            assertThat(reload.exitCode()).as(reload.toString()).isZero();
            assertThat(reload.stdoutLines()).as(reload.toString()).hasSize(1);
            assertThat(reload.stdoutLines().get(0)).matches("reloaded " + java.util.regex.Pattern.quote(bastion.config.toString())
                    + " \\(sha256:[0-9a-f]{64}\\)");
            SallyportJar.assertNoStackTrace(reload);
            JsonNode byCommand = bastion.audit.awaitAfter(mark, "config.reload", e -> true);
            assertThat(byCommand.path("result").asText()).as(byCommand.toString()).isEqualTo("applied");
            assertThat(byCommand.path("trigger").asText()).isEqualTo("admin");
            assertThat(byCommand.path("config").asText()).isEqualTo(bastion.config.toString());
            assertThat(reload.stdoutLines().get(0)).endsWith("(" + byCommand.path("digest").asText() + ")");
            assertThat(byCommand.path("digest").asText()).isNotEqualTo(bySignal.path("digest").asText());
            JsonNode command = bastion.audit.awaitAfter(mark, "admin.command", e -> e.path("command").asText().equals("reload"));
            assertThat(command.path("uid").asLong()).isEqualTo(ownUid());
            assertThat(bastion.audit.indexOf(command)).as("the command is audited before it takes effect")
                    .isLessThan(bastion.audit.indexOf(byCommand));

            held.echoes("held through two reloads");
            toB.echoes("and b too");
            alice.open(c, "new rule").close();

            // A key a reload cannot apply is reported and left as it was; the rest applies.
            int otherPort = SallyportJar.freePort();
            mark = bastion.audit.size();
            bastion.write(otherPort, local(List.of("ops", "db"), roles("ops", a.rule(), c.rule(), "db", b.rule())));
            ChildProcess.Finished restart = bastion.reload();
            assertThat(restart.exitCode()).as(restart.toString()).isZero();
            assertThat(restart.stdoutLines()).as(restart.toString()).hasSize(2);
            assertThat(restart.stdoutLines().get(0)).startsWith("reloaded " + bastion.config + " (sha256:");
            assertThat(restart.stdoutLines().get(1)).isEqualTo("needs a restart: listen");
            JsonNode listen = bastion.audit.awaitAfter(mark, "config.reload", e -> true);
            assertThat(listen.path("result").asText()).isEqualTo("applied");
            assertThat(listen.path("restart_needed").toString()).isEqualTo("[\"listen\"]");
            assertThat(canConnect(bastion.port)).as("still listening where it started").isTrue();
            assertThat(canConnect(otherPort)).as("the new listen address waits for a restart").isFalse();
            held.echoes("after a restart-only change");

            bastion.assertOneLoginOfAlice();
            assertThat(bastion.audit.ofSession(alice.session)).extracting(ReloadIT::name).doesNotContain("session.terminate");
            assertThat(bastion.audit.named("forward.close")).as("only the tunnel to c, closed by alice, is closed")
                    .noneMatch(alice.to(a)).noneMatch(alice.to(b));
        }
    }

    // ---- (c) a broken file changes nothing ---------------------------------------------------

    /**
     * An operator's usual reload: edit the file, {@code sallyport reload -c FILE}. The file has two
     * problems of different kinds (an unknown key, a port out of range); both are printed as
     * {@code check-config} prints them, and nothing changes.
     */
    @Test
    void reloadOfABrokenFileByCommandPrintsEveryProblemAndTheOldPolicyKeepsServing() throws Exception {
        try (Echo a = new Echo(TARGET); Echo b = new Echo(TARGET);
             Bastion bastion = Bastion.start(local(List.of("ops"), roles("ops", a.rule(), b.rule())));
             Master alice = new Master(bastion, "alice");
             Tunnel held = alice.open(a, "held")) {
            List<String> problems = writeBroken(bastion, b);

            int mark = bastion.audit.size();
            ChildProcess.Finished reload = bastion.reload();
            assertRefusedWithEveryProblem(reload, problems);
            assertRefusedReload(bastion.audit.awaitAfter(mark, "config.reload", e -> true), "admin", bastion);

            held.echoes("old policy");
            alice.open(a, "a is still allowed").close();
            alice.open(b, "b too").close();
            bastion.assertOneLoginOfAlice();
            assertThat(bastion.audit.ofSession(alice.session)).extracting(ReloadIT::name).doesNotContain("session.terminate");
        }
    }

    /** The same broken file by SIGHUP, then by {@code sallyport reload --socket}: refused, audited, the server goes on. */
    @Test
    void aBrokenFileBySignalOrOnTheAdminSocketIsRefusedAndTheServerGoesOnWithTheOldPolicy() throws Exception {
        try (Echo a = new Echo(TARGET); Echo b = new Echo(TARGET);
             Bastion bastion = Bastion.start(local(List.of("ops"), roles("ops", a.rule(), b.rule())));
             Master alice = new Master(bastion, "alice");
             Tunnel held = alice.open(a, "held")) {
            List<String> problems = writeBroken(bastion, b);

            int mark = bastion.audit.size();
            bastion.sighup();
            assertRefusedReload(bastion.audit.awaitAfter(mark, "config.reload", e -> true), "signal", bastion);
            assertThat(bastion.process.isAlive()).as(bastion.process.describe()).isTrue();
            assertThat(bastion.process.stderr()).as("the refusal is logged").contains("frobnicate", "99999");
            held.echoes("still the old policy");
            alice.open(a, "and new tunnels by it").close();

            mark = bastion.audit.size();
            ChildProcess.Finished reload = cli("reload", "--socket", bastion.socket.toString());
            assertRefusedWithEveryProblem(reload, problems);
            assertRefusedReload(bastion.audit.awaitAfter(mark, "config.reload", e -> true), "admin", bastion);
            held.echoes("old policy");
            alice.open(b, "b too").close();

            bastion.assertOneLoginOfAlice();
            assertThat(bastion.audit.ofSession(alice.session)).extracting(ReloadIT::name).doesNotContain("session.terminate");
        }
    }

    /**
     * A file that would withdraw a's rule if any of it applied, with an unknown key and a port out
     * of range; returns the two problem lines as {@code check-config} prints them.
     */
    private static List<String> writeBroken(Bastion bastion, Echo b) throws IOException {
        String text = bastion.write(local(List.of("ops"), roles("ops", b.rule(), TARGET + ":99999")) + "frobnicate: true\n");
        String file = bastion.config.toString();
        return List.of(file + ":" + lineOf(text, "frobnicate") + ": frobnicate: unknown key 'frobnicate'",
                file + ":" + lineOf(text, ":99999") + ": policy.roles.ops.allow[1]: port 99999 is outside 1-65535");
    }

    private static void assertRefusedWithEveryProblem(ChildProcess.Finished reload, List<String> problems) {
        assertThat(reload.exitCode()).as(reload.toString()).isEqualTo(2);
        assertThat(reload.stderrLines()).as(reload.toString()).containsAll(problems);
        assertThat(reload.stdout()).as(reload.toString()).doesNotContain("reloaded");
        SallyportJar.assertNoStackTrace(reload);
    }

    private static void assertRefusedReload(JsonNode event, String trigger, Bastion bastion) {
        assertThat(event.path("result").asText()).as(event.toString()).isEqualTo("refused");
        assertThat(event.path("trigger").asText()).isEqualTo(trigger);
        assertThat(event.path("config").asText()).isEqualTo(bastion.config.toString());
        assertThat(event.path("reason").asText()).contains("unknown key 'frobnicate'", "; ", "port 99999 is outside 1-65535");
    }

    @Test
    void reloadWithoutARunningServerSaysSoAndExits1() {
        Path socket = dir.resolve("nobody/admin.sock");
        ChildProcess.Finished r = cli("reload", "--socket", socket.toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.stderr()).contains("no sallyport server is answering on " + socket);
        SallyportJar.assertNoStackTrace(r);
    }

    // ---- (d) open tunnels follow the policy -------------------------------------------------

    @Test
    void openTunnelsTheNewPolicyRefusesAreClosedWithTheReasonAndASessionLeftWithNothingIsEnded() throws Exception {
        try (Echo a = new Echo(TARGET); Echo b = new Echo(TARGET); Echo c = new Echo(TARGET); Echo d = new Echo(OTHER_TARGET);
             Bastion bastion = Bastion.start(local(List.of("ops", "db"),
                     roles("ops", a.rule(), b.rule(), d.rule(), "db", c.rule())));
             Master alice = new Master(bastion, "alice");
             Tunnel toA = alice.open(a, "a");
             Tunnel toB = alice.open(b, "b");
             Tunnel toC = alice.open(c, "c");
             Tunnel toD = alice.open(d, "d")) {

            // The rule for a goes; alice still holds ops.
            bastion.reloadOk(local(List.of("ops", "db"), roles("ops", b.rule(), d.rule(), "db", c.rule())));
            toA.awaitEnd();
            JsonNode ruleRemoved = bastion.audit.await("forward.close", alice.to(a));
            assertThat(ruleRemoved.path("reason").asText()).as(ruleRemoved.toString()).isEqualTo("rule removed");
            assertThat(ruleRemoved.path("bytes_up").asLong()).isEqualTo(2);
            assertThat(ruleRemoved.path("bytes_down").asLong()).isEqualTo(2);
            toB.echoes("b untouched");
            toC.echoes("c untouched");
            toD.echoes("d untouched");
            alice.refused(a);

            // db is withdrawn from alice: its tunnel goes, by that reason.
            bastion.reloadOk(local(List.of("ops"), roles("ops", b.rule(), d.rule(), "db", c.rule())));
            toC.awaitEnd();
            JsonNode withdrawn = bastion.audit.await("forward.close", alice.to(c));
            assertThat(withdrawn.path("reason").asText()).as(withdrawn.toString()).isEqualTo("role withdrawn");
            toB.echoes("b still untouched");
            alice.refused(c);

            // d's address joins the deny list: its rule stays, but it can never match now.
            bastion.reloadOk(local(List.of("ops"), roles("ops", b.rule(), d.rule(), "db", c.rule()),
                    List.of(OTHER_TARGET + "/32")));
            toD.awaitEnd();
            JsonNode denied = bastion.audit.await("forward.close", alice.to(d));
            assertThat(denied.path("reason").asText()).as(denied.toString()).startsWith("denied: ");
            toB.echoes("b still allowed");

            // Alice's last role goes: nothing is left, the session is ended.
            bastion.reloadOk(local(List.of(), roles("ops", b.rule(), "db", c.rule())));
            toB.awaitEnd();
            assertThat(alice.process.awaitExit(TIMEOUT).timedOut()).as("alice's master connection ended").isFalse();
            JsonNode terminate = bastion.audit.await("session.terminate", e -> e.path("session").asText().equals(alice.session));
            assertThat(terminate.path("reason").asText()).isEqualTo("revoked");
            JsonNode close = bastion.audit.await("session.close", e -> e.path("session").asText().equals(alice.session));
            assertThat(bastion.audit.ofSession(alice.session)).extracting(ReloadIT::name).as(bastion.audit.dump())
                    .containsSubsequence("session.terminate", "session.close").endsWith("session.close");
            JsonNode lastTunnel = bastion.audit.await("forward.close", alice.to(b));
            assertThat(lastTunnel.path("reason").asText()).as(lastTunnel.toString()).isEqualTo("role withdrawn");
            assertThat(bastion.audit.indexOf(lastTunnel)).isLessThan(bastion.audit.indexOf(close));
            assertThat(lastTunnel.path("bytes_up").asLong())
                    .as("every byte through b counted").isEqualTo("b\nb untouched\nb still untouched\nb still allowed\n".length());
            bastion.assertOneLoginOfAlice();
        }
    }

    @Test
    void aReloadThatRemovesAlicesKeyOrAliceHerselfEndsHerLiveSessionAsRevoked() throws Exception {
        Path otherKey = OpenSsh.keygen(dir, "not-alices");
        try (Echo a = new Echo(TARGET);
             Bastion bastion = Bastion.start(local(List.of("ops"), roles("ops", a.rule())))) {
            List<String> sessions = new ArrayList<>();
            for (String change : List.of("key replaced", "user removed")) {
                try (Master alice = new Master(bastion, "alice-" + sessions.size()); Tunnel held = alice.open(a, change)) {
                    sessions.add(alice.session);
                    String body = change.equals("key replaced")
                            ? local("alice", otherKey, List.of("ops"), roles("ops", a.rule()), List.of())
                            : local("bob", otherKey, List.of("ops"), roles("ops", a.rule()), List.of());
                    bastion.reloadOk(body);

                    held.awaitEnd();
                    assertThat(alice.process.awaitExit(TIMEOUT).timedOut()).as("%s: the master connection ended", change).isFalse();
                    JsonNode terminate = bastion.audit.await("session.terminate",
                            e -> e.path("session").asText().equals(alice.session));
                    assertThat(terminate.path("reason").asText()).as(change).isEqualTo("revoked");
                    bastion.audit.await("session.close", e -> e.path("session").asText().equals(alice.session));
                }
                // Alice as she was, for the next change.
                bastion.reloadOk(local(List.of("ops"), roles("ops", a.rule())));
            }
            assertThat(sessions).doesNotHaveDuplicates();
        }
    }

    // ---- (e) kill --user ends every session of the user --------------------------------------

    @Test
    void killByUserEndsBothOfAlicesSessionsEachAfterTheAuditedCommand() throws Exception {
        try (Echo a = new Echo(TARGET);
             Bastion bastion = Bastion.start(local(List.of("ops"), roles("ops", a.rule())));
             Master first = new Master(bastion, "first");
             Master second = new Master(bastion, "second");
             Tunnel one = first.open(a, "one");
             Tunnel two = second.open(a, "two")) {
            assertThat(first.session).isNotEqualTo(second.session);

            ChildProcess.Finished kill = cli("kill", "-c", bastion.config.toString(), "--user", "alice");
            assertThat(kill.exitCode()).as(kill.toString()).isZero();
            assertThat(kill.stdout()).contains("ended " + first.session, "ended " + second.session);

            for (Master m : List.of(first, second)) {
                assertThat(m.process.awaitExit(TIMEOUT).timedOut()).as("master %s ended", m.session).isFalse();
            }
            one.awaitEnd();
            two.awaitEnd();
            JsonNode command = bastion.audit.await("admin.command", e -> e.path("command").asText().equals("kill"));
            assertThat(command.path("args").toString()).isEqualTo("[\"--user\",\"alice\"]");
            assertThat(command.path("uid").asLong()).isEqualTo(ownUid());
            for (Master m : List.of(first, second)) {
                JsonNode terminate = bastion.audit.await("session.terminate", e -> e.path("session").asText().equals(m.session));
                assertThat(terminate.path("reason").asText()).isEqualTo("admin");
                assertThat(terminate.path("user").asText()).isEqualTo("alice");
                assertThat(bastion.audit.indexOf(command)).as("the command precedes what it causes")
                        .isLessThan(bastion.audit.indexOf(terminate));
                bastion.audit.await("session.close", e -> e.path("session").asText().equals(m.session));
            }
        }
    }

    // ---- (f) an IAM refresh re-decides open tunnels -------------------------------------------

    @Test
    void anIamRoleWithdrawnAtARefreshClosesTheTunnelItOpenedAndNoRoleLeftEndsTheSession() throws Exception {
        try (FakeIam iam = FakeIam.start(); Echo a = new Echo(TARGET); Echo b = new Echo(TARGET)) {
            iam.user("alice", "/engineering/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops db")
                    .tag("sallyport:ssh-key", OpenSsh.publicKeyLine(aliceKey));
            String body = String.join("\n",
                    "identity:",
                    "  iam:",
                    "    enabled: true",
                    "    endpoint: \"" + iam.endpoint() + "\"",
                    "    refresh: 1s",
                    "    max_staleness: 1m",
                    "    path_prefix: /engineering/",
                    "") + policy(roles("ops", a.rule(), "db", b.rule()), List.of());
            // The default credential chain of the real server, fed the way a test may: system properties.
            List<String> jvm = List.of("-Daws.accessKeyId=AKIAFAKEIAMTEST00000", "-Daws.secretAccessKey=fake",
                    "-Daws.disableEc2Metadata=true");
            try (Bastion bastion = Bastion.start(body, jvm);
                 Master alice = new Master(bastion, "alice");
                 Tunnel toA = alice.open(a, "ops");
                 Tunnel toB = alice.open(b, "db")) {
                iam.user("alice").tag("sallyport:roles", "ops");

                toB.awaitEnd();
                JsonNode withdrawn = bastion.audit.await("forward.close", alice.to(b));
                assertThat(withdrawn.path("reason").asText()).as(withdrawn.toString()).isEqualTo("role withdrawn");
                toA.echoes("ops is still held");
                alice.refused(b);
                assertThat(bastion.audit.ofSession(alice.session)).extracting(ReloadIT::name).doesNotContain("session.terminate");

                iam.user("alice").untag("sallyport:roles");

                toA.awaitEnd();
                assertThat(alice.process.awaitExit(TIMEOUT).timedOut()).as("alice's master connection ended").isFalse();
                JsonNode terminate = bastion.audit.await("session.terminate", e -> e.path("session").asText().equals(alice.session));
                assertThat(terminate.path("reason").asText()).isEqualTo("revoked");
                JsonNode close = bastion.audit.await("session.close", e -> e.path("session").asText().equals(alice.session));
                assertThat(bastion.audit.indexOf(close)).isGreaterThan(bastion.audit.indexOf(terminate));
                bastion.assertOneLoginOfAlice();
            }
        }
    }

    /**
     * JIT and GC settings for every JVM this class starts, server and commands alike: they start in
     * about half the time on a busy machine, and nothing here measures speed.
     */
    private static final List<String> QUICK_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    /** A {@code sallyport} command from the packaged jar, run to its end. */
    private static ChildProcess.Finished cli(String... args) {
        List<String> command = new ArrayList<>(SallyportJar.command(args));
        command.addAll(1, QUICK_JVM);
        return ChildProcess.run(command, null, SallyportJar.COMMAND_TIMEOUT);
    }

    // ---- configuration ----------------------------------------------------------------------

    /** Role name, then its rules, then the next role name...; rules are {@code HOST:PORT}. */
    private static Map<String, List<String>> roles(String... nameThenRules) {
        Map<String, List<String>> roles = new LinkedHashMap<>();
        List<String> current = null;
        for (String s : nameThenRules) {
            if (!s.contains(":")) {
                current = new ArrayList<>();
                roles.put(s, current);
            } else {
                current.add(s);
            }
        }
        return roles;
    }

    private static String local(List<String> aliceRoles, Map<String, List<String>> roles) {
        return local(aliceRoles, roles, List.of());
    }

    /** Alice as a local user with {@code aliceRoles}, and the policy. */
    private static String local(List<String> aliceRoles, Map<String, List<String>> roles, List<String> deny) {
        return local("alice", aliceKey, aliceRoles, roles, deny);
    }

    /** One local user with one key and {@code userRoles}, and the policy. */
    private static String local(String user, Path key, List<String> userRoles, Map<String, List<String>> roles,
                                List<String> deny) {
        return String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      " + user + ":",
                "        roles: [" + String.join(", ", userRoles) + "]",
                "        keys: [\"" + OpenSsh.publicKeyLine(key) + "\"]",
                "") + policy(roles, deny);
    }

    private static String policy(Map<String, List<String>> roles, List<String> deny) {
        StringBuilder b = new StringBuilder("policy:\n  unsafe_allow_loopback: true\n");
        if (!deny.isEmpty()) {
            b.append("  deny: [").append(deny.stream().map(d -> "\"" + d + "\"").collect(Collectors.joining(", "))).append("]\n");
        }
        b.append("  roles:\n");
        roles.forEach((name, rules) -> b.append("    ").append(name).append(":\n      allow: [")
                .append(rules.stream().map(r -> "\"" + r + "\"").collect(Collectors.joining(", "))).append("]\n"));
        return b.toString();
    }

    private static int lineOf(String text, String needle) {
        List<String> lines = text.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(needle)) {
                return i + 1;
            }
        }
        throw new AssertionError(needle + " not in\n" + text);
    }

    private static String name(JsonNode event) {
        return event.path("event").asText();
    }

    private static long ownUid() throws IOException {
        return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
    }

    private static boolean canConnect(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    // ---- fixtures ---------------------------------------------------------------------------

    /** A TCP echo service on a loopback address other than the bastion's. */
    private static final class Echo implements AutoCloseable {
        final String host;
        final EchoService service;

        Echo(String host) throws IOException {
            this.host = host;
            this.service = new EchoService(new InetSocketAddress(InetAddress.getByName(host), 0));
        }

        int port() {
            return service.port();
        }

        String rule() {
            return host + ":" + port();
        }

        @Override
        public void close() throws IOException {
            service.close();
        }
    }

    /**
     * {@code sallyport run -c FILE} from the packaged jar, with its admin socket, metrics off and
     * its audit file beside the config. The config file is the one it reloads.
     */
    private static final class Bastion implements AutoCloseable {
        final Path work;
        final Path config;
        final Path socket;
        final int port;
        final ChildProcess process;
        final AuditFile audit;
        final OpenSsh ssh;

        private Bastion(Path work, int port, String body, List<String> jvmArgs) throws IOException {
            this.work = work;
            this.config = work.resolve("sallyport.yaml");
            this.socket = work.resolve("admin.sock");
            this.port = port;
            this.audit = new AuditFile(work.resolve("audit.jsonl"));
            write(body);
            List<String> command = new ArrayList<>(SallyportJar.command("run", "-c", config.toString()));
            command.addAll(1, QUICK_JVM);
            command.addAll(1, jvmArgs);
            ChildProcess started = ChildProcess.start(command);
            try {
                SallyportJar.awaitListening(started, "127.0.0.1", port, TIMEOUT);
                Path knownHosts = OpenSsh.addKnownHost(work.resolve("known_hosts"), "127.0.0.1", port,
                        SallyportJar.read(work.resolve("host_key.pub")));
                this.ssh = OpenSsh.config()
                        .host(OpenSsh.host("alice").hostName("127.0.0.1").port(port).user("alice")
                                .identityFile(aliceKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                        .writeTo(work.resolve("ssh_config"));
            } catch (RuntimeException | Error e) {
                started.close();
                throw e;
            }
            this.process = started;
        }

        static Bastion start(String body) throws IOException {
            return start(body, List.of());
        }

        static Bastion start(String body, List<String> jvmArgs) throws IOException {
            Path work = Files.createDirectories(dir.resolve("b" + COUNTER.incrementAndGet()));
            return new Bastion(work, SallyportJar.freePort(), body, jvmArgs);
        }

        /** Replaces the config file (same listen address); returns the whole text written. */
        String write(String body) throws IOException {
            return write(port, body);
        }

        String write(int listenPort, String body) throws IOException {
            String text = String.join("\n",
                    "listen: [\"127.0.0.1:" + listenPort + "\"]",
                    "host_keys: [\"host_key\"]",
                    "admin:",
                    "  socket: " + socket,
                    "  metrics_listen: null",
                    "audit:",
                    "  file: audit.jsonl",
                    "") + body;
            Files.writeString(config, text);
            return text;
        }

        void sighup() throws Exception {
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).inheritIO().start();
            assertThat(kill.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(kill.exitValue()).isZero();
        }

        ChildProcess.Finished reload() {
            return cli("reload", "-c", config.toString());
        }

        /** Writes the new policy and reloads it with {@code sallyport reload}, which must apply it. */
        void reloadOk(String body) throws Exception {
            int mark = audit.size();
            write(body);
            ChildProcess.Finished r = reload();
            assertThat(r.exitCode()).as(r.toString()).isZero();
            JsonNode applied = audit.awaitAfter(mark, "config.reload", e -> true);
            assertThat(applied.path("result").asText()).as(applied.toString()).isEqualTo("applied");
        }

        /** One login carried every tunnel: multiplexed channels never log in again. */
        void assertOneLoginOfAlice() {
            assertThat(audit.named("auth.accept")).as(audit.dump())
                    .filteredOn(e -> e.path("user").asText().equalsIgnoreCase("alice")).hasSize(1);
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                process.terminate(Duration.ofSeconds(10));
            }
            process.close();
        }
    }

    /** One login held by an OpenSSH multiplexing master; every tunnel through it is a channel of that session. */
    private static final class Master implements AutoCloseable {
        final Bastion bastion;
        final Path control;
        final ChildProcess process;
        final String session;
        private final List<Tunnel> tunnels = new ArrayList<>();

        Master(Bastion bastion, String name) throws Exception {
            this.bastion = bastion;
            this.control = bastion.work.resolve(name + ".ctl");
            Set<String> before = new HashSet<>();
            bastion.audit.named("auth.accept").forEach(e -> before.add(e.path("session").asText()));
            this.process = ChildProcess.start(bastion.ssh.command(
                    List.of("-M", "-S", control.toString(), "-N", "-o", "ControlPersist=no", "alice")));
            try {
                long deadline = System.nanoTime() + TIMEOUT.toNanos();
                while (!check()) {
                    if (!process.isAlive()) {
                        throw new AssertionError("the master connection ended before it was ready\n" + process.describe());
                    }
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("the master connection not ready within " + TIMEOUT + "\n" + process.describe());
                    }
                    sleep(50);
                }
                this.session = bastion.audit.await("auth.accept",
                        e -> e.path("user").asText().equals("alice") && !before.contains(e.path("session").asText()))
                        .path("session").asText();
            } catch (Exception | Error e) {
                process.close();
                throw e;
            }
        }

        private boolean check() {
            return ChildProcess.run(bastion.ssh.command(List.of("-S", control.toString(), "-O", "check", "alice")), null,
                    Duration.ofSeconds(10)).exitCode() == 0;
        }

        private List<String> stdio(Echo target) {
            return bastion.ssh.command(List.of("-S", control.toString(), "-W", target.rule(), "alice"));
        }

        /** A new tunnel through this session to {@code target}, {@code line} echoed through it, its forward.open seen. */
        Tunnel open(Echo target, String line) throws Exception {
            int mark = bastion.audit.size();
            Tunnel t = new Tunnel(ChildProcess.start(stdio(target)), bastion.audit);
            tunnels.add(t);
            t.echoes(line);
            bastion.audit.awaitAfter(mark, "forward.open", to(target));
            return t;
        }

        /** A new tunnel through this session to {@code target} is refused, audited as such. */
        void refused(Echo target) throws Exception {
            int mark = bastion.audit.size();
            ChildProcess.Finished r = ChildProcess.run(stdio(target), null, TIMEOUT);
            assertThat(r.exitCode()).as(r.toString()).isNotZero();
            JsonNode reject = bastion.audit.awaitAfter(mark, "forward.reject", to(target));
            assertThat(reject.path("user").asText()).isEqualTo("alice");
            assertThat(process.isAlive()).as("a refused tunnel leaves the session alone").isTrue();
        }

        /** Events of this session about a tunnel to {@code target}. */
        Predicate<JsonNode> to(Echo target) {
            return e -> e.path("session").asText().equals(session)
                    && e.path("target").path("host").asText().equals(target.host)
                    && e.path("target").path("port").asInt() == target.port();
        }

        @Override
        public void close() {
            tunnels.forEach(Tunnel::close);
            process.close();
        }
    }

    /** A stock {@code ssh -W} through a master, kept open; what went through it is what must come back. */
    private static final class Tunnel implements AutoCloseable {
        final ChildProcess process;
        private final AuditFile audit;
        private final StringBuilder sent = new StringBuilder();

        Tunnel(ChildProcess process, AuditFile audit) {
            this.process = process;
            this.audit = audit;
        }

        void echoes(String line) {
            sent.append(line).append('\n');
            String expected = sent.toString();
            process.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            process.awaitStdout(out -> out.equals(expected), "\"" + line + "\" echoed", TIMEOUT);
        }

        /** The server closed it: the client's {@code ssh -W} ends by itself. */
        void awaitEnd() {
            ChildProcess.Finished f = process.awaitExit(TIMEOUT);
            assertThat(f.timedOut()).as("the tunnel's ssh -W ended\n%s\naudit:\n%s", f, audit.dump()).isFalse();
        }

        @Override
        public void close() {
            process.close();
        }
    }

    /** The server's audit file, read as it grows; every line is on disk when the event is emitted. */
    private static final class AuditFile {
        private final Path file;

        AuditFile(Path file) {
            this.file = file;
        }

        List<JsonNode> all() {
            List<JsonNode> events = new ArrayList<>();
            if (!Files.exists(file)) {
                return events;
            }
            String text;
            try {
                text = Files.readString(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            int end = text.lastIndexOf('\n');
            if (end < 0) {
                return events;
            }
            for (String line : text.substring(0, end).split("\n")) {
                try {
                    events.add(JSON.readTree(line));
                } catch (IOException e) {
                    throw new AssertionError("not a JSON line in " + file + ": " + line, e);
                }
            }
            return events;
        }

        int size() {
            return all().size();
        }

        List<JsonNode> named(String event) {
            return all().stream().filter(e -> name(e).equals(event)).toList();
        }

        List<JsonNode> ofSession(String session) {
            return all().stream().filter(e -> e.path("session").asText().equals(session)).toList();
        }

        /** Position in the file, by the event's unique id. */
        int indexOf(JsonNode event) {
            List<JsonNode> all = all();
            for (int i = 0; i < all.size(); i++) {
                if (all.get(i).path("id").equals(event.path("id"))) {
                    return i;
                }
            }
            return -1;
        }

        JsonNode await(String event, Predicate<JsonNode> match) {
            return awaitAfter(0, event, match);
        }

        /** The first {@code event} matching, among those written after the first {@code mark}. */
        JsonNode awaitAfter(int mark, String event, Predicate<JsonNode> match) {
            return awaitAfter(mark, e -> name(e).equals(event) && match.test(e), TIMEOUT);
        }

        private JsonNode awaitAfter(int mark, Predicate<JsonNode> match, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                List<JsonNode> all = all();
                for (JsonNode e : all.subList(Math.min(mark, all.size()), all.size())) {
                    if (match.test(e)) {
                        return e;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("no matching audit event within " + timeout + "; events were:\n" + dump());
                }
                sleep(50);
            }
        }

        String dump() {
            StringBuilder b = new StringBuilder();
            all().forEach(e -> b.append("  ").append(e).append('\n'));
            return b.toString();
        }
    }
}
