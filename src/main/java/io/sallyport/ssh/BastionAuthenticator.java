package io.sallyport.ssh;

import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.Auditor;
import io.sallyport.identity.AuthDecision;
import io.sallyport.identity.CertificateLogin;
import io.sallyport.identity.Identity;
import io.sallyport.identity.SshCertificate;
import io.sallyport.identity.SshPublicKey;
import io.sallyport.net.IpLiterals;
import io.sallyport.net.Printable;
import io.sallyport.policy.LoginFacts;
import io.sallyport.policy.RoleConditions;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.PublicKey;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.sshd.common.config.keys.OpenSshCertificate;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.server.auth.pubkey.PublickeyAuthenticator;
import org.apache.sshd.server.session.ServerSession;

/**
 * Adapts MINA's public-key callback to {@link Logins}.
 *
 * <p>MINA calls this twice per key (the client's query, then the signed request), both times
 * before it verifies the signature. So this only records a pending login; the login counts when
 * MINA reports the session authenticated ({@link SessionRegistry#sessionEvent}), which happens only
 * after a valid signature.
 *
 * <p>Every key is judged before MINA's own checks too ({@link #precheck}, called by
 * {@link CertificatePublicKeyAuth}): MINA refuses a DSA key or an expired certificate, say,
 * without ever calling this authenticator, and the refusal's reason would be lost to the audit.
 *
 * <p>Every refusal is one {@code auth.reject} per key and connection, and counts toward the
 * source's {@code auth_failure_penalty} at once ({@link SessionRegistry#loginRefused}) — except a
 * refusal because the audit trail cannot take more events, which is the server's fault, not the
 * client's.
 */
final class BastionAuthenticator implements PublickeyAuthenticator {
    private final java.util.function.Supplier<Rules> rules;
    private final Auditor auditor;
    private final SessionRegistry registry;
    private final HeapWatch heap;

    /** @param rules the rules in force, read per login: a reload replaces them */
    BastionAuthenticator(java.util.function.Supplier<Rules> rules, Auditor auditor, SessionRegistry registry, HeapWatch heap) {
        this.rules = rules;
        this.auditor = auditor;
        this.registry = registry;
        this.heap = heap;
    }

    @Override
    public boolean authenticate(String username, PublicKey key, ServerSession session) {
        SessionState state = SessionState.of(session);
        if (state == null || state.terminated.get()) {
            return false;
        }
        SshPublicKey wire;
        try {
            wire = SshPublicKey.fromBlob(wireBlob(key));
        } catch (RuntimeException e) {
            reject(state, username, Optional.empty(), "unreadable public key (" + e.getClass().getSimpleName() + ")");
            return false;
        }
        Optional<SessionState.PendingLogin> login = decide(state, username, wire);
        login.ifPresent(l -> state.pending = l);
        return login.isPresent();
    }

    /**
     * The whole decision for a key or certificate, before MINA checks it: audits the refusal, if
     * any, and records no pending login (MINA calls {@link #authenticate} for that once its checks
     * pass).
     */
    boolean precheck(String username, SshPublicKey key, ServerSession session) {
        SessionState state = SessionState.of(session);
        if (state == null || state.terminated.get()) {
            return false;
        }
        Optional<SessionState.PendingLogin> login = decide(state, username, key);
        if (login.isEmpty() || !key.isCertificate()) {
            return login.isPresent();
        }
        SshPublicKey certificate = key;
        // MINA checks the validity window again, with the system clock and no clock_skew. Say so
        // here, where the certificate is known, rather than let MINA refuse it without a reason.
        SshCertificate cert = SshCertificate.parse(certificate.blob());
        Instant now = Instant.now();
        if (now.isBefore(cert.validAfterInstant()) || !now.isBefore(cert.validBeforeInstant())) {
            certificateRefused(session, username, certificate, "certificate is outside its validity window ("
                    + cert.validAfterInstant() + " to " + cert.validBeforeInstant() + ", now " + now
                    + "): within clock_skew, but the SSH library checks the window without it");
            return false;
        }
        return true;
    }

