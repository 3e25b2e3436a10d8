package io.sallyport.ssh;

import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.Auditor;
import io.sallyport.identity.AuthDecision;
import io.sallyport.identity.Identity;
import io.sallyport.identity.Logins;
import io.sallyport.identity.SshPublicKey;
import java.security.PublicKey;
import java.util.List;
import java.util.Optional;
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
 */
final class BastionAuthenticator implements PublickeyAuthenticator {
    private final Logins logins;
    private final Auditor auditor;
    private final SessionRegistry registry;
    private final int maxSessionsPerUser;

    BastionAuthenticator(Logins logins, Auditor auditor, SessionRegistry registry, int maxSessionsPerUser) {
        this.logins = logins;
        this.auditor = auditor;
        this.registry = registry;
        this.maxSessionsPerUser = maxSessionsPerUser;
    }

    @Override
    public boolean authenticate(String username, PublicKey key, ServerSession session) {
        SessionState state = SessionState.of(session);
        if (state == null || state.terminated.get()) {
            return false;
        }
        SshPublicKey wire;
        try {
            ByteArrayBuffer buf = new ByteArrayBuffer();
            buf.putRawPublicKey(key);
            wire = SshPublicKey.fromBlob(buf.getCompactData());
        } catch (RuntimeException e) {
            reject(state, username, Optional.empty(), "unreadable public key (" + e.getClass().getSimpleName() + ")");
            return false;
        }
        AuthDecision decision = logins.authenticate(username, wire);
        if (!(decision instanceof AuthDecision.Accept accept)) {
            String reason = decision instanceof AuthDecision.Reject r ? r.reason() : "unknown user";
            reject(state, username, Optional.of(info(wire, Optional.empty())), reason);
            return false;
        }
        Identity identity = accept.identity();
        AuditEvent.AuthInfo info = info(wire, Optional.of(identity));
        Optional<String> auditRefusal = auditor.refusal();
        if (auditRefusal.isPresent()) {
            // Fail closed: a session whose events may not reach the audit trail does not start.
            // Live sessions go on; their events still fit the spool's reserve.
            reject(state, identity.user(), Optional.of(info), auditRefusal.get());
            return false;
        }
        if (registry.sessionsOf(identity.user()) >= maxSessionsPerUser) {
            reject(state, identity.user(), Optional.of(info),
                    "max_sessions_per_user: " + identity.user() + " already has " + maxSessionsPerUser + " sessions");
            return false;
        }
        state.pending = new SessionState.PendingLogin(identity, info);
        return true;
    }

    private void reject(SessionState state, String user, Optional<AuditEvent.AuthInfo> info, String reason) {
        String fp = info.map(AuditEvent.AuthInfo::keyFp).orElse("?");
        // One event per rejected key, not one per MINA callback.
        if (state.rejectedKeys.add(fp + " " + user)) {
            state.authRejects.incrementAndGet();
            auditor.emit(new AuditEvent.AuthReject(state.id, state.client, io.sallyport.net.Printable.of(user), info, reason));
        }
    }

    private static AuditEvent.AuthInfo info(SshPublicKey key, Optional<Identity> identity) {
        return new AuditEvent.AuthInfo("publickey", identity.map(Identity::source), key.type(), key.fingerprint(),
                identity.flatMap(Identity::iamArn), identity.map(Identity::roles).orElse(List.of()));
    }
}
