package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Public keys arrive as key lines from files sallyport does not write (config, revocation lists)
 * and as wire blobs from every client that tries a key. Contract: a key or an
 * {@link IllegalArgumentException}, never another exception; a key's type is short printable
 * ASCII; a key survives its own one-line form and its blob. Corpus and how to fuzz:
 * docs/fuzzing.md.
 */
class SshPublicKeyFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void keyLine(byte[] input) {
        String line = new String(input, StandardCharsets.UTF_8);
        SshPublicKey key;
        try {
            key = SshPublicKey.parseLine(line);
        } catch (IllegalArgumentException refused) {
            assertThat(refused.getMessage()).isNotBlank();
            return;
        }
        checkKey(key);
        assertThat(SshPublicKey.parseLine(key.toLine())).isEqualTo(key);
    }

    @FuzzTest(maxDuration = "5m")
    void keyBlob(byte[] input) {
        SshPublicKey key;
        try {
            key = SshPublicKey.fromBlob(input);
        } catch (IllegalArgumentException refused) {
            assertThat(refused.getMessage()).isNotBlank();
            return;
        }
        checkKey(key);
        assertThat(key.blob()).isEqualTo(input);
        assertThat(SshPublicKey.parseLine(key.toLine() + " comment")).isEqualTo(key);
    }

    private static void checkKey(SshPublicKey key) {
        assertThat(key.type()).matches("[\\x21-\\x7e]{1,64}");
        assertThat(key.fingerprint()).startsWith("SHA256:");
        assertThat(key.rsaBits()).isNotNegative();
        assertThat(SshPublicKey.fromBlob(key.blob())).isEqualTo(key);
        new KeyPolicy(2048).refusal(key);
        assertThat(key.toString()).isNotBlank();
    }
}