    /** Audits a certificate that MINA's own checks (CA signature, {@code source-address}) refused. */
    void certificateRefused(ServerSession session, String username, SshPublicKey certificate, String reason) {
        SessionState state = SessionState.of(session);
        if (state == null) {
            return;
        }
        AuthDecision d = rules.get().logins().authenticate(username, certificate);
        Optional<CertificateLogin> cert = d instanceof AuthDecision.Accept a ? a.certificate()
                : d instanceof AuthDecision.Reject r ? r.certificate() : Optional.empty();
        Optional<Identity> identity = d instanceof AuthDecision.Accept a ? Optional.of(a.identity()) : Optional.empty();
        reject(state, username, Optional.of(info(certificate, identity, cert)), reason);
    }

    /** The connection sent a {@code publickey} request: see {@link SessionRegistry#keyOffered}. */
    void keyOffered(SessionState state) {
        registry.keyOffered(state);
    }

    /** The penalty in force against the session's source: every key it offers is refused. */
    Optional<io.sallyport.admission.SourcePenalties.Penalty> penaltyOf(ServerSession session) {
        SessionState state = SessionState.of(session);
        return state == null ? Optional.empty() : registry.penaltyOf(state);
    }

    /**
     * Audits a key refused outside this class's decision (a signature algorithm, a malformed
     * request, MINA's own checks, a signature that does not verify), and counts it.
     *
     * @param key the key as offered, when it could be read
     */
    void refused(ServerSession session, String username, Optional<SshPublicKey> key, String reason) {
        SessionState state = SessionState.of(session);
        if (state != null) {
            reject(state, username, key.map(k -> info(k, Optional.empty(), Optional.empty())), reason);
        }
    }

    /**
     * Refuses a key offered while the source is in the penalty box, and ends the connection. Not
     * counted again: a penalty is not lengthened by what it refuses.
     */
    void refusedInPenalty(ServerSession session, String username, Optional<SshPublicKey> key, io.sallyport.admission.SourcePenalties.Penalty penalty) {
        SessionState state = SessionState.of(session);
        if (state == null) {
            return;
        }
        reject(state, username, key.map(k -> info(k, Optional.empty(), Optional.empty())),
                penalty.reason().wireName() + ": " + penalty.clientMessage(), false);
        registry.endForPenalty(state, penalty);
    }

    /**
     * Called once the signature made with the pending login's key has verified (and the FIDO flags
     * of that signature, if any, are in {@link SessionState#fidoProof}): keeps the roles whose
     * {@code from} and {@code require} this login meets, and records what it proved for the live
     * re-checks. A login whose conditions dropped roles and left none that allows anything is
     * refused ({@code auth.reject} naming each dropped role and why) rather than let in to do
     * nothing: the client then offers its next key, and the user reads why in the audit trail.
     *
     * @return false when the login is refused
     */
    boolean qualify(ServerSession session) {
        SessionState state = SessionState.of(session);
        SessionState.PendingLogin login = state == null ? null : state.pending;
        if (login == null) {
            return false; // MINA verified a key this class never accepted: fail closed
        }
        Rules now = rules.get();
        LoginFacts facts = new LoginFacts(clientAddress(session), Optional.ofNullable(state.fidoProof));
        Identity given = login.identity();
        RoleConditions.Qualified q = now.policy().conditions().qualify(given.roles(), facts);
        AuditEvent.AuthInfo info = login.auth().withRoles(q.kept(),
                q.dropped().stream().map(d -> new AuditEvent.DroppedRole(d.role(), d.reason())).toList());
        if (!q.dropped().isEmpty() && !now.policy().grantsAnything(q.kept())) {
            state.pending = null;
            state.fidoProof = null; // proved by this key only; the next key proves its own
            reject(state, given.user(), Optional.of(info), "no role left for this login: " + q.dropped().stream()
                    .map(d -> d.role() + " (" + d.reason() + ")").collect(java.util.stream.Collectors.joining(", ")));
            return false;
        }
        Identity kept = new Identity(given.user(), q.kept(), given.source(), given.iamArn());
        state.pending = new SessionState.PendingLogin(kept, info, login.key(), login.endsAt(), login.keyAgeWarning(), facts);
        return true;
    }

    /** The client's address (behind a PROXY header, the one it names), IPv4-mapped IPv6 as IPv4; null if not IP. */
    static InetAddress clientAddress(ServerSession session) {
        return session.getClientAddress() instanceof InetSocketAddress a && a.getAddress() != null
                ? IpLiterals.canonical(a.getAddress()) : null;
    }

