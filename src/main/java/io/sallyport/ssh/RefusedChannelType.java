package io.sallyport.ssh;

import io.sallyport.audit.AuditEvent;
import java.io.IOException;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.channel.AbstractServerChannel;
import org.apache.sshd.server.session.ServerSession;

/**
 * Channel types a client may ask for but a jump server never grants ({@code tun@openssh.com} from
 * {@code ssh -w}, {@code direct-streamlocal@openssh.com} for Unix sockets): refused at open, with a
 * {@code request.reject} event naming what was asked.
 */
final class RefusedChannelType extends AbstractServerChannel {
    private final BastionContext context;
    private final String request;
    private final String reason;
    private final boolean audited;

    static ChannelFactory factory(BastionContext context, String channelType, String request) {
        return new NamedChannelFactory(channelType, session -> new RefusedChannelType(context, request, request + " is not available on a jump server"));
    }

    RefusedChannelType(BastionContext context, String request, String reason) {
        this(context, request, reason, true);
    }

    /** @param audited false for a refusal that was audited already on this connection */
    RefusedChannelType(BastionContext context, String request, String reason, boolean audited) {
        super(null);
        this.context = context;
        this.request = request;
        this.reason = reason;
        this.audited = audited;
    }

    @Override
    protected OpenFuture doInit(Buffer buffer) {
        SessionState state = SessionState.of((ServerSession) getSession());
        if (state != null && audited) {
            context.auditor().emit(new AuditEvent.RequestReject(state.id, state.user().orElse(null), state.client,
                    request, reason));
        }
        DefaultOpenFuture f = new DefaultOpenFuture(this, futureLock);
        f.setException(new SshChannelOpenException(getChannelId(), SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED,
                "administratively prohibited"));
        close(true);
        return f;
    }

    @Override
    protected void doWriteData(byte[] data, int off, long len) throws IOException {
        throw new IOException("refused channel");
    }

    @Override
    protected void doWriteExtendedData(byte[] data, int off, long len) throws IOException {
        throw new IOException("refused channel");
    }
}
