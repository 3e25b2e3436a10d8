package io.sallyport.ssh;

import io.sallyport.admission.AllowedSources;
import io.sallyport.admission.PreAuthSlots;
import io.sallyport.admission.RefusalDigest;
import io.sallyport.admission.Source;
import io.sallyport.admission.SourceBlocks;
import io.sallyport.admission.SourcePenalties;
import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.Auditor;
import io.sallyport.audit.TerminationReason;
import io.sallyport.config.Config;
import io.sallyport.identity.SshPublicKey;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every live connection, and the limits that span connections: unauthenticated connections (in
 * all and per source), the per-source penalties (failed logins, connections without a key),
 * sessions per user, idle time, session duration and certificate expiry.
 * Each enforcement is audited as {@code session.terminate} with its reason; the bookkeeping of the
 * pre-auth quotas is {@link PreAuthSlots} and {@link SourcePenalties}.
 */
final class SessionRegistry implements SessionListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SessionRegistry.class);

    /** {@code session.close} reasons of a session the server did not end (those carry its {@link TerminationReason}). */
    static final String CLIENT_DISCONNECTED = "client disconnected";
    static final String NOT_AUTHENTICATED = "not authenticated";
    static final String LOGIN_GRACE_TIME = "login_grace_time";

    /**
     * Bound on remembered penalised sources, so a flood from many addresses (an IPv6 attacker has
     * millions of /64s) cannot exhaust memory; about 200 bytes each, some 13 MiB when full.
     */
    static final int MAX_TRACKED_SOURCES = 65_536;

    private final Auditor auditor;
    /** Read-held while a new connection is registered and audited; write-held once, to start the shutdown. */
    private final java.util.concurrent.locks.ReentrantReadWriteLock shutdownGate = new java.util.concurrent.locks.ReentrantReadWriteLock();
    private boolean shuttingDown;
    /** The rules in force, read at each use: a reload replaces them. */
    private final java.util.function.Supplier<Rules> rules;
    private final Map<String, SessionState> live = new ConcurrentHashMap<>();
    private final SourceBlocks sources;
    private final SourcePenalties penalties;
    private final PreAuthSlots<SessionState> preAuth;
    /** {@code limits.allow_sources}, judged as each connection is accepted. */
    private final AllowedSources allowed;
    /** Refusals at accept, summarised per source and minute for the audit. */
    private final RefusalDigest refusedAtAccept = new RefusalDigest(RefusalDigest.MAX_SOURCES, RefusalDigest.WINDOW, System::nanoTime);
    private final ScheduledExecutorService timer;
    /**
     * Ends refused connections (caps, penalties, displacement), apart from {@link #timer}, so a
     * flood of refused connections waiting on the audit cannot delay time limits or revocation.
     * When its queue is full a refused connection is closed at once, its refusal recorded only as
     * the reason of its {@code session.close}.
     */
    private final Refusals refusals = new Refusals(Refusals.QUEUE);
    private long summarisedReported;
    private final UserSessionCounts perUserCounts;
    /** {@code proxy_protocol.trusted_sources} when the PROXY protocol is on; null when it is off. */
    private volatile AllowedSources trustedProxies;
    /** Wall-clock time, for certificate expiry; durations use {@link System#nanoTime}. */
    private final Clock clock;

    /** @param limits the limits at start; {@link #retune} applies a reload's */
    SessionRegistry(Auditor auditor, Config.Limits limits, java.util.function.Supplier<Rules> rules, Clock clock) {
        this.auditor = auditor;
        this.rules = rules;
        this.clock = clock;
        this.sources = new SourceBlocks(limits.penaltyExempt());
        this.penalties = new SourcePenalties(limits.maxAuthAttempts(), limits.authFailurePenalty(), limits.noauthPenalty(),
                MAX_TRACKED_SOURCES, System::nanoTime);
        this.preAuth = new PreAuthSlots<>(limits.maxUnauthenticated(), limits.maxUnauthenticatedPerSource());
        this.allowed = new AllowedSources(limits.allowSources());
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sallyport-session-timer");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::enforceTimeLimits, 1, 1, TimeUnit.SECONDS);
        this.perUserCounts = new UserSessionCounts();
    }

    /**
     * How long a trusted peer may take to send its whole PROXY header, from the accept. A balancer
     * sends it with its first segment (haproxy and an NLB write it before any client byte); 5 s
     * leaves room for a retransmission on a lossy path and holds a connection far shorter than
     * {@code login_grace_time}, which it does before it is counted by any pre-auth quota.
     */
    static final Duration PROXY_HEADER_TIMEOUT = Duration.ofSeconds(5);

    /**
     * Turns the PROXY protocol on: connections from {@code trustedSources} must begin with a header
     * and are admitted on the address it names ({@link #relayed}); others must not send one.
     */
    void trustProxies(List<String> trustedSources) {
        this.trustedProxies = new AllowedSources(trustedSources);
    }

    private boolean fromTrustedProxy(SocketAddress remote) {
        AllowedSources trusted = trustedProxies;
        return trusted != null && remote instanceof InetSocketAddress a && a.getAddress() != null
                && trusted.allows(io.sallyport.net.IpLiterals.canonical(a.getAddress()));
    }

    // ---- MINA session lifecycle ---------------------------------------------------------------

    int liveCount() {
        return live.size();
    }

    int loggedInCount() {
        int n = 0;
        for (SessionState s : live.values()) {
            if (s.identity != null) {
                n++;
            }
        }
        return n;
    }

    int openTunnels() {
        int n = 0;
        for (SessionState s : live.values()) {
            n += s.channelsOpen.get();
        }
        return n;
    }

    @Override
    public void sessionCreated(Session session) {
        shutdownGate.readLock().lock();
        try {
            if (shuttingDown) {
                // Accepted as the server stops: MINA may create a session after it was told to stop.
                // Closed unserved and unaudited, so that server.stop stays the trail's last event.
                log.info("closing a connection from {} accepted while the server is shutting down",
                        clientRef(session.getIoSession().getRemoteAddress()).ip());
                session.close(true);
                return;
            }
            if (trustedProxies != null) {
                SocketAddress peer = session.getIoSession().getRemoteAddress();
                boolean trusted = fromTrustedProxy(peer);
                ProxyHeaderGate.Progress progress = new ProxyHeaderGate.Progress(trusted, peer);
                session.setAttribute(ProxyHeaderGate.KEY, progress);
                if (trusted) {
                    // Admitted once its header names the client (relayed); until then it is counted
                    // by nothing, and held at most PROXY_HEADER_TIMEOUT.
                    timer.schedule(() -> headerTimedOut((ServerSession) session, progress),
                            PROXY_HEADER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    return;
                }
            }
            admit(session, Optional.empty(), Optional.empty());
        } finally {
            shutdownGate.readLock().unlock();
        }
    }

    /**
     * Whether a connection just accepted from {@code remote} may become a session: false when its
     * address is outside {@code limits.allow_sources}; the caller then closes it before any SSH byte
     * is sent. Each refusal is counted and audited as {@code connection.refuse}, at most once per
     * source and minute ({@link RefusalDigest}). Called on an I/O thread: never waits (the audit is
     * written on the refusal thread).
     */
    boolean admitsConnection(SocketAddress remote) {
        if (!allowed.restricts() || fromTrustedProxy(remote)) {
            return true; // a trusted proxy's clients are judged on their header's address (relayed)
        }
        if (!(remote instanceof InetSocketAddress a) || a.getAddress() == null) {
            return false; // not an IP peer (never with NIO2 TCP): no address to allow, fail closed
        }
        if (allowed.allows(a.getAddress())) {
            return true;
        }
        AuditEvent.ClientRef client = clientRef(remote);
        refusedAtAccept.refused(sources.of(a.getAddress()).block(), client.ip(), client.port()).ifPresent(this::auditRefusals);
        return false;
    }

    private void auditRefusals(RefusalDigest.Line line) {
        AuditEvent.ConnectionRefuse event = refusalEvent(line);
        if (!refusals.offer(() -> auditor.emit(event))) {
            refusedAtAccept.unreported(line); // the queue is full: its count goes with the next line
        }
    }

    private static AuditEvent.ConnectionRefuse refusalEvent(RefusalDigest.Line line) {
        return new AuditEvent.ConnectionRefuse(new AuditEvent.ClientRef(line.ip(), line.port()), line.source(),
                TerminationReason.ALLOW_SOURCES.wireName(), line.count());
    }

    /**
     * A trusted peer's header named the client, now the session's client address: the connection is
     * admitted as if that client had connected, by {@code limits.allow_sources}, penalties and
     * pre-auth quotas of its own address, never the balancer's. Called on an I/O thread.
     */
    void relayed(ServerSession session, io.sallyport.proxy.ProxyHeader header, SocketAddress peer) {
        shutdownGate.readLock().lock();
        try {
            if (shuttingDown) {
                session.close(true);
                return;
            }
            SocketAddress client = session.getClientAddress();
            if (allowed.restricts() && !(client instanceof InetSocketAddress a && a.getAddress() != null
                    && allowed.allows(io.sallyport.net.IpLiterals.canonical(a.getAddress())))) {
                AuditEvent.ClientRef ref = clientRef(client);
                log.info("refusing {} relayed by {}: outside limits.allow_sources", ref.ip(), clientRef(peer).ip());
                InetSocketAddress a = (InetSocketAddress) client;
                refusedAtAccept.refused(sources.of(a.getAddress()).block(), ref.ip(), ref.port()).ifPresent(this::auditRefusals);
                session.close(true);
                return;
            }
            admit(session, Optional.of(clientRef(peer)), header.vpcEndpointId());
        } finally {
            shutdownGate.readLock().unlock();
        }
    }

    /**
     * A trusted peer's connection refused over its header (missing, malformed, without a client
     * address, late): audited as {@code connection.refuse} ({@code proxy_protocol}) with the peer,
     * then closed. No session was opened for it.
     */
    void proxyRefused(ServerSession session, SocketAddress peer, String why) {
        AuditEvent.ClientRef proxy = clientRef(peer);
        AuditEvent.ConnectionRefuse event = AuditEvent.ConnectionRefuse.proxyProtocol(proxy, proxy, why);
        refusals.submit(() -> {
            auditor.emit(event);
            session.close(true);
        }, () -> session.close(true));
    }

    /** A peer outside {@code trusted_sources} sent a PROXY header: ended as {@code proxy_protocol}. */
    void untrustedHeader(ServerSession session, String why) {
        SessionState state = SessionState.of(session);
        if (state == null) {
            session.close(true);
            return;
        }
        log.info("ending session {} from {}: {}", state.id, state.client.ip(), why);
        refuse(state, TerminationReason.PROXY_PROTOCOL, "PROXY header not accepted from your address");
    }

    private void headerTimedOut(ServerSession session, ProxyHeaderGate.Progress progress) {
        if (progress.decide(ProxyHeaderGate.ENDED) && !session.isClosing() && session.isOpen()) {
            proxyRefused(session, progress.peer, "no complete PROXY header within " + PROXY_HEADER_TIMEOUT.toSeconds() + " s");
        }
    }

    /** A trusted peer's connection closed before its header was complete: audited unless it sent nothing (a TCP probe). */
    private void closedBeforeHeader(Session session) {
        ProxyHeaderGate.Progress progress = session.getAttribute(ProxyHeaderGate.KEY);
        if (progress != null && progress.trusted && progress.sawBytes && progress.decide(ProxyHeaderGate.ENDED)) {
            AuditEvent.ClientRef proxy = clientRef(progress.peer);
            auditor.emit(AuditEvent.ConnectionRefuse.proxyProtocol(proxy, proxy, "closed before the PROXY header was complete"));
        }
    }

    private void admit(Session session, Optional<AuditEvent.ClientRef> proxy, Optional<String> vpcEndpointId) {
        ServerSession s = (ServerSession) session;
        SessionState state = new SessionState(s, clientRef(s.getClientAddress()), localPort(s.getIoSession().getLocalAddress()));
        state.source = sourceOf(s.getClientAddress());
        s.setAttribute(SessionState.KEY, state);
        live.put(state.id, state);
        auditor.emit(new AuditEvent.SessionOpen(state.id, state.client, state.serverPort, proxy, vpcEndpointId));

        Optional<SourcePenalties.Penalty> penalty = penalties.inForce(state.source);
        if (penalty.isPresent()) {
            refuse(state, penalty.get().reason(), penalty.get().clientMessage());
            return;
        }
        PreAuthSlots.Admission<SessionState> admission = preAuth.admit(state.source, state);
        if (admission instanceof PreAuthSlots.Admission.Admitted<SessionState> a) {
            a.displaced().ifPresent(victim -> {
                if (!victim.keyOffered) {
                    // Displaced before offering a key: counts like a connection that ended without one.
                    chargeNoauth(victim);
                }
                terminateSoonUnlessLoggedIn(victim, TerminationReason.MAX_UNAUTHENTICATED,
                        "too many unauthenticated connections; yours was displaced from the busiest address block");
            });
        } else if (admission instanceof PreAuthSlots.Admission.Refused<SessionState> r) {
            refuse(state, r.reason(), r.reason() == TerminationReason.MAX_UNAUTHENTICATED_PER_SOURCE
                    ? "too many unauthenticated connections from your address; try again later"
                    : "too many unauthenticated connections; try again later");
        }
    }

    @Override
    public void sessionEvent(Session session, Event event) {
        if (event != Event.Authenticated) {
            return;
        }
        SessionState state = SessionState.of((ServerSession) session);
        SessionState.PendingLogin login = state == null ? null : state.pending;
        if (state != null && (state.closed.get() || state.terminated.get())) {
            // Closed (or refused) before MINA reported the login: it never counts as one.
            session.close(true);
            return;
        }
        if (login == null || login.facts() == null) {
            // MINA says authenticated but our authenticator never accepted (or never judged the
            // roles' from and require): impossible with only publickey configured. Fail closed.
            log.error("session authenticated without an accepted key; closing it");
            session.close(true);
            return;
        }
        state.loginKey = login.key();
        state.certificateEndsAt = login.endsAt().orElse(null);
        state.loginFacts = login.facts();
        state.hadAccess = rules.get().policy().grantsAnything(login.identity().roles());
        state.identity = login.identity();
        state.auth = login.auth();
        state.touch();
        preAuth.release(state);
        penalties.loggedIn(state.source);
        OptionalInt counted = perUserCounts.loggedIn(state, login.identity().user());
        if (counted.isEmpty()) {
            session.close(true); // closed meanwhile: not a session, never counted
            return;
        }
        int count = counted.getAsInt();
        auditor.emit(new AuditEvent.AuthAccept(state.id, state.client, login.identity().user(), login.auth(),
                login.keyAgeWarning()));
        Rules now = rules.get();
        if (count > now.config().policy().maxSessionsPerUser()) {
            // Two logins raced past the authenticator's check: the later one goes.
            terminate(state, TerminationReason.MAX_SESSIONS_PER_USER, "too many sessions for this user");
            return;
        }
        // A reload, an IAM refresh or a revocation that ran between the authenticator's decision
        // and now passed this connection by (not yet logged in): its login is held to what is in
        // force now. The identity is set above, before the rules are read, so a change that comes
        // later finds this session logged in and re-checks it itself.
        io.sallyport.identity.AuthDecision d = recheck(now, state.identity, state.loginKey);
        if (!(d instanceof io.sallyport.identity.AuthDecision.Accept accept)) {
            log.info("ending session {} of {} at login: {}", state.id, state.identity.user(), why(d));
            // Marked now (no tunnel opens); ended off this thread, after MINA has answered the login.
            refuse(state, TerminationReason.REVOKED, "access revoked");
        } else {
            // The roles it would get now, less those whose from or require its login does not meet:
            // a recheck alone knows nothing of those conditions and would hand dropped roles back.
            io.sallyport.identity.Identity current = qualified(state, state.identity, accept.identity(), now, "login");
            if (!current.equals(state.identity)) {
                state.identity = current;
                boolean hasAccess = now.policy().grantsAnything(current.roles());
                if (!hasAccess && state.hadAccess) {
                    log.info("ending session {} of {} at login: no role left that allows anything", state.id,
                            state.identity.user());
                    refuse(state, TerminationReason.REVOKED, "access revoked");
                }
                state.hadAccess = hasAccess;
            }
        }
    }

    private static io.sallyport.identity.AuthDecision recheck(Rules now, io.sallyport.identity.Identity who, SshPublicKey key) {
        try {
            return now.logins().recheck(who, key);
        } catch (RuntimeException e) {
            return new io.sallyport.identity.AuthDecision.Reject("re-check failed: " + e.getClass().getSimpleName());
        }
    }

    private static String why(io.sallyport.identity.AuthDecision d) {
        return d instanceof io.sallyport.identity.AuthDecision.Reject r ? r.reason() : "unknown user";
    }

    @Override
    public void sessionClosed(Session session) {
        SessionState state = SessionState.of((ServerSession) session);
        if (state == null) {
            closedBeforeHeader(session);
            return;
        }
        if (!state.closed.compareAndSet(false, true)) {
            return;
        }
        live.remove(state.id);
        for (ForwardingChannel tunnel : state.closeTunnels()) {
            tunnel.reportClose();
        }
        String reason;
        perUserCounts.closed(state);
        if (state.authenticated()) {
            reason = state.terminationReason != null ? state.terminationReason.wireName() : CLIENT_DISCONNECTED;
        } else {
            boolean heldSlot = preAuth.release(state);
            SessionState.PendingLogin unproven = state.pending;
            if (unproven != null && state.terminationReason == null) {
                auditor.emit(new AuditEvent.AuthReject(state.id, state.client, unproven.identity().user(),
                        Optional.of(unproven.auth()), "key accepted but no valid signature was made with it"));
                state.authRejects.incrementAndGet();
                loginRefused(state);
            }
            if (heldSlot && !state.keyOffered && state.terminationReason == null) {
                // Closed by the client or at login_grace_time, never having offered a key. Not
                // counted here: connections the server itself ended (quotas, penalties, shutdown);
                // one displaced from its slot was counted when it was displaced.
                chargeNoauth(state);
            }
            reason = state.terminationReason != null ? state.terminationReason.wireName()
                    : timedOut(session) ? LOGIN_GRACE_TIME : NOT_AUTHENTICATED;
        }
        auditor.emit(new AuditEvent.SessionClose(state.id, state.user(), state.client, state.channelsOpened.get(),
                state.bytesUp.get(), state.bytesDown.get(), (System.nanoTime() - state.startedNanos) / 1_000_000, reason));
    }

    // ---- queries for the authenticator and admin views --------------------------------------

    int sessionsOf(String user) {
        return perUserCounts.of(user);
    }

    /** The connection has offered a key: from now on it is the last one a pre-auth quota displaces. */
    void keyOffered(SessionState state) {
        preAuth.keyOffered(state);
    }

    private void chargeNoauth(SessionState state) {
        penalties.noauthEnd(state.source).ifPresent(p ->
                log.info("refusing {} for {}s: connections ended without offering a key", state.source,
                        p.remaining().toSeconds()));
    }

    List<SessionState> live() {
        return List.copyOf(live.values());
    }

    /** The penalty in force against the session's source, which refuses any key it offers now. */
    Optional<SourcePenalties.Penalty> penaltyOf(SessionState state) {
        return state.source == null ? Optional.empty() : penalties.inForce(state.source);
    }

    /**
     * Counts a refused login toward its source's {@code auth_failure_penalty}, now. When this one
     * starts the penalty, every connection from the source still trying to log in is ended.
     */
    void loginRefused(SessionState state) {
        if (state.source == null) {
            return;
        }
        penalties.authFailure(state.source).ifPresent(p -> {
            log.info("refusing {} for {}s after too many failed logins", state.source, p.remaining().toSeconds());
            endPreAuth(state.source, p);
        });
    }

    /** Ends the session because its source is refused; audited with the penalty's reason. */
    void endForPenalty(SessionState state, SourcePenalties.Penalty penalty) {
        refuse(state, penalty.reason(), penalty.clientMessage());
    }

    private void endPreAuth(Source source, SourcePenalties.Penalty penalty) {
        for (SessionState s : preAuth.holdersFrom(source)) {
            preAuth.release(s);
            terminateSoonUnlessLoggedIn(s, penalty.reason(), penalty.clientMessage());
        }
    }

    private Source sourceOf(SocketAddress address) {
        if (address instanceof InetSocketAddress a && a.getAddress() != null) {
            return sources.of(a.getAddress());
        }
        // Not an IP peer (never with NIO2 TCP): one shared source, capped and penalised as one.
        return new Source(String.valueOf(address), false);
    }

    // ---- enforcement ---------------------------------------------------------------------------

    /** Ends a session, audited once as {@code session.terminate} with {@code reason}. */
    void terminate(SessionState state, TerminationReason reason, String clientMessage) {
        if (!mark(state, reason)) {
            return;
        }
        finishTermination(state, reason, clientMessage);
    }

    /** Marks the session ended for {@code reason}, at once: the authenticator and channels refuse from now on. */
    private static boolean mark(SessionState state, TerminationReason reason) {
        if (!state.terminated.compareAndSet(false, true)) {
            return false;
        }
        state.terminationReason = reason;
        return true;
    }

    private void finishTermination(SessionState state, TerminationReason reason, String clientMessage) {
        auditor.emit(new AuditEvent.SessionTerminate(state.id, state.user(), state.client, reason));
        try {
            state.session.disconnect(SshConstants.SSH2_DISCONNECT_BY_APPLICATION, clientMessage);
        } catch (IOException | RuntimeException e) {
            state.session.close(true);
        }
    }

    /**
     * Refuses a connection: marks it terminated now (it can neither log in nor open a channel from
     * here on), then audits and disconnects it on the refusal thread — MINA may still be setting the
     * session up, and the audit may wait for its spool. When that thread's queue is full (a flood),
     * the connection is closed at once and its refusal is left to its {@code session.close} event,
     * whose reason names it; the count of these is logged.
     */
    private void refuse(SessionState state, TerminationReason reason, String clientMessage) {
        if (!mark(state, reason)) {
            return;
        }
        refusals.submit(() -> finishTermination(state, reason, clientMessage), () -> state.session.close(true));
    }

    /**
     * For a pre-auth quota ending another connection: one that has logged in meanwhile (with a
     * valid signature, checked against the penalty just before) is no longer what the quota counts.
     */
    private void terminateSoonUnlessLoggedIn(SessionState state, TerminationReason reason, String clientMessage) {
        Runnable end = () -> {
            if (!state.authenticated()) {
                terminate(state, reason, clientMessage);
            }
        };
        refusals.submit(end, () -> {
            if (!state.authenticated() && mark(state, reason)) {
                state.session.close(true);
            }
        });
    }

    /**
     * Applies a reload's limits to what is not yet held: new pre-auth admissions, failures and
     * keyless connections counted from now on, sources classified from now on. Nothing held is
     * taken away, and a penalty in force keeps its end.
     */
    void retune(Config.Limits limits) {
        preAuth.resize(limits.maxUnauthenticated(), limits.maxUnauthenticatedPerSource());
        penalties.retune(limits.maxAuthAttempts(), limits.authFailurePenalty(), limits.noauthPenalty());
        sources.exempt(limits.penaltyExempt());
        allowed.replace(limits.allowSources());
    }

    /** What one pass of {@link #reconsider} did. */
    record Reconsidered(int sessionsEnded, int tunnelsClosed) {}

    /**
     * Holds every logged-in session to {@code now} (after a reload, an IAM refresh or a change of
     * the revocation list). Its login is checked again ({@link io.sallyport.identity.Logins#recheck}):
     * refused now (user gone, key removed or revoked, certificate's CA gone) ends it as
     * {@code revoked}. Otherwise its roles become the ones it would get now, less those whose
     * {@code from} or {@code require} its login does not meet now, so its next tunnel is
     * decided by them; each open tunnel that {@code now} refuses is closed with its reason
     * ({@link ForwardingChannel#reconsider}); and a session that had access and is left without a
     * role that grants anything is ended as {@code revoked} (one that never had any is left alone).
     * Tunnels still allowed are not touched.
     *
     * <p>Callers serialise passes (one at a time); a tunnel that opens while a pass runs is decided
     * again as it opens (see {@link ForwardingChannel}).
     */
    Reconsidered reconsider(Rules now, String cause) {
        int ended = 0;
        int closed = 0;
        AllowedSources from = new AllowedSources(now.config().limits().allowSources());
        for (SessionState s : live.values()) {
            if (!s.terminated.get() && !fromAllowed(from, s)) {
                log.info("ending session {} after {}: client {} is outside limits.allow_sources", s.id, cause, s.client.ip());
                terminate(s, TerminationReason.ALLOW_SOURCES, "your address is no longer allowed");
                ended++;
            }
        }
        for (SessionState s : live.values()) {
            io.sallyport.identity.Identity who = s.identity;
            SshPublicKey key = s.loginKey;
            if (who == null || key == null || s.terminated.get()) {
                continue;
            }
            io.sallyport.identity.AuthDecision d = recheck(now, who, key);
            if (!(d instanceof io.sallyport.identity.AuthDecision.Accept accept)) {
                log.info("ending session {} of {} after {}: {}", s.id, who.user(), cause, why(d));
                terminate(s, TerminationReason.REVOKED, "access revoked");
                ended++;
                continue;
            }
            io.sallyport.identity.Identity current = qualified(s, who, accept.identity(), now, cause);
            if (!current.equals(who)) {
                s.identity = current;
            }
            for (ForwardingChannel tunnel : s.openTunnels()) {
                Optional<String> why = tunnel.reconsider(now.policy(), current.roles());
                if (why.isPresent()) {
                    log.info("closed a tunnel of session {} ({}) after {}: {}", s.id, who.user(), cause, why.get());
                    closed++;
                }
            }
            boolean hasAccess = now.policy().grantsAnything(current.roles());
            if (!hasAccess && s.hadAccess) {
                log.info("ending session {} of {} after {}: no role left that allows anything", s.id, who.user(), cause);
                terminate(s, TerminationReason.REVOKED, "access revoked");
                ended++;
            }
            s.hadAccess = hasAccess;
        }
        return new Reconsidered(ended, closed);
    }

    private static boolean fromAllowed(AllowedSources from, SessionState s) {
        return io.sallyport.net.IpLiterals.parse(s.client.ip()).map(from::allows).orElse(!from.restricts());
    }

    /**
     * The roles of {@code given} that the session's login meets the {@code from} and {@code require}
     * of under {@code now}, judged on what the login proved ({@link SessionState#loginFacts}); a role
     * the session held and loses here is logged with why.
     */
    private static io.sallyport.identity.Identity qualified(SessionState s, io.sallyport.identity.Identity held,
            io.sallyport.identity.Identity given, Rules now, String cause) {
        io.sallyport.policy.LoginFacts facts = s.loginFacts;
        if (facts == null) {
            facts = new io.sallyport.policy.LoginFacts(null, Optional.empty()); // nothing proved: meets no condition
        }
        io.sallyport.policy.RoleConditions.Qualified q = now.policy().conditions().qualify(given.roles(), facts);
        for (io.sallyport.policy.RoleConditions.Dropped d : q.dropped()) {
            if (held.roles().contains(d.role())) {
                log.info("session {} of {} loses role {} after {}: {}", s.id, held.user(), d.role(), cause, d.reason());
            }
        }
        return q.dropped().isEmpty() ? given
                : new io.sallyport.identity.Identity(given.user(), q.kept(), given.source(), given.iamArn());
    }

    /**
     * Ends every live session; from now on a connection MINA still hands over is closed unserved.
     * Waits for a {@link #sessionCreated} in progress, so each session it audits is ended here.
     */
    void terminateAll(TerminationReason reason) {
        shutdownGate.writeLock().lock();
        try {
            shuttingDown = true;
        } finally {
            shutdownGate.writeLock().unlock();
        }
        for (SessionState s : live.values()) {
            terminate(s, reason, "server shutting down");
        }
    }

    /** Runs {@code task} on the session timer every {@code period}; a failure is logged, never fatal. */
    void every(Duration period, String name, Runnable task) {
        timer.scheduleWithFixedDelay(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                log.error("{}: {}", name, e.toString());
            }
        }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void enforceTimeLimits() {
        try {
            long now = System.nanoTime();
            Instant wallNow = clock.instant();
            Config.Policy policy = rules.get().config().policy();
            Duration idle = policy.idleTimeout();
            Duration max = policy.maxSessionDuration();
            for (SessionState s : live.values()) {
                if (!s.authenticated() || s.terminated.get()) {
                    continue;
                }
                Instant certEnds = s.certificateEndsAt;
                if (certEnds != null && !wallNow.isBefore(certEnds)) {
                    terminate(s, TerminationReason.CERT_EXPIRED, "your certificate has expired");
                } else if (now - s.startedNanos > max.toNanos()) {
                    terminate(s, TerminationReason.MAX_DURATION, "maximum session duration reached");
                } else if (now - s.lastActivityNanos.get() > idle.toNanos()) {
                    terminate(s, TerminationReason.IDLE, "idle timeout");
                }
            }
            penalties.sweep();
            refusedAtAccept.sweep().forEach(this::auditRefusals);
            long summarised = refusals.summarised();
            if (summarised != summarisedReported) {
                log.warn("{} refused connections closed at once, the refusal queue being full; each one's session.close"
                        + " names the refusal", summarised - summarisedReported);
                summarisedReported = summarised;
            }
        } catch (RuntimeException e) {
            log.error("session timer: {}", e.toString());
        }
    }

    private static boolean timedOut(Session session) {
        var status = session.getTimeoutStatus();
        return status != null && status.getStatus() == org.apache.sshd.common.session.helpers.TimeoutIndicator.TimeoutStatus.AuthTimeout;
    }

    static AuditEvent.ClientRef clientRef(SocketAddress address) {
        if (address instanceof InetSocketAddress a && a.getAddress() != null) {
            return new AuditEvent.ClientRef(io.sallyport.net.IpLiterals.format(io.sallyport.net.IpLiterals.canonical(a.getAddress())), a.getPort());
        }
        return new AuditEvent.ClientRef(String.valueOf(address), 0);
    }

    private static int localPort(SocketAddress address) {
        return address instanceof InetSocketAddress a ? a.getPort() : 0;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        refusals.close();
        // Refusals counted but not yet reported: written now, so the trail's counts add up.
        for (RefusalDigest.Line line : refusedAtAccept.flush()) {
            auditor.emit(refusalEvent(line));
        }
    }
}
