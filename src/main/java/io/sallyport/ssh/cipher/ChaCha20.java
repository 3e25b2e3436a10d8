package io.sallyport.ssh.cipher;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The ChaCha20 block function (RFC 8439 §2.3) in plain Java, in the original layout OpenSSH uses:
 * state words 12-13 a 64-bit block counter, 14-15 a 64-bit nonce. Used for the 4-byte length field,
 * the Poly1305 key block, and the payload where the JDK's own ChaCha20 is unavailable.
 */
final class ChaCha20 {
    static final int BLOCK = 64;
    private static final VarHandle LE32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int C0 = 0x61707865, C1 = 0x3320646e, C2 = 0x79622d32, C3 = 0x6b206574;

    private ChaCha20() {}

    /** Loads a 32-byte key as eight little-endian words. */
    static void loadKey(byte[] key, int off, int[] k) {
        for (int i = 0; i < 8; i++) {
            k[i] = (int) LE32.get(key, off + 4 * i);
        }
    }

    /**
     * XORs {@code len} bytes of keystream for (key, counter, nonce) into {@code buf[off..)} in place,
     * starting at block {@code counter} (the counter is 32 bits here; SSH packets are far shorter
     * than 2^32 blocks). {@code n0}/{@code n1} are state words 14 and 15. A partial last block goes
     * through {@code scratch} (16 ints), which is wiped afterwards.
     */
    static void xor(int[] k, int counter, int n0, int n1, byte[] buf, int off, int len, int[] scratch) {
        int k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4], k5 = k[5], k6 = k[6], k7 = k[7];
        while (len > 0) {
            int x0 = C0, x1 = C1, x2 = C2, x3 = C3;
            int x4 = k0, x5 = k1, x6 = k2, x7 = k3, x8 = k4, x9 = k5, x10 = k6, x11 = k7;
            int x12 = counter, x13 = 0, x14 = n0, x15 = n1;
            for (int i = 0; i < 10; i++) {
                x0 += x4; x12 = Integer.rotateLeft(x12 ^ x0, 16); x8 += x12; x4 = Integer.rotateLeft(x4 ^ x8, 12);
                x0 += x4; x12 = Integer.rotateLeft(x12 ^ x0, 8); x8 += x12; x4 = Integer.rotateLeft(x4 ^ x8, 7);
                x1 += x5; x13 = Integer.rotateLeft(x13 ^ x1, 16); x9 += x13; x5 = Integer.rotateLeft(x5 ^ x9, 12);
                x1 += x5; x13 = Integer.rotateLeft(x13 ^ x1, 8); x9 += x13; x5 = Integer.rotateLeft(x5 ^ x9, 7);
                x2 += x6; x14 = Integer.rotateLeft(x14 ^ x2, 16); x10 += x14; x6 = Integer.rotateLeft(x6 ^ x10, 12);
                x2 += x6; x14 = Integer.rotateLeft(x14 ^ x2, 8); x10 += x14; x6 = Integer.rotateLeft(x6 ^ x10, 7);
                x3 += x7; x15 = Integer.rotateLeft(x15 ^ x3, 16); x11 += x15; x7 = Integer.rotateLeft(x7 ^ x11, 12);
                x3 += x7; x15 = Integer.rotateLeft(x15 ^ x3, 8); x11 += x15; x7 = Integer.rotateLeft(x7 ^ x11, 7);
                x0 += x5; x15 = Integer.rotateLeft(x15 ^ x0, 16); x10 += x15; x5 = Integer.rotateLeft(x5 ^ x10, 12);
                x0 += x5; x15 = Integer.rotateLeft(x15 ^ x0, 8); x10 += x15; x5 = Integer.rotateLeft(x5 ^ x10, 7);
                x1 += x6; x12 = Integer.rotateLeft(x12 ^ x1, 16); x11 += x12; x6 = Integer.rotateLeft(x6 ^ x11, 12);
                x1 += x6; x12 = Integer.rotateLeft(x12 ^ x1, 8); x11 += x12; x6 = Integer.rotateLeft(x6 ^ x11, 7);
                x2 += x7; x13 = Integer.rotateLeft(x13 ^ x2, 16); x8 += x13; x7 = Integer.rotateLeft(x7 ^ x8, 12);
                x2 += x7; x13 = Integer.rotateLeft(x13 ^ x2, 8); x8 += x13; x7 = Integer.rotateLeft(x7 ^ x8, 7);
                x3 += x4; x14 = Integer.rotateLeft(x14 ^ x3, 16); x9 += x14; x4 = Integer.rotateLeft(x4 ^ x9, 12);
                x3 += x4; x14 = Integer.rotateLeft(x14 ^ x3, 8); x9 += x14; x4 = Integer.rotateLeft(x4 ^ x9, 7);
            }
            x0 += C0; x1 += C1; x2 += C2; x3 += C3;
            x4 += k0; x5 += k1; x6 += k2; x7 += k3; x8 += k4; x9 += k5; x10 += k6; x11 += k7;
            x12 += counter; x14 += n0; x15 += n1;
            if (len >= BLOCK) {
                xor32(buf, off, x0); xor32(buf, off + 4, x1); xor32(buf, off + 8, x2); xor32(buf, off + 12, x3);
                xor32(buf, off + 16, x4); xor32(buf, off + 20, x5); xor32(buf, off + 24, x6); xor32(buf, off + 28, x7);
                xor32(buf, off + 32, x8); xor32(buf, off + 36, x9); xor32(buf, off + 40, x10); xor32(buf, off + 44, x11);
                xor32(buf, off + 48, x12); xor32(buf, off + 52, x13); xor32(buf, off + 56, x14); xor32(buf, off + 60, x15);
                off += BLOCK;
                len -= BLOCK;
                counter++;
            } else {
                int[] ks = scratch;
                ks[0] = x0; ks[1] = x1; ks[2] = x2; ks[3] = x3; ks[4] = x4; ks[5] = x5; ks[6] = x6; ks[7] = x7;
                ks[8] = x8; ks[9] = x9; ks[10] = x10; ks[11] = x11; ks[12] = x12; ks[13] = x13; ks[14] = x14; ks[15] = x15;
                for (int i = 0; i < len; i++) {
                    buf[off + i] ^= (byte) (ks[i >>> 2] >>> ((i & 3) << 3));
                }
                java.util.Arrays.fill(ks, 0);
                len = 0;
            }
        }
    }

    private static void xor32(byte[] b, int off, int v) {
        LE32.set(b, off, (int) LE32.get(b, off) ^ v);
    }
}
