package io.sallyport.ssh.cipher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import javax.crypto.AEADBadTagException;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.ChaCha20Cipher;
import org.apache.sshd.common.cipher.Cipher;
import org.apache.sshd.common.cipher.Cipher.Mode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Cross-checks {@link ChaCha20Poly1305} byte for byte against MINA SSHD's own
 * {@code chacha20-poly1305@openssh.com} ({@link ChaCha20Cipher}), with both payload keystreams
 * (the JDK's ChaCha20 and ours), in both directions.
 */
class ChaCha20Poly1305Test {
    private static final int[] LENGTHS = {0, 8, 16, 24, 56, 64, 120, 128, 136, 1016, 1024, 4096, 32760, 32768, 35000, 65536 + 8};

    private static byte[] iv(long seq) {
        byte[] iv = new byte[8];
        for (int i = 0; i < 8; i++) {
            iv[7 - i] = (byte) (seq >>> (8 * i));
        }
        return iv;
    }

    /** Encrypts a run of packets with both ciphers from one sequence number; each must equal MINA's. */
    private static void sameAsMina(boolean useJdk, long seed, long startSeq, int packets, int[] lengths) throws Exception {
        Random rnd = new Random(seed);
        byte[] key = new byte[64];
        rnd.nextBytes(key);
        Cipher mina = new ChaCha20Cipher();
        Cipher ours = new ChaCha20Poly1305(useJdk);
        mina.init(Mode.Encrypt, key, iv(startSeq));
        ours.init(Mode.Encrypt, key, iv(startSeq));
        Cipher minaIn = new ChaCha20Cipher();
        Cipher oursIn = new ChaCha20Poly1305(useJdk);
        minaIn.init(Mode.Decrypt, key, iv(startSeq));
        oursIn.init(Mode.Decrypt, key, iv(startSeq));
        for (int p = 0; p < packets; p++) {
            int len = lengths[rnd.nextInt(lengths.length)];
            int off = rnd.nextInt(9);
            byte[] plain = new byte[off + 4 + len + 16 + 3];
            rnd.nextBytes(plain);
            byte[] a = plain.clone();
            byte[] b = plain.clone();
            mina.updateWithAAD(a, off, 4, len);
            ours.updateWithAAD(b, off, 4, len);
            assertThat(b).as("packet %d (seq %d, length %d, jdk %s)", p, startSeq + p, len, useJdk).isEqualTo(a);

            // Decrypt as MINA's decoder does: length first, then payload with the tag after it.
            byte[] c = a.clone();
            byte[] d = a.clone();
            minaIn.updateAAD(c, off, 4);
            oursIn.updateAAD(d, off, 4);
            assertThat(Arrays.copyOfRange(d, off, off + 4)).isEqualTo(Arrays.copyOfRange(plain, off, off + 4));
            minaIn.update(c, off + 4, len);
            oursIn.update(d, off + 4, len);
            assertThat(d).isEqualTo(c);
            assertThat(Arrays.copyOfRange(d, off, off + 4 + len)).isEqualTo(Arrays.copyOfRange(plain, off, off + 4 + len));
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void matchesMinaOverManyKeysSequenceNumbersAndLengths(boolean useJdk) throws Exception {
        Random seeds = new Random(20240601);
        for (int k = 0; k < 60; k++) {
            long seq = seeds.nextInt() & 0xffffffffL;
            sameAsMina(useJdk, seeds.nextLong(), seq, 12, LENGTHS);
        }
        sameAsMina(useJdk, 1, 0, 40, LENGTHS);
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void everyLengthUpToAFewBlocks(boolean useJdk) throws Exception {
        int[] all = new int[48];
        for (int i = 0; i < all.length; i++) {
            all[i] = 8 * i;
        }
        sameAsMina(useJdk, 2, 5, 300, all);
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void sequenceNumbersAcrossTheByteBoundariesAndTheUint32Wrap(boolean useJdk) throws Exception {
        for (long start : new long[] {0xfeL, 0xfffeL, 0xfffffeL, 0x7ffffffeL, 0xfffffff0L}) {
            sameAsMina(useJdk, start, start, 24, LENGTHS); // the last one wraps 2^32 -> 0
        }
    }

    @Test
    void poly1305MatchesRfc8439Vector() {
        // RFC 8439 §2.5.2
        byte[] key = HexFormat.of().parseHex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
        byte[] msg = "Cryptographic Forum Research Group".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Poly1305 p = new Poly1305();
        p.init(key, 0);
        p.update(msg, 0, msg.length);
        byte[] tag = new byte[16];
        p.finish(tag, 0);
        assertThat(HexFormat.of().formatHex(tag)).isEqualTo("a8061dc1305136c6c22b8baf0c0127a9");
    }

    @Test
    void poly1305MatchesMinaForEveryLengthAndSplit() throws Exception {
        Random rnd = new Random(3);
        org.apache.sshd.common.mac.Poly1305Mac mina = new org.apache.sshd.common.mac.Poly1305Mac();
        Poly1305 ours = new Poly1305();
        byte[] key = new byte[32];
        byte[] a = new byte[16];
        byte[] b = new byte[16];
        for (int len = 0; len < 300; len++) {
            for (int trial = 0; trial < 4; trial++) {
                rnd.nextBytes(key);
                byte[] msg = new byte[len];
                if (trial == 3) {
                    Arrays.fill(msg, (byte) 0xff); // limbs at their largest
                    Arrays.fill(key, 16, 32, (byte) 0xff);
                } else {
                    rnd.nextBytes(msg);
                }
                mina.init(key);
                mina.update(msg, 0, len);
                mina.doFinal(a, 0);
                ours.init(key, 0);
                int cut = len == 0 ? 0 : rnd.nextInt(len);
                ours.update(msg, 0, cut);
                ours.update(msg, cut, len - cut);
                ours.finish(b, 0);
                assertThat(b).as("length %d", len).isEqualTo(a);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aFlippedBitAnywhereFailsTheTagAndReleasesNoPlaintext(boolean useJdk) throws Exception {
        Random rnd = new Random(4);
        byte[] key = new byte[64];
        rnd.nextBytes(key);
        int len = 1024;
        byte[] plain = new byte[4 + len + 16];
        rnd.nextBytes(plain);
        for (int bit : new int[] {0, 31, 32, 8 * 4 + 5, 8 * (4 + len) - 1, 8 * (4 + len), 8 * (4 + len + 16) - 1}) {
            Cipher enc = new ChaCha20Poly1305(useJdk);
            enc.init(Mode.Encrypt, key, iv(77));
            byte[] packet = plain.clone();
            enc.updateWithAAD(packet, 0, 4, len);
            packet[bit / 8] ^= (byte) (1 << (bit % 8));
            byte[] tampered = packet.clone();

            Cipher dec = new ChaCha20Poly1305(useJdk);
            dec.init(Mode.Decrypt, key, iv(77));
            dec.updateAAD(packet, 0, 4);
            assertThatThrownBy(() -> dec.update(packet, 4, len)).isInstanceOf(AEADBadTagException.class);
            assertThat(Arrays.copyOfRange(packet, 4, 4 + len + 16)).as("bit %d", bit)
                    .isEqualTo(Arrays.copyOfRange(tampered, 4, 4 + len + 16));
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void wrongSequenceNumberFailsTheTag(boolean useJdk) throws Exception {
        byte[] key = new byte[64];
        new Random(5).nextBytes(key);
        byte[] packet = new byte[4 + 64 + 16];
        Cipher enc = new ChaCha20Poly1305(useJdk);
        enc.init(Mode.Encrypt, key, iv(9));
        enc.updateWithAAD(packet, 0, 4, 64);
        Cipher dec = new ChaCha20Poly1305(useJdk);
        dec.init(Mode.Decrypt, key, iv(10));
        dec.updateAAD(packet, 0, 4);
        assertThatThrownBy(() -> dec.update(packet, 4, 64)).isInstanceOf(AEADBadTagException.class);
    }

    @Test
    void refusesSequenceNumbersAbove32BitsAndTheFullWrap() throws Exception {
        byte[] key = new byte[64];
        assertThatThrownBy(() -> new ChaCha20Poly1305().init(Mode.Encrypt, key, iv(1L << 32)))
                .isInstanceOf(IllegalStateException.class);
        Cipher c = new ChaCha20Poly1305(false);
        c.init(Mode.Encrypt, key, iv(0));
        byte[] packet = new byte[4 + 8 + 16];
        assertThatThrownBy(() -> c.update(packet, 4, 8)).as("payload without the length").isInstanceOf(IllegalStateException.class);
    }

    @Test
    void factoryDeclaresWhatMinaDeclares() {
        BuiltinCiphers mina = BuiltinCiphers.cc20p1305_openssh;
        ChaCha20Poly1305Factory f = ChaCha20Poly1305Factory.INSTANCE;
        assertThat(f.getName()).isEqualTo("chacha20-poly1305@openssh.com");
        assertThat(new int[] {f.getIVSize(), f.getKdfSize(), f.getKeySize(), f.getAuthenticationTagSize(), f.getCipherBlockSize()})
                .containsExactly(mina.getIVSize(), mina.getKdfSize(), mina.getKeySize(), mina.getAuthenticationTagSize(), mina.getCipherBlockSize());
        Cipher c = f.create();
        Cipher m = mina.create();
        assertThat(c.getAlgorithm()).startsWith("ChaCha");
        assertThat(new int[] {c.getIVSize(), c.getKdfSize(), c.getKeySize(), c.getAuthenticationTagSize(), c.getCipherBlockSize()})
                .containsExactly(m.getIVSize(), m.getKdfSize(), m.getKeySize(), m.getAuthenticationTagSize(), m.getCipherBlockSize());
    }
}
