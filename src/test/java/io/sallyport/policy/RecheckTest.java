package io.sallyport.policy;

import static io.sallyport.policy.FakeDns.literal;
import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.net.Cidr;
import io.sallyport.net.DenyList;
import io.sallyport.net.TargetResolver;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * An open tunnel judged again after a reload, an IAM refresh or a revocation
 * ({@link ForwardingPolicy#recheck}): the address it is connected to is what is judged, and DNS is
 * never asked (threat: a second lookup answering otherwise than the one the tunnel was opened on).
 */
class RecheckTest {
    /** Fails the test on any lookup: a re-check must judge the pinned address, not a new answer. */
    private static final TargetResolver NO_DNS = name -> {
        throw new AssertionError("re-check asked DNS for " + name);
    };

    private static final List<Cidr> DEFAULT_PRIVATE = Policies.PRIVATE_NETWORKS;

    /** {@code roleAndRules} as in {@link Policies#policy}; {@code deny} is {@code policy.deny}. */
    private static ForwardingPolicy policy(List<String> privateNetworks, List<String> deny, Object... roleAndRules) {
        Map<String, List<AllowRule>> roles = new LinkedHashMap<>();
        for (int i = 0; i < roleAndRules.length; i += 2) {
            @SuppressWarnings("unchecked")
            List<String> rules = (List<String>) roleAndRules[i + 1];
            roles.put((String) roleAndRules[i], rules.stream().map(AllowRule::parse).toList());
        }
        return new ForwardingPolicy(roles, privateNetworks.stream().map(Cidr::parse).toList(),
                new DenyList(deny.stream().map(Cidr::parse).toList(), false, List::of), NO_DNS);
    }

    private static ForwardingPolicy policy(Object... roleAndRules) {
        return policy(DEFAULT_PRIVATE.stream().map(Cidr::toString).toList(), List.of(), roleAndRules);
    }

    @Test
    void addressTunnelWhoseRuleStillMatchesStaysWithTheSameRule() {
        ForwardingPolicy reloaded = policy("admin", List.of("10.0.0.0/16:22"), "db", List.of("10.0.20.0/24:5432"));

        assertThat(reloaded.recheck(List.of("admin"), "10.0.3.17", literal("10.0.3.17"), 22))
                .isEqualTo(new Decision.Allow("admin", "10.0.0.0/16:22", literal("10.0.3.17")));
    }

    @Test
    void denyListAddedByAReloadClosesAnAddressTunnelItsRuleStillAllows() {
        ForwardingPolicy reloaded = policy(List.of("10.0.0.0/8"), List.of("10.0.3.0/24"), "admin", List.of("10.0.0.0/16:22"));

        assertThat(reloaded.recheck(List.of("admin"), "10.0.3.17", literal("10.0.3.17"), 22)).isEqualTo(new Decision.Deny(
                "10.0.3.17 is denied by policy.deny 10.0.3.0/24", Optional.of(literal("10.0.3.17"))));
    }

    @Test
    void denyListAddedByAReloadClosesANameTunnelConnectedToADeniedAddress() {
        ForwardingPolicy reloaded = policy(List.of("10.0.0.0/8"), List.of("10.0.20.0/24"), "db", List.of("*.internal.corp:5432"));

        assertThat(reloaded.recheck(List.of("db"), "db-1.internal.corp", literal("10.0.20.5"), 5432)).isEqualTo(new Decision.Deny(
                "10.0.20.5 is denied by policy.deny 10.0.20.0/24", Optional.of(literal("10.0.20.5"))));
    }

    @Test
    void nameTunnelWhoseNameRuleStillMatchesStaysOnItsPinnedAddress() {
        ForwardingPolicy reloaded = policy("db", List.of("db-*.internal.corp:5432", "*.internal.corp:5432"));

        assertThat(reloaded.recheck(List.of("db"), "DB-1.Internal.Corp.", literal("10.0.20.5"), 5432))
                .isEqualTo(new Decision.Allow("db", "db-*.internal.corp:5432", literal("10.0.20.5")));
    }

    @Test
    void nameTunnelAllowedByAnAddressRuleStaysWhileThePinnedAddressMatches() {
        ForwardingPolicy reloaded = policy("admin", List.of("10.0.0.0/16:22"));

        assertThat(reloaded.recheck(List.of("admin"), "app.internal.corp", literal("10.0.3.17"), 22))
                .isEqualTo(new Decision.Allow("admin", "10.0.0.0/16:22", literal("10.0.3.17")));
    }

    @Test
    void privateNetworksNoLongerHoldingThePinnedAddressCloseANameTunnel() {
        ForwardingPolicy reloaded = policy(List.of("10.1.0.0/16"), List.of(), "db", List.of("*.internal.corp:5432"));

        assertThat(reloaded.recheck(List.of("db"), "db-1.internal.corp", literal("10.0.20.5"), 5432)).isEqualTo(new Decision.Deny(
                "db-1.internal.corp is connected to 10.0.20.5, outside policy.private_networks", Optional.of(literal("10.0.20.5"))));
    }

    /**
     * A name must resolve into {@code private_networks} whichever rule allows it, so a new request
     * for the name would be refused; the open tunnel to it must be too, even when an address rule
     * ({@code allow_public_targets: true}) still covers the address.
     */
    @Test
    void privateNetworksNoLongerHoldingThePinnedAddressCloseANameTunnelAnAddressRuleAllowed() {
        ForwardingPolicy before = policy(List.of("10.0.0.0/8", "203.0.113.0/24"), List.of(),
                "partner", List.of("203.0.113.0/24:443"));
        ForwardingPolicy reloaded = policy(List.of("10.0.0.0/8"), List.of(), "partner", List.of("203.0.113.0/24:443"));

        assertThat(before.recheck(List.of("partner"), "api.partner.example", literal("203.0.113.5"), 443))
                .isInstanceOf(Decision.Allow.class);
        assertThat(reloaded.recheck(List.of("partner"), "api.partner.example", literal("203.0.113.5"), 443))
                .isEqualTo(new Decision.Deny("api.partner.example is connected to 203.0.113.5, outside policy.private_networks",
                        Optional.of(literal("203.0.113.5"))));
        assertThat(reloaded.recheck(List.of("partner"), "203.0.113.5", literal("203.0.113.5"), 443))
                .as("an address literal is judged by the address rules alone, as when it opened")
                .isInstanceOf(Decision.Allow.class);
    }

    @Test
    void ruleRemovedByAReloadClosesTheTunnelItAllowed() {
        ForwardingPolicy reloaded = policy("admin", List.of("10.0.4.0/24:22"));

        assertThat(reloaded.recheck(List.of("admin"), "10.0.3.17", literal("10.0.3.17"), 22)).isEqualTo(new Decision.Deny(
                "no rule of role(s) admin allows 10.0.3.17:22 (connected to 10.0.3.17)", Optional.of(literal("10.0.3.17"))));
    }

    @Test
    void roleNoLongerHeldClosesTheTunnelItsRuleAllowed() {
        ForwardingPolicy same = policy("admin", List.of("10.0.0.0/16:22"), "db", List.of("10.0.20.0/24:5432"));

        assertThat(same.recheck(List.of("db"), "10.0.3.17", literal("10.0.3.17"), 22)).isInstanceOf(Decision.Deny.class);
        assertThat(same.recheck(List.of(), "app.internal.corp", literal("10.0.3.17"), 22)).isEqualTo(new Decision.Deny(
                "no rule of role(s) (none) allows app.internal.corp:22 (connected to 10.0.3.17)", Optional.of(literal("10.0.3.17"))));
    }

    @Test
    void nameRuleNeverVouchesForATunnelOpenedToAnAddressLiteral() {
        ForwardingPolicy names = policy("admin", List.of("*.internal.corp:22", "10.0.*:22"));

        assertThat(names.recheck(List.of("admin"), "10.0.3.17", literal("10.0.3.17"), 22)).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void ipv4MappedPinnedAddressIsJudgedAsTheIpv4AddressItIs() {
        ForwardingPolicy reloaded = policy("admin", List.of("10.0.0.0/16:22"));

        assertThat(reloaded.recheck(List.of("admin"), "::ffff:10.0.3.17", literal("::ffff:10.0.3.17"), 22))
                .isEqualTo(new Decision.Allow("admin", "10.0.0.0/16:22", literal("10.0.3.17")));
    }

    @Test
    void grantsAnythingOnlyWhenSomeHeldRoleHasARule() {
        ForwardingPolicy p = policy("admin", List.of("10.0.0.0/16:22"), "viewer", List.of());

        assertThat(p.grantsAnything(List.of("admin"))).isTrue();
        assertThat(p.grantsAnything(List.of("viewer", "admin"))).isTrue();
        assertThat(p.grantsAnything(List.of("viewer"))).as("a role with no rules").isFalse();
        assertThat(p.grantsAnything(List.of("gone"))).as("a role the config no longer defines").isFalse();
        assertThat(p.grantsAnything(List.of())).isFalse();
    }

    @Test
    void hasRuleMatchesTheRuleAsWrittenUnderItsRole() {
        ForwardingPolicy p = policy("admin", List.of("10.0.0.0/16:22", "*.Internal.corp:22"), "db", List.of("10.0.20.0/24:5432"));

        assertThat(p.hasRule("admin", "10.0.0.0/16:22")).isTrue();
        assertThat(p.hasRule("admin", "*.Internal.corp:22")).isTrue();
        assertThat(p.hasRule("db", "10.0.0.0/16:22")).as("another role's rule").isFalse();
        assertThat(p.hasRule("admin", "10.0.0.0/16:2222")).isFalse();
        assertThat(p.hasRule("gone", "10.0.0.0/16:22")).isFalse();
    }
}
