package io.sallyport.ssh;

import org.apache.sshd.common.io.IoSession;
import org.apache.sshd.common.session.helpers.AbstractSession;
import org.apache.sshd.common.util.Readable;
import org.apache.sshd.server.ServerFactoryManager;
import org.apache.sshd.server.session.SessionFactory;

/**
 * MINA's session factory with a door in front: a connection from outside
 * {@code limits.allow_sources} is closed the moment it is accepted, before MINA makes an SSH session
 * of it. The client gets no identification string and no key exchange, only the TCP close
 * (OpenSSH says {@code kex_exchange_identification: Connection closed by remote host}).
 *
 * <p>Why here and not in {@code IoServiceEventListener.connectionAccepted}: MINA 2.20's acceptor
 * leaves the socket open when that listener throws (it only closes a session it has made) and logs
 * a warning per refusal; here the socket is MINA's own {@code IoSession}, closed before reading
 * starts, which MINA then reports as closed without a session attached.
 */
final class SourceGate extends SessionFactory {
    private final SessionRegistry registry;

    SourceGate(ServerFactoryManager server, SessionRegistry registry) {
        super(server);
        this.registry = registry;
    }

    @Override
    public void sessionCreated(IoSession io) throws Exception {
        if (registry.admitsConnection(io.getRemoteAddress())) {
            super.sessionCreated(io);
        } else {
            io.close(true);
        }
    }

    @Override
    public void sessionClosed(IoSession io) throws Exception {
        if (AbstractSession.getSession(io, true) != null) {
            super.sessionClosed(io);
        }
    }

    @Override
    public void exceptionCaught(IoSession io, Throwable cause) throws Exception {
        if (AbstractSession.getSession(io, true) != null) {
            super.exceptionCaught(io, cause);
        } else {
            io.close(true);
        }
    }

    @Override
    public void messageReceived(IoSession io, Readable message) throws Exception {
        if (AbstractSession.getSession(io, true) != null) {
            super.messageReceived(io, message);
        }
    }
}
