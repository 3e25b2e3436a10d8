package io.sallyport.ssh;

import io.sallyport.net.DenyList;
import io.sallyport.net.IpLiterals;
import java.net.InetAddress;
import java.util.Optional;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.server.forward.ForwardingFilter;

/**
 * MINA's forwarding filter, as a second line of defence behind {@link ForwardingChannel}: by the
 * time MINA asks, the target must already be a checked IP literal (never a name, which MINA would
 * resolve again) that the deny list still allows. Listening, agent and X11 forwarding: never.
 */
final class PinnedAddressFilter implements ForwardingFilter {
    private final java.util.function.Supplier<DenyList> denyList;

    /** @param denyList the deny list in force, read per connect (a reload may replace it) */
    PinnedAddressFilter(java.util.function.Supplier<DenyList> denyList) {
        this.denyList = denyList;
    }

    @Override
    public boolean canConnect(Type type, SshdSocketAddress address, Session session) {
        if (type != Type.Direct || address == null) {
            return false;
        }
        Optional<InetAddress> literal = IpLiterals.parse(address.getHostName());
        return literal.isPresent() && denyList.get().reasonToDeny(literal.get()).isEmpty();
    }

    @Override
    public boolean canListen(SshdSocketAddress address, Session session) {
        return false;
    }

    @Override
    public boolean canForwardAgent(Session session, String requestType) {
        return false;
    }

    @Override
    public boolean canForwardX11(Session session, String requestType) {
        return false;
    }
}
