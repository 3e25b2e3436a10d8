package io.sallyport.policy;

import io.sallyport.net.Cidr;
import io.sallyport.net.DenyList;
import io.sallyport.net.TargetResolver;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds {@link ForwardingPolicy} values from rule text, as an operator writes them. */
final class Policies {
    /** The default {@code policy.private_networks} (docs/configuration.md). */
    static final List<Cidr> PRIVATE_NETWORKS = List.of(
            Cidr.parse("10.0.0.0/8"), Cidr.parse("172.16.0.0/12"), Cidr.parse("192.168.0.0/16"),
            Cidr.parse("100.64.0.0/10"), Cidr.parse("fc00::/7"));

    static final DenyList BUILT_IN_DENY = new DenyList(List.of(), false, List::of);

    private Policies() {}

    /** {@code roleAndRules}: a role name, then its rules; repeat. E.g. {@code "admin", List.of("10.0.0.0/16:22")}. */
    static ForwardingPolicy policy(TargetResolver resolver, DenyList deny, Object... roleAndRules) {
        Map<String, List<AllowRule>> roles = new LinkedHashMap<>();
        for (int i = 0; i < roleAndRules.length; i += 2) {
            @SuppressWarnings("unchecked")
            List<String> rules = (List<String>) roleAndRules[i + 1];
            roles.put((String) roleAndRules[i], rules.stream().map(AllowRule::parse).toList());
        }
        return new ForwardingPolicy(roles, PRIVATE_NETWORKS, deny, resolver);
    }

    static ForwardingPolicy policy(TargetResolver resolver, Object... roleAndRules) {
        return policy(resolver, BUILT_IN_DENY, roleAndRules);
    }
}
