package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.admin.MetricsReason;
import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.CloudWatchShipper;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.FakeCloudWatchLogs;
import io.sallyport.testing.FakeIam;
import io.sallyport.testing.LoopbackEcho;
import io.sallyport.testing.OpenSsh;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} and {@code /healthz} of a real server after real traffic from the stock OpenSSH
 * client: every counter equals the count of its audit events; health turns 503 with the reason
 * when the spool cannot persist or IAM goes stale, and 200 again after; a health probe is never a
 * login, a penalty or an audit event.
 */
class MetricsIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final CloudWatchShipper.Tuning FAST = new CloudWatchShipper.Tuning(Duration.ofMillis(50),
            Duration.ofMillis(50), Duration.ofMillis(400), Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(5));
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)$");
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    static Path dir;
    static Path aliceKey;
    static Path strangerKey;
    static LoopbackEcho echo;

    @BeforeAll
    static void world() throws Exception {
        OpenSsh.requireClient();
        aliceKey = OpenSsh.keygen(dir, "alice");
        strangerKey = OpenSsh.keygen(dir, "stranger");
        echo = new LoopbackEcho();
    }

    @AfterAll
    static void done() throws Exception {
        echo.close();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** alice (role ops, the echo target only), one tunnel per session, metrics on {@code metricsPort}. */
    private static String yaml(int metricsPort, String extra) {
        return String.join("\n",
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
                "limits:",
                "  max_tunnels_per_session: 1",
                "  max_auth_attempts: 50",
                "admin:",
                "  metrics_listen: \"127.0.0.1:" + metricsPort + "\"",
                extra,
                "");
    }

    private static OpenSsh ssh(BastionFixture bastion) {
        Path work = bastion.configFile().getParent();
        Path knownHosts = work.resolve("known_hosts");
        try {
            OpenSsh.addKnownHost(knownHosts, "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return OpenSsh.config()
                .host(OpenSsh.host("alice").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .host(OpenSsh.host("nobody").hostName("127.0.0.1").port(bastion.port()).user("nobody")
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .host(OpenSsh.host("stranger").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(strangerKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .writeTo(work.resolve("ssh_config"));
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The samples of one scrape, keyed {@code name{labels}} as exposed. */
    private static Map<String, Double> scrape(int port) throws Exception {
        HttpResponse<String> r = get(port, "/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        Map<String, Double> samples = new HashMap<>();
        for (String line : r.body().split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertThat(m.matches()).as("a sample line: " + line).isTrue();
            samples.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
        }
        return samples;
    }

    /** The sample's value, 0 when the series was never touched. */
    private static long value(Map<String, Double> samples, String series) {
        return samples.getOrDefault(series, 0.0).longValue();
    }

    /** Each label value of {@code name}'s {@code label} with its sample, e.g. reason → count. */
    private static Map<String, Long> byLabel(Map<String, Double> samples, String name, String label) {
        Pattern p = Pattern.compile("^" + Pattern.quote(name) + "\\{" + label + "=\"([^\"]*)\"\\}$");
        Map<String, Long> out = new HashMap<>();
        samples.forEach((k, v) -> {
            Matcher m = p.matcher(k);
            if (m.matches() && v > 0) {
                out.put(m.group(1), v.longValue());
            }
        });
        return out;
    }

    private static Map<String, Long> reasons(BastionFixture bastion, String event) {
        return bastion.audit().named(event).stream()
                .collect(Collectors.groupingBy(e -> MetricsReason.label(e.path("reason").asText()), Collectors.counting()));
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as(what + " within " + TIMEOUT).isTrue();
            Thread.sleep(50);
        }
    }

    private static boolean quiet(BastionFixture bastion) {
        return bastion.audit().named("session.open").size() == bastion.audit().named("session.close").size();
    }

    @Test
    void countersAgreeWithTheAuditTrailAfterLoginsTunnelsRefusalsAndCloses() throws Exception {
        int metricsPort = freePort();
        try (BastionFixture bastion = BastionFixture.start(Files.createDirectories(dir.resolve("b" + COUNTER.incrementAndGet())),
                yaml(metricsPort, ""), TargetResolver.system())) {
            OpenSsh ssh = ssh(bastion);
            byte[] hello = "hello\n".getBytes(StandardCharsets.UTF_8);

            // Two good jumps with bytes through them.
            for (int i = 0; i < 2; i++) {
                OpenSsh.Result ok = ssh.run(List.of("-W", echo.address() + ":" + echo.port(), "alice"), hello, TIMEOUT);
                assertThat(ok.exitCode()).as(ok.toString()).isZero();
            }
            // Refused logins: a user nobody configured, a key that is not alice's.
            assertThat(ssh.run(List.of("-W", echo.address() + ":" + echo.port(), "nobody"), new byte[0], TIMEOUT).exitCode())
                    .isNotZero();
            assertThat(ssh.run(List.of("-W", echo.address() + ":" + echo.port(), "stranger"), new byte[0], TIMEOUT).exitCode())
                    .isNotZero();
            // Refused by policy: a port no rule allows.
            assertThat(ssh.run(List.of("-W", echo.address() + ":1", "alice"), new byte[0], TIMEOUT).exitCode()).isNotZero();
            // Refused by a quota: a second tunnel in one session beyond max_tunnels_per_session 1.
            secondTunnelRefusedByQuota(ssh, bastion);

            await("every connection closed", () -> quiet(bastion));
            Map<String, Double> m = scrape(metricsPort);
            assertThat(quiet(bastion)).isTrue();

            assertThat(value(m, "sallyport_connections_opened_total")).isEqualTo(bastion.audit().named("session.open").size());
            assertThat(value(m, "sallyport_connections_closed_total")).isEqualTo(bastion.audit().named("session.close").size());
            assertThat(byLabel(m, "sallyport_logins_accepted_total", "source"))
                    .isEqualTo(Map.of("local", (long) bastion.audit().named("auth.accept").size()));
            assertThat(byLabel(m, "sallyport_logins_refused_total", "reason")).isEqualTo(reasons(bastion, "auth.reject"))
                    .containsKeys("unknown_user", "key_not_authorized");
            assertThat(value(m, "sallyport_tunnels_opened_total")).isEqualTo(bastion.audit().named("forward.open").size())
                    .isEqualTo(3);
            assertThat(value(m, "sallyport_tunnels_closed_total")).isEqualTo(bastion.audit().named("forward.close").size());
            assertThat(byLabel(m, "sallyport_tunnels_refused_total", "reason")).isEqualTo(reasons(bastion, "forward.reject"))
                    .containsKeys("no_rule", "max_tunnels_per_session");
            assertThat(byLabel(m, "sallyport_quota_refusals_total", "quota"))
                    .isEqualTo(Map.of("max_tunnels_per_session", reasons(bastion, "forward.reject").get("max_tunnels_per_session")));
            assertThat(byLabel(m, "sallyport_sessions_terminated_total", "reason")).isEqualTo(reasons(bastion, "session.terminate"));
            long up = bastion.audit().named("forward.close").stream().mapToLong(e -> e.path("bytes_up").asLong()).sum();
            long down = bastion.audit().named("forward.close").stream().mapToLong(e -> e.path("bytes_down").asLong()).sum();
            assertThat(up).isPositive();
            assertThat(value(m, "sallyport_tunnel_bytes_total{direction=\"up\"}")).isEqualTo(up);
            assertThat(value(m, "sallyport_tunnel_bytes_total{direction=\"down\"}")).isEqualTo(down);
            Map<String, Long> byEvent = bastion.audit().all().stream()
                    .collect(Collectors.groupingBy(e -> e.path("event").asText(), Collectors.counting()));
            assertThat(byLabel(m, "sallyport_audit_events_total", "event")).isEqualTo(byEvent);

            // Live state, now that all is closed.
            assertThat(value(m, "sallyport_sessions_open")).isZero();
            assertThat(value(m, "sallyport_tunnels_open")).isZero();
            assertThat(value(m, "sallyport_healthy")).isEqualTo(1);
            assertThat(m.get("sallyport_heap_used_bytes")).isPositive();
            assertThat(m.get("sallyport_heap_high_water_ratio")).isEqualTo(0.85);
        }
    }

    /** {@code ssh -N} with two local forwards: the first carries a line, the second is refused by the quota. */
    private static void secondTunnelRefusedByQuota(OpenSsh ssh, BastionFixture bastion) throws Exception {
        int first = freePort();
        int second = freePort();
        String target = echo.address() + ":" + echo.port();
        Process p = new ProcessBuilder(ssh.command(List.of("-N", "-L", "127.0.0.1:" + first + ":" + target,
                "-L", "127.0.0.1:" + second + ":" + target, "alice"))).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            Socket one = connectWhenListening(first);
            try (one) {
                OutputStream out = one.getOutputStream();
                out.write("one\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(one.getInputStream(), StandardCharsets.UTF_8));
                assertThat(in.readLine()).isEqualTo("one");
                try (Socket two = new Socket(InetAddress.getLoopbackAddress(), second)) {
                    bastion.audit().await("forward.reject", e -> e.path("reason").asText().startsWith("max_tunnels_per_session"));
                }
            }
        } finally {
            p.destroy();
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        }
    }

    private static Socket connectWhenListening(int port) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            try {
                return new Socket(InetAddress.getLoopbackAddress(), port);
            } catch (java.net.ConnectException e) {
                assertThat(System.nanoTime() < deadline).as("ssh -L listens on " + port).isTrue();
                Thread.sleep(50);
            }
        }
    }

    @Test
    void healthProbesAreNeitherLoginsNorPenaltiesNorAuditEventsAndOnlyTwoPathsAnswer() throws Exception {
        int metricsPort = freePort();
        try (BastionFixture bastion = BastionFixture.start(Files.createDirectories(dir.resolve("b" + COUNTER.incrementAndGet())),
                yaml(metricsPort, ""), TargetResolver.system())) {
            bastion.audit().await("server.start", e -> true);
            int before = bastion.audit().size();
            for (int i = 0; i < 60; i++) { // more than max_auth_attempts' worth of load-balancer checks
                HttpResponse<String> r = get(metricsPort, "/healthz");
                assertThat(r.statusCode()).isEqualTo(200);
                JsonNode body = new ObjectMapper().readTree(r.body());
                assertThat(body.path("status").asText()).isEqualTo("ok");
                assertThat(body.path("checks").path("audit").asText()).isEqualTo("ok");
            }
            assertThat(bastion.audit().size()).as("no audit event from health probes").isEqualTo(before);

            assertThat(get(metricsPort, "/").statusCode()).isEqualTo(404);
            assertThat(get(metricsPort, "/metrics/x").statusCode()).isEqualTo(404);
            assertThat(get(metricsPort, "/admin").statusCode()).isEqualTo(404);
            HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/healthz"))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
            assertThat(post.headers().firstValue("Allow")).contains("GET");
            assertThat(bastion.audit().size()).isEqualTo(before);

            // The SSH side saw nothing: no penalty, alice logs in at once.
            OpenSsh.Result ok = ssh(bastion).run(List.of("-W", echo.address() + ":" + echo.port(), "alice"),
                    "x\n".getBytes(StandardCharsets.UTF_8), TIMEOUT);
            assertThat(ok.exitCode()).as(ok.toString()).isZero();
            assertThat(bastion.audit().named("auth.reject")).isEmpty();
            assertThat(bastion.audit().named("session.terminate")).isEmpty();
        }
    }

    @Test
    void healthTurns503WhileTheSpoolCannotPersistAnd200AfterCloudWatchReturns() throws Exception {
        FakeIam.useTestCredentials(); // the SDK's default chain reads these; no instance metadata lookups
        int metricsPort = freePort();
        try (FakeCloudWatchLogs cloudwatch = FakeCloudWatchLogs.start()) {
            Path work = Files.createDirectories(dir.resolve("b" + COUNTER.incrementAndGet()));
            String audit = String.join("\n",
                    "audit:",
                    "  spool_dir: " + work.resolve("spool"),
                    "  spool_max_bytes: 64KiB",
                    "  cloudwatch:",
                    "    enabled: true",
                    "    endpoint: " + cloudwatch.endpoint(),
                    "    region: eu-west-1",
                    "    log_group: /sallyport/it",
                    "    log_stream: \"{hostname}\"");
            try (BastionFixture bastion = BastionFixture.start(work, yaml(metricsPort, audit), TargetResolver.system(), FAST)) {
                assertThat(get(metricsPort, "/healthz").statusCode()).isEqualTo(200);
                cloudwatch.goAway(); // nothing drains the spool
                int filler = 0;
                while (bastion.auditor().refusal().isEmpty()) {
                    bastion.auditor().emit(new AuditEvent.ForwardClose("filler-" + filler, "carol", filler,
                            new AuditEvent.TargetRef("10.0.0.1", 22, Optional.of("10.0.0.1")), 1, 1, 1));
                    filler++;
                    assertThat(filler).as("the spool fills").isLessThan(10_000);
                }

                HttpResponse<String> sick = get(metricsPort, "/healthz");
                assertThat(sick.statusCode()).isEqualTo(503);
                JsonNode body = new ObjectMapper().readTree(sick.body());
                assertThat(body.path("status").asText()).isEqualTo("failing");
                assertThat(body.path("failing").get(0).asText()).startsWith("audit trail not durable: audit spool full:");
                assertThat(body.path("checks").path("logins").asText()).isEqualTo("ok");
                Map<String, Double> m = scrape(metricsPort);
                assertThat(value(m, "sallyport_healthy")).isZero();
                assertThat(value(m, "sallyport_audit_spool_unshipped_events")).isGreaterThanOrEqualTo(filler);
                assertThat(m.get("sallyport_audit_spool_size_bytes")).isPositive();
                await("a failed shipping attempt is counted", () -> {
                    try {
                        return value(scrape(metricsPort), "sallyport_cloudwatch_errors_total") > 0;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });

                cloudwatch.comeBack();
                await("/healthz 200 once the spool has room again", () -> {
                    try {
                        return get(metricsPort, "/healthz").statusCode() == 200;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                // Health recovers as soon as the spool has room, before the whole backlog is shipped.
                int fillers = filler;
                await("the backlog is shipped", () -> {
                    try {
                        return value(scrape(metricsPort), "sallyport_cloudwatch_shipped_events_total") >= fillers;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                Map<String, Double> after = scrape(metricsPort);
                assertThat(value(after, "sallyport_healthy")).isEqualTo(1);
                assertThat(value(after, "sallyport_cloudwatch_shipped_events_total")).isGreaterThanOrEqualTo(filler);
            }
        }
    }

    @Test
    void healthTurns503WhenIamGoesStaleAnd200WhenItRefreshesAgain() throws Exception {
        int metricsPort = freePort();
        Path zoeKey = OpenSsh.keygen(Files.createDirectories(dir.resolve("iam")), "zoe");
        try (FakeIam iam = FakeIam.start()) {
            iam.user("zoe", "/engineering/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops")
                    .tag("sallyport:ssh-key", OpenSsh.publicKeyLine(zoeKey));
            String identity = String.join("\n",
                    "  iam:",
                    "    enabled: true",
                    "    endpoint: \"" + iam.endpoint() + "\"",
                    "    refresh: 1s",
                    "    max_staleness: 4s",
                    "    path_prefix: /engineering/");
            String yaml = yaml(metricsPort, "").replace("identity:\n", "identity:\n" + identity + "\n");
            try (BastionFixture bastion = BastionFixture.start(Files.createDirectories(dir.resolve("b" + COUNTER.incrementAndGet())),
                    yaml, TargetResolver.system())) {
                assertThat(get(metricsPort, "/healthz").statusCode()).isEqualTo(200);
                Map<String, Double> fresh = scrape(metricsPort);
                assertThat(fresh).containsKeys("sallyport_iam_last_refresh_age_seconds", "sallyport_iam_refresh_duration_seconds");
                assertThat(fresh.get("sallyport_iam_last_refresh_age_seconds")).isLessThan(4.0);

                iam.down(true);
                await("/healthz 503 once IAM data is past max_staleness", () -> status(metricsPort) == 503);
                JsonNode body = new ObjectMapper().readTree(get(metricsPort, "/healthz").body());
                assertThat(body.path("checks").path("identities").asText()).startsWith("identities not fresh: IAM data is stale");
                assertThat(body.path("checks").path("audit").asText()).isEqualTo("ok");
                Map<String, Double> stale = scrape(metricsPort);
                assertThat(stale.get("sallyport_iam_last_refresh_age_seconds")).isGreaterThan(4.0);
                assertThat(value(stale, "sallyport_iam_stale")).isEqualTo(1);

                iam.down(false);
                await("/healthz 200 once IAM refreshes again", () -> status(metricsPort) == 200);
                assertThat(value(scrape(metricsPort), "sallyport_iam_stale")).isZero();
            }
        }
    }

    private static int status(int port) {
        try {
            return get(port, "/healthz").statusCode();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
