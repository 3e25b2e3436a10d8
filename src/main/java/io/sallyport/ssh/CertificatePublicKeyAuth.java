package io.sallyport.ssh;

import io.sallyport.admission.SourcePenalties;
import io.sallyport.identity.SshPublicKey;
import io.sallyport.net.Printable;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.util.List;
import java.util.Optional;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.signature.SignatureFactoriesManager;
import org.apache.sshd.server.auth.AsyncAuthException;
import org.apache.sshd.common.config.keys.OpenSshCertificate;
import org.apache.sshd.common.config.keys.u2f.SecurityKeyPublicKey;
import org.apache.sshd.common.signature.Signature;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKey;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.server.session.ServerSession;

/**
 * MINA's {@code publickey} method with sallyport's decision in front of it, so that every refused
 * key is audited with its reason and counted toward the source's penalty the moment it is refused,
 * whichever layer refuses it.
 *
 * <p>MINA refuses some requests without calling the {@code PublickeyAuthenticator}: a DSA key or
 * an {@code ssh-rsa} (SHA-1) signature ("no verifier"), a key type or blob it cannot read, and a
 * certificate failing its own checks (type, validity window, CA signature, critical options). So
 * each request is judged here first, from the algorithm and key blob exactly as the client sent
 * them: the source's penalty ({@link BastionAuthenticator#refusedInPenalty}), the whole key or
 * certificate decision ({@link BastionAuthenticator#precheck}: key policy, identity, trusted CA,
 * principals, window with {@code clock_skew}, {@code max_validity}, options, revocation), then the
 * signature algorithm. Only then does MINA run. What MINA alone checks — the CA signature,
 * {@code source-address}, the user's signature — is audited from the hooks below when it fails,
 * and any other refusal of MINA's is audited as such. Once the signature has verified, the login's
 * roles are judged on their {@code from} and {@code require} ({@link BastionAuthenticator#qualify}):
 * a login left with no role that allows anything is refused there, before MINA reports success, so
 * the client goes on to its next key (a FIDO key after a plain one).
 */
final class CertificatePublicKeyAuth extends UserAuthPublicKey {
    private final BastionAuthenticator authenticator;
    /** The certificate of the request being handled; MINA handles one request of a session at a time. */
    private SshPublicKey offered;
    /** Why the signature of the request being handled did not verify, when more is known than that. */
    private String signatureRefusal;

    private CertificatePublicKeyAuth(BastionAuthenticator authenticator) {
        this.authenticator = authenticator;
    }

    static UserAuthPublicKeyFactory factory(BastionAuthenticator authenticator) {
        return new UserAuthPublicKeyFactory() {
            @Override
            public UserAuthPublicKey createUserAuth(ServerSession session) {
                return new CertificatePublicKeyAuth(authenticator);
            }
        };
    }

    /** What a {@code publickey} request offers, read without consuming it; a field is empty when unreadable. */
    private record Offer(Optional<String> algorithm, Optional<SshPublicKey> key, Optional<String> problem) {}

    @Override
    public Boolean doAuth(Buffer buffer, boolean init) throws Exception {
        ServerSession session = getServerSession();
        SessionState state = SessionState.of(session);
        if (state == null) {
            return super.doAuth(buffer, init); // not a session the registry saw open: nothing to account
        }
        state.keyOffered = true;
        authenticator.keyOffered(state);
        String user = getUsername();
        Offer offer = peek(buffer);
        Optional<SourcePenalties.Penalty> penalty = authenticator.penaltyOf(session);
        if (penalty.isPresent()) {
            authenticator.refusedInPenalty(session, user, offer.key(), penalty.get());
            return Boolean.FALSE;
        }
        if (offer.problem().isPresent()) {
            authenticator.refused(session, user, offer.key(), offer.problem().get());
            return Boolean.FALSE;
        }
        SshPublicKey key = offer.key().orElseThrow();
        if (!authenticator.precheck(user, key, session)) {
            return Boolean.FALSE;
        }
        Optional<String> badAlgorithm = signatureRefusal(offer.algorithm().orElseThrow(), session);
        if (badAlgorithm.isPresent()) {
            authenticator.refused(session, user, offer.key(), badAlgorithm.get());
            return Boolean.FALSE;
        }
        offered = key.isCertificate() ? key : null;
        int rejectsBefore = state.authRejects.get();
        SessionState.PendingLogin pendingBefore = state.pending;
        try {
            Boolean result = super.doAuth(buffer, init);
            if (Boolean.TRUE.equals(result) && !authenticator.qualify(session)) {
                return Boolean.FALSE; // the signature verified, but no role this login meets allows anything
            }
            if (Boolean.FALSE.equals(result) && state.authRejects.get() == rejectsBefore && state.pending == pendingBefore
                    && !state.terminated.get()) {
                authenticator.refused(session, user, offer.key(), "refused by the SSH library");
            }
            return result;
        } catch (AsyncAuthException e) {
            throw e;
        } catch (Exception e) {
            SessionState.PendingLogin accepted = state.pending;
            if (accepted != null && accepted != pendingBefore) {
                // Our decision accepted the key; MINA then found the signature wrong.
                state.pending = null;
                authenticator.refused(session, user, offer.key(),
                        signatureRefusal != null ? signatureRefusal : "the signature made with the key does not verify");
            } else if (state.authRejects.get() == rejectsBefore) {
                authenticator.refused(session, user, offer.key(),
                        "refused by the SSH library: " + Printable.of(String.valueOf(e.getMessage())));
            }
            throw e;
        } finally {
            offered = null;
            signatureRefusal = null;
        }
    }

