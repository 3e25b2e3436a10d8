package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** README "Crypto profiles": which user keys the bastion accepts, whoever vouches for them. */
class KeyPolicyTest {
    private final KeyPolicy policy = new KeyPolicy(2048);

    static Stream<TestKeys.Generated> acceptedRealKeys() {
        return Stream.of(TestKeys.ed25519(), TestKeys.ecdsa256(), TestKeys.rsa3072());
    }

    @ParameterizedTest
    @MethodSource("acceptedRealKeys")
    void modernKeysFromSshKeygenAreAccepted(TestKeys.Generated key) {
        assertThat(policy.refusal(key.parsed())).isEmpty();
    }

    @Test
    void rsaKeyShorterThanMinRsaBitsIsRefusedWithItsSize() {
        assertThat(policy.refusal(TestKeys.rsa1024().parsed()))
                .hasValue("RSA key of 1024 bits is shorter than policy.min_rsa_bits 2048");
    }

    @Test
    void rsaKeyOfExactlyMinRsaBitsIsAccepted() {
        assertThat(policy.refusal(SshPublicKey.fromBlob(TestKeys.rsaBlob(2048)))).isEmpty();
        assertThat(policy.refusal(SshPublicKey.fromBlob(TestKeys.rsaBlob(2047)))).isPresent();
    }

    @Test
    void minRsaBitsIsTheOperatorsSetting() {
        assertThat(new KeyPolicy(4096).refusal(TestKeys.rsa3072().parsed()))
                .hasValue("RSA key of 3072 bits is shorter than policy.min_rsa_bits 4096");
    }

    @Test
    void dsaKeyIsRefused() {
        SshPublicKey dsa = SshPublicKey.parseLine(TestKeys.line("ssh-dss", TestKeys.dsaBlob()));
        assertThat(policy.refusal(dsa)).hasValueSatisfying(why -> assertThat(why).startsWith("DSA keys are refused"));
    }

    @Test
    void rsaBlobWithoutAModulusIsRefusedAtParse() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> SshPublicKey.fromBlob(TestKeys.blob("ssh-rsa", new byte[] {1, 0, 1})))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void emptyKeyTypeIsRefusedAtParse() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SshPublicKey.fromBlob(TestKeys.blob("", new byte[32])))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void fidoAndOtherEcdsaTypesAreAccepted() {
        byte[] app = "ssh:".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        java.util.List<byte[]> blobs = java.util.List.of(
                TestKeys.blob("sk-ssh-ed25519@openssh.com", new byte[32], app),
                TestKeys.blob("sk-ecdsa-sha2-nistp256@openssh.com", "nistp256".getBytes(), new byte[65], app),
                TestKeys.blob("ecdsa-sha2-nistp384", "nistp384".getBytes(), new byte[97]),
                TestKeys.blob("ecdsa-sha2-nistp521", "nistp521".getBytes(), new byte[133]));
        for (byte[] blob : blobs) {
            assertThat(policy.refusal(SshPublicKey.fromBlob(blob))).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ssh-foo", "ssh-ed448", "ecdsa-sha2-nistp192", "x509v3-ssh-rsa"})
    void unknownKeyTypesAreRefusedByName(String type) {
        assertThat(policy.refusal(SshPublicKey.fromBlob(TestKeys.blob(type, new byte[32]))))
                .hasValue("key type " + type + " is not accepted");
    }
}
