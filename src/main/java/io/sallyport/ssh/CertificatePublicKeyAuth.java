package io.sallyport.ssh;

import io.sallyport.identity.SshPublicKey;
import java.net.InetSocketAddress;
import java.security.cert.CertificateException;
import org.apache.sshd.common.config.keys.OpenSshCertificate;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKey;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.server.session.ServerSession;

/**
 * MINA's {@code publickey} method with sallyport's certificate decision in front of it.
 *
 * <p>For a certificate, MINA checks the type, the validity window, the CA signature (against the
 * key embedded in the certificate) and the critical options, and refuses a failing certificate
 * without calling the {@code PublickeyAuthenticator}. So sallyport judges the certificate first
 * ({@link BastionAuthenticator#precheckCertificate}: trusted CA, principals, window with
 * {@code clock_skew}, {@code max_validity}, options, extensions, revocation), auditing any refusal,
 * and only then lets MINA run. What MINA alone checks, the CA signature and {@code source-address},
 * is audited from the hooks below when it fails. Plain keys go straight to MINA.
 */
final class CertificatePublicKeyAuth extends UserAuthPublicKey {
    private final BastionAuthenticator authenticator;
    /** The certificate of the request being handled; MINA handles one request of a session at a time. */
    private SshPublicKey offered;

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

    @Override
    public Boolean doAuth(Buffer buffer, boolean init) throws Exception {
        offered = offeredCertificate(buffer);
        try {
            if (offered != null && !authenticator.precheckCertificate(getUsername(), offered, getServerSession())) {
                return Boolean.FALSE;
            }
            return super.doAuth(buffer, init);
        } finally {
            offered = null;
        }
    }

    /**
     * Reads the offered key blob without consuming the request ({@code boolean has-signature,
     * string algorithm, string key-blob, ...}): the certificate exactly as the client sent it.
     */
    private static SshPublicKey offeredCertificate(Buffer buffer) {
        int start = buffer.rpos();
        try {
            buffer.getBoolean();
            buffer.getString();
            SshPublicKey key = SshPublicKey.fromBlob(buffer.getBytes());
            return key.isCertificate() ? key : null;
        } catch (RuntimeException e) {
            return null; // Not ours to judge: MINA refuses a malformed request its own way.
        } finally {
            buffer.rpos(start);
        }
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
     * {@code source-address} is checked by MINA against the TCP peer. Behind a PROXY-protocol load
     * balancer that peer is the balancer, not the client: the PROXY feature must override this to
     * check the address from the PROXY header instead (SPEC §4).
     */
    @Override
    protected void verifyCertificateSources(ServerSession session, OpenSshCertificate cert) throws CertificateException {
        try {
            super.verifyCertificateSources(session, cert);
        } catch (CertificateException e) {
            String allowed = cert.getCriticalOptionsMap().get(OpenSshCertificate.SOURCE_ADDRESS);
            String peer = session.getRemoteAddress() instanceof InetSocketAddress a && a.getAddress() != null
                    ? a.getAddress().getHostAddress() : String.valueOf(session.getRemoteAddress());
            String message = String.valueOf(e.getMessage());
            refused(session, message.startsWith("Rejected by source-address")
                    ? "certificate source-address " + allowed + " does not allow the client address " + peer
                    : "certificate source-address " + allowed + " is invalid: " + message);
            throw e;
        }
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
