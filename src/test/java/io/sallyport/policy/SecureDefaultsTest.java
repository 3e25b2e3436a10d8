package io.sallyport.policy;

import static io.sallyport.policy.FakeDns.literal;
import static io.sallyport.policy.Policies.policy;
import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.net.Cidr;
import io.sallyport.net.DenyList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Secure defaults, pinned: deny by default, and the built-in deny list beats every allow rule
 * (SPEC §4). Each rule set here is the widest an operator could write.
 */
class SecureDefaultsTest {
    /** Every address and port there is, for one role. */
    private static final List<String> EVERYTHING = List.of("0.0.0.0/0:*", "::/0:*", "*.corp:*", "*.internal:*");

    private final FakeDns dns = new FakeDns();

    @Test
    void emptyConfigAllowsNobody() {
        ForwardingPolicy empty = new ForwardingPolicy(Map.of(), List.of(), Policies.BUILT_IN_DENY, dns);

        for (List<String> roles : List.of(List.<String>of(), List.of("admin"), List.of("*"))) {
            assertThat(empty.decide(roles, "10.0.3.17", 22)).isInstanceOf(Decision.Deny.class);
            assertThat(empty.decide(roles, "fd00::17", 22)).isInstanceOf(Decision.Deny.class);
            assertThat(empty.decide(roles, "db.internal.corp", 22)).isInstanceOf(Decision.Deny.class);
        }
        assertThat(dns.lookups()).isEmpty();
    }

    @Test
    void userWithNoRolesIsDeniedEvenWhenRolesAllowEverything() {
        dns.answer("db.internal.corp", "10.0.3.17");
        ForwardingPolicy p = policy(dns, "admin", EVERYTHING);

        assertThat(p.decide(List.of(), "10.0.3.17", 22))
                .isEqualTo(new Decision.Deny("no rule of role(s) (none) allows 10.0.3.17:22", Optional.of(literal("10.0.3.17"))));
        assertThat(p.decide(List.of(), "db.internal.corp", 22))
                .isEqualTo(new Decision.Deny("no rule of role(s) (none) allows db.internal.corp:22"));
        assertThat(dns.lookups()).isEmpty();
    }

    @Test
    void roleWithAnEmptyAllowListAllowsNothing() {
        ForwardingPolicy p = policy(dns, "viewer", List.of(), "admin", EVERYTHING);

        assertThat(p.decide(List.of("viewer"), "10.0.3.17", 22)).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void unknownRoleAllowsNothing() {
        ForwardingPolicy p = policy(dns, "admin", EVERYTHING);

        assertThat(p.decide(List.of("Admin", "admin "), "10.0.3.17", 22)).isInstanceOf(Decision.Deny.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"169.254.0.0/16:80", "0.0.0.0/0:*", "169.254.169.254:80", "169.254.169.254/32:*",
            "169.254.169.0/24:80", "::/0:*"})
    void metadataAddressDeniedEvenWhenRuleMatches(String rule) {
        ForwardingPolicy p = policy(dns, "admin", List.of(rule));

        Decision d = p.decide(List.of("admin"), "169.254.169.254", 80);

        assertThat(d).isEqualTo(new Decision.Deny("169.254.169.254 is the cloud instance metadata service",
                Optional.of(literal("169.254.169.254"))));
    }

    @Test
    void metadataNameDeniedEvenWhenANameRuleMatches() {
        dns.answer("instance-data.corp", "169.254.169.254");
        ForwardingPolicy p = policy(dns, "admin", EVERYTHING);

        Decision d = p.decide(List.of("admin"), "instance-data.corp", 80);

        assertThat(d).isInstanceOfSatisfying(Decision.Deny.class, deny -> {
            assertThat(deny.reason()).contains("instance-data.corp", "169.254.169.254", "metadata");
            assertThat(deny.address()).hasValue(literal("169.254.169.254"));
        });
    }

    /** SPEC §4: odd spellings are normalised before any check. */
    @ParameterizedTest
    @ValueSource(strings = {"169.254.169.254", "2852039166", "0xa9fea9fe", "0251.0376.0251.0376", "169.254.43518",
            "0xa9.0xfe.0xa9.0xfe", "::ffff:169.254.169.254", "[::ffff:a9fe:a9fe]", "[169.254.169.254]",
            "0:0:0:0:0:ffff:a9fe:a9fe"})
    void metadataAddressInAnySpellingIsDenied(String spelling) {
        ForwardingPolicy p = policy(dns, "admin", EVERYTHING);

        Decision d = p.decide(List.of("admin"), spelling, 80);

        assertThat(d).isInstanceOfSatisfying(Decision.Deny.class, deny -> {
            assertThat(deny.reason()).isEqualTo("169.254.169.254 is the cloud instance metadata service");
            assertThat(deny.address()).hasValue(literal("169.254.169.254"));
        });
        assertThat(dns.lookups()).as("a literal is never looked up").isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"fd00:ec2::254", "[fd00:ec2::254]", "FD00:EC2:0:0:0:0:0:254", "fd00:ec2::23",
            "64:ff9b::a9fe:a9fe", "64:ff9b::169.254.169.254", "::a9fe:a9fe", "64:ff9b:1::a9fe:a9fe",
            "2002:a9fe:a9fe::1", "2001:0:4136:e378:8000:63bf:5601:5601", "fec0::a9fe:a9fe"})
    void ipv6RoutesToTheMetadataServiceAreDenied(String spelling) {
        ForwardingPolicy p = policy(dns, "admin", EVERYTHING);

        assertThat(p.decide(List.of("admin"), spelling, 80)).isInstanceOf(Decision.Deny.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "127.0.0.1", "127.0.0.53", "0x7f000001", "127.1", "::1", "[::1]", "::ffff:127.0.0.1", // loopback
            "169.254.170.2", "169.254.170.23", "169.254.169.123", "169.254.0.1", "fe80::1",    // link-local
            "fd00:ec2::254",                                                                    // AWS IPv6 services
            "64:ff9b::a9fe:a9fe", "64:ff9b::a00:311",                                          // NAT64
            "0.0.0.0", "0", "0.0.0.1", "::", "[::]",                                            // this host
            "224.0.0.1", "239.1.2.3", "ff02::1", "ff05::1:3",                                   // multicast
            "255.255.255.255", "4294967295", "240.0.0.1",                                       // broadcast, reserved
    })
    void builtInDenyListBeatsAnAllowEverythingRule(String target) {
        ForwardingPolicy p = policy(dns, "admin", EVERYTHING);

        for (int port : new int[] {22, 80, 443}) {
            assertThat(p.decide(List.of("admin"), target, port)).as(target + ":" + port).isInstanceOf(Decision.Deny.class);
        }
    }

