package io.sallyport.ssh;

import io.sallyport.audit.AuditEvent;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.ChannelRequestHandler;
import org.apache.sshd.common.channel.RequestHandler;
import org.apache.sshd.server.channel.AbstractServerChannel;
import org.apache.sshd.server.session.ServerSession;

/**
 * A {@code session} channel that refuses everything asked of it: shell, exec, subsystems, a
 * terminal, environment variables, agent and X11 forwarding. The channel itself opens so that the
 * client says which of those it wanted, and the {@code request.reject} event can name it; no
 * request ever succeeds, and no byte sent on it goes anywhere.
 *
 * <p>Which requests are audited is {@link SessionChannelRequest}'s decision. Each kind is audited
 * once per channel: a client repeating a request (a thousand {@code env} requests, an unknown
 * request in a loop) cannot flood the audit trail, and the first one already says what it wanted.
 */
final class RefusedSessionChannel extends AbstractServerChannel {
    /**
     * Like OpenSSH's {@code MaxSessions} default: more open session channels than this on one
     * connection are refused at open. Each is harmless, but one client could otherwise hold any
     * number of them, and the memory they take.
     */
    static final int MAX_PER_CONNECTION = 10;

    static ChannelFactory factory(BastionContext context) {
        return new NamedChannelFactory("session", session -> {
            SessionState state = SessionState.of((ServerSession) session);
            if (state == null) {
                return new RefusedSessionChannel(context);
            }
            if (state.sessionChannels.incrementAndGet() > MAX_PER_CONNECTION) {
                state.sessionChannels.decrementAndGet();
                return new RefusedChannelType(context, "session",
                        "more than " + MAX_PER_CONNECTION + " session channels open on one connection");
            }
            RefusedSessionChannel channel = new RefusedSessionChannel(context);
            java.util.concurrent.atomic.AtomicBoolean counted = new java.util.concurrent.atomic.AtomicBoolean(true);
            channel.addChannelListener(new org.apache.sshd.common.channel.ChannelListener() {
                @Override
                public void channelClosed(Channel c, Throwable reason) {
                    // MINA may report a close twice: give the slot back once.
                    if (counted.getAndSet(false)) {
                        state.sessionChannels.decrementAndGet();
                    }
                }
            });
            return channel;
        });
    }

    private RefusedSessionChannel(BastionContext context) {
        super("", List.of(refuseAll(context)), null);
    }

    /** One handler per channel: it remembers which kinds of request this channel has had audited. */
    private static ChannelRequestHandler refuseAll(BastionContext context) {
        Set<String> audited = ConcurrentHashMap.newKeySet();
        return (channel, type, wantReply, buffer) -> {
            SessionChannelRequest.of(type, buffer).ifPresent(request -> {
                SessionState state = SessionState.of((ServerSession) channel.getSession());
                if (state != null && audited.add(request.request())) {
                    context.auditor().emit(new AuditEvent.RequestReject(state.id, state.user().orElse(null), state.client,
                            request.request(), request.reason()));
                }
            });
            return RequestHandler.Result.ReplyFailure;
        };
    }

    @Override
    protected void doWriteData(byte[] data, int off, long len) throws IOException {
        // Nothing runs behind this channel; a client writing to it is simply ignored.
        getLocalWindow().release(len);
    }

    @Override
    protected void doWriteExtendedData(byte[] data, int off, long len) throws IOException {
        getLocalWindow().release(len);
    }
}
