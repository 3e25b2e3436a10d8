package io.sallyport.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.ssh.LiveSessions;
import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AdminProtocolTest {

    private static ReadableByteChannel bytes(byte[] b) {
        return Channels.newChannel(new ByteArrayInputStream(b));
    }

    @Test
    void eachRequestRoundTripsThroughItsLine() throws Exception {
        for (AdminProtocol.Request r : List.of(new AdminProtocol.Request.Sessions(),
                new AdminProtocol.Request.KillIds(List.of("0123456789abcdef", "fedcba9876543210")),
                new AdminProtocol.Request.KillUser("alice"), new AdminProtocol.Request.Reload())) {
            assertThat(AdminProtocol.parse(AdminProtocol.encode(r))).isEqualTo(r);
        }
    }

    @Test
    void sshConfigAsksWhoAUserIsAndReadsTheAnswerBack() throws Exception {
        AdminProtocol.Request r = new AdminProtocol.Request.SshConfig("gina");
        assertThat(AdminProtocol.parse(AdminProtocol.encode(r))).isEqualTo(r);
        assertThat(r.args()).containsExactly("--user", "gina");
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"ssh-config\"}")).hasMessageContaining("takes \"user\"");
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"ssh-config\",\"user\":\"a\",\"roles\":[]}"))
                .hasMessageContaining("unknown field \"roles\"");

        io.sallyport.identity.Identity gina = new io.sallyport.identity.Identity("Gina", List.of("ops", "db"), "iam",
                Optional.of("arn:aws:iam::123456789012:user/engineering/Gina"));
        JsonNode known = new ObjectMapper().readTree(AdminProtocol.identified("gina", Optional.of(gina), Optional.empty()));
        assertThat(AdminProtocol.identity(known)).contains(gina);
        assertThat(AdminProtocol.refused(known)).isEmpty();
        JsonNode unknown = new ObjectMapper().readTree(AdminProtocol.identified("x", Optional.empty(), Optional.of("stale")));
        assertThat(AdminProtocol.identity(unknown)).isEmpty();
        assertThat(AdminProtocol.refused(unknown)).contains("stale");
    }

    @Test
    void garbageIsABadRequestNotAnException() {
        for (String line : List.of("", "   ", "hello", "[1,2]", "\"sessions\"", "{", "{\"command\":42}", "null",
                "{\"command\":\"sessions\"} trailing", "{\"command\":\"sessions\",\"command\":\"kill\"}", "\u0000\u0001")) {
            assertThatThrownBy(() -> AdminProtocol.parse(line)).as(line).isInstanceOf(AdminProtocol.BadRequest.class);
        }
    }

    @Test
    void unknownCommandsAndFieldsAreRefusedByName() {
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"shutdown\"}"))
                .hasMessageContaining("unknown command \"shutdown\"");
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"sessions\",\"all\":true}"))
                .hasMessageContaining("unknown field \"all\"");
    }

    @Test
    void killTakesIdsOrAUserNeverBothNorNeither() {
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"kill\"}")).hasMessageContaining("either");
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"kill\",\"ids\":[\"ab\"],\"user\":\"a\"}"))
                .hasMessageContaining("either");
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"kill\",\"ids\":[]}")).hasMessageContaining("non-empty");
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"kill\",\"user\":\"\"}")).hasMessageContaining("user name");
    }

    @Test
    void aSessionIdIsHexAndTheListIsBounded() throws Exception {
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"kill\",\"ids\":[\"../etc\"]}"))
                .hasMessageContaining("not a session id");
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"kill\",\"ids\":[7]}"))
                .hasMessageContaining("not a session id");
        List<String> many = Collections.nCopies(AdminProtocol.MAX_IDS + 1, "ab");
        assertThatThrownBy(() -> AdminProtocol.parse(AdminProtocol.encode(new AdminProtocol.Request.KillIds(many))))
                .hasMessageContaining("at most " + AdminProtocol.MAX_IDS);
        List<String> enough = Collections.nCopies(AdminProtocol.MAX_IDS, "0123456789abcdef");
        String line = AdminProtocol.encode(new AdminProtocol.Request.KillIds(enough));
        assertThat(line.length()).as("the largest valid request fits the line limit").isLessThan(AdminProtocol.MAX_REQUEST_BYTES);
        assertThat(AdminProtocol.parse(line)).isInstanceOf(AdminProtocol.Request.KillIds.class);
    }

    @Test
    void aControlCharacterInAnUnknownCommandIsEscapedInTheMessage() {
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"x\\u001b[2J\"}"))
                .hasMessageContaining("x\\u001b[2J")
                .satisfies(e -> assertThat(((AdminProtocol.BadRequest) e).command()).doesNotContain("\u001b"));
    }

    @Test
    void aLineIsReadUpToItsNewlineAndWhatFollowsIsIgnored() throws Exception {
        assertThat(AdminProtocol.readLine(bytes("{\"command\":\"sessions\"}\nmore".getBytes(StandardCharsets.UTF_8)), 100))
                .contains("{\"command\":\"sessions\"}");
    }

    @Test
    void aPeerThatClosesMidLineSentNoRequest() throws Exception {
        assertThat(AdminProtocol.readLine(bytes("{\"command\"".getBytes(StandardCharsets.UTF_8)), 100)).isEmpty();
    }

    @Test
    void aHugeLineIsRefusedOnceItPassesTheLimitWithoutReadingTheRest() throws Exception {
        byte[] huge = new byte[10 * 1024 * 1024];
        java.util.Arrays.fill(huge, (byte) 'a');
        ByteArrayInputStream in = new ByteArrayInputStream(huge);
        assertThatThrownBy(() -> AdminProtocol.readLine(Channels.newChannel(in), AdminProtocol.MAX_REQUEST_BYTES))
                .isInstanceOf(AdminProtocol.BadLine.class).hasMessageContaining("longer than " + AdminProtocol.MAX_REQUEST_BYTES);
        assertThat(in.available()).as("stopped reading soon after the limit").isGreaterThan(huge.length - 64 * 1024);
    }

    @Test
    void aLineExactlyAtTheLimitIsRead() throws Exception {
        byte[] b = new byte[101];
        java.util.Arrays.fill(b, (byte) 'a');
        b[100] = '\n';
        assertThat(AdminProtocol.readLine(bytes(b), 100)).hasValueSatisfying(l -> assertThat(l).hasSize(100));
    }

    @Test
    void aLineThatIsNotUtf8IsRefused() {
        byte[] b = {'{', (byte) 0xff, (byte) 0xfe, '}', '\n'};
        assertThatThrownBy(() -> AdminProtocol.readLine(bytes(b), 100)).isInstanceOf(AdminProtocol.BadLine.class)
                .hasMessageContaining("UTF-8");
    }

    @Test
    void theSessionsResponseCarriesWhoWhereHowAndTheTunnels() throws Exception {
        LiveSessions.Session s = new LiveSessions.Session("0123456789abcdef", Optional.of("alice"), "203.0.113.9", 50022,
                Optional.of("publickey"), Optional.of("local"), List.of("admin"), Instant.parse("2026-12-02T05:00:00.123456Z"),
                List.of(new LiveSessions.Tunnel(0, "db.internal", 5432, Optional.of("10.0.20.5"), 10, 20)), 110, 220);
        JsonNode r = AdminProtocol.response(AdminProtocol.sessions(List.of(s)));
        JsonNode j = r.path("sessions").get(0);
        assertThat(j.path("id").asText()).isEqualTo("0123456789abcdef");
        assertThat(j.path("user").asText()).isEqualTo("alice");
        assertThat(j.path("client").path("ip").asText()).isEqualTo("203.0.113.9");
        assertThat(j.path("auth").path("source").asText()).isEqualTo("local");
        assertThat(j.path("auth").path("roles").get(0).asText()).isEqualTo("admin");
        assertThat(j.path("started").asText()).isEqualTo("2026-12-02T05:00:00.123Z");
        assertThat(j.path("tunnels").get(0).path("target").path("ip").asText()).isEqualTo("10.0.20.5");
        assertThat(j.path("bytes_down").asLong()).isEqualTo(220);
    }

    @Test
    void anErrorResponseBecomesAnExceptionWithTheServersReason() {
        assertThatThrownBy(() -> AdminProtocol.response(AdminProtocol.error("busy"))).hasMessageContaining("busy");
        assertThatThrownBy(() -> AdminProtocol.response("<html>")).hasMessageContaining("not JSON");
    }

    @Test
    void aResponseIsOneLine() throws Exception {
        String line = AdminProtocol.error("a\nb");
        assertThat(line).doesNotContain("\n");
        assertThat(new ObjectMapper().readTree(line).path("error").asText()).isEqualTo("a\nb");
    }

    @Test
    void reloadIsTheCommandAloneAndAnyOtherFieldIsRefused() throws Exception {
        assertThat(AdminProtocol.encode(new AdminProtocol.Request.Reload())).isEqualTo("{\"command\":\"reload\"}");
        assertThat(AdminProtocol.parse("{\"command\":\"reload\"}")).isEqualTo(new AdminProtocol.Request.Reload());
        assertThat(new AdminProtocol.Request.Reload().args()).isEmpty();
        // The server re-reads the file it started with; a client cannot point it at another.
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"reload\",\"config\":\"/tmp/evil.yaml\"}"))
                .isInstanceOfSatisfying(AdminProtocol.BadRequest.class, e -> assertThat(e.command()).isEqualTo("reload"))
                .hasMessage("unknown field \"config\" for reload");
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"reload\",\"ids\":[\"ab\"]}"))
                .hasMessage("unknown field \"ids\" for reload");
    }

    @Test
    void anAppliedReloadAnswersWithItsDigestWhatNeedsARestartAndWhatItEnded() throws Exception {
        ReloadResult applied = new ReloadResult(true, "/etc/sallyport/sallyport.yaml", Optional.of("sha256:0123abcd"),
                List.of("listen", "admin.socket"), List.of(), 1, 3);

        JsonNode r = AdminProtocol.response(AdminProtocol.reloaded(applied));

        assertThat(r.path("applied").asBoolean()).isTrue();
        assertThat(r.path("config").asText()).isEqualTo("/etc/sallyport/sallyport.yaml");
        assertThat(r.path("digest").asText()).isEqualTo("sha256:0123abcd");
        assertThat(r.path("restart_needed").toString()).isEqualTo("[\"listen\",\"admin.socket\"]");
        assertThat(r.path("problems").toString()).isEqualTo("[]");
        assertThat(r.path("sessions_ended").asInt()).isEqualTo(1);
        assertThat(r.path("tunnels_closed").asInt()).isEqualTo(3);
    }

    @Test
    void aRefusedReloadAnswersWithEveryProblemAndNoDigest() throws Exception {
        List<String> problems = List.of("/etc/sallyport/sallyport.yaml:7: policy.roles.admin.allow[0]: not a rule",
                "/etc/sallyport/sallyport.yaml:12: identity.local.users.bob.roles[0]: role \"ops\" is not defined");
        ReloadResult refused = ReloadResult.refused("/etc/sallyport/sallyport.yaml", problems);

        String line = AdminProtocol.reloaded(refused);
        JsonNode r = AdminProtocol.response(line);

        assertThat(line).doesNotContain("\n");
        assertThat(r.path("ok").asBoolean()).as("the command worked; the file was refused").isTrue();
        assertThat(r.path("applied").asBoolean()).isFalse();
        assertThat(r.has("digest")).isFalse();
        assertThat(r.path("restart_needed").toString()).isEqualTo("[]");
        assertThat(r.path("problems")).extracting(JsonNode::asText).containsExactlyElementsOf(problems);
        assertThat(r.path("sessions_ended").asInt()).isZero();
        assertThat(r.path("tunnels_closed").asInt()).isZero();
    }
}