    /**
     * MINA's check of the user's signature. A FIDO key's signature carries the authenticator's
     * flags: from the signature that verified for the login, its user-presence and
     * user-verification flags become the session's {@link SessionState#fidoProof}, on which a
     * role's {@code require} is judged; no other signature leaves a proof behind. MINA refuses a
     * FIDO signature without user presence (as sshd does without {@code no-touch-required}, which
     * sallyport does not offer); that refusal is audited with its own reason.
     */
    @Override
    protected boolean verifySignature(ServerSession session, String username, String alg, PublicKey key, Buffer buffer,
            Signature verifier, byte[] sig) throws Exception {
        Optional<FidoSignature> fido = key instanceof SecurityKeyPublicKey<?> ? FidoSignature.read(sig) : Optional.empty();
        boolean verified = super.verifySignature(session, username, alg, key, buffer, verifier, sig);
        SessionState state = SessionState.of(session);
        if (verified && state != null) {
            state.fidoProof = fido.map(FidoSignature::proof).orElse(null);
        } else if (!verified && fido.isPresent() && !fido.get().userPresent()) {
            signatureRefusal = "the FIDO signature does not assert user presence (the security key was not touched)";
        }
        return verified;
    }

    /**
     * Reads {@code boolean has-signature, string algorithm, string key-blob, ...} without consuming
     * it: the key exactly as the client sent it.
     */
    private static Offer peek(Buffer buffer) {
        int start = buffer.rpos();
        String algorithm = null;
        try {
            buffer.getBoolean();
            algorithm = buffer.getString();
            byte[] blob = buffer.getBytes();
            try {
                return new Offer(Optional.of(algorithm), Optional.of(SshPublicKey.fromBlob(blob)), Optional.empty());
            } catch (RuntimeException e) {
                return new Offer(Optional.of(algorithm), Optional.empty(),
                        Optional.of("unreadable public key (" + Printable.of(String.valueOf(e.getMessage())) + ")"));
            }
        } catch (RuntimeException e) {
            return new Offer(Optional.ofNullable(algorithm), Optional.empty(), Optional.of("malformed publickey request"));
        } finally {
            buffer.rpos(start);
        }
    }

    /** Why the signature algorithm the client names is refused: one this server does not verify. */
    private Optional<String> signatureRefusal(String algorithm, ServerSession session) {
        List<String> accepted = NamedResource.getNameList(SignatureFactoriesManager.resolveSignatureFactories(this, session));
        if (accepted.contains(algorithm)) {
            return Optional.empty();
        }
        if (algorithm.equals("ssh-rsa") || algorithm.equals("ssh-rsa-cert-v01@openssh.com")) {
            return Optional.of("ssh-rsa (SHA-1) signatures are refused; the client must sign with rsa-sha2-256 or rsa-sha2-512");
        }
        return Optional.of("signature algorithm " + Printable.of(algorithm) + " is not accepted");
    }

    @Override
    protected void verifyCertificateSignature(ServerSession session, OpenSshCertificate cert) throws Exception {
        try {
            super.verifyCertificateSignature(session, cert);
        } catch (Exception e) {
            refused(session, "the CA signature on the certificate does not verify (" + e.getMessage() + ")");
            throw e;
        }
    }

    /**
     * {@code source-address}, checked against the client's address: behind a trusted PROXY peer the
     * address its header named (the session's client address), otherwise the TCP peer. MINA's own
     * check reads the TCP peer, which behind a load balancer is the balancer, so it is replaced
     * here by the same rule (comma-separated CIDRs, any match allows) on the client's address.
     */
    @Override
    protected void verifyCertificateSources(ServerSession session, OpenSshCertificate cert) throws CertificateException {
        String allowed = cert.getCriticalOptionsMap().get(OpenSshCertificate.SOURCE_ADDRESS);
        if (allowed == null) {
            return;
        }
        java.net.InetAddress client = BastionAuthenticator.clientAddress(session);
        String shown = client == null ? String.valueOf(session.getClientAddress())
                : io.sallyport.net.IpLiterals.format(client);
        for (String entry : allowed.split(",")) {
            String cidr = entry.trim();
            if (cidr.isEmpty()) {
                continue;
            }
            boolean contains;
            try {
                contains = client != null
                        && org.apache.sshd.common.net.InetAddressRange.fromCIDR(cidr).contains(client);
            } catch (IllegalArgumentException e) {
                refused(session, "certificate source-address " + allowed + " is invalid: Invalid CIDR range '" + cidr + "'");
                throw new CertificateException("Invalid CIDR range '" + cidr + "' in source-address critical option");
            }
            if (contains) {
                return;
            }
        }
        refused(session, "certificate source-address " + allowed + " does not allow the client address " + shown);
        throw new CertificateException("Rejected by source-address critical option; not allowed from " + shown);
    }

    @Override
    protected void verifyCriticalOptions(ServerSession session, OpenSshCertificate cert) throws CertificateException {
        try {
            super.verifyCriticalOptions(session, cert);
        } catch (CertificateException e) {
            // A source-address failure was reported above (and a key is reported once); the other
            // options are refused by sallyport's verifier before MINA ever sees them.
            refused(session, "certificate refused by the SSH library: " + e.getMessage());
            throw e;
        }
    }

    private void refused(ServerSession session, String reason) {
        if (offered != null) {
            authenticator.certificateRefused(session, getUsername(), offered, reason);
        }
    }
}
