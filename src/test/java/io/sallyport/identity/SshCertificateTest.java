package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sallyport.testing.OpenSsh;
import io.sallyport.testing.TestCa;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Certificates as ssh-keygen makes them, read field by field; damaged ones refused with a reason. */
class SshCertificateTest {
    @TempDir
    static Path dir;
    static TestCa ca;

    @BeforeAll
    static void ca() {
        OpenSsh.requireClient();
        ca = TestCa.create(dir, "ca");
    }

    private static SshCertificate read(Path certFile) throws Exception {
        SshPublicKey key = SshPublicKey.parseLine(Files.readString(certFile));
        assertThat(key.isCertificate()).isTrue();
        return SshCertificate.parse(key.blob());
    }

    @Test
    void readsEveryFieldOfAnSshKeygenUserCertificate() throws Exception {
        Path key = OpenSsh.keygen(dir.resolve("u1"), "alice");
        SshCertificate c = read(ca.sign(key, TestCa.user("alice@laptop").principals("alice", "ops-alice")
                .validity("20300101000000:20300102000000").serial("18446744073709551615")
                .option("source-address=10.0.0.0/8,192.168.1.1").option("force-command=/bin/true")
                .option("extension:roles@sallyport=admin,db")));

        assertThat(c.certType()).isEqualTo("ssh-ed25519-cert-v01@openssh.com");
        assertThat(c.kind()).isEqualTo(SshCertificate.Kind.USER);
        assertThat(c.key()).isEqualTo(SshPublicKey.parseLine(OpenSsh.publicKeyLine(key)));
        assertThat(c.signatureKey()).isEqualTo(SshPublicKey.parseLine(ca.publicKeyLine()));
        assertThat(c.signatureAlgorithm()).isEqualTo("ssh-ed25519");
        assertThat(c.keyId()).isEqualTo("alice@laptop");
        assertThat(c.serial()).isEqualTo(-1L);
        assertThat(c.serialText()).isEqualTo("18446744073709551615");
        assertThat(c.principals()).containsExactly("alice", "ops-alice");
        assertThat(c.criticalOption("source-address")).map(SshCertificate.Option::value).contains("10.0.0.0/8,192.168.1.1");
        assertThat(c.criticalOption("force-command")).map(SshCertificate.Option::value).contains("/bin/true");
        assertThat(c.extension("roles@sallyport")).map(SshCertificate.Option::value).contains("admin,db");
        assertThat(c.extension("permit-port-forwarding")).map(SshCertificate.Option::value).contains("");
        assertThat(c.extensions()).extracting(SshCertificate.Option::name).contains("permit-pty", "permit-agent-forwarding");
        // ssh-keygen reads -V in local time; the span is what is checked.
        assertThat(java.time.Duration.between(c.validAfterInstant(), c.validBeforeInstant())).hasHours(24);
    }

    @ParameterizedTest(name = "{0} key, {1} CA")
    @CsvSource({"ecdsa, rsa, rsa-sha2-512, ecdsa-sha2-nistp256", "rsa, ecdsa, ecdsa-sha2-nistp256, ssh-rsa"})
    void readsCertificatesOfOtherKeyTypes(String keyType, String caType, String signatureAlgorithm, String plainType) throws Exception {
        TestCa other = TestCa.create(dir.resolve(caType + "-ca"), "ca", caType);
        Path key = OpenSsh.keygen(dir.resolve(keyType + "-user"), "user", keyType);
        SshCertificate c = read(other.sign(key, TestCa.user("x").principals("bob").validity("-1m:+1h")));

        assertThat(c.key().type()).isEqualTo(plainType);
        assertThat(c.key()).isEqualTo(SshPublicKey.parseLine(OpenSsh.publicKeyLine(key)));
        assertThat(c.signatureAlgorithm()).isEqualTo(signatureAlgorithm);
        assertThat(c.serialText()).isEqualTo("0");
    }

    @Test
    void readsHostCertificates() throws Exception {
        Path key = OpenSsh.keygen(dir.resolve("h"), "host");
        SshCertificate c = read(ca.sign(key, TestCa.host("bastion-1").principals("bastion.corp")));

        assertThat(c.kind()).isEqualTo(SshCertificate.Kind.HOST);
        assertThat(c.validBeforeInstant()).isEqualTo(Instant.MAX);
        assertThat(c.validAfterInstant()).isEqualTo(Instant.EPOCH);
    }

    @Test
    void everyTruncationIsRefusedWithAReason() throws Exception {
        Path key = OpenSsh.keygen(dir.resolve("t"), "t");
        byte[] blob = SshPublicKey.parseLine(Files.readString(ca.sign(key, TestCa.user("t").principals("t")
                .option("extension:roles@sallyport=ops")))).blob();
        for (int len = 0; len < blob.length; len++) {
            byte[] cut = Arrays.copyOf(blob, len);
            assertThatThrownBy(() -> SshCertificate.parse(cut)).as("cut at %d", len)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("null");
        }
    }

    @Test
    void bytesAfterTheSignatureAreRefused() {
        CertBlob b = new CertBlob(0, 1);
        b.trailing = new byte[] {0};
        assertThatThrownBy(() -> SshCertificate.parse(b.build())).hasMessage("1 unexpected bytes after the end of the certificate");
    }

    @Test
    void aCriticalOptionNamedTwiceIsRefused() {
        CertBlob b = new CertBlob(0, 1).critical("source-address", "10.0.0.0/8").critical("source-address", "0.0.0.0/0");
        assertThatThrownBy(() -> SshCertificate.parse(b.build())).hasMessage("critical option 'source-address' appears twice");
    }

    @Test
    void unknownCertificateTypeAndTypeCodeAreRefused() {
        CertBlob unknown = new CertBlob(0, 1);
        unknown.type = "ssh-ed448-cert-v01@openssh.com";
        assertThatThrownBy(() -> SshCertificate.parse(unknown.build())).hasMessage("unknown certificate type 'ssh-ed448-cert-v01@openssh.com'");

        CertBlob code = new CertBlob(0, 1);
        code.kind = 3;
        assertThatThrownBy(() -> SshCertificate.parse(code.build())).hasMessageContaining("neither user (1) nor host (2)");
    }

    @Test
    void aCertificateAsSignatureKeyIsRefused() {
        CertBlob b = new CertBlob(0, 1);
        b.signatureKey = new CertBlob(0, 1).build();
        assertThatThrownBy(() -> SshCertificate.parse(b.build())).hasMessage("the signature key is itself a certificate");
    }

    @Test
    void aKeyIdWithANulByteIsRefused() {
        CertBlob b = new CertBlob(0, 1);
        b.keyId = "alice\0admin";
        assertThatThrownBy(() -> SshCertificate.parse(b.build())).hasMessage("key id contains a NUL byte");
    }

    @Test
    void optionValuesWrittenBareAreReadAsText() {
        SshCertificate.Option bare = new SshCertificate.Option("roles@sallyport", "ops,db".getBytes());
        assertThat(bare.value()).isEqualTo("ops,db");
    }
}
