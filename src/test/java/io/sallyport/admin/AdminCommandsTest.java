package io.sallyport.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.audit.Auditor;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The admin commands behind the socket, without the socket: what each answers and how it is audited. */
class AdminCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AdminCommands.Caller ROOT = new AdminCommands.Caller(0, "root");
    private static final String FILE = "/etc/sallyport/sallyport.yaml";

    private final FakeLiveSessions sessions = new FakeLiveSessions();
    private final ListSink audit = new ListSink();
    private final Auditor auditor = new Auditor("test", Clock.systemUTC(), List.of(audit));
    /** What the audit trail held each time the reload ran. */
    private final List<List<JsonNode>> auditedWhenReloaded = new ArrayList<>();

    @AfterEach
    void close() {
        auditor.close();
    }

    private AdminCommands withReload(ReloadResult result) {
        Supplier<ReloadResult> reload = () -> {
            auditedWhenReloaded.add(audit.named("admin.command"));
            return result;
        };
        return new AdminCommands(sessions, auditor, reload);
    }

    @Test
    void reloadIsAuditedBeforeItRunsAndAnsweredWithWhatNeedsARestart() throws Exception {
        AdminCommands commands = withReload(new ReloadResult(true, FILE, Optional.of("sha256:0123abcd"), List.of("listen"),
                List.of(), 0, 2));

        JsonNode r = AdminProtocol.response(commands.handle("{\"command\":\"reload\"}", ROOT));

        assertThat(r.path("applied").asBoolean()).isTrue();
        assertThat(r.path("restart_needed").toString()).isEqualTo("[\"listen\"]");
        assertThat(r.path("tunnels_closed").asInt()).isEqualTo(2);
        assertThat(auditedWhenReloaded).as("admin.command precedes the config.reload and closes it causes")
                .singleElement().satisfies(events -> assertThat(events).hasSize(1));
        JsonNode event = audit.named("admin.command").get(0);
        assertThat(event.path("command").asText()).isEqualTo("reload");
        assertThat(event.has("args")).isFalse();
        assertThat(event.path("uid").asLong()).isZero();
        assertThat(event.path("user").asText()).isEqualTo("root");
        assertThat(event.has("reason")).isFalse();
    }

    @Test
    void aRefusedFileIsAnsweredWithEveryProblemAndTheCommandIsStillAuditedAsCarriedOut() throws Exception {
        AdminCommands commands = withReload(ReloadResult.refused(FILE, List.of(FILE + ":3: listen: not a list", FILE + ":9: x: y")));

        JsonNode r = AdminProtocol.response(commands.handle("{\"command\":\"reload\"}", ROOT));

        assertThat(r.path("applied").asBoolean()).isFalse();
        assertThat(r.path("problems")).extracting(JsonNode::asText).containsExactly(FILE + ":3: listen: not a list", FILE + ":9: x: y");
        // The refusal of the file itself is the reloader's config.reload event; the command ran.
        assertThat(audit.named("admin.command")).singleElement().satisfies(e -> assertThat(e.has("reason")).isFalse());
    }

    @Test
    void reloadWithAnyOtherFieldIsRefusedAuditedAndNotRun() throws Exception {
        AdminCommands commands = withReload(new ReloadResult(true, FILE, Optional.of("d"), List.of(), List.of(), 0, 0));

        JsonNode r = JSON.readTree(commands.handle("{\"command\":\"reload\",\"config\":\"/tmp/evil.yaml\"}", ROOT));

        assertThat(r.path("ok").asBoolean()).isFalse();
        assertThat(r.path("error").asText()).isEqualTo("bad request: unknown field \"config\" for reload");
        assertThat(auditedWhenReloaded).isEmpty();
        JsonNode event = audit.named("admin.command").get(0);
        assertThat(event.path("command").asText()).isEqualTo("reload");
        assertThat(event.path("reason").asText()).isEqualTo("bad request: unknown field \"config\" for reload");
    }

    /**
     * A server without a config file (assembled in a test) cannot reload: that is a refused command,
     * audited with its reason, not a file with problems (which would read "(none) not reloaded").
     */
    @Test
    void withoutAReloadTheCommandIsRefusedWithTheReasonAndAudited() throws Exception {
        AdminCommands commands = new AdminCommands(sessions, auditor);

        JsonNode r = JSON.readTree(commands.handle("{\"command\":\"reload\"}", ROOT));

        assertThat(r.path("ok").asBoolean()).isFalse();
        assertThat(r.path("error").asText()).isEqualTo("reload is not available: this server was not started from a config file");
        JsonNode event = audit.named("admin.command").get(0);
        assertThat(event.path("command").asText()).isEqualTo("reload");
        assertThat(event.path("reason").asText()).isEqualTo("reload is not available: this server was not started from a config file");
        assertThat(audit.named("admin.command")).hasSize(1);
        assertThat(JSON.readTree(commands.handle("{\"command\":\"sessions\"}", ROOT)).path("ok").asBoolean())
                .as("the other commands still work").isTrue();
    }
}
