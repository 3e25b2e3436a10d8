package io.sallyport.policy;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigProblem;
import io.sallyport.net.Cidr;
import io.sallyport.net.DenyList;
import io.sallyport.net.IpLiterals;
import io.sallyport.net.TargetResolver;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Turns the {@code policy} section into a {@link ForwardingPolicy}, and checks its allow rules for
 * the loader: the config room keeps rules as written, this room knows what they mean.
 *
 * <p>What is checked, for every rule, at its {@code FILE:LINE}:
 * <ul>
 *   <li>syntax ({@link AllowRule#parse}): an error;</li>
 *   <li>an address rule reaching an address outside {@code policy.private_networks} (other than
 *       what the deny list refuses anyway): an error, unless {@code policy.allow_public_targets}.
 *       Threat: {@code 0.0.0.0/0:*} turns the bastion into an open proxy to the internet;</li>
 *   <li>an address rule every address of which the deny list refuses ({@code 169.254.169.254:80},
 *       {@code 127.0.0.1:22} without {@code unsafe_allow_loopback}, a block inside
 *       {@code policy.deny}): a warning, since the rule can never match.</li>
 * </ul>
 * Name-glob rules are not checked against {@code private_networks} here: a name's addresses are
 * only known when it is resolved, and {@link ForwardingPolicy} refuses a name with any address
 * outside {@code private_networks} then, whatever {@code allow_public_targets} says.
 */
public final class PolicyCompiler {
    private static final List<Cidr> LOOPBACK = List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128"));

    private PolicyCompiler() {}

    /**
     * A {@link io.sallyport.config.ConfigCheck}: the problems of the allow rules, errors and
     * warnings, reported by the loader together with its own.
     */
    public static void check(Config config, List<ConfigProblem> problems) {
        rules(config, problems);
    }

    /**
     * @param problems receives the problems {@link #check} reports: when it holds an error after
     *                 this call, the returned policy must not be used
     */
    public static ForwardingPolicy compile(Config config, TargetResolver resolver,
                                           Supplier<? extends Iterable<InetAddress>> ownAddresses,
                                           List<ConfigProblem> problems) {
        Config.Policy p = config.policy();
        Map<String, List<AllowRule>> rules = rules(config, problems);
        DenyList deny = new DenyList(Cidr.parseAll(p.deny()), p.unsafeAllowLoopback(), ownAddresses);
        return new ForwardingPolicy(rules, Cidr.parseAll(p.privateNetworks()), deny, resolver, RoleConditions.of(p));
    }

    private static Map<String, List<AllowRule>> rules(Config config, List<ConfigProblem> problems) {
        Config.Policy p = config.policy();
        String file = config.source().toString();
        DenyList deny = new DenyList(Cidr.parseAll(p.deny()), p.unsafeAllowLoopback(), List::of);
        List<Cidr> privateSpace = new ArrayList<>(Cidr.parseAll(p.privateNetworks()));
        if (p.unsafeAllowLoopback()) {
            privateSpace.addAll(LOOPBACK); // as ForwardingPolicy counts loopback when it is let through
        }
        Map<String, List<AllowRule>> rules = new LinkedHashMap<>();
        for (Config.Role role : p.roles().values()) {
            List<AllowRule> compiled = new ArrayList<>();
            for (Config.Located<String> written : role.allow()) {
                AllowRule rule;
                try {
                    rule = AllowRule.parse(written.value());
                } catch (IllegalArgumentException e) {
                    problems.add(new ConfigProblem(file, written.line(), written.keyPath(), e.getMessage()));
                    continue;
                }
                compiled.add(rule);
                if (rule instanceof AllowRule.AddressRule a) {
                    Optional<String> dead = deny.reasonToDenyAll(a.block());
                    if (dead.isPresent()) {
                        problems.add(ConfigProblem.warning(file, written.line(), written.keyPath(),
                                "'" + rule.text() + "' never matches: " + dead.get()));
                        continue;
                    }
                    Optional<InetAddress> outside = deny.firstAllowedOutside(a.block(), privateSpace);
                    if (outside.isPresent() && !p.allowPublicTargets()) {
                        problems.add(new ConfigProblem(file, written.line(), written.keyPath(), "'" + rule.text()
                                + "' reaches addresses outside policy.private_networks (" + IpLiterals.format(outside.get())
                                + " and on): an open proxy to the internet. Keep the rule inside the private networks,"
                                + " or set policy.allow_public_targets: true if public targets are meant"));
                    } else if (outside.isPresent()) {
                        // Allowed, but shown: a typo such as [::/0]:22 for [fd00::/8]:22 must not pass unseen.
                        problems.add(ConfigProblem.warning(file, written.line(), written.keyPath(), "'" + rule.text()
                                + "' reaches addresses outside policy.private_networks (" + IpLiterals.format(outside.get())
                                + " and on); allowed by policy.allow_public_targets: true"));
                    }
                }
            }
            rules.put(role.name(), compiled);
        }
        return rules;
    }
}