    @Test
    void bastionsOwnAddressesAreDeniedWhateverTheRules() {
        DenyList deny = new DenyList(List.of(), false, () -> List.of(literal("10.0.1.10"), literal("fd00::10")));
        dns.answer("bastion.internal", "10.0.1.10");
        ForwardingPolicy p = policy(dns, deny, "admin", EVERYTHING);

        assertThat(p.decide(List.of("admin"), "10.0.1.10", 22)).isEqualTo(new Decision.Deny(
                "10.0.1.10 is an address of the bastion itself", Optional.of(literal("10.0.1.10"))));
        assertThat(p.decide(List.of("admin"), "::ffff:10.0.1.10", 22)).isInstanceOf(Decision.Deny.class);
        assertThat(p.decide(List.of("admin"), "167772426", 22)).isInstanceOf(Decision.Deny.class);
        assertThat(p.decide(List.of("admin"), "[fd00::10]", 22)).isInstanceOf(Decision.Deny.class);
        assertThat(p.decide(List.of("admin"), "bastion.internal", 22)).isInstanceOf(Decision.Deny.class);
        assertThat(p.decide(List.of("admin"), "10.0.1.11", 22)).isInstanceOf(Decision.Allow.class);
    }

    @Test
    void operatorDenyEntriesBeatAllowRules() {
        DenyList deny = new DenyList(List.of(Cidr.parse("10.0.99.0/24")), false, List::of);
        dns.answer("vault.internal", "10.0.99.5");
        ForwardingPolicy p = policy(dns, deny, "admin", List.of("10.0.99.0/24:*", "10.0.0.0/8:*", "vault.internal:*"));

        assertThat(p.decide(List.of("admin"), "10.0.99.5", 8200)).isEqualTo(new Decision.Deny(
                "10.0.99.5 is denied by policy.deny 10.0.99.0/24", Optional.of(literal("10.0.99.5"))));
        assertThat(p.decide(List.of("admin"), "vault.internal", 8200)).isInstanceOf(Decision.Deny.class);
        assertThat(p.decide(List.of("admin"), "10.0.98.5", 8200)).isInstanceOf(Decision.Allow.class);
    }

    @Test
    void loopbackIsDeniedUnlessUnsafeAllowLoopback() {
        DenyList unsafe = new DenyList(List.of(), true, List::of);
        ForwardingPolicy safe = policy(dns, "demo", List.of("127.0.0.0/8:*"));
        ForwardingPolicy demo = policy(dns, unsafe, "demo", List.of("127.0.0.0/8:*"));

        assertThat(safe.decide(List.of("demo"), "127.0.0.1", 2223)).isInstanceOf(Decision.Deny.class);
        assertThat(demo.decide(List.of("demo"), "127.0.0.1", 2223))
                .isEqualTo(new Decision.Allow("demo", "127.0.0.0/8:*", literal("127.0.0.1")));
    }

    @Test
    void unsafeAllowLoopbackStillNeedsARule() {
        ForwardingPolicy demo = policy(dns, new DenyList(List.of(), true, List::of), "demo", List.of("10.0.0.0/8:*"));

        assertThat(demo.decide(List.of("demo"), "127.0.0.1", 2223)).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void unsafeAllowLoopbackLetsNothingElseThrough() {
        ForwardingPolicy demo = policy(dns, new DenyList(List.of(), true, List::of), "demo", EVERYTHING);

        assertThat(demo.decide(List.of("demo"), "169.254.169.254", 80)).isInstanceOf(Decision.Deny.class);
        assertThat(demo.decide(List.of("demo"), "0.0.0.0", 80)).isInstanceOf(Decision.Deny.class);
        assertThat(demo.decide(List.of("demo"), "fd00:ec2::254", 80)).isInstanceOf(Decision.Deny.class);
    }

    /** SPEC §4: loopback is "127.0.0.0/8, ::1", and unsafe_allow_loopback lets loopback through. */
    @Test
    void unsafeAllowLoopbackLetsIpv6LoopbackThroughToo() {
        ForwardingPolicy demo = policy(dns, new DenyList(List.of(), true, List::of), "demo", List.of("[::1]:*"));

        assertThat(demo.decide(List.of("demo"), "::1", 2223))
                .isEqualTo(new Decision.Allow("demo", "[::1]:*", literal("::1")));
    }

    @Test
    void publicAddressesAreDeniedWithoutAMatchingRule() {
        ForwardingPolicy p = policy(dns, "admin", List.of("10.0.0.0/8:22"));

        assertThat(p.decide(List.of("admin"), "203.0.113.9", 22)).isInstanceOf(Decision.Deny.class);
    }
}
