package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Key lines as stock {@code ssh-keygen} writes them, and the damaged lines an operator may paste. */
class SshPublicKeyTest {

    @TempDir
    static Path dir;

    private static TestKeys.Generated ecdsa384;
    private static TestKeys.Generated ecdsa521;

    @BeforeAll
    static void makeTheKeysNotSharedWithOtherTests() {
        ecdsa384 = TestKeys.generate(dir, "ecdsa384", "ecdsa", 384);
        ecdsa521 = TestKeys.generate(dir, "ecdsa521", "ecdsa", 521);
    }

    static Stream<TestKeys.Generated> realKeys() {
        return Stream.of(TestKeys.ed25519(), TestKeys.ecdsa256(), ecdsa384, ecdsa521, TestKeys.rsa1024(), TestKeys.rsa3072());
    }

    @ParameterizedTest
    @MethodSource("realKeys")
    void fingerprintIsTheOneSshKeygenPrints(TestKeys.Generated key) {
        assertThat(key.parsed().fingerprint()).isEqualTo(key.fingerprint());
    }

    @ParameterizedTest
    @MethodSource("realKeys")
    void typeIsReadFromTheLineAndTheBlobAlike(TestKeys.Generated key) {
        String lineType = key.line().split(" ")[0];
        assertThat(key.parsed().type()).isEqualTo(lineType);
    }

    @ParameterizedTest
    @MethodSource("realKeys")
    void toLineRoundTripsWithoutTheComment(TestKeys.Generated key) {
        SshPublicKey parsed = key.parsed();
        String[] fields = key.line().split(" ");
        assertThat(parsed.toLine()).isEqualTo(fields[0] + " " + fields[1]);
        assertThat(SshPublicKey.parseLine(parsed.toLine())).isEqualTo(parsed);
        assertThat(SshPublicKey.fromBlob(parsed.blob())).isEqualTo(parsed);
    }

    @Test
    void rsaBitsAreTheModulusLengthSshKeygenReports() {
        assertThat(TestKeys.rsa1024().parsed().rsaBits()).isEqualTo(1024).isEqualTo(TestKeys.rsa1024().bits());
        assertThat(TestKeys.rsa3072().parsed().rsaBits()).isEqualTo(3072).isEqualTo(TestKeys.rsa3072().bits());
    }

    @Test
    void rsaBitsAreZeroForOtherKeyTypes() {
        assertThat(TestKeys.ed25519().parsed().rsaBits()).isZero();
        assertThat(TestKeys.ecdsa256().parsed().rsaBits()).isZero();
    }

    @Test
    void keysAreEqualByTheirBytesNotByTheirComment() {
        TestKeys.Generated ed = TestKeys.ed25519();
        String otherComment = ed.line().substring(0, ed.line().lastIndexOf(' ')) + " someone-else@elsewhere";
        assertThat(SshPublicKey.parseLine(otherComment)).isEqualTo(ed.parsed()).hasSameHashCodeAs(ed.parsed());
        assertThat(ed.parsed()).isNotEqualTo(TestKeys.ecdsa256().parsed());
    }

    @Test
    void lineWithoutCommentAndWithExtraWhitespaceIsAccepted() {
        String[] f = TestKeys.ed25519().line().split(" ");
        assertThat(SshPublicKey.parseLine("  " + f[0] + " \t " + f[1] + "  ")).isEqualTo(TestKeys.ed25519().parsed());
    }

    @Test
    void blobIsADefensiveCopy() {
        SshPublicKey key = TestKeys.ed25519().parsed();
        byte[] blob = key.blob();
        Arrays.fill(blob, (byte) 0);
        assertThat(key.fingerprint()).isEqualTo(TestKeys.ed25519().fingerprint());
    }

    @Test
    void fabricatedDsaBlobParsesAsSshDss() {
        SshPublicKey dsa = SshPublicKey.parseLine(TestKeys.line("ssh-dss", TestKeys.dsaBlob()));
        assertThat(dsa.type()).isEqualTo("ssh-dss");
        assertThat(dsa.rsaBits()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIA"})
    void lineWithoutTypeAndDataIsRefused(String line) {
        assertThatThrownBy(() -> SshPublicKey.parseLine(line))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not an OpenSSH public key line");
    }

    @Test
    void badBase64IsRefused() {
        assertThatThrownBy(() -> SshPublicKey.parseLine("ssh-ed25519 AAAA!!not*base64 alice@laptop"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("key data of 'ssh-ed25519' is not valid base64");
    }

    @Test
    void typeOnTheLineMustMatchTheTypeInsideTheBlob() {
        String[] f = TestKeys.ed25519().line().split(" ");
        assertThatThrownBy(() -> SshPublicKey.parseLine("ssh-rsa " + f[1]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("key type 'ssh-rsa' does not match the key data ('ssh-ed25519')");
    }

    @Test
    void blobTruncatedInsideTheTypeIsRefused() {
        byte[] blob = TestKeys.ed25519().parsed().blob();
        String cut = Base64.getEncoder().encodeToString(Arrays.copyOf(blob, 9));
        assertThatThrownBy(() -> SshPublicKey.parseLine("ssh-ed25519 " + cut))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("key data of 'ssh-ed25519' is truncated or malformed");
    }

    @Test
    void blobShorterThanALengthFieldIsRefused() {
        assertThatThrownBy(() -> SshPublicKey.parseLine("ssh-ed25519 AAA="))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("key data of 'ssh-ed25519' is truncated or malformed");
    }

    /**
     * A line that lost its tail in a copy-paste must be a config error, not a key that silently
     * never matches (LocalIdentities promises "a typo cannot silently lock a user out").
     */
    @ParameterizedTest
    @MethodSource("realKeys")
    void blobTruncatedInsideTheKeyMaterialIsRefused(TestKeys.Generated key) {
        byte[] blob = key.parsed().blob();
        String cut = Base64.getEncoder().encodeToString(Arrays.copyOf(blob, blob.length - 8));
        String type = key.line().split(" ")[0];
        assertThatThrownBy(() -> SshPublicKey.parseLine(type + " " + cut))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("truncated or malformed");
    }

    @Test
    void blobWithTrailingGarbageIsRefused() {
        byte[] blob = TestKeys.ed25519().parsed().blob();
        byte[] longer = Arrays.copyOf(blob, blob.length + 4);
        assertThatThrownBy(() -> SshPublicKey.parseLine("ssh-ed25519 " + Base64.getEncoder().encodeToString(longer)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("truncated or malformed");
    }

    @Test
    void lengthFieldLargerThanTheBlobIsRefused() {
        byte[] blob = {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 's', 's', 'h'};
        assertThatThrownBy(() -> SshPublicKey.parseLine("ssh-ed25519 " + Base64.getEncoder().encodeToString(blob)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("key data of 'ssh-ed25519' is truncated or malformed");
    }
}
