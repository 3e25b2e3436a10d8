package io.sallyport.ssh.cipher;

import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.spec.ChaCha20ParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.apache.sshd.common.cipher.Cipher;

/**
 * {@code chacha20-poly1305@openssh.com} (OpenSSH's PROTOCOL.chacha20poly1305), a drop-in for MINA
 * SSHD's {@code ChaCha20Cipher} that is several times faster.
 *
 * <p>The 64-byte key is K_2 (payload, first 32 bytes) then K_1 (length field). The nonce of a packet
 * is its 64-bit big-endian sequence number; with OpenSSH's original ChaCha20 layout (64-bit counter,
 * 64-bit nonce) that is exactly the RFC 8439 layout with a 32-bit counter and the 96-bit nonce
 * {@code 00000000 || seq(8, big-endian)}, since an SSH packet never needs 2^32 blocks. The Poly1305
 * key is the first 32 bytes of K_2's block 0, the payload is encrypted from block 1, and the tag
 * covers the encrypted length followed by the ciphertext.
 *
 * <p>Where the speed comes from: the payload keystream uses the JDK's {@code ChaCha20} cipher on
 * Java 20 and later, which HotSpot compiles to AVX2/AVX-512 (or ASIMD) code; on older JDKs, whose
 * ChaCha20 is plain Java, a leaner Java block function of ours is faster. Poly1305 is our own
 * four-blocks-per-step implementation ({@link Poly1305}). The length field and the Poly1305 key
 * take one scalar block each.
 *
 * <p>MINA drives it as it drives its own: {@code init} with the sequence number in the IV (it keys
 * on {@link #getAlgorithm()} starting with "ChaCha"), then per packet {@code updateAAD} on the
 * 4-byte length and {@code update} on the payload, or {@code updateWithAAD} for both. On decryption
 * the tag is checked, in constant time, before a single payload byte is decrypted; a packet whose
 * tag fails is left as ciphertext. Not thread-safe (MINA uses one instance per direction).
 */
public final class ChaCha20Poly1305 implements Cipher {
    static final boolean JDK_CHACHA_IS_FAST = Runtime.version().feature() >= 20;

    private final boolean useJdk;
    private final int[] bodyKey = new int[8];
    private final int[] headerKey = new int[8];
    private final int[] scratch = new int[16];
    private final byte[] polyKey = new byte[Poly1305.KEY_BYTES];
    private final byte[] tag = new byte[Poly1305.TAG_BYTES];
    private final byte[] received = new byte[Poly1305.TAG_BYTES];
    private final byte[] nonce = new byte[12];
    private final Poly1305 poly = new Poly1305();
    private javax.crypto.Cipher jdk;
    private SecretKeySpec jdkKey;
    private Mode mode;
    private long initialSeq;
    private long seq;
    private boolean aadDone;

    public ChaCha20Poly1305() {
        this(JDK_CHACHA_IS_FAST);
    }

    /** @param useJdk whether the payload keystream comes from the JDK's ChaCha20 (tests run both). */
    ChaCha20Poly1305(boolean useJdk) {
        this.useJdk = useJdk;
    }

    @Override
    public String getAlgorithm() {
        return "ChaCha20"; // MINA puts the sequence number in the IV for names starting with "ChaCha"
    }

    @Override
    public String getTransformation() {
        return "ChaCha20";
    }

    @Override
    public int getIVSize() {
        return 8;
    }

    @Override
    public int getAuthenticationTagSize() {
        return Poly1305.TAG_BYTES;
    }

    @Override
    public int getCipherBlockSize() {
        return 8;
    }

    @Override
    public int getKdfSize() {
        return 64;
    }

    @Override
    public int getKeySize() {
        return 512;
    }

