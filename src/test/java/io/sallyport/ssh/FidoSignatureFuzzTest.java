package io.sallyport.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Optional;

/**
 * A FIDO signature's flags are read from the bytes a client sent in its {@code publickey}
 * request. Contract: the fields of a well-formed {@code sk-*} signature, or nothing, never an
 * exception; the presence and verification bits are exactly bits 0x01 and 0x04 of the flags
 * byte. Seeds: signatures made by stock {@code ssh-keygen -Y sign} through the test security key
 * provider. Corpus and how to fuzz: docs/fuzzing.md.
 */
class FidoSignatureFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void signature(byte[] input) {
        Optional<FidoSignature> read = FidoSignature.read(input);
        if (read.isEmpty()) {
            return;
        }
        FidoSignature sig = read.get();
        assertThat(sig.keyType()).isIn("sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com");
        assertThat(sig.flags()).isBetween(0, 0xff);
        assertThat(sig.counter()).isBetween(0L, 0xffffffffL);
        assertThat(sig.userPresent()).isEqualTo((sig.flags() & 0x01) != 0);
        assertThat(sig.userVerified()).isEqualTo((sig.flags() & 0x04) != 0);
        assertThat(sig.proof().keyType()).isEqualTo(sig.keyType());
        // The flags byte and counter are the last five bytes: nothing may follow them.
        assertThat(input[input.length - 5] & 0xff).isEqualTo(sig.flags());
    }
}
