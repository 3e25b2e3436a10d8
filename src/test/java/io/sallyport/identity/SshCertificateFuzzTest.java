package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

/**
 * A certificate is the blob a client offers as its public key, before any signature is checked:
 * {@link SshCertificate#parse} and {@link CertificateVerifier} read it as hostile bytes. Contract:
 * a certificate or an {@link IllegalArgumentException}; the verifier then always decides, and
 * accepts only what docs/certificates.md allows (user certificate, the user among the principals, no critical
 * option but {@code source-address}, {@code permit-port-forwarding}, roles the CA may grant). The
 * verifier trusts the certificate's own signature key here so that every input reaches every
 * check. Corpus and how to fuzz: docs/fuzzing.md.
 */
class SshCertificateFuzzTest {
    private static final List<String> GRANTABLE = List.of("ops", "dev");

    @FuzzTest(maxDuration = "5m")
    void certificate(byte[] input) {
        SshCertificate cert;
        try {
            cert = SshCertificate.parse(input);
        } catch (IllegalArgumentException refused) {
            assertThat(refused.getMessage()).isNotBlank();
            return;
        }
        assertThat(SshCertificate.isCertificateType(cert.certType())).isTrue();
        assertThat(cert.signatureKey().isCertificate()).isFalse();
        assertThat(cert.key().isCertificate()).isFalse();
        assertThat(cert.validBeforeInstant()).isNotNull();
        assertThat(cert.toString()).isNotBlank();
        cert.criticalOptions().forEach(o -> assertThat(o.value()).isNotNull());
        cert.extensions().forEach(o -> assertThat(o.value()).isNotNull());

        CertificateAuthority ca = new CertificateAuthority("fuzz-ca", cert.signatureKey(), GRANTABLE);
        Instant inWindow = cert.validAfterInstant().isAfter(Instant.parse("9999-01-01T00:00:00Z"))
                ? Instant.parse("2026-12-01T00:00:00Z") : cert.validAfterInstant().plusSeconds(30);
        SshPublicKey presented = SshPublicKey.fromBlob(input);
        for (String user : new String[] {"alice", cert.principals().isEmpty() ? "bob" : cert.principals().get(0)}) {
            CertificateVerifier verifier = new CertificateVerifier(List.of(ca), Duration.ofDays(1), Duration.ofMinutes(1),
                    new KeyPolicy(2048), () -> RevocationList.EMPTY, Clock.fixed(inWindow, ZoneOffset.UTC));
            AuthDecision decision = verifier.authenticate(user, presented);
            if (decision instanceof AuthDecision.Accept accept) {
                assertThat(cert.kind()).isEqualTo(SshCertificate.Kind.USER);
                assertThat(cert.principals()).contains(user);
                assertThat(cert.extension(CertificateVerifier.PERMIT_PORT_FORWARDING)).isPresent();
                assertThat(cert.criticalOptions()).allMatch(o -> o.name().equals(CertificateVerifier.SOURCE_ADDRESS));
                assertThat(GRANTABLE).containsAll(accept.identity().roles());
                assertThat(accept.identity().user()).isEqualTo(user);
            } else {
                assertThat(decision).isInstanceOf(AuthDecision.Reject.class);
                assertThat(((AuthDecision.Reject) decision).reason()).isNotBlank();
            }
        }
    }
}
