package io.sallyport.admission;

import io.sallyport.net.Cidr;
import io.sallyport.net.IpLiterals;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;

/** Maps a client address to the {@link Source} its quotas count against. */
public final class SourceBlocks {
    /** IPv6 sources are grouped by this prefix; see {@link Source}. */
    public static final int IPV6_PREFIX = 64;
    /** IPv6 fair share of pre-auth slots is judged by this prefix; see {@link Source#shareBlock}. */
    public static final int IPV6_SHARE_PREFIX = 48;

    private final List<Cidr> exempt;

    /** @param penaltyExempt CIDRs as validated by the config loader ({@code limits.penalty_exempt}) */
    public SourceBlocks(List<String> penaltyExempt) {
        this.exempt = penaltyExempt.stream().map(Cidr::parse).toList();
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
