package io.sallyport.ssh;

import io.sallyport.audit.AuditEvent;
import io.sallyport.net.Printable;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.ChannelRequestHandler;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.channel.AbstractServerChannel;
import org.apache.sshd.server.session.ServerSession;

/**
 * A {@code session} channel that refuses everything asked of it: shell, exec, subsystems, agent
 * and X11 forwarding. The channel itself opens so that the client says which of those it wanted,
 * and the {@code request.reject} event can name it; no request ever succeeds, and no byte sent on
 * it goes anywhere.
 */
final class RefusedSessionChannel extends AbstractServerChannel {
    /** Channel requests worth an audit event, with the name the event uses. */
    private static final Map<String, String> AUDITED = Map.of(
            "shell", "shell",
            "exec", "exec",
            "subsystem", "subsystem",
            "auth-agent-req@openssh.com", "agent",
            "auth-agent-req", "agent",
            "x11-req", "x11");

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

    private static ChannelRequestHandler refuseAll(BastionContext context) {
        return (channel, request, wantReply, buffer) -> {
            String what = AUDITED.get(request);
            if (what != null) {
                SessionState state = SessionState.of((ServerSession) channel.getSession());
                if (state != null) {
                    String detail = what.equals("subsystem") ? subsystemName(buffer) : what;
                    context.auditor().emit(new AuditEvent.RequestReject(state.id, state.user().orElse(null), state.client,
                            what, detail + " is not available on a jump server; use ssh -J or ssh -W"));
                }
            }
            return org.apache.sshd.common.channel.RequestHandler.Result.ReplyFailure;
        };
    }

    private static String subsystemName(Buffer buffer) {
        try {
            return "subsystem " + Printable.of(buffer.getString());
        } catch (RuntimeException e) {
            return "subsystem";
        }
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