    @Override
    public void init(Mode mode, byte[] key, byte[] iv) throws Exception {
        if (key == null || key.length < 64) {
            throw new IllegalArgumentException("chacha20-poly1305 needs a 64-byte key");
        }
        if (iv == null || iv.length < 8) {
            throw new IllegalArgumentException("chacha20-poly1305 needs the 8-byte sequence number as IV");
        }
        long s = 0;
        for (int i = 0; i < 8; i++) {
            s = (s << 8) | (iv[i] & 0xff);
        }
        if ((s >>> 32) != 0) {
            throw new IllegalStateException("ChaCha20 nonce is not a valid SSH packet sequence number");
        }
        this.mode = mode;
        ChaCha20.loadKey(key, 0, bodyKey);
        ChaCha20.loadKey(key, 32, headerKey);
        if (useJdk) {
            jdk = javax.crypto.Cipher.getInstance("ChaCha20");
            jdkKey = new SecretKeySpec(key, 0, 32, "ChaCha20");
        }
        initialSeq = s;
        seq = s;
        aadDone = false;
    }

    @Override
    public void updateAAD(byte[] data, int offset, int length) throws Exception {
        if (mode == null) {
            throw new IllegalStateException("Cipher not initialized");
        }
        if (length != 4) {
            throw new IllegalArgumentException("AAD only supported for encrypted packet length");
        }
        int n0 = nonceWord0();
        int n1 = nonceWord1();
        // Poly1305 key: the first 32 bytes of K_2's block 0.
        Arrays.fill(polyKey, (byte) 0);
        ChaCha20.xor(bodyKey, 0, n0, n1, polyKey, 0, Poly1305.KEY_BYTES, scratch);
        poly.init(polyKey, 0);
        Arrays.fill(polyKey, (byte) 0);
        if (mode == Mode.Decrypt) {
            poly.update(data, offset, 4);
        }
        ChaCha20.xor(headerKey, 0, n0, n1, data, offset, 4, scratch);
        if (mode == Mode.Encrypt) {
            poly.update(data, offset, 4);
        }
        aadDone = true;
    }

    @Override
    public void update(byte[] input, int inputOffset, int inputLen) throws Exception {
        if (!aadDone) {
            throw new IllegalStateException("chacha20-poly1305: the packet length (AAD) must come first");
        }
        aadDone = false;
        if (mode == Mode.Decrypt) {
            poly.update(input, inputOffset, inputLen);
            poly.finish(tag, 0);
            System.arraycopy(input, inputOffset + inputLen, received, 0, Poly1305.TAG_BYTES);
            boolean ok = MessageDigest.isEqual(tag, received);
            Arrays.fill(tag, (byte) 0);
            if (!ok) {
                throw new AEADBadTagException("Tag mismatch");
            }
            keystream(input, inputOffset, inputLen);
        } else {
            keystream(input, inputOffset, inputLen);
            poly.update(input, inputOffset, inputLen);
            poly.finish(input, inputOffset + inputLen);
        }
        long next = (seq + 1) & 0xffffffffL;
        if (next == initialSeq) {
            throw new IllegalStateException("Packet sequence number cannot be reused with the same key");
        }
        seq = next;
    }

    /** XORs the payload keystream (K_2, from block 1) into {@code buf[off..off+len)}. */
    private void keystream(byte[] buf, int off, int len) throws Exception {
        if (len == 0) {
            return;
        }
        if (useJdk) {
            // RFC 8439 nonce: 4 zero bytes, then the sequence number, big-endian.
            long s = seq;
            for (int i = 0; i < 8; i++) {
                nonce[11 - i] = (byte) (s >>> (8 * i));
            }
            jdk.init(mode == Mode.Encrypt ? javax.crypto.Cipher.ENCRYPT_MODE : javax.crypto.Cipher.DECRYPT_MODE,
                    jdkKey, new ChaCha20ParameterSpec(nonce, 1));
            int n = jdk.update(buf, off, len, buf, off);
            if (n != len) {
                throw new IllegalStateException("ChaCha20 produced " + n + " of " + len + " bytes");
            }
        } else {
            ChaCha20.xor(bodyKey, 1, nonceWord0(), nonceWord1(), buf, off, len, scratch);
        }
    }

    // State words 14 and 15: the 8-byte big-endian sequence number read as two little-endian words.
    private int nonceWord0() {
        return Integer.reverseBytes((int) (seq >>> 32));
    }

    private int nonceWord1() {
        return Integer.reverseBytes((int) seq);
    }

    @Override
    public String toString() {
        return "chacha20-poly1305";
    }
}
