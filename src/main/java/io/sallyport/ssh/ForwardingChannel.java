package io.sallyport.ssh;

import io.sallyport.audit.AuditEvent;
import io.sallyport.net.IpLiterals;
import io.sallyport.net.Printable;
import io.sallyport.policy.Decision;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.ChannelListener;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.channel.throttle.ChannelStreamWriter;
import org.apache.sshd.common.io.IoWriteFuture;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.server.forward.TcpForwardingFilter;
import org.apache.sshd.server.forward.TcpipServerChannel;
import org.apache.sshd.server.session.ServerSession;

/**
 * The one channel type sallyport opens: {@code direct-tcpip}, what {@code ssh -J} and {@code ssh -W}
 * send.
 *
 * <p>Threat: MINA's own {@link TcpipServerChannel} asks the forwarding filter with the host
 * <em>name</em> and then connects with {@code new InetSocketAddress(name, port)}, a second DNS
 * lookup after the check. An attacker controlling DNS answers the first lookup with an allowed
 * address and the second with 169.254.169.254. Here the name is resolved once by
 * {@link io.sallyport.policy.ForwardingPolicy}, every address is checked, and the request handed to
 * MINA's connector is rewritten to the checked IP literal, so no second lookup can happen.
 *
 * <p>The decision (which may wait on DNS) runs on {@link BastionContext#decisions}, never on an
 * SSH I/O thread; MINA sends the open confirmation or failure when the returned future completes.
 */
final class ForwardingChannel extends TcpipServerChannel {
    static final String TYPE = "direct-tcpip";

    private final BastionContext context;
    private final AtomicLong bytesUp = new AtomicLong();
    private final AtomicLong bytesDown = new AtomicLong();
    private final AtomicBoolean reported = new AtomicBoolean();
    private volatile AuditEvent.TargetRef target;
    /** Set once the channel opens; the data path uses it instead of a session attribute lookup. */
    private volatile SessionState state;
    private volatile long openedNanos;

    static ChannelFactory factory(BastionContext context) {
        return new NamedChannelFactory(TYPE, session -> new ForwardingChannel(context));
    }

    private ForwardingChannel(BastionContext context) {
        super(TcpForwardingFilter.Type.Direct, null);
        this.context = context;
        addChannelListener(new ChannelListener() {
            @Override
            public void channelClosed(Channel channel, Throwable reason) {
                reportClose();
            }
        });
    }

    @Override
    protected OpenFuture doInit(Buffer buffer) {
        String host = buffer.getString();
        int port = buffer.getInt();
        String originatorIp = buffer.getString();
        int originatorPort = buffer.getInt();

        DefaultOpenFuture result = new DefaultOpenFuture(this, futureLock);
        SessionState state = SessionState.of((ServerSession) getSession());
        if (state == null || !state.authenticated()) {
            return refuse(result, SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED);
        }
        // Before the connect: the client may send its first bytes as soon as MINA confirms the
        // channel, before the open listener below has run, and the session must count them too.
        this.state = state;
        AuditEvent.TargetRef requested = new AuditEvent.TargetRef(Printable.of(host), port, Optional.empty());
        try {
            context.decisions().execute(() -> decideAndConnect(state, requested, host, port, originatorIp, originatorPort, result));
        } catch (RejectedExecutionException e) {
            forwardReject(state, requested, context.decisions().isShutdown() ? "server is shutting down"
                    : "too many tunnel requests waiting for a decision");
            return refuse(result, SshConstants.SSH_OPEN_CONNECT_FAILED);
        }
        return result;
    }

