package io.sallyport.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The JSON lines of the events a reload causes: {@code config.reload} and a {@code forward.close} that says why. */
class ReloadEventsJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FILE = "/etc/sallyport/sallyport.yaml";
    private final Auditor auditor = new Auditor("i-0abc", Clock.fixed(Instant.parse("2026-12-02T08:00:00Z"), ZoneOffset.UTC),
            List.of());

    private JsonNode line(AuditEvent event) throws Exception {
        return JSON.readTree(auditor.encode(event));
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static AuditEvent.ForwardClose close(Optional<String> reason) {
        return new AuditEvent.ForwardClose("3f9c0a1b2c3d4e5f", "alice", 2,
                new AuditEvent.TargetRef("db-1.internal.corp", 5432, Optional.of("10.0.20.5")), 100, 200, 3000, reason);
    }

    @Test
    void forwardCloseSaysWhyOnlyWhenTheServerClosedIt() throws Exception {
        JsonNode byPeer = line(close(Optional.empty()));
        JsonNode byPolicy = line(close(Optional.of("rule removed")));

        assertThat(fieldNames(byPeer)).containsExactly("id", "ts", "event", "instance", "session", "user", "channel", "target",
                "bytes_up", "bytes_down", "duration_ms");
        assertThat(fieldNames(byPolicy)).endsWith("duration_ms", "reason");
        assertThat(byPolicy.path("reason").asText()).isEqualTo("rule removed");
        assertThat(byPolicy.path("target").path("ip").asText()).isEqualTo("10.0.20.5");
        assertThat(line(new AuditEvent.ForwardClose("3f9c0a1b2c3d4e5f", "alice", 2,
                new AuditEvent.TargetRef("db-1.internal.corp", 5432, Optional.of("10.0.20.5")), 100, 200, 3000)).has("reason"))
                .as("the constructor without a reason").isFalse();
    }

    @Test
    void anAppliedReloadNamesItsTriggerFileDigestAndWhatNeedsARestart() throws Exception {
        JsonNode e = line(new AuditEvent.ConfigReload("signal", FILE, true, Optional.of("sha256:0123abcd"),
                List.of("listen", "admin.socket"), Optional.empty()));

        assertThat(e.path("event").asText()).isEqualTo("config.reload");
        assertThat(e.has("session")).isFalse();
        assertThat(fieldNames(e)).containsExactly("id", "ts", "event", "instance", "result", "trigger", "config", "digest",
                "restart_needed");
        assertThat(e.path("result").asText()).isEqualTo("applied");
        assertThat(e.path("trigger").asText()).isEqualTo("signal");
        assertThat(e.path("config").asText()).isEqualTo(FILE);
        assertThat(e.path("digest").asText()).isEqualTo("sha256:0123abcd");
        assertThat(e.path("restart_needed").toString()).isEqualTo("[\"listen\",\"admin.socket\"]");
    }

    @Test
    void anAppliedReloadThatNeedsNoRestartSaysSoWithAnEmptyList() throws Exception {
        JsonNode e = line(new AuditEvent.ConfigReload("admin", FILE, true, Optional.of("sha256:0123abcd"), List.of(),
                Optional.empty()));

        assertThat(e.path("restart_needed").isArray()).isTrue();
        assertThat(e.path("restart_needed")).isEmpty();
    }

    @Test
    void aRefusedReloadGivesTheReasonAndNeitherDigestNorRestartList() throws Exception {
        JsonNode e = line(new AuditEvent.ConfigReload("admin", FILE, false, Optional.empty(), List.of(),
                Optional.of(FILE + ":7: policy.roles.admin.allow[0]: not a rule; " + FILE + ":9: listen: not a list")));

        assertThat(fieldNames(e)).containsExactly("id", "ts", "event", "instance", "result", "trigger", "config", "reason");
        assertThat(e.path("result").asText()).isEqualTo("refused");
        assertThat(e.path("reason").asText()).contains(":7: policy.roles.admin.allow[0]: not a rule; ");
    }

    @Test
    void aRevocationListReloadHasNoDigest() throws Exception {
        JsonNode e = line(new AuditEvent.ConfigReload("revocation file", "/etc/sallyport/revoked.krl", true, Optional.empty(),
                List.of(), Optional.empty()));

        assertThat(e.path("trigger").asText()).isEqualTo("revocation file");
        assertThat(e.has("digest")).isFalse();
        assertThat(e.has("reason")).isFalse();
    }
}
