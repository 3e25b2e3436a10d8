package io.sallyport.net;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Addresses no tunnel may reach, whatever the allow rules say. Checked before any allow rule.
 *
 * <p>Threat: a tunnel starts at the bastion, so IMDSv2 tokens and a hop limit of 1 do not protect
 * the instance metadata service from a forwarded connection: anyone who could open
 * {@code 169.254.169.254:80} would read the bastion's instance-role credentials. The same holds for
 * the ECS and EKS credential endpoints and for the bastion's own services on loopback.
 */
public final class DenyList {

    /** One built-in block and why it is there (the reason ends up in audit events). */
    record Entry(Cidr block, String why) {}

    private static final List<Entry> BUILT_IN = List.of(
            entry("169.254.169.254/32", "the cloud instance metadata service"),
            entry("169.254.170.2/32", "the ECS task credentials endpoint"),
            entry("169.254.170.23/32", "the EKS Pod Identity endpoint"),
            entry("169.254.0.0/16", "link-local (cloud metadata, time and DNS services)"),
            entry("fd00:ec2::/64", "the AWS IPv6 service range (metadata, DNS, time)"),
            entry("fe80::/10", "link-local"),
            entry("64:ff9b::/96", "NAT64 (would reach any IPv4 address)"),
            entry("64:ff9b:1::/48", "local-use NAT64 (would reach any IPv4 address)"),
            entry("2002::/16", "6to4 (embeds an IPv4 address a relay would reach)"),
            entry("2001::/32", "Teredo (embeds an IPv4 address a relay would reach)"),
            entry("fec0::/10", "site-local (deprecated, may still route inside the site)"),
            entry("0.0.0.0/8", "'this network' (0.0.0.0 reaches the bastion itself)"),
            entry("::/128", "the unspecified address (reaches the bastion itself)"),
            // IPv4-compatible IPv6 (deprecated) embeds an IPv4 address a stack may still route.
            entry("::/96", "IPv4-compatible IPv6 (deprecated, embeds an IPv4 address)"),
            entry("224.0.0.0/4", "multicast"),
            entry("ff00::/8", "multicast"),
            entry("240.0.0.0/4", "reserved and broadcast"));

    private static final List<Entry> LOOPBACK = List.of(
            entry("127.0.0.0/8", "loopback (the bastion itself)"),
            entry("::1/128", "loopback (the bastion itself)"));

    private final List<Entry> operatorDeny;
    private final boolean allowLoopback;
    private final Supplier<? extends Iterable<InetAddress>> ownAddresses;

    /**
     * @param operatorDeny  extra blocks from {@code policy.deny}
     * @param allowLoopback {@code unsafe_allow_loopback}: demo and tests only
     * @param ownAddresses  every address of the bastion itself, asked on each check so that an
     *                      interface that comes up later is covered too
     */
    public DenyList(List<Cidr> operatorDeny, boolean allowLoopback, Supplier<? extends Iterable<InetAddress>> ownAddresses) {
        List<Entry> extra = new ArrayList<>();
        for (Cidr c : operatorDeny) {
            extra.add(new Entry(c, "denied by policy.deny " + c));
        }
        this.operatorDeny = List.copyOf(extra);
        this.allowLoopback = allowLoopback;
        this.ownAddresses = ownAddresses;
    }

    /** @return why {@code address} may never be reached, or empty when it may be */
    public Optional<String> reasonToDeny(InetAddress address) {
        InetAddress a = IpLiterals.canonical(address);
        String shown = IpLiterals.format(a);
        boolean loopback = false;
        for (Entry e : LOOPBACK) {
            if (e.block().contains(a)) {
                if (!allowLoopback) {
                    return Optional.of(shown + " is " + e.why());
                }
                loopback = true;
            }
        }
        for (Entry e : BUILT_IN) {
            // ::1 also lies in ::/96; once loopback is allowed, it is allowed.
            if (!loopback && e.block().contains(a)) {
                return Optional.of(shown + " is " + e.why());
            }
        }
        for (Entry e : operatorDeny) {
            if (e.block().contains(a)) {
                return Optional.of(shown + " is " + e.why());
            }
        }
        if (!loopback) {
            for (InetAddress own : ownAddresses.get()) {
                if (IpLiterals.canonical(own).equals(a)) {
                    return Optional.of(shown + " is an address of the bastion itself");
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Why no address of {@code block} can ever be reached, or empty when some address of it can.
     * For config checks: an allow rule for such a block is dead. The bastion's own addresses are
     * left out (they change while the server runs; they are checked on every request).
     */
    public Optional<String> reasonToDenyAll(Cidr block) {
        List<Entry> active = new ArrayList<>();
        if (!allowLoopback) {
            active.addAll(LOOPBACK);
        }
        active.addAll(BUILT_IN);
        active.addAll(operatorDeny);
        if (allowLoopback) {
            // Loopback let through is let through even where a built-in block (::/96) also holds it;
            // only policy.deny can take it back.
            List<Cidr> operatorBlocks = operatorDeny.stream().map(Entry::block).toList();
            for (Entry e : LOOPBACK) {
                if (e.block().overlaps(block)) {
                    Cidr both = e.block().containsAll(block) ? block : e.block();
                    if (both.firstAddressOutside(operatorBlocks).isPresent()) {
                        return Optional.empty();
                    }
                }
            }
        }
        for (Entry e : active) {
            if (e.block().containsAll(block)) {
                return Optional.of(describe(e));
            }
        }
        if (block.firstAddressOutside(active.stream().map(Entry::block).toList()).isEmpty()) {
            List<String> parts = new ArrayList<>();
            for (Entry e : active) {
                if (e.block().overlaps(block)) {
                    parts.add(e.block() + " (" + e.why() + ")");
                }
            }
            return Optional.of("every address of it is on the deny list: " + String.join(", ", parts));
        }
        return Optional.empty();
    }

    /**
     * The lowest address of {@code block} that is neither denied nor inside {@code space}, or empty
     * when there is none: for config checks, "does this allow rule reach anything outside the
     * private networks?" (own addresses left out, as for {@link #reasonToDenyAll}).
     */
    public Optional<InetAddress> firstAllowedOutside(Cidr block, List<Cidr> space) {
        List<Cidr> cover = new ArrayList<>(space);
        if (!allowLoopback) {
            LOOPBACK.forEach(e -> cover.add(e.block()));
        }
        BUILT_IN.forEach(e -> cover.add(e.block()));
        operatorDeny.forEach(e -> cover.add(e.block()));
        return block.firstAddressOutside(cover);
    }

    private String describe(Entry e) {
        if (operatorDeny.contains(e)) {
            return "it lies inside policy.deny " + e.block();
        }
        String hint = LOOPBACK.contains(e) ? "; only policy.unsafe_allow_loopback (demo and tests) lets loopback through" : "";
        return "it lies inside " + e.block() + ", " + e.why() + ", on the built-in deny list" + hint;
    }

    public boolean allowsLoopback() {
        return allowLoopback;
    }

    private static Entry entry(String cidr, String why) {
        return new Entry(Cidr.parse(cidr), why);
    }
}
