package io.sallyport.admission;

import io.sallyport.net.Cidr;
import io.sallyport.net.IpLiterals;
import java.net.InetAddress;
import java.util.List;

/**
 * {@code limits.allow_sources}: the client addresses a connection may come from. Empty allows
 * every address. An IPv4-mapped IPv6 peer ({@code ::ffff:203.0.113.7}, what a dual-stack socket
 * reports) is judged as the IPv4 address it carries. Thread-safe; {@link #replace} (a reload)
 * applies to the addresses judged from then on.
 */
public final class AllowedSources {
    private volatile List<Cidr> cidrs;

    /** @param cidrs CIDRs as validated by the config loader */
    public AllowedSources(List<String> cidrs) {
        this.cidrs = Cidr.parseAll(cidrs);
    }

    /** Takes a reload's list, for the addresses judged from now on. */
    public void replace(List<String> cidrs) {
        this.cidrs = Cidr.parseAll(cidrs);
    }

    /** Whether a connection from {@code address} may proceed. */
    public boolean allows(InetAddress address) {
        List<Cidr> now = cidrs;
        if (now.isEmpty()) {
            return true;
        }
        InetAddress a = IpLiterals.canonical(address);
        for (Cidr c : now) {
            if (c.contains(a)) {
                return true;
            }
        }
        return false;
    }

    /** Whether any list is in force (an empty one allows everyone). */
    public boolean restricts() {
        return !cidrs.isEmpty();
    }
}
