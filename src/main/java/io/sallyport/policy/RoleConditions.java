package io.sallyport.policy;

import io.sallyport.config.Config;
import io.sallyport.net.Cidr;
import io.sallyport.net.IpLiterals;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A role's {@code from} and {@code require}: which of the roles a login was given it keeps, judged
 * on what the login proved ({@link LoginFacts}). Pure: the same answer at login, in the re-check of
 * a live session after a reload, and in {@code sallyport explain}.
 *
 * <ul>
 *   <li>{@code from}: the client address (IPv4-mapped IPv6 read as the IPv4 address it carries) must
 *       lie in one of the role's CIDRs. An unknown address meets no {@code from}.</li>
 *   <li>{@code require: [fido]}: the login was signed by a FIDO key (sk-*) and that signature carries
 *       the user-presence flag. The flags of the signature verified on this login count, never the
 *       key type alone: a FIDO key made with {@code no-touch-required} signs without presence.</li>
 *   <li>{@code require: [fido-verified]}: as {@code fido}, and user verification (PIN, biometric).</li>
 * </ul>
 * A role that is not defined here has no conditions (and, undefined in the policy, grants nothing).
 */
public final class RoleConditions {
    /** No role has a condition: every role is kept. */
    public static final RoleConditions NONE = new RoleConditions(Map.of());

    private final Map<String, Conditions> byRole;

    /** What one role asks of a login; both lists empty for a role without conditions. */
    public record Conditions(List<Cidr> from, List<Config.Requirement> require) {
        public Conditions {
            from = List.copyOf(from);
            require = List.copyOf(require);
        }

        public boolean isEmpty() {
            return from.isEmpty() && require.isEmpty();
        }
    }

    /** A role a login was given but does not keep, and why, in words fit for an audit event. */
    public record Dropped(String role, String reason) {}

    /** The roles a login keeps, in the order it was given them, and the ones it does not. */
    public record Qualified(List<String> kept, List<Dropped> dropped) {
        public Qualified {
            kept = List.copyOf(kept);
            dropped = List.copyOf(dropped);
        }
    }

    public RoleConditions(Map<String, Conditions> byRole) {
        this.byRole = Map.copyOf(byRole);
    }

    /** The conditions of every role of {@code policy} (CIDRs as the loader has already checked them). */
    public static RoleConditions of(Config.Policy policy) {
        Map<String, Conditions> out = new LinkedHashMap<>();
        for (Config.Role role : policy.roles().values()) {
            Conditions c = new Conditions(Cidr.parseAll(role.from()), role.require());
            if (!c.isEmpty()) {
                out.put(role.name(), c);
            }
        }
        return new RoleConditions(out);
    }

    public Conditions of(String role) {
        return byRole.getOrDefault(role, new Conditions(List.of(), List.of()));
    }

    /** The roles of {@code roles} that {@code facts} qualify for, and why each other one is dropped. */
    public Qualified qualify(Collection<String> roles, LoginFacts facts) {
        List<String> kept = new ArrayList<>();
        List<Dropped> dropped = new ArrayList<>();
        for (String role : roles) {
            Conditions c = of(role);
            List<String> unmet = new ArrayList<>();
            fromRefusal(c, facts.client()).ifPresent(unmet::add);
            for (Config.Requirement r : c.require()) {
                requirementRefusal(r, facts.fido()).ifPresent(unmet::add);
            }
            if (unmet.isEmpty()) {
                kept.add(role);
            } else {
                dropped.add(new Dropped(role, String.join("; ", unmet)));
            }
        }
        return new Qualified(kept, dropped);
    }

    /**
     * Only the {@code from} part of {@link #qualify}, for a question that knows the address but not
     * the key ({@code sallyport explain --from}).
     */
    public Qualified qualifyAddress(Collection<String> roles, InetAddress client) {
        List<String> kept = new ArrayList<>();
        List<Dropped> dropped = new ArrayList<>();
        for (String role : roles) {
            Optional<String> no = fromRefusal(of(role), client);
            if (no.isPresent()) {
                dropped.add(new Dropped(role, no.get()));
            } else {
                kept.add(role);
            }
        }
        return new Qualified(kept, dropped);
    }

    /**
     * What {@code sallyport explain} can say before any login: the roles a login from {@code client}
     * (when given) keeps, those its {@code from} drops, and for each kept role the conditions still to
     * be met by the login itself ({@code require}, and {@code from} when no address was given).
     *
     * @param pending each condition of a kept role not judged here, e.g. role {@code prod},
     *                {@code require fido (a FIDO key, with user presence on the login's signature)}
     */
    public record Explained(List<String> kept, List<Dropped> dropped, List<Pending> pending) {
        public Explained {
            kept = List.copyOf(kept);
            dropped = List.copyOf(dropped);
            pending = List.copyOf(pending);
        }
    }

    /** A condition of {@code role} that the login itself must meet, in words. */
    public record Pending(String role, String condition) {}

    /** See {@link Explained}. */
    public Explained explain(Collection<String> roles, Optional<InetAddress> client) {
        Qualified q = client.map(c -> qualifyAddress(roles, c)).orElseGet(() -> new Qualified(List.copyOf(roles), List.of()));
        List<Pending> pending = new ArrayList<>();
        for (String role : q.kept()) {
            Conditions c = of(role);
            if (client.isEmpty() && !c.from().isEmpty()) {
                pending.add(new Pending(role, "from " + cidrs(c.from()) + " only (not judged: no client address given)"));
            }
            for (Config.Requirement r : c.require()) {
                pending.add(new Pending(role, "require " + r.configName() + " (" + r.meaning() + ")"));
            }
        }
        return new Explained(q.kept(), q.dropped(), pending);
    }

    /**
     * What {@code role} asks of a login, in words ({@code from 203.0.113.0/24; require fido}), or
     * empty for a role without conditions.
     */
    public Optional<String> describe(String role) {
        Conditions c = of(role);
        List<String> parts = new ArrayList<>();
        if (!c.from().isEmpty()) {
            parts.add("from " + cidrs(c.from()));
        }
        if (!c.require().isEmpty()) {
            parts.add("require " + c.require().stream().map(Config.Requirement::configName).collect(Collectors.joining(", ")));
        }
        return parts.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", parts));
    }

    private static Optional<String> fromRefusal(Conditions c, InetAddress client) {
        if (c.from().isEmpty()) {
            return Optional.empty();
        }
        if (client == null) {
            return Optional.of("from: the client address is unknown; the role needs one in " + cidrs(c.from()));
        }
        InetAddress address = IpLiterals.canonical(client);
        for (Cidr block : c.from()) {
            if (block.contains(address)) {
                return Optional.empty();
            }
        }
        return Optional.of("from: " + IpLiterals.format(address) + " is not in " + cidrs(c.from()));
    }

    private static Optional<String> requirementRefusal(Config.Requirement r, Optional<LoginFacts.FidoProof> fido) {
        String prefix = "require " + r.configName() + ": ";
        if (fido.isEmpty()) {
            return Optional.of(prefix + "not a FIDO key");
        }
        if (!fido.get().userPresent()) {
            return Optional.of(prefix + "no user presence on this login's signature");
        }
        if (r == Config.Requirement.FIDO_VERIFIED && !fido.get().userVerified()) {
            return Optional.of(prefix + "no user verification on this login's signature");
        }
        return Optional.empty();
    }

    private static String cidrs(List<Cidr> blocks) {
        return blocks.stream().map(Cidr::toString).collect(Collectors.joining(", "));
    }
}
