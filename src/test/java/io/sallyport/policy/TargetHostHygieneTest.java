package io.sallyport.policy;

import static io.sallyport.policy.FakeDns.literal;
import static io.sallyport.policy.Policies.policy;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The target host is whatever string the client put in its direct-tcpip request: it is refused
 * as written unless it is an IP literal or a plain ASCII host name, and nothing else reaches DNS.
 */
class TargetHostHygieneTest {
    private final FakeDns dns = new FakeDns();
    private final ForwardingPolicy policy = policy(dns,
            "ops", List.of("kelvin.x:22", "*.internal.corp:22", "10.0.0.0/8:22"));

    @Test
    void kelvinSignIsNotFoldedIntoAnAsciiName() {
        dns.answer("kelvin.x", "10.0.3.17");

        Decision d = policy.decide(List.of("ops"), "\u212Aelvin.x", 22);

        assertThat(d).isInstanceOf(Decision.Deny.class);
        assertThat(((Decision.Deny) d).reason()).isEqualTo(
                "target host '\\u212aelvin.x' is not printable ASCII (a name must be sent as ASCII, an IDN as punycode xn--...)");
        assertThat(dns.lookups()).isEmpty();
        assertThat(policy.decide(List.of("ops"), "Kelvin.x", 22))
                .as("the ASCII spelling still works").isEqualTo(new Decision.Allow("ops", "kelvin.x:22", literal("10.0.3.17")));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "\uFF11\uFF10.\uFF10.\uFF13.\uFF11\uFF17",  // fullwidth 10.0.3.17
            "\u0661\u0660.0.3.17",                      // Arabic-Indic digits
            "10.0.3.17\u200B",                          // zero-width space
            "db.\u0456nternal.corp",                    // Cyrillic i
            "db.internal.corp\u0000",
            "db.internal.corp\n",
            "db internal.corp",
            "\u0130.internal.corp",                     // dotted capital I lower-cases to two characters
            "\uFFFD.internal.corp",                     // what a bad UTF-8 byte decodes to
    })
    void nonAsciiAndControlCharactersAreRefusedAsWritten(String host) {
        dns.answer("10.internal.corp", "10.0.3.17").answer("db.internal.corp", "10.0.3.18")
                .answer("i.internal.corp", "10.0.3.19");

        Decision d = policy.decide(List.of("ops"), host, 22);

        assertThat(d).isInstanceOf(Decision.Deny.class);
        assertThat(((Decision.Deny) d).reason()).contains("is not printable ASCII").doesNotContain("\n", "\u0000");
        assertThat(((Decision.Deny) d).address()).isEmpty();
        assertThat(dns.lookups()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {".a:b", "a:b", ":a.b", ".internal.corp", "db..internal.corp", "-db.internal.corp",
            "db-.internal.corp", "db_1.internal.corp", "*.internal.corp", "db.internal.corp:22", "10.0.3.256",
            "1.2.3.4.5", "0x1g.1", "a/b.internal.corp", "[db.internal.corp]"})
    void onlyAValidHostNameIsEverResolved(String host) {
        Decision d = policy.decide(List.of("ops"), host, 22);

        assertThat(d).isInstanceOf(Decision.Deny.class);
        assertThat(((Decision.Deny) d).reason()).endsWith("is neither an IP address nor a valid host name");
        assertThat(dns.lookups()).isEmpty();
    }

    @Test
    void overlongNamesAndLabelsAreNotResolved() {
        String label64 = "a".repeat(64);
        String name254 = ("a".repeat(62) + ".").repeat(4) + "internal.corp";

        assertThat(policy.decide(List.of("ops"), label64 + ".internal.corp", 22)).isInstanceOf(Decision.Deny.class);
        assertThat(policy.decide(List.of("ops"), name254, 22)).isInstanceOf(Decision.Deny.class);
        assertThat(dns.lookups()).isEmpty();
    }
}
