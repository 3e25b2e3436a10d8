package io.sallyport.identity;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigProblem;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Decides whether an OpenSSH user certificate may log in as a user (docs/certificates.md), and with which
 * roles. Pure: it reads the certificate, the trusted CAs, the revocation list and the clock, and
 * returns a decision with its reason.
 *
 * <p>What it does not do: verify the CA's signature over the certificate, and enforce the
 * {@code source-address} critical option. The SSH layer does both (MINA SSHD checks the signature
 * against the key embedded in the certificate; {@code CertificatePublicKeyAuth} checks
 * {@code source-address} against the client address, the PROXY header's behind a trusted proxy)
 * and only after this verifier has said the embedded key is one of our CAs; a certificate is
 * accepted only when both agree.
 *
 * <p>Checked here, in this order, the first failure being the reason: a certificate type the
 * bastion can use (not FIDO, not DSA); a user certificate; a trusted CA; no SHA-1 CA signature;
 * the certified key passes the key policy; nothing revoked (key, CA key, serial, key id); the
 * validity window, widened by {@code clock_skew} at both ends; a validity no longer than
 * {@code max_validity}; at least one principal, one of them the user name; no critical option but
 * {@code source-address}; the {@code permit-port-forwarding} extension. Roles are those of the
 * {@code roles@sallyport} extension that the CA may grant.
 */
public final class CertificateVerifier {
    /** Extension listing the roles a certificate asks for, comma-separated. */
    public static final String ROLES_EXTENSION = "roles@sallyport";
    static final String PERMIT_PORT_FORWARDING = "permit-port-forwarding";
    static final String SOURCE_ADDRESS = "source-address";

    private final List<CertificateAuthority> authorities;
    private final Duration maxValidity;
    private final Duration clockSkew;
    private final KeyPolicy keyPolicy;
    private final Supplier<RevocationList> revoked;
    private final Clock clock;

    public CertificateVerifier(List<CertificateAuthority> authorities, Duration maxValidity, Duration clockSkew,
                               KeyPolicy keyPolicy, Supplier<RevocationList> revoked, Clock clock) {
        this.authorities = List.copyOf(authorities);
        this.maxValidity = maxValidity;
        this.clockSkew = clockSkew;
        this.keyPolicy = keyPolicy;
        this.revoked = revoked;
        this.clock = clock;
    }

    /** A verifier that trusts no CA: every certificate is refused, with that reason. */
    public static CertificateVerifier none(KeyPolicy keyPolicy) {
        return new CertificateVerifier(List.of(), Duration.ofHours(24), Duration.ofSeconds(60), keyPolicy,
                () -> RevocationList.EMPTY, Clock.systemUTC());
    }

    /**
     * The trusted CAs of {@code identity.certificates.authorities}. A {@code public_key} that is
     * not a key, is a certificate, or is refused by the key policy is a config problem at its line.
     */
    public static List<CertificateAuthority> authorities(Config config, List<ConfigProblem> problems) {
        KeyPolicy policy = new KeyPolicy(config.policy().minRsaBits());
        List<CertificateAuthority> out = new ArrayList<>();
        for (Config.Authority a : config.identity().certificates().authorities()) {
            Config.Located<String> line = a.publicKey();
            String file = config.source().toString();
            try {
                SshPublicKey key = SshPublicKey.parseLine(line.value());
                Optional<String> refusal = key.isCertificate()
                        ? Optional.of("a certificate; a CA's public_key is its plain public key (the ca.pub that signs)")
                        : policy.refusal(key);
                if (refusal.isPresent()) {
                    problems.add(new ConfigProblem(file, line.line(), line.keyPath(), refusal.get()));
                } else {
                    out.add(new CertificateAuthority(a.name(), key, a.grantableRoles()));
                }
            } catch (IllegalArgumentException e) {
                problems.add(new ConfigProblem(file, line.line(), line.keyPath(), e.getMessage()));
            }
        }
        return List.copyOf(out);
    }

    public List<CertificateAuthority> authorities() {
        return authorities;
    }

    /** @param presented a certificate key ({@link SshPublicKey#isCertificate()}) as the client sent it */
    public AuthDecision authenticate(String user, SshPublicKey presented) {
        SshCertificate cert;
        try {
            cert = SshCertificate.parse(presented.blob());
        } catch (IllegalArgumentException e) {
            return new AuthDecision.Reject("malformed certificate: " + e.getMessage());
        }
        return verify(user, cert);
    }

    public AuthDecision verify(String user, SshCertificate cert) {
        Optional<CertificateAuthority> ca = authorityOf(cert);
        CertificateLogin login = new CertificateLogin(cert, ca.map(CertificateAuthority::name), endsAt(cert));
        Optional<String> refusal = refusal(user, cert, ca);
        if (refusal.isPresent()) {
            return new AuthDecision.Reject(refusal.get(), Optional.of(login));
        }
        Identity identity = new Identity(user, roles(cert, ca.get()), "ca", Optional.empty());
        return new AuthDecision.Accept(identity, Optional.of(login));
    }

    /** Why a live session made with {@code cert} must end now that the revocation list changed, or empty. */
    public Optional<String> revocationOf(SshCertificate cert) {
        return revoked.get().revocationOf(cert);
    }

    private Optional<CertificateAuthority> authorityOf(SshCertificate cert) {
        return authorities.stream().filter(a -> a.key().equals(cert.signatureKey())).findFirst();
    }

    private Instant endsAt(SshCertificate cert) {
        Instant before = cert.validBeforeInstant();
        return before.isAfter(Instant.MAX.minus(clockSkew)) ? Instant.MAX : before.plus(clockSkew);
    }

    private Optional<String> refusal(String user, SshCertificate cert, Optional<CertificateAuthority> ca) {
        if (cert.certType().startsWith("sk-")) {
            return Optional.of("FIDO certificates (" + cert.certType() + ") are not supported: the SSH library cannot"
                    + " verify them; use a plain FIDO key, or a certificate for a non-FIDO key");
        }
        if (cert.kind() != SshCertificate.Kind.USER) {
            return Optional.of("a host certificate cannot be used to log in");
        }
        if (ca.isEmpty()) {
            return Optional.of(authorities.isEmpty()
                    ? "certificate logins are off: identity.certificates.authorities is empty"
                    : "certificate signed by an untrusted CA (" + cert.signatureKey().type() + " "
                            + cert.signatureKey().fingerprint() + ")");
        }
        if (cert.signatureAlgorithm().equals("ssh-rsa")) {
            return Optional.of("the CA signed the certificate with ssh-rsa (SHA-1), which is refused;"
                    + " sign with rsa-sha2-512 (ssh-keygen -t rsa-sha2-512 -s ...)");
        }
        Optional<String> keyRefusal = keyPolicy.refusal(cert.key());
        if (keyRefusal.isPresent()) {
            return keyRefusal.map(why -> "certified key refused: " + why);
        }
        Optional<String> revocation = revoked.get().revocationOf(cert);
        if (revocation.isPresent()) {
            return revocation.map(why -> "revoked: " + why);
        }
        Optional<String> window = validity(cert);
        if (window.isPresent()) {
            return window;
        }
        if (cert.principals().isEmpty()) {
            return Optional.of("certificate has no principals: it would be valid for every user name"
                    + " (issue it with ssh-keygen -n USER)");
        }
        if (!cert.principals().contains(user)) {
            return Optional.of("user '" + user + "' is not among the certificate's principals ("
                    + String.join(", ", cert.principals()) + ")");
        }
        for (SshCertificate.Option option : cert.criticalOptions()) {
            switch (option.name()) {
                case SOURCE_ADDRESS -> {
                    // Enforced by the SSH layer against the connection's peer address (see class doc).
                }
                case "force-command" -> {
                    return Optional.of("certificate has the force-command critical option: a jump host runs no"
                            + " commands, so it cannot honour it");
                }
                case "verify-required" -> {
                    return Optional.of("certificate has the verify-required critical option (FIDO user"
                            + " verification), which is not supported");
                }
                default -> {
                    return Optional.of("certificate has the unknown critical option '" + option.name() + "'");
                }
            }
        }
        if (cert.extension(PERMIT_PORT_FORWARDING).isEmpty()) {
            return Optional.of("certificate lacks the permit-port-forwarding extension, which ssh -J and ssh -W need");
        }
        return Optional.empty();
    }

    private Optional<String> validity(SshCertificate cert) {
        Instant now = clock.instant();
        Instant after = cert.validAfterInstant();
        Instant before = cert.validBeforeInstant();
        // OpenSSH: valid when valid_after <= now < valid_before; widened here by clock_skew at both ends.
        if (now.plus(clockSkew).isBefore(after)) {
            return Optional.of("certificate is not valid yet: valid from " + after + ", now " + now
                    + " (clock_skew " + human(clockSkew) + ")");
        }
        if (!now.minus(clockSkew).isBefore(before)) {
            return Optional.of("certificate expired at " + before + ", now " + now
                    + " (clock_skew " + human(clockSkew) + ")");
        }
        if (before.equals(Instant.MAX) || after.equals(Instant.EPOCH)) {
            return Optional.of("certificate is valid " + (before.equals(Instant.MAX) ? "forever" : "since always")
                    + ", longer than identity.certificates.max_validity " + human(maxValidity));
        }
        Duration validity = Duration.between(after, before);
        if (validity.compareTo(maxValidity) > 0) {
            return Optional.of("certificate is valid for " + human(validity) + " (" + after + " to " + before
                    + "), longer than identity.certificates.max_validity " + human(maxValidity));
        }
        return Optional.empty();
    }

    private static List<String> roles(SshCertificate cert, CertificateAuthority ca) {
        List<String> out = new ArrayList<>();
        cert.extension(ROLES_EXTENSION).ifPresent(ext -> {
            for (String role : ext.value().split(",")) {
                String r = role.strip();
                if (ca.grantableRoles().contains(r) && !out.contains(r)) {
                    out.add(r);
                }
            }
        });
        return List.copyOf(out);
    }

    /** {@code 24h}, {@code 90s}, {@code 1h5m}; whole days from two days on ({@code 7d}, {@code 2d5m}). */
    static String human(Duration d) {
        long s = d.getSeconds();
        if (s == 0) {
            return "0s";
        }
        StringBuilder b = new StringBuilder();
        if (s >= 2 * 86_400) {
            b.append(s / 86_400).append('d');
            s %= 86_400;
        }
        long[] units = {3_600, 60, 1};
        String[] names = {"h", "m", "s"};
        for (int i = 0; i < units.length; i++) {
            if (s >= units[i]) {
                b.append(s / units[i]).append(names[i]);
                s %= units[i];
            }
        }
        return b.toString();
    }
}
