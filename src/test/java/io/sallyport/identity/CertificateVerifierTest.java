package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The certificate decision with a fixed clock: each rule of docs/certificates.md refuses with its reason, and a
 * certificate that passes them all logs in as its principal with the roles its CA may grant.
 */
class CertificateVerifierTest {
    private static final Instant NOW = Instant.parse("2030-01-01T12:00:00Z");
    private static final long T = NOW.getEpochSecond();
    private static final Duration SKEW = Duration.ofSeconds(60);
    private static final Duration MAX_VALIDITY = Duration.ofHours(24);
    private static final SshPublicKey CA_KEY = SshPublicKey.fromBlob(CertBlob.ed25519Key(9));
    private static final CertificateAuthority CORP = new CertificateAuthority("corp-ca", CA_KEY, List.of("ops", "db"));

    private RevocationList revoked = RevocationList.EMPTY;

    private CertificateVerifier verifier(CertificateAuthority... cas) {
        return new CertificateVerifier(List.of(cas), MAX_VALIDITY, SKEW, new KeyPolicy(2048), () -> revoked,
                Clock.fixed(NOW, ZoneOffset.UTC));
    }

    /** Valid from an hour ago for two hours, principal alice, permit-port-forwarding, roles ops. */
    private static CertBlob cert() {
        return new CertBlob(T - 3600, T + 3600).extension("roles@sallyport", "ops");
    }

    private AuthDecision decide(Consumer<CertBlob> change) {
        CertBlob b = cert();
        change.accept(b);
        return verifier(CORP).authenticate("alice", b.key());
    }

    private String refusal(Consumer<CertBlob> change) {
        AuthDecision d = decide(change);
        assertThat(d).isInstanceOf(AuthDecision.Reject.class);
        return ((AuthDecision.Reject) d).reason();
    }

    @Test
    void validCertificateLogsInAsItsPrincipalWithGrantableRolesOnly() {
        AuthDecision d = decide(b -> {
            b.extensions.removeIf(e -> e[0].equals("roles@sallyport"));
            b.extension("roles@sallyport", " admin, ops ,db,ops,");
        });

        assertThat(d).isInstanceOf(AuthDecision.Accept.class);
        AuthDecision.Accept a = (AuthDecision.Accept) d;
        assertThat(a.identity()).isEqualTo(new Identity("alice", List.of("ops", "db"), "ca", Optional.empty()));
        CertificateLogin login = a.certificate().orElseThrow();
        assertThat(login.authority()).contains("corp-ca");
        assertThat(login.certificate().keyId()).isEqualTo("alice@laptop");
        assertThat(login.endsAt()).isEqualTo(Instant.ofEpochSecond(T + 3600).plus(SKEW));
    }

    @Test
    void certificateWithoutRolesExtensionLogsInWithNoRoles() {
        AuthDecision d = decide(b -> b.extensions.removeIf(e -> e[0].equals("roles@sallyport")));
        assertThat(((AuthDecision.Accept) d).identity().roles()).isEmpty();
    }

    @Test
    void untrustedCaIsRefusedAndNamedByFingerprint() {
        String why = refusal(b -> b.signatureKey = CertBlob.ed25519Key(3));
        assertThat(why).isEqualTo("certificate signed by an untrusted CA (ssh-ed25519 "
                + SshPublicKey.fromBlob(CertBlob.ed25519Key(3)).fingerprint() + ")");
    }

    @Test
    void withNoAuthoritiesEveryCertificateIsRefused() {
        AuthDecision d = verifier().authenticate("alice", cert().key());
        assertThat(((AuthDecision.Reject) d).reason())
                .isEqualTo("certificate logins are off: identity.certificates.authorities is empty");
    }

    @Test
    void rejectionsCarryTheCertificateForTheAudit() {
        AuthDecision.Reject r = (AuthDecision.Reject) decide(b -> b.principals.clear());
        assertThat(r.certificate()).hasValueSatisfying(c -> {
            assertThat(c.authority()).contains("corp-ca");
            assertThat(c.certificate().serialText()).isEqualTo("42");
        });
    }

    @Test
    void hostCertificateCannotLogIn() {
        assertThat(refusal(b -> b.kind = 2)).isEqualTo("a host certificate cannot be used to log in");
    }

    @Test
    void fidoCertificatesAreRefused() {
        assertThat(refusal(b -> {
            b.type = "sk-ssh-ed25519-cert-v01@openssh.com";
            b.keyFields.add("ssh:".getBytes());
        })).startsWith("FIDO certificates (sk-ssh-ed25519-cert-v01@openssh.com) are not supported");
    }

    @Test
    void sha1CaSignatureIsRefused() {
        assertThat(refusal(b -> b.signatureAlgorithm = "ssh-rsa")).startsWith("the CA signed the certificate with ssh-rsa (SHA-1)");
    }

