package io.sallyport.ssh;

import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.TerminationReason;
import io.sallyport.identity.Identity;
import io.sallyport.identity.SshPublicKey;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.server.session.ServerSession;

/**
 * What sallyport knows about one connection, kept as a MINA session attribute. Counters are
 * updated from I/O threads without locks; the fields set once (identity, auth) are volatile.
 */
final class SessionState {
    static final AttributeKey<SessionState> KEY = new AttributeKey<>();
    private static final SecureRandom RANDOM = new SecureRandom();

    final String id;
    final AuditEvent.ClientRef client;
    final int serverPort;
    final long startedNanos = System.nanoTime();
    final long startedMillis = System.currentTimeMillis();
    final ServerSession session;

    /** Totals of the tunnels reported closed ({@code forward.close}); {@code session.close} reports these. */
    final AtomicLong bytesUp = new AtomicLong();
    final AtomicLong bytesDown = new AtomicLong();
    final AtomicInteger channelsOpened = new AtomicInteger();
    final AtomicInteger channelsOpen = new AtomicInteger();
    final AtomicLong lastActivityNanos = new AtomicLong(System.nanoTime());
    final AtomicInteger authRejects = new AtomicInteger();
    /** Open {@code session} channels (all refused, but each held open until the client closes it). */
    final AtomicInteger sessionChannels = new AtomicInteger();
    final RefusedSessionChannel.Refusals sessionRefusals = new RefusedSessionChannel.Refusals();
    /** Key fingerprints already reported as rejected: MINA asks twice per key (query, then signed). */
    final Set<String> rejectedKeys = ConcurrentHashMap.newKeySet();
    /** Tunnels open right now; each reports its own close, at the latest when the session closes. */
    final Set<ForwardingChannel> openForwards = ConcurrentHashMap.newKeySet();
    /** Tunnel requests not yet opened nor refused: deciding or connecting. */
    private final Set<ForwardingChannel> pendingForwards = ConcurrentHashMap.newKeySet();
    /** Tunnels counted against {@code max_tunnels_per_session}, pending ones included. */
    final AtomicInteger tunnelSlots = new AtomicInteger();
    /** Guards the passage of a tunnel from pending to open against the session's close. */
    private final Object tunnelGate = new Object();
    /** Set once, when the session closes: no tunnel is admitted or opened after it. */
    private boolean tunnelsClosed;
    final AtomicBoolean terminated = new AtomicBoolean();
    final AtomicBoolean closed = new AtomicBoolean();
    /** Whom this session counts against in {@link UserSessionCounts}; guarded by itself. */
    final UserCount userCount = new UserCount();

    static final class UserCount {
        /** The user the login was counted for, null while not counted. */
        String counted;
    }

    volatile Identity identity;
    volatile AuditEvent.AuthInfo auth;
    /** Set by the authenticator for the key it last accepted; confirmed when MINA reports success. */
    volatile PendingLogin pending;
    volatile TerminationReason terminationReason;
    /** The key or certificate the session logged in with, re-checked when the revocation list changes. */
    volatile SshPublicKey loginKey;
    /** When the certificate the session logged in with runs out; null for a plain key. */
    volatile Instant certificateEndsAt;
    /** What the pre-auth quotas and penalties count this connection against; set when it opens. */
    volatile io.sallyport.admission.Source source;
    /**
     * The flags of the FIDO signature verified on this connection's login, set when such a
     * signature verifies; null for other keys, and while none has verified.
     */
    volatile io.sallyport.policy.LoginFacts.FidoProof fidoProof;
    /**
     * What the login proved (client address, FIDO flags), on which its roles' {@code from} and
     * {@code require} were judged; judged again on it when the policy changes. Set at login.
     */
    volatile io.sallyport.policy.LoginFacts loginFacts;
    /**
     * Whether the session's roles allowed anything under the rules it was last held to (at login,
     * then at each re-check): a session that had access and lost it all is ended; one that never
     * had any (a user with no roles yet) is left alone, it can do nothing.
     */
    volatile boolean hadAccess;
    /** The client sent a {@code publickey} request (a connection that never does is "noauth"). */
    volatile boolean keyOffered;

    /**
     * @param key    the key or certificate offered, in wire form
     * @param endsAt for a certificate, when a session made with it must end
     * @param facts  what the login proved, once its signature verified and its roles were judged on
     *               it ({@link BastionAuthenticator#qualify}); null before: such a login never counts
     */
    record PendingLogin(Identity identity, AuditEvent.AuthInfo auth, SshPublicKey key, Optional<Instant> endsAt,
                        Optional<String> keyAgeWarning, io.sallyport.policy.LoginFacts facts) {
        PendingLogin(Identity identity, AuditEvent.AuthInfo auth, SshPublicKey key, Optional<Instant> endsAt,
                     Optional<String> keyAgeWarning) {
            this(identity, auth, key, endsAt, keyAgeWarning, null);
        }
    }

    SessionState(ServerSession session, AuditEvent.ClientRef client, int serverPort) {
        this.session = session;
        this.client = client;
        this.serverPort = serverPort;
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        this.id = HexFormat.of().formatHex(b);
    }

    Optional<String> user() {
        Identity i = identity;
        return i == null ? Optional.empty() : Optional.of(i.user());
    }

    boolean authenticated() {
        return identity != null;
    }

    void touch() {
        lastActivityNanos.set(System.nanoTime());
    }

    /**
     * Records a tunnel request as pending.
     *
     * @return false when the session is closing: the request must be refused
     */
    boolean tunnelRequested(ForwardingChannel tunnel) {
        synchronized (tunnelGate) {
            if (tunnelsClosed || session.isClosing()) {
                return false;
            }
            pendingForwards.add(tunnel);
            return true;
        }
    }

    /**
     * Moves a pending tunnel to the open ones if {@code open} agrees (it claims the tunnel's stage and
     * emits {@code forward.open}), atomically with respect to {@link #closeTunnels}: a tunnel is
     * either open in time to be closed with its session, or never opens, so no {@code forward.open}
     * can follow {@code session.close}.
     *
     * @return false when the session closed first, or {@code open} said no: the tunnel must not open
     */
    boolean tunnelOpened(ForwardingChannel tunnel, BooleanSupplier open) {
        synchronized (tunnelGate) {
            if (tunnelsClosed || !pendingForwards.contains(tunnel)) {
                return false;
            }
            // In the open set before it is announced: a close racing the announcement finds it there.
            openForwards.add(tunnel);
            if (!open.getAsBoolean()) {
                openForwards.remove(tunnel);
                return false;
            }
            pendingForwards.remove(tunnel);
            return true;
        }
    }

    /** The tunnels open now, as the gate sees them: each one fully opened and announced. */
    List<ForwardingChannel> openTunnels() {
        synchronized (tunnelGate) {
            return List.copyOf(openForwards);
        }
    }

    /** A pending tunnel was refused. */
    void tunnelRefused(ForwardingChannel tunnel) {
        pendingForwards.remove(tunnel);
    }

    /**
     * Closes the gate (no tunnel opens after this) and returns every tunnel still pending or open,
     * each of which must then report its end: {@code forward.close}, or {@code forward.reject} for one
     * that had not opened. Called when the session closes, before {@code session.close} is emitted.
     */
    List<ForwardingChannel> closeTunnels() {
        synchronized (tunnelGate) {
            tunnelsClosed = true;
            List<ForwardingChannel> all = new ArrayList<>(pendingForwards);
            all.addAll(openForwards);
            return all;
        }
    }

    static SessionState of(ServerSession session) {
        return session.getAttribute(KEY);
    }
}
