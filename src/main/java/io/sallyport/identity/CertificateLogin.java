package io.sallyport.identity;

import java.time.Instant;
import java.util.Optional;

/**
 * A certificate presented at login, with what the audit event says about it and when a session
 * made with it must end.
 *
 * @param certificate the certificate as parsed
 * @param authority   the name of the trusted CA that issued it ({@code authorities[].name}); empty
 *                    when its CA is not trusted here
 * @param endsAt      when a session made with it is ended: its {@code valid_before} plus
 *                    {@code clock_skew} ({@link Instant#MAX} for a certificate valid forever)
 */
public record CertificateLogin(SshCertificate certificate, Optional<String> authority, Instant endsAt) {}
