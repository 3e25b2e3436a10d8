package io.sallyport.policy;

import static io.sallyport.policy.FakeDns.literal;
import static io.sallyport.policy.Policies.policy;
import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.net.TargetResolver;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Names are resolved once, by the bastion, and every answer is checked; the tunnel connects to the
 * checked address (README, "How a tunnel request is decided"). Threat: DNS rebinding, where a second lookup answers with a denied
 * address.
 */
class NameResolutionTest {
    private final FakeDns dns = new FakeDns();

    @Test
    void rebindingResolverIsAskedOnceAndTheFirstCheckedAnswerIsPinned() {
        AtomicInteger calls = new AtomicInteger();
        // First answer: an allowed private address. Every later answer: the metadata service.
        TargetResolver rebinding = name -> calls.getAndIncrement() == 0
                ? List.of(literal("10.0.3.17"))
                : List.of(literal("169.254.169.254"));
        ForwardingPolicy p = policy(rebinding, "admin", List.of("*.internal.corp:80"));

        Decision d = p.decide(List.of("admin"), "app.internal.corp", 80);

        assertThat(d).isEqualTo(new Decision.Allow("admin", "*.internal.corp:80", literal("10.0.3.17")));
        assertThat(calls).as("resolved exactly once").hasValue(1);
    }

    @Test
    void rebindingResolverIsAskedOnceForAnAddressRuleToo() {
        AtomicInteger calls = new AtomicInteger();
        TargetResolver rebinding = name -> calls.getAndIncrement() == 0
                ? List.of(literal("10.0.3.17"))
                : List.of(literal("169.254.169.254"));
        ForwardingPolicy p = policy(rebinding, "admin", List.of("10.0.0.0/16:80"));

        Decision d = p.decide(List.of("admin"), "app.internal.corp", 80);

        assertThat(d).isEqualTo(new Decision.Allow("admin", "10.0.0.0/16:80", literal("10.0.3.17")));
        assertThat(calls).hasValue(1);
    }

    @Test
    void eachDecisionResolvesAgainAndChecksTheNewAnswer() {
        AtomicInteger calls = new AtomicInteger();
        TargetResolver rebinding = name -> calls.getAndIncrement() == 0
                ? List.of(literal("10.0.3.17"))
                : List.of(literal("169.254.169.254"));
        ForwardingPolicy p = policy(rebinding, "admin", List.of("*.internal.corp:80"));

        assertThat(p.decide(List.of("admin"), "app.internal.corp", 80)).isInstanceOf(Decision.Allow.class);
        assertThat(p.decide(List.of("admin"), "app.internal.corp", 80)).isEqualTo(new Decision.Deny(
                "app.internal.corp resolves to 169.254.169.254 is the cloud instance metadata service",
                Optional.of(literal("169.254.169.254"))));
    }

    @Test
    void oneDeniedAddressAmongSeveralDeniesTheName() {
        dns.answer("app.internal.corp", "10.0.3.17", "169.254.169.254", "10.0.3.18");
        ForwardingPolicy p = policy(dns, "admin", List.of("*.internal.corp:80", "10.0.0.0/8:80"));

        Decision d = p.decide(List.of("admin"), "app.internal.corp", 80);

        assertThat(d).isInstanceOfSatisfying(Decision.Deny.class,
                deny -> assertThat(deny.address()).hasValue(literal("169.254.169.254")));
    }

