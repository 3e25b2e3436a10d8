package io.sallyport.ssh;

import io.sallyport.proxy.FirstBytes;
import io.sallyport.proxy.ProxyHeader;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.session.AbstractServerSession;
import org.apache.sshd.server.session.ServerProxyAcceptor;
import org.apache.sshd.server.session.ServerSession;

/**
 * Reads the PROXY header in front of the SSH bytes ({@code proxy_protocol.enabled}; see
 * docs/proxy-protocol.md). MINA calls it before it reads the client's identification line, again
 * with all the bytes so far each time more arrive, until it answers true; the decision is
 * {@link FirstBytes}'s, carried out here and by {@link SessionRegistry}.
 *
 * <p>A relayed client's address becomes the session's client address (MINA's
 * {@code setClientAddress}), which everything downstream reads; only then is the connection
 * admitted ({@link SessionRegistry#relayed}). A refused connection is closed and the gate answers
 * false from then on, so MINA never reads its bytes as SSH.
 */
final class ProxyHeaderGate implements ServerProxyAcceptor {
    /** Where one connection stands; set when it is accepted ({@link SessionRegistry#sessionCreated}). */
    static final AttributeKey<Progress> KEY = new AttributeKey<>();

    static final int PENDING = 0;
    static final int PASSED = 1;
    static final int ENDED = 2;

    /** One connection's header, as far as it has been read. */
    static final class Progress {
        final boolean trusted;
        final SocketAddress peer;
        final AtomicInteger stage = new AtomicInteger(PENDING);
        /** Bytes the header took; MINA offers them again while the identification line is incomplete. */
        volatile int headerLength;
        /** The peer sent at least one byte (a trusted peer that sends none and leaves is a TCP probe). */
        volatile boolean sawBytes;

        Progress(boolean trusted, SocketAddress peer) {
            this.trusted = trusted;
            this.peer = peer;
        }

        /** Claims the decision for one party (this gate, or the header timeout); false if decided already. */
        boolean decide(int to) {
            return stage.compareAndSet(PENDING, to);
        }
    }

    private final SessionRegistry registry;

    ProxyHeaderGate(SessionRegistry registry) {
        this.registry = registry;
    }

    @Override
    public boolean acceptServerProxyMetadata(ServerSession session, Buffer buffer) {
        Progress p = session.getAttribute(KEY);
        if (p == null) {
            // Not set up by the registry (closed as the server stops): never read as SSH.
            session.close(true);
            return false;
        }
        int stage = p.stage.get();
        if (stage == PASSED) {
            buffer.rpos(buffer.rpos() + p.headerLength);
            return true;
        }
        if (stage == ENDED) {
            return false;
        }
        int available = buffer.available();
        if (available > 0) {
            p.sawBytes = true;
        }
        FirstBytes.Outcome outcome = FirstBytes.decide(p.trusted, buffer.array(), buffer.rpos(), available);
        if (outcome instanceof FirstBytes.Outcome.Wait) {
            return false;
        }
        if (outcome instanceof FirstBytes.Outcome.Direct) {
            p.headerLength = 0;
            return p.decide(PASSED);
        }
        if (outcome instanceof FirstBytes.Outcome.Relayed r) {
            if (!p.decide(PASSED)) {
                return false; // the header timeout came first
            }
            ProxyHeader.Endpoint client = r.header().source().orElseThrow();
            ((AbstractServerSession) session).setClientAddress(new InetSocketAddress(client.address(), client.port()));
            p.headerLength = r.length();
            registry.relayed(session, r.header(), p.peer);
            buffer.rpos(buffer.rpos() + r.length());
            return true;
        }
        if (!p.decide(ENDED)) {
            return false;
        }
        if (outcome instanceof FirstBytes.Outcome.Local) {
            session.close(true); // the balancer's health check: nothing to audit
        } else if (outcome instanceof FirstBytes.Outcome.Refuse refuse) {
            if (p.trusted) {
                registry.proxyRefused(session, p.peer, refuse.reason());
            } else {
                registry.untrustedHeader(session, refuse.reason());
            }
        }
        return false;
    }
}
