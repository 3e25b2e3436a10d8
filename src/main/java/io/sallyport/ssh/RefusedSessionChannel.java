package io.sallyport.ssh;

import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.TerminationReason;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.ChannelListener;
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
 * once per connection, across all its session channels ({@link Refusals}): a client repeating a
 * request (a thousand {@code env} requests, an unknown request in a loop), or opening and closing
 * session channels in a loop to ask again on each, cannot flood the audit trail, and the first one
 * already says what it wanted. The same holds for the refusal of an eleventh open channel.
 *
 * <p>A connection that opens more than {@link #MAX_OPENS_PER_CONNECTION} session channels over its
 * life (refused ones included) is ended, audited as {@code session.terminate} with reason
 * {@code max_session_channels}: nothing it could do with them works, and looping on them only
 * costs the server.
 */
final class RefusedSessionChannel extends AbstractServerChannel {
    /**
     * Like OpenSSH's {@code MaxSessions} default: more open session channels than this on one
     * connection are refused at open. Each is harmless, but one client could otherwise hold any
     * number of them, and the memory they take.
     */
    static final int MAX_PER_CONNECTION = 10;

    /**
     * Session channels one connection may open over its life, refused ones included. The stock
     * client opens one per {@code ssh bastion} (or per command through a multiplexing master, each
     * refused at once); a hundred is far beyond what a person does on one connection, and bounds
     * what a scripted loop gets before it is disconnected.
     */
    static final int MAX_OPENS_PER_CONNECTION = 100;

    static final TerminationReason TERMINATE_REASON = TerminationReason.MAX_SESSION_CHANNELS;

    /** What one connection's session channels have had refused and audited: kept on its {@link SessionState}. */
    static final class Refusals {
        /** {@code request} names already audited as {@code request.reject} on this connection. */
        private final Set<String> audited = ConcurrentHashMap.newKeySet();
        private final AtomicInteger opens = new AtomicInteger();

        /** True the first time {@code request} is refused on this connection: audit it then. */
        boolean firstOf(String request) {
            return audited.add(request);
        }

        /** Counts one more open; false once the connection is past {@link #MAX_OPENS_PER_CONNECTION}. */
        boolean open() {
            return opens.incrementAndGet() <= MAX_OPENS_PER_CONNECTION;
        }
    }

    static ChannelFactory factory(BastionContext context) {
        return new NamedChannelFactory("session", session -> {
            SessionState state = SessionState.of((ServerSession) session);
            if (state == null) {
                return new RefusedSessionChannel(context);
            }
            if (!state.sessionRefusals.open()) {
                context.registry().terminate(state, TERMINATE_REASON,
                        "more than " + MAX_OPENS_PER_CONNECTION + " session channels on one connection");
                return new RefusedChannelType(context, "session", "more than " + MAX_OPENS_PER_CONNECTION
                        + " session channels opened on one connection", false);
            }
            if (state.sessionChannels.incrementAndGet() > MAX_PER_CONNECTION) {
                state.sessionChannels.decrementAndGet();
                return new RefusedChannelType(context, "session",
                        "more than " + MAX_PER_CONNECTION + " session channels open on one connection",
                        state.sessionRefusals.firstOf("session"));
            }
            RefusedSessionChannel channel = new RefusedSessionChannel(context);
            AtomicBoolean counted = new AtomicBoolean(true);
            channel.addChannelListener(new ChannelListener() {
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

    /** Refuses every request; audits each kind once per connection. */
    private static ChannelRequestHandler refuseAll(BastionContext context) {
        return (channel, type, wantReply, buffer) -> {
            SessionChannelRequest.of(type, buffer).ifPresent(request -> {
                SessionState state = SessionState.of((ServerSession) channel.getSession());
                if (state != null && state.sessionRefusals.firstOf(request.request())) {
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
