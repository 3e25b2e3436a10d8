package io.sallyport.ssh;

import io.sallyport.audit.AuditEvent;
import java.util.Map;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.session.ConnectionServiceRequestHandler;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.session.ServerSession;

/**
 * Remote forwarding ({@code ssh -R}) would let a client make the bastion listen for connections
 * into the client's network: refused, with a {@code request.reject} event. Other global requests
 * fall through to the next handler (keep-alives) or are refused by MINA as unsupported.
 */
final class RefusedGlobalRequests implements ConnectionServiceRequestHandler {
    private static final Map<String, String> REFUSED = Map.of(
            "tcpip-forward", "tcpip-forward",
            "streamlocal-forward@openssh.com", "streamlocal-forward");

    private final BastionContext context;

    RefusedGlobalRequests(BastionContext context) {
        this.context = context;
    }

    @Override
    public Result process(ConnectionService service, String request, boolean wantReply, Buffer buffer) {
        String what = REFUSED.get(request);
        if (what == null) {
            return request.startsWith("cancel-") ? Result.ReplyFailure : Result.Unsupported;
        }
        SessionState state = SessionState.of((ServerSession) service.getSession());
        if (state != null) {
            context.auditor().emit(new AuditEvent.RequestReject(state.id, state.user().orElse(null), state.client,
                    what, "remote forwarding is not available on a jump server"));
        }
        return Result.ReplyFailure;
    }
}