    private Optional<SessionState.PendingLogin> decide(SessionState state, String username, SshPublicKey wire) {
        AuthDecision decision = rules.get().logins().authenticate(username, wire);
        if (!(decision instanceof AuthDecision.Accept accept)) {
            String reason = decision instanceof AuthDecision.Reject r ? r.reason() : "unknown user";
            Optional<CertificateLogin> cert = decision instanceof AuthDecision.Reject r ? r.certificate() : Optional.empty();
            reject(state, username, Optional.of(info(wire, Optional.empty(), cert)), reason);
            return Optional.empty();
        }
        Identity identity = accept.identity();
        AuditEvent.AuthInfo info = info(wire, Optional.of(identity), accept.certificate());
        Optional<String> auditRefusal = auditor.refusal();
        if (auditRefusal.isPresent()) {
            // Fail closed: a session whose events may not reach the audit trail does not start.
            // Live sessions go on; their events still fit the spool's reserve.
            reject(state, identity.user(), Optional.of(info), auditRefusal.get(), false);
            return Optional.empty();
        }
        // Above limits.memory_high_water no new session starts; live ones go on. Not counted toward
        // the source's penalty: a full heap is the server's state, not the client's failure.
        Optional<String> memory = heap.admit();
        if (memory.isPresent()) {
            reject(state, identity.user(), Optional.of(info), memory.get(), false);
            return Optional.empty();
        }
        int maxSessionsPerUser = rules.get().config().policy().maxSessionsPerUser();
        if (registry.sessionsOf(identity.user()) >= maxSessionsPerUser) {
            reject(state, identity.user(), Optional.of(info),
                    "max_sessions_per_user: " + identity.user() + " already has " + maxSessionsPerUser + " sessions");
            return Optional.empty();
        }
        return Optional.of(new SessionState.PendingLogin(identity, info, wire, accept.certificate().map(CertificateLogin::endsAt),
                accept.keyAgeWarning()));
    }

    private void reject(SessionState state, String user, Optional<AuditEvent.AuthInfo> info, String reason) {
        reject(state, user, info, reason, true);
    }

    private void reject(SessionState state, String user, Optional<AuditEvent.AuthInfo> info, String reason, boolean counts) {
        String fp = info.map(i -> i.keyType() + " " + i.keyFp()).orElse("?");
        // One event per rejected key, not one per MINA callback.
        if (state.rejectedKeys.add(fp + " " + user)) {
            state.authRejects.incrementAndGet();
            auditor.emit(new AuditEvent.AuthReject(state.id, state.client, Printable.of(user), info, reason));
            if (counts) {
                registry.loginRefused(state);
            }
        }
    }

    /**
     * The key's SSH wire blob. For a certificate, exactly the bytes the client sent (MINA keeps the
     * signed part and the signature as received): a re-encoding could differ from what the CA signed.
     */
    static byte[] wireBlob(PublicKey key) {
        ByteArrayBuffer buf = new ByteArrayBuffer();
        if (key instanceof OpenSshCertificate cert) {
            buf.putRawBytes(cert.getMessage());
            buf.putBytes(cert.getSignature());
        } else {
            buf.putRawPublicKey(key);
        }
        return buf.getCompactData();
    }

    private static AuditEvent.AuthInfo info(SshPublicKey key, Optional<Identity> identity, Optional<CertificateLogin> cert) {
        List<String> roles = identity.map(Identity::roles).orElse(List.of());
        if (cert.isEmpty()) {
            return new AuditEvent.AuthInfo(key.isCertificate() ? "certificate" : "publickey", identity.map(Identity::source),
                    key.type(), key.isCertificate() ? certifiedKeyFingerprint(key) : key.fingerprint(),
                    identity.flatMap(Identity::iamArn), roles);
        }
        SshCertificate c = cert.get().certificate();
        Optional<String> ca = cert.get().authority();
        return new AuditEvent.AuthInfo("certificate", ca.map(n -> "ca"), key.type(), c.key().fingerprint(),
                Optional.empty(), roles, Optional.of(Printable.of(c.keyId())), Optional.of(c.serialText()), ca);
    }

    /** For a certificate that does not parse: the fingerprint of the blob, which is all there is. */
    private static String certifiedKeyFingerprint(SshPublicKey key) {
        try {
            return SshCertificate.parse(key.blob()).key().fingerprint();
        } catch (IllegalArgumentException e) {
            return key.fingerprint();
        }
    }
}
