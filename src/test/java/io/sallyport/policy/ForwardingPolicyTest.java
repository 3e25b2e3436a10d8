package io.sallyport.policy;

import static io.sallyport.policy.FakeDns.literal;
import static io.sallyport.policy.Policies.policy;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet4Address;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Address targets: which role and rule allowed them, or why not. */
class ForwardingPolicyTest {
    private final FakeDns dns = new FakeDns();

    private final ForwardingPolicy policy = policy(dns,
            "admin", List.of("10.0.0.0/16:22", "*.internal.corp:22"),
            "db", List.of("10.0.20.0/24:5432", "db-*.internal.corp:5432"),
            "web", List.of("10.0.30.17:80,443", "10.0.30.0/24:8000-8100"),
            "v6", List.of("[fd00::/8]:22", "fd00:20::/32:5432", "[fd00:30::17]:*"));

    @Test
    void addressInsideARuleIsAllowedWithTheRuleAsWritten() {
        assertThat(policy.decide(List.of("admin"), "10.0.3.17", 22))
                .isEqualTo(new Decision.Allow("admin", "10.0.0.0/16:22", literal("10.0.3.17")));
    }

    @Test
    void wrongPortIsDenied() {
        assertThat(policy.decide(List.of("admin"), "10.0.3.17", 2222)).isEqualTo(new Decision.Deny(
                "no rule of role(s) admin allows 10.0.3.17:2222", Optional.of(literal("10.0.3.17"))));
    }

    @Test
    void addressOutsideEveryRuleIsDenied() {
        assertThat(policy.decide(List.of("admin", "db"), "10.1.0.1", 22)).isEqualTo(new Decision.Deny(
                "no rule of role(s) admin,db allows 10.1.0.1:22", Optional.of(literal("10.1.0.1"))));
    }

    @Test
    void theRoleWhoseRuleMatchedIsReported() {
        assertThat(policy.decide(List.of("admin", "db"), "10.0.20.5", 5432))
                .isEqualTo(new Decision.Allow("db", "10.0.20.0/24:5432", literal("10.0.20.5")));
        assertThat(policy.decide(List.of("db", "admin"), "10.0.20.5", 22))
                .isEqualTo(new Decision.Allow("admin", "10.0.0.0/16:22", literal("10.0.20.5")));
    }

