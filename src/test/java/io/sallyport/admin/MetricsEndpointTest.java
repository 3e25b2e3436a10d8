package io.sallyport.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.Auditor;
import io.sallyport.audit.CloudWatchShipper;
import io.sallyport.audit.Spool;
import io.sallyport.audit.TerminationReason;
import io.sallyport.testing.HostTool;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The listener on its own, with every part on (spool, shipper, IAM, host certificate): what it
 * serves, what it refuses, and that the shipped alert rules and dashboard name only series it
 * exposes.
 */
class MetricsEndpointTest {
    private static final Path MONITORING = Path.of("docs", "monitoring");
    private static final Instant NOW = Instant.parse("2026-03-01T10:00:00Z");
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private final AtomicReference<Optional<String>> auditRefusal = new AtomicReference<>(Optional.empty());
    private final java.util.concurrent.atomic.AtomicReference<Double> highWater = new AtomicReference<>(0.85);
    private Auditor auditor;
    private MetricsEndpoint endpoint;

    @BeforeEach
    void start() throws Exception {
        Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
        auditor = new Auditor("i-test", clock, List.of());
        Spool.Status status = new Spool.Status(12, 4096, 1 << 20, Optional.of(NOW.minusSeconds(90)), false, false, 100, 10,
                0, 0, 0);
        CloudWatchShipper.Stats stats = new CloudWatchShipper.Stats(88, 9, 3, 1, 0, 0, Optional.empty());
        MetricsSources sources = new MetricsSources(() -> 3, () -> 2, () -> 5, () -> true, auditRefusal::get,
                Optional.of(() -> status), Optional.of(() -> stats),
                Optional.of(new MetricsSources.Iam(() -> Optional.of(NOW.minusSeconds(42)),
                        () -> Optional.of(Duration.ofMillis(1500)), Optional::empty)),
                () -> Optional.of(NOW.plus(Duration.ofDays(3))), highWater::get, clock);
        endpoint = MetricsEndpoint.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), auditor, sources);
    }

    @AfterEach
    void stop() {
        endpoint.close();
        auditor.close();
    }

    private HttpResponse<String> send(String method, String path) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + endpoint.address().getPort() + path);
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private void someTraffic() {
        AuditEvent.ClientRef client = new AuditEvent.ClientRef("192.0.2.7", 40000);
        AuditEvent.TargetRef target = new AuditEvent.TargetRef("db", 5432, Optional.of("10.0.0.5"));
        auditor.emit(new AuditEvent.SessionOpen("s1", client, 22));
        auditor.emit(new AuditEvent.AuthAccept("s1", client, "alice",
                new AuditEvent.AuthInfo("publickey", Optional.of("local"), "ssh-ed25519", "SHA256:x", Optional.empty(), List.of())));
        auditor.emit(new AuditEvent.AuthReject("s2", client, "eve", Optional.empty(), "unknown user"));
        auditor.emit(new AuditEvent.ForwardReject("s1", "alice", client, 1, target, "max_tunnels_per_session: 64 open"));
        auditor.emit(new AuditEvent.ForwardClose("s1", "alice", 0, target, 100, 2000, 5));
        auditor.emit(new AuditEvent.SessionTerminate("s2", Optional.empty(), client, TerminationReason.AUTH_PENALTY));
        auditor.emit(new AuditEvent.RequestReject("s1", "alice", client, "shell", "no shell"));
        auditor.emit(new AuditEvent.ConfigReload("signal", "/etc/sallyport/sallyport.yaml", false, Optional.empty(), List.of(),
                Optional.of("/etc/sallyport/sallyport.yaml:3: listen: bad")));
        auditor.emit(new AuditEvent.ForwardClose("s1", "alice", 1, target, 0, 0, 5, Optional.of("rule removed")));
    }

    @Test
    void servesTheSeriesOfEveryPartInPrometheusTextFormat() throws Exception {
        someTraffic();
        HttpResponse<String> r = send("GET", "/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
        assertThat(r.body())
                .contains("sallyport_tunnels_open 5.0")
                .contains("sallyport_sessions_open 2.0")
                .contains("sallyport_logins_refused_total{reason=\"unknown_user\"} 1.0")
                .contains("sallyport_tunnels_refused_total{reason=\"max_tunnels_per_session\"} 1.0")
                .contains("sallyport_quota_refusals_total{quota=\"max_tunnels_per_session\"} 1.0")
                .contains("sallyport_quota_refusals_total{quota=\"auth_penalty\"} 1.0")
                .contains("sallyport_tunnel_bytes_total{direction=\"down\"} 2000.0")
                .contains("sallyport_tunnels_closed_by_policy_total{reason=\"rule removed\"} 1.0")
                .contains("sallyport_config_reloads_total{result=\"refused\",trigger=\"signal\"} 1.0")
                .contains("sallyport_audit_oldest_unshipped_seconds 90.0")
                .contains("sallyport_cloudwatch_errors_total 3.0")
                .contains("sallyport_iam_last_refresh_age_seconds 42.0")
                .contains("sallyport_iam_refresh_duration_seconds 1.5")
                .contains("sallyport_host_certificate_expiry_seconds 259200.0");
    }

    @Test
    void summarisedRefusalsAtAcceptCountEveryConnectionAndKeyAgeWarningsAreCounted() throws Exception {
        AuditEvent.ClientRef scanner = new AuditEvent.ClientRef("198.51.100.7", 40000);
        auditor.emit(new AuditEvent.ConnectionRefuse(scanner, "198.51.100.7", "allow_sources", 1));
        auditor.emit(new AuditEvent.ConnectionRefuse(scanner, "198.51.100.7", "allow_sources", 19));
        AuditEvent.AuthInfo key = new AuditEvent.AuthInfo("publickey", Optional.of("iam"), "ssh-rsa", "SHA256:x",
                Optional.empty(), List.of());
        auditor.emit(new AuditEvent.AuthAccept("s1", scanner, "nina", key, Optional.of("key dated 2026-09-01 is 85d old")));
        auditor.emit(new AuditEvent.AuthReject("s2", scanner, "olga", Optional.of(key), "max_key_age: key dated 2026-01-01"));

        assertThat(send("GET", "/metrics").body())
                .contains("sallyport_connections_refused_total{reason=\"allow_sources\"} 20.0")
                .contains("sallyport_logins_key_age_warning_total 1.0")
                .contains("sallyport_logins_refused_total{reason=\"max_key_age\"} 1.0");
    }

    @Test
    void heapHighWaterFollowsAReloadOfMemoryHighWater() throws Exception {
        assertThat(send("GET", "/metrics").body()).contains("sallyport_heap_high_water_ratio 0.85");

        highWater.set(0.95);

        assertThat(send("GET", "/metrics").body()).contains("sallyport_heap_high_water_ratio 0.95");
    }

    @Test
    void onlyGetOnTwoPathsIsServed() throws Exception {
        assertThat(send("GET", "/").statusCode()).isEqualTo(404);
        assertThat(send("GET", "/metricsx").statusCode()).isEqualTo(404);
        assertThat(send("GET", "/healthz/").statusCode()).isEqualTo(404);
        assertThat(send("GET", "/-/healthy").statusCode()).isEqualTo(404);
        HttpResponse<String> delete = send("DELETE", "/metrics");
        assertThat(delete.statusCode()).isEqualTo(405);
        assertThat(delete.headers().firstValue("Allow")).contains("GET");
        assertThat(send("PUT", "/healthz").statusCode()).isEqualTo(405);
    }

    @Test
    void healthzAnswers503WithTheReasonWhileTheAuditTrailIsNotDurable() throws Exception {
        assertThat(send("GET", "/healthz").statusCode()).isEqualTo(200);
        auditRefusal.set(Optional.of("audit spool full"));
        HttpResponse<String> sick = send("GET", "/healthz");
        assertThat(sick.statusCode()).isEqualTo(503);
        assertThat(sick.headers().firstValue("Content-Type")).contains("application/json");
        assertThat(sick.body()).contains("\"status\":\"failing\"").contains("audit trail not durable: audit spool full");
        auditRefusal.set(Optional.empty());
        assertThat(send("GET", "/healthz").statusCode()).isEqualTo(200);
    }

    @Test
    void theShippedAlertRulesAndDashboardNameOnlySeriesThatExist() throws Exception {
        someTraffic();
        Set<String> exposed = new TreeSet<>();
        Matcher t = Pattern.compile("(?m)^# TYPE (\\S+) ").matcher(send("GET", "/metrics").body());
        while (t.find()) {
            exposed.add(t.group(1));
        }
        for (String file : List.of("sallyport-alerts.yml", "sallyport-alerts-test.yml", "sallyport-dashboard.json")) {
            Matcher m = Pattern.compile("sallyport_[a-z_]+").matcher(Files.readString(MONITORING.resolve(file)));
            while (m.find()) {
                assertThat(exposed).as(file + " names " + m.group()).contains(m.group());
            }
        }
    }

    /** {@code promtool} from Debian's {@code prometheus} package: .ci/run installs it. */
    @Test
    void theAlertRulesPassPromtoolCheckAndTheirUnitTests() {
        HostTool promtool = HostTool.require("promtool", "prometheus");
        for (String file : List.of("sallyport-alerts.yml", "sallyport-alerts-test.yml")) {
            HostTool.Result r = promtool.run(file.endsWith("-test.yml") ? "test" : "check", "rules",
                    MONITORING.resolve(file).toString());
            assertThat(r.ok()).as(r.toString()).isTrue();
        }
    }
}
