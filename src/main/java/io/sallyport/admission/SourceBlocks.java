package io.sallyport.admission;

import io.sallyport.net.Cidr;
import io.sallyport.net.IpLiterals;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;

/**
 * Maps a client address to the {@link Source} its quotas count against. A new exempt list
 * ({@link #exempt}) classifies the addresses looked up from then on; a {@link Source} already
 * handed out keeps the class it was given. Thread-safe.
 */
public final class SourceBlocks {
    /** IPv6 sources are grouped by this prefix; see {@link Source}. */
    public static final int IPV6_PREFIX = 64;
    /** IPv6 fair share of pre-auth slots is judged by this prefix; see {@link Source#shareBlock}. */
    public static final int IPV6_SHARE_PREFIX = 48;

    private volatile List<Cidr> exempt;

    /** @param penaltyExempt CIDRs as validated by the config loader ({@code limits.penalty_exempt}) */
    public SourceBlocks(List<String> penaltyExempt) {
        this.exempt = Cidr.parseAll(penaltyExempt);
    }

    /**
     * Replaces the exempt CIDRs for the addresses looked up from now on. Sources handed out before
     * keep their class, so a connection already holding a slot gives back the slot it took.
     *
     * @param penaltyExempt CIDRs as validated by the config loader ({@code limits.penalty_exempt})
     */
    public void exempt(List<String> penaltyExempt) {
        this.exempt = Cidr.parseAll(penaltyExempt);
    }

    public Source of(InetAddress address) {
        InetAddress a = IpLiterals.canonical(address);
        boolean isExempt = exempt.stream().anyMatch(c -> c.contains(a));
        if (a instanceof Inet4Address) {
            return new Source(IpLiterals.format(a), isExempt);
        }
        return new Source(Cidr.of(a, IPV6_PREFIX).toString(), Cidr.of(a, IPV6_SHARE_PREFIX).toString(), isExempt);
    }
}
