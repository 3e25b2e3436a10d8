package io.sallyport.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.config.Config;
import io.sallyport.identity.Identity;
import io.sallyport.net.IpLiterals;
import io.sallyport.policy.Decision;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code explain} on the wire: the request parsed as strictly as the others, the answer read back whole. */
class AdminProtocolExplainTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static AdminProtocol.Request.Explain explain(String user, String host, int port, String from) {
        return new AdminProtocol.Request.Explain(user, new Config.HostPort(host, port), Optional.ofNullable(from));
    }

    @Test
    void theDocumentedRequestParses() throws Exception {
        AdminProtocol.Request r = AdminProtocol.parse(
                "{\"command\":\"explain\",\"user\":\"alice\",\"target\":\"10.0.3.17:22\",\"from\":\"203.0.113.9\"}");

        assertThat(r).isEqualTo(explain("alice", "10.0.3.17", 22, "203.0.113.9"));
        assertThat(r.args()).containsExactly("--user", "alice", "--target", "10.0.3.17:22", "--from", "203.0.113.9");
        assertThat(AdminProtocol.parse("{\"command\":\"explain\",\"user\":\"alice\",\"target\":\"db.internal.corp:5432\"}"))
                .isEqualTo(explain("alice", "db.internal.corp", 5432, null));
    }

    @Test
    void explainRoundTripsThroughItsLineIpv6TargetsBracketed() throws Exception {
        for (AdminProtocol.Request.Explain r : List.of(explain("alice", "10.0.3.17", 22, null),
                explain("Alice.Smith", "fd00::5", 2222, "2001:db8::1"), explain("bob", "db.internal.corp", 5432, "203.0.113.9"))) {
            String line = AdminProtocol.encode(r);
            assertThat(AdminProtocol.parse(line)).as(line).isEqualTo(r);
        }
        assertThat(AdminProtocol.encode(explain("a", "fd00::5", 22, null))).contains("\"target\":\"[fd00::5]:22\"");
    }

    @Test
    void theClientAddressIsAnyIpSpellingKeptInItsCanonicalForm() throws Exception {
        AdminProtocol.Request r = AdminProtocol.parse("{\"command\":\"explain\",\"user\":\"a\",\"target\":\"10.0.0.1:22\","
                + "\"from\":\"::ffff:203.0.113.9\"}");

        assertThat(((AdminProtocol.Request.Explain) r).from()).contains("203.0.113.9");
    }

    @Test
    void explainNeedsAUserAndATargetAndNothingElse() {
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"explain\",\"user\":\"alice\"}"))
                .isInstanceOf(AdminProtocol.BadRequest.class).hasMessageContaining("\"user\" and \"target\"")
                .satisfies(e -> assertThat(((AdminProtocol.BadRequest) e).command()).isEqualTo("explain"));
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"explain\",\"target\":\"10.0.0.1:22\"}"))
                .hasMessageContaining("\"user\" and \"target\"");
        assertThatThrownBy(() -> AdminProtocol.parse(
                "{\"command\":\"explain\",\"user\":\"a\",\"target\":\"10.0.0.1:22\",\"roles\":[\"admin\"]}"))
                .hasMessageContaining("unknown field \"roles\" for explain");
    }

    @Test
    void aTargetWithoutAHostOrAPortOrTooLongIsRefused() {
        String tooLong = "a".repeat(AdminProtocol.MAX_TARGET_CHARS) + ":22";
        for (String target : List.of("10.0.3.17", ":22", "10.0.3.17:", "10.0.3.17:ssh", "10.0.3.17:123456", "[fd00::5]",
                "[]:22", tooLong)) {
            assertThatThrownBy(() -> AdminProtocol.parse(AdminProtocol.encode(explain("a", "x", 1, null))
                    .replace("\"x:1\"", JSON.writeValueAsString(target))))
                    .as(target).isInstanceOf(AdminProtocol.BadRequest.class).hasMessageContaining("\"target\" must be HOST:PORT");
        }
        assertThatThrownBy(() -> AdminProtocol.parse("{\"command\":\"explain\",\"user\":\"a\",\"target\":22}"))
                .hasMessageContaining("\"target\" must be HOST:PORT");
    }

    @Test
    void aUserAndAClientAddressAreBoundedAndChecked() {
        String longUser = "u".repeat(AdminProtocol.MAX_USER_CHARS + 1);
        assertThatThrownBy(() -> AdminProtocol.parse(AdminProtocol.encode(explain(longUser, "10.0.0.1", 22, null))))
                .hasMessageContaining("\"user\" must be a user name of 1 to " + AdminProtocol.MAX_USER_CHARS);
        assertThatThrownBy(() -> AdminProtocol.parse(AdminProtocol.encode(explain("", "10.0.0.1", 22, null))))
                .hasMessageContaining("\"user\" must be");
        for (String from : List.of("bastion.corp", "203.0.113.9/24", "", "1".repeat(AdminProtocol.MAX_FROM_CHARS + 1))) {
            assertThatThrownBy(() -> AdminProtocol.parse(AdminProtocol.encode(explain("a", "10.0.0.1", 22, from))))
                    .as(from).hasMessageContaining("\"from\" must be an IP address");
        }
    }

    @Test
    void anAllowAnswerReadsBackWithItsIdentityRuleAndAddress() throws Exception {
        Explanation x = new Explanation(explain("ALICE", "db.internal.corp", 22, "203.0.113.9"),
                Optional.of(new Identity("Alice", List.of("ops", "db"), "iam", Optional.of("arn:aws:iam::123456789012:user/Alice"))),
                new Decision.Allow("ops", "*.internal.corp:22", IpLiterals.parse("10.0.3.17").orElseThrow()),
                List.of("a note"));

        String line = AdminProtocol.explained(x);

        assertThat(JSON.readTree(line).path("decision").asText()).isEqualTo("allow");
        assertThat(JSON.readTree(line).path("identity").path("iam_arn").asText()).isEqualTo("arn:aws:iam::123456789012:user/Alice");
        assertThat(AdminProtocol.explanation(AdminProtocol.response(line))).isEqualTo(x);
    }

    @Test
    void aDenyAnswerForAnUnknownUserReadsBackWithoutIdentity() throws Exception {
        Explanation unknown = new Explanation(explain("mallory", "10.0.3.17", 22, null), Optional.empty(),
                new Decision.Deny("no user 'mallory' in identity.local; no login, so no tunnel"), List.of());
        Explanation refused = new Explanation(explain("bob", "fd00::5", 22, null),
                Optional.of(new Identity("bob", List.of(), "local", Optional.empty())),
                new Decision.Deny("no rule", IpLiterals.parse("fd00::5")), List.of());

        for (Explanation x : List.of(unknown, refused)) {
            String line = AdminProtocol.explained(x);
            assertThat(JSON.readTree(line).has("identity")).isEqualTo(x.identity().isPresent());
            assertThat(AdminProtocol.explanation(AdminProtocol.response(line))).isEqualTo(x);
        }
    }

    @Test
    void aMalformedAnswerIsAnErrorNotAWrongPrintout() {
        for (String line : List.of("{\"ok\":true}",
                "{\"ok\":true,\"user\":\"a\",\"target\":{\"host\":\"h\",\"port\":22},\"decision\":\"maybe\",\"notes\":[]}",
                "{\"ok\":true,\"user\":\"a\",\"target\":{\"host\":\"h\",\"port\":22},\"decision\":\"allow\",\"role\":\"r\","
                        + "\"rule\":\"x\",\"notes\":[]}",
                "{\"ok\":true,\"user\":\"a\",\"target\":{\"host\":\"h\",\"port\":22},\"decision\":\"deny\",\"reason\":\"x\","
                        + "\"ip\":\"not-an-ip\",\"notes\":[]}")) {
            assertThatThrownBy(() -> AdminProtocol.explanation(AdminProtocol.response(line))).as(line)
                    .isInstanceOf(java.io.IOException.class);
        }
    }
}