    @Test
    void certifiedKeyIsHeldToTheKeyPolicy() {
        assertThat(refusal(b -> {
            b.type = "ssh-rsa-cert-v01@openssh.com";
            b.keyFields.clear();
            b.keyFields.add(java.math.BigInteger.valueOf(65537).toByteArray());
            b.keyFields.add(java.math.BigInteger.ONE.shiftLeft(1023).toByteArray());
        })).isEqualTo("certified key refused: RSA key of 1024 bits is shorter than policy.min_rsa_bits 2048");
        assertThat(refusal(b -> {
            b.type = "ssh-dss-cert-v01@openssh.com";
            b.keyFields.clear();
            for (int i = 0; i < 4; i++) {
                b.keyFields.add(new byte[] {1});
            }
        })).startsWith("certified key refused: DSA keys are refused");
    }

    @Test
    void expiredAndNotYetValidAreRefusedBeyondTheClockSkewOnly() {
        assertThat(refusal(b -> b.validBefore = T - 61)).isEqualTo(
                "certificate expired at 2030-01-01T11:58:59Z, now 2030-01-01T12:00:00Z (clock_skew 1m)");
        assertThat(decide(b -> b.validBefore = T - 59)).isInstanceOf(AuthDecision.Accept.class);
        assertThat(refusal(b -> b.validAfter = T + 61)).isEqualTo(
                "certificate is not valid yet: valid from 2030-01-01T12:01:01Z, now 2030-01-01T12:00:00Z (clock_skew 1m)");
        assertThat(decide(b -> b.validAfter = T + 60)).isInstanceOf(AuthDecision.Accept.class);
    }

    @Test
    void validityLongerThanMaxValidityIsRefused() {
        assertThat(refusal(b -> b.validBefore = b.validAfter + 86_401)).isEqualTo(
                "certificate is valid for 24h1s (2030-01-01T11:00:00Z to 2030-01-02T11:00:01Z),"
                        + " longer than identity.certificates.max_validity 24h");
        assertThat(decide(b -> b.validBefore = b.validAfter + 86_400)).isInstanceOf(AuthDecision.Accept.class);
    }

    @Test
    void certificatesValidForeverOrSinceAlwaysAreRefused() {
        assertThat(refusal(b -> b.validBefore = -1L)).startsWith("certificate is valid forever, longer than");
        assertThat(refusal(b -> b.validAfter = 0)).startsWith("certificate is valid since always, longer than");
    }

    @Test
    void aForeverCertificateWouldEndAtInstantMax() {
        CertBlob b = cert();
        b.validBefore = -1L;
        SshCertificate c = SshCertificate.parse(b.build());
        AuthDecision.Reject r = (AuthDecision.Reject) verifier(CORP).verify("alice", c);
        assertThat(r.certificate().orElseThrow().endsAt()).isEqualTo(Instant.MAX);
    }

    @Test
    void principalsMustNameTheUser() {
        assertThat(refusal(b -> b.principals.clear())).startsWith("certificate has no principals");
        assertThat(refusal(b -> b.principals = List.of("bob", "carol")))
                .isEqualTo("user 'alice' is not among the certificate's principals (bob, carol)");
        assertThat(refusal(b -> b.principals = List.of("Alice"))).contains("not among the certificate's principals");
    }

    @Test
    void criticalOptionsOtherThanSourceAddressMakeTheCertificateUnusable() {
        assertThat(refusal(b -> b.critical("force-command", "/bin/true"))).contains("force-command");
        assertThat(refusal(b -> b.critical("verify-required", ""))).contains("verify-required");
        assertThat(refusal(b -> b.critical("no-touch-required@openssh.com", "")))
                .isEqualTo("certificate has the unknown critical option 'no-touch-required@openssh.com'");
        // source-address is enforced by the SSH layer against the connection's address.
        assertThat(decide(b -> b.critical("source-address", "10.0.0.0/8"))).isInstanceOf(AuthDecision.Accept.class);
    }

    @Test
    void permitPortForwardingIsRequired() {
        assertThat(refusal(b -> b.extensions.removeIf(e -> e[0].equals("permit-port-forwarding"))))
                .isEqualTo("certificate lacks the permit-port-forwarding extension, which ssh -J and ssh -W need");
    }

    @Test
    void revokedCertificateIsRefused() {
        revoked = RevocationList.parse(Krls.krl(Krls.certSection(CA_KEY.blob(), Krls.serialList(42))));
        assertThat(refusal(b -> {})).isEqualTo("revoked: serial 42 is revoked for this CA");
        assertThat(verifier(CORP).revocationOf(SshCertificate.parse(cert().build()))).isPresent();
    }

    @Test
    void malformedCertificateIsRefusedWithWhatIsWrong() {
        CertBlob b = cert();
        byte[] blob = b.build();
        SshPublicKey cut = SshPublicKey.fromBlob(java.util.Arrays.copyOf(blob, blob.length - 10));
        AuthDecision d = verifier(CORP).authenticate("alice", cut);
        assertThat(((AuthDecision.Reject) d).reason()).startsWith("malformed certificate: ");
    }

    @Test
    void durationsAreWrittenTheWayTheConfigWritesThem() {
        assertThat(CertificateVerifier.human(Duration.ofHours(24))).isEqualTo("24h");
        assertThat(CertificateVerifier.human(Duration.ofDays(7))).isEqualTo("7d");
        assertThat(CertificateVerifier.human(Duration.ofSeconds(90))).isEqualTo("1m30s");
    }
}
