package io.sallyport.policy;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigProblem;
import io.sallyport.net.Cidr;
import io.sallyport.net.DenyList;
import io.sallyport.net.TargetResolver;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** Turns the validated {@code policy} section into a {@link ForwardingPolicy}. */
public final class PolicyCompiler {
    private PolicyCompiler() {}

    /**
     * @param problems receives a problem for anything the loader let through but that cannot be
     *                 compiled (it should be empty: the loader validates the same syntax)
     */
    public static ForwardingPolicy compile(Config config, TargetResolver resolver,
                                           Supplier<? extends Iterable<InetAddress>> ownAddresses,
                                           List<ConfigProblem> problems) {
        Config.Policy p = config.policy();
        Map<String, List<AllowRule>> rules = new LinkedHashMap<>();
        for (Config.Role role : p.roles().values()) {
            List<AllowRule> compiled = new ArrayList<>();
            for (Config.Located<String> rule : role.allow()) {
                try {
                    compiled.add(AllowRule.parse(rule.value()));
                } catch (IllegalArgumentException e) {
                    problems.add(new ConfigProblem(config.source().toString(), rule.line(), rule.keyPath(), e.getMessage()));
                }
            }
            rules.put(role.name(), compiled);
        }
        DenyList deny = new DenyList(cidrs(p.deny()), p.unsafeAllowLoopback(), ownAddresses);
        return new ForwardingPolicy(rules, cidrs(p.privateNetworks()), deny, resolver);
    }

    private static List<Cidr> cidrs(List<String> texts) {
        return texts.stream().map(Cidr::parse).toList();
    }
}
