package io.sallyport.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.policy.LoginFacts;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class FidoSignatureTest {

    private static byte[] string(byte[] value) {
        return ByteBuffer.allocate(4 + value.length).putInt(value.length).put(value).array();
    }

    private static byte[] signature(String type, byte[] raw, int flags, long counter, byte[] trailing) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(string(type.getBytes(StandardCharsets.US_ASCII)));
        out.writeBytes(string(raw));
        out.write(flags);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) counter).array());
        out.writeBytes(trailing);
        return out.toByteArray();
    }

    private static byte[] signature(String type, int flags) {
        return signature(type, new byte[64], flags, 7, new byte[0]);
    }

    @Test
    void presenceAndVerificationAreReadFromTheFlagsByte() {
        FidoSignature both = FidoSignature.read(signature("sk-ssh-ed25519@openssh.com", 0x05)).orElseThrow();
        assertThat(both.proof()).isEqualTo(new LoginFacts.FidoProof("sk-ssh-ed25519@openssh.com", true, true));
        assertThat(both.counter()).isEqualTo(7);

        FidoSignature touched = FidoSignature.read(signature("sk-ecdsa-sha2-nistp256@openssh.com", 0x01)).orElseThrow();
        assertThat(touched.proof()).isEqualTo(new LoginFacts.FidoProof("sk-ecdsa-sha2-nistp256@openssh.com", true, false));

        FidoSignature untouched = FidoSignature.read(signature("sk-ssh-ed25519@openssh.com", 0x00)).orElseThrow();
        assertThat(untouched.userPresent()).isFalse();
        assertThat(untouched.userVerified()).isFalse();
    }

    @Test
    void otherFlagBitsDoNotCountAsPresenceOrVerification() {
        // 0x40 attested data, 0x80 extensions: neither is a human's presence nor a PIN.
        FidoSignature other = FidoSignature.read(signature("sk-ssh-ed25519@openssh.com", 0xc2)).orElseThrow();
        assertThat(other.userPresent()).isFalse();
        assertThat(other.userVerified()).isFalse();
    }

    @Test
    void theCounterIsUnsigned() {
        byte[] sig = signature("sk-ssh-ed25519@openssh.com", new byte[64], 1, 0xffffffffL, new byte[0]);
        assertThat(FidoSignature.read(sig).orElseThrow().counter()).isEqualTo(0xffffffffL);
    }

    @Test
    void aSignatureOfAnotherKeyTypeIsNoFidoSignature() {
        assertThat(FidoSignature.read(signature("ssh-ed25519", 0x05))).isEmpty();
        assertThat(FidoSignature.read(signature("ecdsa-sha2-nistp256", 0x05))).isEmpty();
        assertThat(FidoSignature.read(null)).isEmpty();
    }

    @Test
    void aMalformedSignatureYieldsNoFlags() {
        byte[] good = signature("sk-ssh-ed25519@openssh.com", 0x05);
        for (int len = 0; len < good.length; len++) {
            assertThat(FidoSignature.read(Arrays.copyOf(good, len))).as("cut to %d bytes", len).isEmpty();
        }
        assertThat(FidoSignature.read(signature("sk-ssh-ed25519@openssh.com", new byte[64], 5, 1, new byte[] {0})))
                .as("trailing byte").isEmpty();
        byte[] hugeLength = good.clone();
        hugeLength[0] = (byte) 0x7f;
        assertThat(FidoSignature.read(hugeLength)).isEmpty();
        byte[] negativeLength = good.clone();
        negativeLength[0] = (byte) 0xff;
        assertThat(FidoSignature.read(negativeLength)).isEmpty();
    }
}
