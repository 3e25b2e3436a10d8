package io.sallyport.policy;

import io.sallyport.net.Cidr;
import io.sallyport.net.DenyList;
import io.sallyport.net.HostName;
import io.sallyport.net.IpLiterals;
import io.sallyport.net.Printable;
import io.sallyport.net.TargetResolver;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Pure forwarding decisions: {@code (roles, host, port) → Decision}. Deny by default.
 *
 * <p>Order of checks, each one final:
 * <ol>
 *   <li>A target host must be printable ASCII: clients send IDNs as punycode ({@code xn--...}), so
 *       any other character is refused as it is, never case-folded or normalised into an ASCII
 *       name (threat: U+212A, the Kelvin sign, in "Kelvin.x" folding into {@code kelvin.x};
 *       fullwidth digits reading as an IPv4 address).</li>
 *   <li>An address literal in any spelling is normalised first ({@link IpLiterals}).</li>
 *   <li>Anything else must be a valid host name ({@link HostName}); nothing else reaches DNS.</li>
 *   <li>A name is only resolved if some rule of the user could allow it, so a user cannot make the
 *       bastion look up arbitrary names.</li>
 *   <li>The name is resolved once; every address it has must pass the deny list and lie in
 *       {@code private_networks}, or the whole request is refused.</li>
 *   <li>The first address is pinned: the caller connects to it and never resolves again (threat:
 *       DNS rebinding, a second lookup answering with a denied address).</li>
 *   <li>Built-in and operator deny lists beat every allow rule.</li>
 * </ol>
 *
 * <p>{@link #decide} may block on DNS: call it off the SSH I/O threads.
 */
public final class ForwardingPolicy {
    private final Map<String, List<AllowRule>> rulesByRole;
    private final List<Cidr> privateNetworks;
    private final DenyList denyList;
    private final TargetResolver resolver;
    private final RoleConditions conditions;

    public ForwardingPolicy(Map<String, List<AllowRule>> rulesByRole, List<Cidr> privateNetworks,
                            DenyList denyList, TargetResolver resolver) {
        this(rulesByRole, privateNetworks, denyList, resolver, RoleConditions.NONE);
    }

    /** @param conditions the roles' {@code from} and {@code require}, which decide the roles a login keeps */
    public ForwardingPolicy(Map<String, List<AllowRule>> rulesByRole, List<Cidr> privateNetworks,
                            DenyList denyList, TargetResolver resolver, RoleConditions conditions) {
        Map<String, List<AllowRule>> copy = new LinkedHashMap<>();
        rulesByRole.forEach((role, rules) -> copy.put(role, List.copyOf(rules)));
        this.rulesByRole = java.util.Collections.unmodifiableMap(copy);
        this.privateNetworks = List.copyOf(privateNetworks);
        this.denyList = denyList;
        this.resolver = resolver;
        this.conditions = conditions;
    }

    /** The roles' {@code from} and {@code require}: which of its roles a login keeps. */
    public RoleConditions conditions() {
        return conditions;
    }

    public Map<String, List<AllowRule>> rulesByRole() {
        return rulesByRole;
    }

    public DenyList denyList() {
        return denyList;
    }

    public Decision decide(Collection<String> roles, String host, int port) {
        if (port < 1 || port > 65535) {
            return new Decision.Deny("port " + port + " is outside 1-65535");
        }
        if (host == null || host.isEmpty()) {
            return new Decision.Deny("empty target host");
        }
        if (!HostName.isPrintableAscii(host)) {
            return new Decision.Deny("target host '" + Printable.escapedAscii(host) + "' is not printable ASCII"
                    + " (a name must be sent as ASCII, an IDN as punycode xn--...)");
        }
        Optional<InetAddress> literal = IpLiterals.parse(host);
        if (literal.isPresent()) {
            return decideAddress(roles, literal.get(), port);
        }
        return decideName(roles, host, port);
    }

    private Decision decideAddress(Collection<String> roles, InetAddress address, int port) {
        Optional<String> denied = denyList.reasonToDeny(address);
        if (denied.isPresent()) {
            return new Decision.Deny(denied.get(), Optional.of(address));
        }
        Optional<Decision.Allow> allowed = addressRuleAllowing(roles, address, port);
        if (allowed.isPresent()) {
            return allowed.get();
        }
        return new Decision.Deny("no rule of role(s) " + rolesText(roles) + " allows "
                + IpLiterals.format(address) + ":" + port, Optional.of(address));
    }

    private Decision decideName(Collection<String> roles, String host, int port) {
        String name = HostName.normalise(host).orElse(null);
        if (name == null) {
            return new Decision.Deny("'" + Printable.of(host) + "' is neither an IP address nor a valid host name");
        }
        String nameRole = null;
        String nameRule = null;
        boolean addressRuleOnPort = false;
        for (String role : roles) {
            for (AllowRule rule : rulesByRole.getOrDefault(role, List.of())) {
                if (nameRule == null && rule instanceof AllowRule.NameRule n && n.matches(name, port)) {
                    nameRole = role;
                    nameRule = rule.text();
                }
                addressRuleOnPort |= rule instanceof AllowRule.AddressRule && rule.ports().contains(port);
            }
        }
        if (nameRule == null && !addressRuleOnPort) {
            return new Decision.Deny("no rule of role(s) " + rolesText(roles) + " allows " + name + ":" + port);
        }
        List<InetAddress> addresses;
        try {
            addresses = resolver.resolve(name);
        } catch (UnknownHostException e) {
            return new Decision.Deny(name + " does not resolve");
        } catch (RuntimeException e) {
            return new Decision.Deny(name + " could not be resolved: " + e.getClass().getSimpleName());
        }
        if (addresses == null || addresses.isEmpty()) {
            return new Decision.Deny(name + " does not resolve");
        }
        List<InetAddress> checked = new ArrayList<>();
        for (InetAddress raw : addresses) {
            InetAddress a = IpLiterals.canonical(raw);
            Optional<String> denied = denyList.reasonToDeny(a);
            if (denied.isPresent()) {
                return new Decision.Deny(name + " resolves to " + denied.get(), Optional.of(a));
            }
            if (!isPrivate(a)) {
                return new Decision.Deny(name + " resolves to " + IpLiterals.format(a)
                        + ", outside policy.private_networks", Optional.of(a));
            }
            checked.add(a);
        }
        InetAddress pinned = checked.get(0);
        if (nameRule != null) {
            return new Decision.Allow(nameRole, nameRule, pinned);
        }
        Optional<Decision.Allow> allowed = addressRuleAllowing(roles, pinned, port);
        if (allowed.isPresent()) {
            return allowed.get();
        }
        return new Decision.Deny("no rule of role(s) " + rolesText(roles) + " allows " + name + ":" + port
                + " (resolved to " + IpLiterals.format(pinned) + ")", Optional.of(pinned));
    }

    /**
     * Decides an open tunnel again, under this policy and the session's roles now, without asking
     * DNS: the tunnel stays connected to {@code pinned}, the address checked when it opened, so that
     * address is what is judged (deny list, {@code private_networks} for a name, the rules). Used
     * when a reload, an IAM refresh or a revocation changes what a live session may do.
     *
     * @param host the target as the client asked for it (a name or an address literal)
     */
    public Decision recheck(Collection<String> roles, String host, InetAddress pinned, int port) {
        InetAddress address = IpLiterals.canonical(pinned);
        Optional<String> denied = denyList.reasonToDeny(address);
        if (denied.isPresent()) {
            return new Decision.Deny(denied.get(), Optional.of(address));
        }
        if (IpLiterals.parse(host).isEmpty()) {
            String name = HostName.normalise(host).orElse(host);
            // As in decide: a name's address must lie in private_networks whichever rule allows it.
            if (!isPrivate(address)) {
                return new Decision.Deny(name + " is connected to " + IpLiterals.format(address)
                        + ", outside policy.private_networks", Optional.of(address));
            }
            for (String role : roles) {
                for (AllowRule rule : rulesByRole.getOrDefault(role, List.of())) {
                    if (rule instanceof AllowRule.NameRule n && n.matches(name, port)) {
                        return new Decision.Allow(role, rule.text(), address);
                    }
                }
            }
        }
        return addressRuleAllowing(roles, address, port).<Decision>map(a -> a).orElseGet(() -> new Decision.Deny(
                "no rule of role(s) " + rolesText(roles) + " allows " + host + ":" + port
                        + " (connected to " + IpLiterals.format(address) + ")", Optional.of(address)));
    }

    /** Whether any of {@code roles} has at least one allow rule: a session without one can do nothing. */
    public boolean grantsAnything(Collection<String> roles) {
        return roles.stream().anyMatch(r -> !rulesByRole.getOrDefault(r, List.of()).isEmpty());
    }

    /** Whether {@code role} still has the rule written as {@code ruleText}. */
    public boolean hasRule(String role, String ruleText) {
        return rulesByRole.getOrDefault(role, List.of()).stream().anyMatch(r -> r.text().equals(ruleText));
    }

    /** The first address rule of the user's roles, in role order, that allows {@code address:port}. */
    private Optional<Decision.Allow> addressRuleAllowing(Collection<String> roles, InetAddress address, int port) {
        for (String role : roles) {
            for (AllowRule rule : rulesByRole.getOrDefault(role, List.of())) {
                if (rule instanceof AllowRule.AddressRule a && a.matches(address, port)) {
                    return Optional.of(new Decision.Allow(role, rule.text(), address));
                }
            }
        }
        return Optional.empty();
    }

    private boolean isPrivate(InetAddress a) {
        if (denyList.allowsLoopback() && a.isLoopbackAddress()) {
            return true;
        }
        for (Cidr c : privateNetworks) {
            if (c.contains(a)) {
                return true;
            }
        }
        return false;
    }

    private static String rolesText(Collection<String> roles) {
        return roles.isEmpty() ? "(none)" : String.join(",", roles);
    }

}