    @Test
    void anotherRolesRulesDoNotApply() {
        assertThat(policy.decide(List.of("db"), "10.0.3.17", 22)).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void portListsAndRanges() {
        assertThat(policy.decide(List.of("web"), "10.0.30.17", 80)).isInstanceOf(Decision.Allow.class);
        assertThat(policy.decide(List.of("web"), "10.0.30.17", 443)).isInstanceOf(Decision.Allow.class);
        assertThat(policy.decide(List.of("web"), "10.0.30.18", 443)).isInstanceOf(Decision.Deny.class);
        assertThat(policy.decide(List.of("web"), "10.0.30.18", 8000)).isInstanceOf(Decision.Allow.class);
        assertThat(policy.decide(List.of("web"), "10.0.30.18", 8100)).isInstanceOf(Decision.Allow.class);
        assertThat(policy.decide(List.of("web"), "10.0.30.18", 8101)).isInstanceOf(Decision.Deny.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 65536, Integer.MAX_VALUE})
    void portOutsideTheValidRangeIsDenied(int port) {
        ForwardingPolicy wide = policy(dns, "admin", List.of("0.0.0.0/0:*"));

        assertThat(wide.decide(List.of("admin"), "10.0.3.17", port))
                .isEqualTo(new Decision.Deny("port " + port + " is outside 1-65535"));
    }

    @Test
    void oddIpv4SpellingIsMatchedAsTheAddressItIs() {
        // 167772945 is 10.0.3.17; the decision names the real address
        assertThat(policy.decide(List.of("admin"), "167772945", 22))
                .isEqualTo(new Decision.Allow("admin", "10.0.0.0/16:22", literal("10.0.3.17")));
        assertThat(policy.decide(List.of("admin"), "0xa.0.3.0x11", 22))
                .isEqualTo(new Decision.Allow("admin", "10.0.0.0/16:22", literal("10.0.3.17")));
        assertThat(dns.lookups()).isEmpty();
    }

    @Test
    void ipv6TargetsAreMatchedByIpv6Rules() {
        assertThat(policy.decide(List.of("v6"), "fd12:3456::1", 22))
                .isEqualTo(new Decision.Allow("v6", "[fd00::/8]:22", literal("fd12:3456::1")));
        assertThat(policy.decide(List.of("v6"), "[fd12:3456::1]", 22)).isInstanceOf(Decision.Allow.class);
        assertThat(policy.decide(List.of("v6"), "fd00:20::5", 5432))
                .isEqualTo(new Decision.Allow("v6", "fd00:20::/32:5432", literal("fd00:20::5")));
        assertThat(policy.decide(List.of("v6"), "fd00:30::17", 9999))
                .isEqualTo(new Decision.Allow("v6", "[fd00:30::17]:*", literal("fd00:30::17")));
        assertThat(policy.decide(List.of("v6"), "fd00:21::5", 5432)).isInstanceOf(Decision.Deny.class);
        assertThat(policy.decide(List.of("v6"), "fc00::1", 22)).isInstanceOf(Decision.Deny.class);
        assertThat(dns.lookups()).isEmpty();
    }

    @Test
    void ipv4MappedIpv6TargetIsMatchedByAnIpv4Rule() {
        Decision d = policy.decide(List.of("admin"), "::ffff:10.0.3.17", 22);

        assertThat(d).isEqualTo(new Decision.Allow("admin", "10.0.0.0/16:22", literal("10.0.3.17")));
        assertThat(((Decision.Allow) d).address()).isInstanceOf(Inet4Address.class);
        assertThat(policy.decide(List.of("admin"), "[::ffff:a00:311]", 22)).isInstanceOf(Decision.Allow.class);
    }

    @Test
    void ipv4TargetIsNotMatchedByAnIpv6Rule() {
        assertThat(policy.decide(List.of("v6"), "10.0.3.17", 22)).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void globRuleNeverMatchesAnIpLiteral() {
        ForwardingPolicy globs = policy(dns, "admin", List.of("10.0.*:22", "1677*:22", "0xa*:22", "*.internal.corp:22"));

        assertThat(globs.decide(List.of("admin"), "10.0.3.17", 22)).isInstanceOf(Decision.Deny.class);
        assertThat(globs.decide(List.of("admin"), "167772945", 22)).isInstanceOf(Decision.Deny.class);
        assertThat(globs.decide(List.of("admin"), "0xa000311", 22)).isInstanceOf(Decision.Deny.class);
        assertThat(dns.lookups()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"bad host", "a..b.internal.corp", "-db.internal.corp", "db.internal.corp\n",
            "db\u0000.internal.corp", "fe80::1%eth0", "[fd00::1", "db.internal.corp:22", "http://db.internal.corp"})
    void malformedTargetsAreDeniedWithoutALookup(String host) {
        Decision d = policy.decide(List.of("admin"), host, 22);

        assertThat(d).isInstanceOfSatisfying(Decision.Deny.class,
                deny -> assertThat(deny.reason()).doesNotContain("\n", "\u0000"));
        assertThat(dns.lookups()).isEmpty();
    }

    @Test
    void overlongNameIsDeniedWithoutALookup() {
        String longName = "a".repeat(63) + "." + "b".repeat(63) + "." + "c".repeat(63) + "." + "d".repeat(60) + ".internal.corp";

        assertThat(policy.decide(List.of("admin"), longName, 22)).isInstanceOf(Decision.Deny.class);
        assertThat(policy.decide(List.of("admin"), "x".repeat(64) + ".internal.corp", 22)).isInstanceOf(Decision.Deny.class);
        assertThat(dns.lookups()).isEmpty();
    }

    @Test
    void emptyOrNullHostIsDenied() {
        assertThat(policy.decide(List.of("admin"), "", 22)).isEqualTo(new Decision.Deny("empty target host"));
        assertThat(policy.decide(List.of("admin"), null, 22)).isEqualTo(new Decision.Deny("empty target host"));
    }
}