    @Test
    void deniedFirstAddressDeniesTheNameEvenWhenTheOthersAreFine() {
        dns.answer("app.internal.corp", "127.0.0.1", "10.0.3.17");
        ForwardingPolicy p = policy(dns, "admin", List.of("*.internal.corp:80"));

        assertThat(p.decide(List.of("admin"), "app.internal.corp", 80)).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void oneAddressOutsidePrivateNetworksDeniesTheName() {
        dns.answer("app.internal.corp", "10.0.3.17", "203.0.113.9");
        ForwardingPolicy p = policy(dns, "admin", List.of("*.internal.corp:80"));

        assertThat(p.decide(List.of("admin"), "app.internal.corp", 80)).isEqualTo(new Decision.Deny(
                "app.internal.corp resolves to 203.0.113.9, outside policy.private_networks",
                Optional.of(literal("203.0.113.9"))));
    }

    @Test
    void nameRuleCannotReachAPublicAddress() {
        dns.answer("evil.internal.corp", "8.8.8.8");
        ForwardingPolicy p = policy(dns, "admin", List.of("*.internal.corp:*", "0.0.0.0/0:*"));

        assertThat(p.decide(List.of("admin"), "evil.internal.corp", 53)).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void deniedIpv6AnswerDeniesTheName() {
        dns.answer("app.internal.corp", "fd00:ec2::254");
        ForwardingPolicy p = policy(dns, "admin", List.of("*.internal.corp:80"));

        assertThat(p.decide(List.of("admin"), "app.internal.corp", 80)).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void ipv4MappedAnswerIsCheckedAsTheIpv4AddressItCarries() throws Exception {
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 169, (byte) 254, (byte) 169, (byte) 254};
        InetAddress sneaky = java.net.Inet6Address.getByAddress("app.internal.corp", mapped, -1);
        ForwardingPolicy p = policy(name -> List.of(sneaky), "admin", List.of("*.internal.corp:80", "::/0:80"));

        assertThat(p.decide(List.of("admin"), "app.internal.corp", 80)).isInstanceOfSatisfying(Decision.Deny.class,
                deny -> assertThat(deny.address()).hasValue(literal("169.254.169.254")));
    }

    @Test
    void ipv4MappedPrivateAnswerIsPinnedAsIpv4() throws Exception {
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 3, 17};
        InetAddress answer = java.net.Inet6Address.getByAddress(null, mapped, -1);
        ForwardingPolicy p = policy(name -> List.of(answer), "admin", List.of("10.0.0.0/16:22"));

        assertThat(p.decide(List.of("admin"), "app.internal.corp", 22))
                .isEqualTo(new Decision.Allow("admin", "10.0.0.0/16:22", literal("10.0.3.17")));
    }

    @Test
    void nameThatDoesNotResolveIsDenied() {
        ForwardingPolicy p = policy(dns, "admin", List.of("*.internal.corp:22"));

        assertThat(p.decide(List.of("admin"), "gone.internal.corp", 22))
                .isEqualTo(new Decision.Deny("gone.internal.corp does not resolve"));
        assertThat(dns.lookups()).containsExactly("gone.internal.corp");
    }

    @Test
    void emptyAnswerIsDenied() {
        ForwardingPolicy p = policy(name -> List.of(), "admin", List.of("*.internal.corp:22"));

        assertThat(p.decide(List.of("admin"), "app.internal.corp", 22))
                .isEqualTo(new Decision.Deny("app.internal.corp does not resolve"));
    }

    @Test
    void nullAnswerIsDenied() {
        ForwardingPolicy p = policy(name -> null, "admin", List.of("*.internal.corp:22"));

        assertThat(p.decide(List.of("admin"), "app.internal.corp", 22)).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void failingResolverIsDeniedNotThrown() {
        TargetResolver broken = name -> {
            throw new IllegalStateException("resolver thread pool exhausted");
        };
        ForwardingPolicy p = policy(broken, "admin", List.of("*.internal.corp:22"));

        assertThat(p.decide(List.of("admin"), "app.internal.corp", 22))
                .isEqualTo(new Decision.Deny("app.internal.corp could not be resolved: IllegalStateException"));
    }

    @Test
    void nameWithNoRuleThatCouldMatchIsDeniedWithoutALookup() {
        dns.answer("db.internal.corp", "10.0.20.5").answer("evil.example.com", "10.0.3.17");
        ForwardingPolicy p = policy(dns,
                "admin", List.of("10.0.0.0/16:22", "*.internal.corp:22"),
                "db", List.of("db-*.internal.corp:5432"));

        // no rule on this port at all
        assertThat(p.decide(List.of("admin"), "db.internal.corp", 5432))
                .isEqualTo(new Decision.Deny("no rule of role(s) admin allows db.internal.corp:5432"));
        // a name rule on the port, but for another name, and no address rule on the port
        assertThat(p.decide(List.of("db"), "evil.example.com", 5432)).isInstanceOf(Decision.Deny.class);
        // no roles
        assertThat(p.decide(List.of(), "db.internal.corp", 22)).isInstanceOf(Decision.Deny.class);

        assertThat(dns.lookups()).as("a user cannot make the bastion look names up").isEmpty();
    }

    @Test
    void nameResolvingIntoACidrRuleIsAllowedByThatRule() {
        dns.answer("db.internal.corp", "10.0.20.5");
        ForwardingPolicy p = policy(dns, "db", List.of("10.0.20.0/24:5432"));

        assertThat(p.decide(List.of("db"), "db.internal.corp", 5432))
                .isEqualTo(new Decision.Allow("db", "10.0.20.0/24:5432", literal("10.0.20.5")));
        assertThat(dns.lookups()).containsExactly("db.internal.corp");
    }

    @Test
    void nameResolvingOutsideTheCidrRuleIsDeniedNamingThePinnedAddress() {
        dns.answer("db.internal.corp", "10.0.21.5");
        ForwardingPolicy p = policy(dns, "db", List.of("10.0.20.0/24:5432"));

        assertThat(p.decide(List.of("db"), "db.internal.corp", 5432)).isEqualTo(new Decision.Deny(
                "no rule of role(s) db allows db.internal.corp:5432 (resolved to 10.0.21.5)",
                Optional.of(literal("10.0.21.5"))));
    }

    @Test
    void nameRuleAllowsAndPinsTheResolvedAddress() {
        dns.answer("db-1.internal.corp", "10.0.20.5", "10.0.20.6");
        ForwardingPolicy p = policy(dns, "db", List.of("db-*.internal.corp:5432"));

        assertThat(p.decide(List.of("db"), "DB-1.Internal.Corp.", 5432))
                .isEqualTo(new Decision.Allow("db", "db-*.internal.corp:5432", literal("10.0.20.5")));
        assertThat(dns.lookups()).as("normalised before lookup").containsExactly("db-1.internal.corp");
    }

    @Test
    void ipv6NameResolvesIntoAnIpv6Rule() {
        dns.answer("v6.internal.corp", "fd00:20::5");
        ForwardingPolicy p = policy(dns, "v6", List.of("[fd00::/8]:22"));

        assertThat(p.decide(List.of("v6"), "v6.internal.corp", 22))
                .isEqualTo(new Decision.Allow("v6", "[fd00::/8]:22", literal("fd00:20::5")));
    }

    @Test
    void resolvedLoopbackNeedsUnsafeAllowLoopback() {
        dns.answer("localhost.internal.corp", "127.0.0.1");
        ForwardingPolicy safe = policy(dns, "demo", List.of("*.internal.corp:*"));
        ForwardingPolicy unsafe = policy(dns, new io.sallyport.net.DenyList(List.of(), true, List::of),
                "demo", List.of("*.internal.corp:*"));

        assertThat(safe.decide(List.of("demo"), "localhost.internal.corp", 2223)).isInstanceOf(Decision.Deny.class);
        assertThat(unsafe.decide(List.of("demo"), "localhost.internal.corp", 2223))
                .isEqualTo(new Decision.Allow("demo", "*.internal.corp:*", literal("127.0.0.1")));
    }
}
