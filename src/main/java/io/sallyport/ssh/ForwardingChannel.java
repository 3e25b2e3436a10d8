package io.sallyport.ssh;

import io.sallyport.audit.AuditEvent;
import io.sallyport.net.IpLiterals;
import io.sallyport.net.Printable;
import io.sallyport.policy.Decision;
import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.ChannelListener;
import org.apache.sshd.common.channel.RequestHandler;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.channel.throttle.ChannelStreamWriter;
import org.apache.sshd.common.io.IoSession;
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
 * SSH I/O thread; MINA sends the open failure when the returned future fails, and the open
 * confirmation once the target is connected.
 *
 * <p>A request passes these stages, and every step that completes later (the decision, the
 * {@code limits.resolve_timeout} deadline, the connect, the session's close) first claims the
 * stage it expects, so exactly one of them answers the request and audits it:
 * <pre>
 *   DECIDING ──allowed──▶ CONNECTING ──connected, session still open──▶ OPEN ──closed──▶ (forward.close)
 *      └──denied, deadline, quota, session closed──┴──connect failed, session closed──▶ ENDED (forward.reject)
 * </pre>
 * Threat: a request still deciding when its client disconnected used to be connected anyway, and
 * its target socket stayed open until the target hung up; repeated, that exhausts file
 * descriptors. A tunnel whose session closed (or is closing) by the time its decision or its
 * connect completes is never opened: the target socket is closed and the refusal audited.
 *
 * <p>Each request holds a slot of {@link TunnelQuota} from its arrival until it is refused or closed.
 */
final class ForwardingChannel extends TcpipServerChannel {
    static final String TYPE = "direct-tcpip";
    static final String SESSION_CLOSED = "session closed before the tunnel opened";

    private enum Stage { DECIDING, CONNECTING, OPEN, ENDED }

    /**
     * What the connect, once it succeeds, opens: the checked target, the role and rule that allowed
     * it, the host as the client asked for it, and the rules and identity it was decided by.
     */
    private record Allowed(AuditEvent.TargetRef target, String role, String rule, String host, InetAddress address,
                           int port, Rules rules, io.sallyport.identity.Identity identity) {}

    private final BastionContext context;
    private final AtomicReference<Stage> stage = new AtomicReference<>(Stage.DECIDING);
    private final AtomicLong bytesUp = new AtomicLong();
    private final AtomicLong bytesDown = new AtomicLong();
    private final AtomicBoolean reported = new AtomicBoolean();
    private volatile AuditEvent.TargetRef target;
    /** The target as known so far, for a refusal: the name, then the address once decided. */
    private volatile AuditEvent.TargetRef asked;
    private volatile Allowed allowed;
    /** Why the server closed this open tunnel (a policy change), for its {@code forward.close}. */
    private volatile String closedBecause;
    /** Set once the channel opens; the data path uses it instead of a session attribute lookup. */
    private volatile SessionState state;
    private volatile long openedNanos;
    private volatile DefaultOpenFuture result;
    private volatile TunnelQuota.Ticket ticket;
    private volatile ScheduledFuture<?> deadline;
    /** Whether this request holds a reserve of {@link HeapWatch} (until it opens or is refused). */
    private final AtomicBoolean heapReserved = new AtomicBoolean();

    /**
     * The tunnel as it stands, for the admin view: empty unless it is open. Once it is reported
     * closed its bytes are in the session's totals instead.
     */
    Optional<LiveSessions.Tunnel> view() {
        AuditEvent.TargetRef t = target;
        if (t == null || reported.get()) {
            return Optional.empty();
        }
        return Optional.of(new LiveSessions.Tunnel(getChannelId(), t.host(), t.port(), t.ip(),
                bytesUp.get(), bytesDown.get()));
    }

    static ChannelFactory factory(BastionContext context) {
        return new NamedChannelFactory(TYPE, session -> new ForwardingChannel(context));
    }

    private ForwardingChannel(BastionContext context) {
        super(TcpForwardingFilter.Type.Direct, null);
        this.context = context;
        // No channel request means anything on a direct-tcpip channel. MINA would answer an
        // unknown one with a WARN line each: a client looping requests on its tunnel would flood
        // the journal. Refused quietly here instead (the tunnel itself is audited).
        addRequestHandler((channel, request, wantReply, buffer) -> RequestHandler.Result.ReplyFailure);
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
        this.result = result;
        SessionState state = SessionState.of((ServerSession) getSession());
        if (state == null || !state.authenticated()) {
            stage.set(Stage.ENDED);
            result.setException(new SshChannelOpenException(getChannelId(), SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED,
                    "administratively prohibited"));
            close(true);
            return result;
        }
        // Before the connect: the client may send its first bytes as soon as MINA confirms the
        // channel, before the open listener below has run, and the session must count them too.
        this.state = state;
        String user = state.identity.user();
        asked = new AuditEvent.TargetRef(Printable.of(host), port, Optional.empty());
        if (!state.tunnelRequested(this)) {
            end(SESSION_CLOSED, SshConstants.SSH_OPEN_CONNECT_FAILED);
            return result;
        }
        TunnelQuota.Admission admission = context.quota().admit(state.tunnelSlots, user);
        if (admission instanceof TunnelQuota.Admission.Refused refused) {
            end(refused.reason(), SshConstants.SSH_OPEN_RESOURCE_SHORTAGE);
            return result;
        }
        ticket = ((TunnelQuota.Admission.Granted) admission).ticket();
        Optional<String> memory = context.heap().admitTunnel();
        if (memory.isPresent()) {
            end(memory.get(), SshConstants.SSH_OPEN_RESOURCE_SHORTAGE);
            return result;
        }
        heapReserved.set(true);
        if (stage.get() == Stage.ENDED) {
            // The session closed while this request was being admitted; end() may have run before
            // the ticket and the reserve were recorded, so give them back here (both only once).
            ticket.release();
            settleHeap(false);
            return result;
        }
        if (!context.decisions().submit(state.id, user, () -> decideAndConnect(state, host, port, originatorIp, originatorPort))) {
            end("server is shutting down", SshConstants.SSH_OPEN_CONNECT_FAILED);
        }
        return result;
    }

    /** On a decision thread: may block on DNS, bounded for the client by {@code limits.resolve_timeout}. */
    private void decideAndConnect(SessionState state, String host, int port, String originatorIp, int originatorPort) {
        if (stage.get() != Stage.DECIDING) {
            return; // answered while it waited its turn: the session closed
        }
        if (sessionGone(state)) {
            end(SESSION_CLOSED, SshConstants.SSH_OPEN_CONNECT_FAILED);
            return;
        }
        Duration timeout = context.rules().get().config().limits().resolveTimeout();
        try {
            deadline = context.decisions().after(timeout, () -> end(resolveTimeoutReason(host, timeout),
                    SshConstants.SSH_OPEN_CONNECT_FAILED));
        } catch (RejectedExecutionException e) {
            end("server is shutting down", SshConstants.SSH_OPEN_CONNECT_FAILED);
            return;
        }
        Decision decision;
        Rules rules = context.rules().get();
        io.sallyport.identity.Identity who = state.identity;
        try {
            decision = rules.policy().decide(who.roles(), host, port);
        } catch (RuntimeException e) {
            decision = new Decision.Deny("policy error: " + e.getClass().getSimpleName());
        }
        if (decision instanceof Decision.Deny deny) {
            asked = new AuditEvent.TargetRef(asked.host(), port, deny.address().map(IpLiterals::format));
            end(deny.reason(), SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED);
            return;
        }
        Decision.Allow allow = (Decision.Allow) decision;
        String pinned = IpLiterals.format(allow.address());
        AuditEvent.TargetRef t = new AuditEvent.TargetRef(asked.host(), port, Optional.of(pinned));
        if (!stage.compareAndSet(Stage.DECIDING, Stage.CONNECTING)) {
            return; // the deadline or the session's close answered first
        }
        cancelDeadline();
        asked = t;
        allowed = new Allowed(t, allow.role(), allow.rule(), host, allow.address(), port, rules, who);
        if (sessionGone(state)) {
            end(SESSION_CLOSED, SshConstants.SSH_OPEN_CONNECT_FAILED);
            return;
        }

        Buffer rewritten = new ByteArrayBuffer();
        rewritten.putString(pinned);
        rewritten.putUInt(port);
        rewritten.putString(originatorIp);
        rewritten.putUInt(originatorPort);
        OpenFuture connected;
        try {
            connected = super.doInit(rewritten);
        } catch (RuntimeException e) {
            end("connect to " + pinned + ":" + port + " failed: " + e.getClass().getSimpleName(), SshConstants.SSH_OPEN_CONNECT_FAILED);
            return;
        }
        connected.addListener(f -> {
            if (f.isOpened()) {
                if (stage.get() == Stage.OPEN) {
                    result.setOpened();
                }
                return;
            }
            Throwable why = f.getException();
            end("connect to " + pinned + ":" + port + " failed: "
                    + (why == null ? "unknown error" : why.getMessage() != null ? why.getMessage() : why.getClass().getSimpleName()),
                    SshConstants.SSH_OPEN_CONNECT_FAILED);
        });
    }

    /**
     * The target is connected. Runs before MINA confirms the channel to the client and starts
     * reading from the target, so a tunnel whose session is gone is neither confirmed nor read:
     * its target socket is closed here.
     */
    @Override
    protected void handleChannelOpenSuccess(OpenFuture f, IoSession targetSocket) {
        SessionState state = this.state;
        Allowed a = allowed;
        String[] refusedNow = new String[1];
        boolean opened = !sessionGone(state) && state.tunnelOpened(this, () -> {
            // Decided before a reload or a change of the session's roles, whose re-check this
            // tunnel, not yet open, missed: decided again here, in the tunnel gate, so it either
            // opens under what is in force or is refused. (A later change finds it open.)
            Rules now = context.rules().get();
            io.sallyport.identity.Identity who = state.identity;
            if (a.rules() != now || a.identity() != who) {
                Optional<String> no = refusal(now.policy(), who.roles());
                if (no.isPresent()) {
                    refusedNow[0] = no.get();
                    return false;
                }
            }
            if (!stage.compareAndSet(Stage.CONNECTING, Stage.OPEN)) {
                return false;
            }
            target = a.target();
            openedNanos = System.nanoTime();
            state.channelsOpened.incrementAndGet();
            state.channelsOpen.incrementAndGet();
            state.touch();
            context.auditor().emit(new AuditEvent.ForwardOpen(state.id, state.identity.user(), state.client,
                    getChannelId(), a.target(), a.rule()));
            return true;
        });
        if (!opened) {
            targetSocket.close(true);
            if (refusedNow[0] != null) {
                end("policy changed before the tunnel opened: " + refusedNow[0], SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED);
            } else {
                end(SESSION_CLOSED, SshConstants.SSH_OPEN_CONNECT_FAILED);
            }
            return;
        }
        super.handleChannelOpenSuccess(f, targetSocket);
        settleHeap(true);
    }

    /**
     * Decides this open tunnel again under {@code policy} and the session's roles now, and closes it
     * if they refuse it: its {@code forward.close} then says why.
     *
     * @return why it was closed, or empty when it stays open (or is not open)
     */
    Optional<String> reconsider(io.sallyport.policy.ForwardingPolicy policy, List<String> roles) {
        if (stage.get() != Stage.OPEN || reported.get() || allowed == null) {
            return Optional.empty();
        }
        Optional<String> no = refusal(policy, roles);
        if (no.isPresent()) {
            closedBecause = no.get();
            // Gracefully: MINA's immediate close marks the channel closed without telling the
            // client, whose ssh -W would then wait forever on a tunnel that carries nothing.
            close(false);
            reportClose();
        }
        return no;
    }

    /**
     * Why {@code policy} and {@code roles} refuse this tunnel, decided against the address it was
     * connected to (no DNS): {@code role withdrawn} when the session no longer holds the role whose
     * rule let it open, {@code rule removed} when the role is held but nothing allows the target any
     * more, else {@code denied: } and the policy's reason (the deny list, say).
     */
    private Optional<String> refusal(io.sallyport.policy.ForwardingPolicy policy, List<String> roles) {
        Allowed a = allowed;
        Decision d;
        try {
            d = policy.recheck(roles, a.host(), a.address(), a.port());
        } catch (RuntimeException e) {
            d = new Decision.Deny("policy error: " + e.getClass().getSimpleName());
        }
        if (d instanceof Decision.Allow) {
            return Optional.empty();
        }
        if (!roles.contains(a.role())) {
            return Optional.of("role withdrawn");
        }
        if (!policy.hasRule(a.role(), a.rule())) {
            return Optional.of("rule removed");
        }
        return Optional.of("denied: " + ((Decision.Deny) d).reason());
    }

    private void settleHeap(boolean opened) {
        if (heapReserved.compareAndSet(true, false)) {
            context.heap().settled(opened);
        }
    }

    private static boolean sessionGone(SessionState state) {
        return state.session.isClosing() || state.terminated.get() || state.closed.get();
    }

    private static String resolveTimeoutReason(String host, Duration timeout) {
        String limit = timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + "s" : timeout.toMillis() + "ms";
        return IpLiterals.parse(host).isPresent()
                ? "resolve_timeout: no decision within " + limit
                : "resolve_timeout: " + Printable.of(host) + " not resolved within " + limit;
    }

    /**
     * Refuses the request if it is still pending (deciding or connecting), audited as
     * {@code forward.reject} with {@code reason}; does nothing if it was answered already.
     */
    private void end(String reason, int reasonCode) {
        Stage s;
        do {
            s = stage.get();
            if (s == Stage.OPEN || s == Stage.ENDED) {
                return;
            }
        } while (!stage.compareAndSet(s, Stage.ENDED));
        cancelDeadline();
        settleHeap(false);
        SessionState state = this.state;
        state.tunnelRefused(this);
        TunnelQuota.Ticket t = ticket;
        if (t != null) {
            t.release();
        }
        context.auditor().emit(new AuditEvent.ForwardReject(state.id, state.identity == null ? null : state.identity.user(),
                state.client, getChannelId(), asked, reason));
        // A client that is gone needs no answer, and writing one to a closing session only logs.
        if (!SESSION_CLOSED.equals(reason) && !state.session.isClosing()) {
            // The client learns only the kind of failure; the reason is in the audit event.
            result.setException(new SshChannelOpenException(getChannelId(), reasonCode, description(reasonCode)));
        }
        close(true);
    }

    private static String description(int reasonCode) {
        return switch (reasonCode) {
            case SshConstants.SSH_OPEN_RESOURCE_SHORTAGE -> "resource shortage";
            case SshConstants.SSH_OPEN_CONNECT_FAILED -> "connect failed";
            default -> "administratively prohibited";
        };
    }

    private void cancelDeadline() {
        ScheduledFuture<?> d = deadline;
        if (d != null) {
            d.cancel(false);
            deadline = null;
        }
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
     * Emits {@code forward.close} once, and only for a tunnel that opened; a request still pending
     * is refused instead ({@code forward.reject}, {@value #SESSION_CLOSED}). Called when MINA reports
     * the channel closed (possibly more than once) and by the session's close, which MINA may
     * report before its channels' closes: {@code forward.close} always precedes {@code session.close}.
     */
    void reportClose() {
        SessionState state = this.state;
        if (state != null) {
            // A client cannot close a channel it has not been told the id of, except by guessing it.
            end(sessionGone(state) ? SESSION_CLOSED : "channel closed before the tunnel opened", SshConstants.SSH_OPEN_CONNECT_FAILED);
        }
        AuditEvent.TargetRef t = target;
        // target is set only once the tunnel opened: a refused one has nothing to close.
        if (t == null || state == null || !reported.compareAndSet(false, true)) {
            return;
        }
        TunnelQuota.Ticket held = ticket;
        if (held != null) {
            held.release();
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
                up, down, (System.nanoTime() - openedNanos) / 1_000_000, Optional.ofNullable(closedBecause)));
    }
}