    private void decideAndConnect(SessionState state, AuditEvent.TargetRef requested, String host, int port,
                                  String originatorIp, int originatorPort, DefaultOpenFuture result) {
        Decision decision;
        try {
            decision = context.policy().decide(state.identity.roles(), host, port);
        } catch (RuntimeException e) {
            decision = new Decision.Deny("policy error: " + e.getClass().getSimpleName());
        }
        if (decision instanceof Decision.Deny deny) {
            AuditEvent.TargetRef t = new AuditEvent.TargetRef(requested.host(), port, deny.address().map(IpLiterals::format));
            forwardReject(state, t, deny.reason());
            refuse(result, SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED);
            return;
        }
        Decision.Allow allow = (Decision.Allow) decision;
        String pinned = IpLiterals.format(allow.address());
        AuditEvent.TargetRef t = new AuditEvent.TargetRef(requested.host(), port, Optional.of(pinned));

        Buffer rewritten = new ByteArrayBuffer();
        rewritten.putString(pinned);
        rewritten.putUInt(port);
        rewritten.putString(originatorIp);
        rewritten.putUInt(originatorPort);
        OpenFuture connected;
        try {
            connected = super.doInit(rewritten);
        } catch (RuntimeException e) {
            forwardReject(state, t, "connect to " + pinned + ":" + port + " failed: " + e.getClass().getSimpleName());
            refuse(result, SshConstants.SSH_OPEN_CONNECT_FAILED);
            return;
        }
        connected.addListener(f -> {
            if (f.isOpened()) {
                target = t;
                openedNanos = System.nanoTime();
                state.channelsOpened.incrementAndGet();
                state.channelsOpen.incrementAndGet();
                state.openForwards.add(this);
                state.touch();
                context.auditor().emit(new AuditEvent.ForwardOpen(state.id, state.identity.user(), state.client,
                        getChannelId(), t, allow.rule()));
                result.setOpened();
            } else {
                Throwable why = f.getException();
                forwardReject(state, t, "connect to " + pinned + ":" + port + " failed: "
                        + (why == null ? "unknown error" : why.getMessage() != null ? why.getMessage() : why.getClass().getSimpleName()));
                result.setException(why != null ? why
                        : new SshChannelOpenException(getChannelId(), SshConstants.SSH_OPEN_CONNECT_FAILED, "connect failed"));
            }
        });
    }

    private void forwardReject(SessionState state, AuditEvent.TargetRef t, String reason) {
        context.auditor().emit(new AuditEvent.ForwardReject(state.id, state.identity == null ? null : state.identity.user(),
                state.client, getChannelId(), t, reason));
    }

    private OpenFuture refuse(DefaultOpenFuture result, int reasonCode) {
        // The client learns only "administratively prohibited"; the reason is in the audit event.
        result.setException(new SshChannelOpenException(getChannelId(), reasonCode, "administratively prohibited"));
        close(true);
        return result;
    }

    /** Client → target bytes. */
    @Override
    protected void doWriteData(byte[] data, int off, long len) throws IOException {
        bytesUp.addAndGet(len);
        SessionState state = this.state;
        if (state != null) {
            state.touch();
        }
        super.doWriteData(data, off, len);
    }

    /** Target → client bytes: every CHANNEL_DATA packet passes the stream writer. */
    @Override
    public ChannelStreamWriter resolveChannelStreamWriter(Channel channel, byte cmd) {
        ChannelStreamWriter inner = super.resolveChannelStreamWriter(channel, cmd);
        if (cmd != SshConstants.SSH_MSG_CHANNEL_DATA) {
            return inner;
        }
        return new ChannelStreamWriter() {
            @Override
            public IoWriteFuture writeData(Buffer packet) throws IOException {
                // rpos is at the command byte: cmd(1) + recipient(4) + length(4) precede the data.
                long n = Math.max(0, packet.available() - 9);
                bytesDown.addAndGet(n);
                SessionState state = ForwardingChannel.this.state;
                if (state != null) {
                    state.touch();
                }
                return inner.writeData(packet);
            }

            @Override
            public boolean isOpen() {
                return inner.isOpen();
            }

            @Override
            public void close() throws IOException {
                inner.close();
            }
        };
    }

    /**
     * Emits {@code forward.close} once, and only for a tunnel that opened. Called when MINA reports
     * the channel closed (possibly more than once) and by the session's close, which MINA may
     * report before its channels' closes: {@code forward.close} always precedes {@code session.close}.
     */
    void reportClose() {
        AuditEvent.TargetRef t = target;
        SessionState state = this.state;
        // target is set only once the tunnel opened: a refused one has nothing to close.
        if (t == null || state == null || !reported.compareAndSet(false, true)) {
            return;
        }
        state.channelsOpen.decrementAndGet();
        state.openForwards.remove(this);
        // The session's totals are the sum of its tunnels' reported counts, taken here once:
        // counting each packet into both, from I/O threads racing this report, let session.close
        // and forward.close disagree by a packet.
        long up = bytesUp.get();
        long down = bytesDown.get();
        state.bytesUp.addAndGet(up);
        state.bytesDown.addAndGet(down);
        context.auditor().emit(new AuditEvent.ForwardClose(state.id, state.identity.user(), getChannelId(), t,
                up, down, (System.nanoTime() - openedNanos) / 1_000_000));
    }
}
