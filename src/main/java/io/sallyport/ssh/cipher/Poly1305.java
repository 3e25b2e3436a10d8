package io.sallyport.ssh.cipher;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Poly1305 one-time authenticator (RFC 8439 §2.5) over 26-bit limbs held in {@code long}s.
 *
 * <p>Bulk input is absorbed four blocks per step, {@code h = (h + m1)·r⁴ + m2·r³ + m3·r² + m4·r},
 * so the four products are independent of each other and there is one carry chain per 64 bytes
 * instead of one per 16: about twice the speed of the textbook one-block loop on the JVM. Every
 * partial sum stays below 2⁶¹, so plain signed {@code long} arithmetic never overflows.
 *
 * <p>Not thread-safe; no allocation after construction. Branch-free with respect to key and data.
 */
final class Poly1305 {
    static final int KEY_BYTES = 32;
    static final int TAG_BYTES = 16;
    private static final int BLOCK = 16;
    private static final long M = 0x3ffffffL;
    private static final long HIBIT = 1L << 24;
    private static final VarHandle LE64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LE32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    // r, r^2, r^3, r^4 as 26-bit limbs, and 5·limb for the limbs that wrap around 2^130.
    private long r0, r1, r2, r3, r4, s1, s2, s3, s4;
    private long p0, p1, p2, p3, p4, ps1, ps2, ps3, ps4;
    private long q0, q1, q2, q3, q4, qs1, qs2, qs3, qs4;
    private long u0, u1, u2, u3, u4, us1, us2, us3, us4;
    private long k0, k1, k2, k3;
    private long h0, h1, h2, h3, h4;
    private final byte[] partial = new byte[BLOCK];
    private final long[] product = new long[5];
    private int partialLen;

    void init(byte[] key, int off) {
        long t0 = (long) LE64.get(key, off);
        long t1 = (long) LE64.get(key, off + 8);
        r0 = t0 & 0x3ffffffL;
        r1 = (t0 >>> 26) & 0x3ffff03L;
        r2 = ((t0 >>> 52) | (t1 << 12)) & 0x3ffc0ffL;
        r3 = (t1 >>> 14) & 0x3f03fffL;
        r4 = (t1 >>> 40) & 0x00fffffL;
        s1 = r1 * 5; s2 = r2 * 5; s3 = r3 * 5; s4 = r4 * 5;

        // p = r^2, q = r^3, u = r^4
        long[] t = product;
        mul(r0, r1, r2, r3, r4, r0, r1, r2, r3, r4, t);
        p0 = t[0]; p1 = t[1]; p2 = t[2]; p3 = t[3]; p4 = t[4];
        mul(p0, p1, p2, p3, p4, r0, r1, r2, r3, r4, t);
        q0 = t[0]; q1 = t[1]; q2 = t[2]; q3 = t[3]; q4 = t[4];
        mul(p0, p1, p2, p3, p4, p0, p1, p2, p3, p4, t);
        u0 = t[0]; u1 = t[1]; u2 = t[2]; u3 = t[3]; u4 = t[4];
        ps1 = p1 * 5; ps2 = p2 * 5; ps3 = p3 * 5; ps4 = p4 * 5;
        qs1 = q1 * 5; qs2 = q2 * 5; qs3 = q3 * 5; qs4 = q4 * 5;
        us1 = u1 * 5; us2 = u2 * 5; us3 = u3 * 5; us4 = u4 * 5;
        Arrays.fill(t, 0);

        k0 = (int) LE32.get(key, off + 16) & 0xffffffffL;
        k1 = (int) LE32.get(key, off + 20) & 0xffffffffL;
        k2 = (int) LE32.get(key, off + 24) & 0xffffffffL;
        k3 = (int) LE32.get(key, off + 28) & 0xffffffffL;
        h0 = h1 = h2 = h3 = h4 = 0;
        partialLen = 0;
    }

    /** a·b mod 2^130-5, limbs of the result each below 2^26. */
    private static void mul(long a0, long a1, long a2, long a3, long a4,
                            long b0, long b1, long b2, long b3, long b4, long[] out) {
        long c1 = b1 * 5, c2 = b2 * 5, c3 = b3 * 5, c4 = b4 * 5;
        long d0 = a0 * b0 + a1 * c4 + a2 * c3 + a3 * c2 + a4 * c1;
        long d1 = a0 * b1 + a1 * b0 + a2 * c4 + a3 * c3 + a4 * c2;
        long d2 = a0 * b2 + a1 * b1 + a2 * b0 + a3 * c4 + a4 * c3;
        long d3 = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0 + a4 * c4;
        long d4 = a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0;
        long c;
        c = d0 >>> 26; d0 &= M; d1 += c;
        c = d1 >>> 26; d1 &= M; d2 += c;
        c = d2 >>> 26; d2 &= M; d3 += c;
        c = d3 >>> 26; d3 &= M; d4 += c;
        c = d4 >>> 26; d4 &= M; d0 += c * 5;
        c = d0 >>> 26; d0 &= M; d1 += c;
        c = d1 >>> 26; d1 &= M; d2 += c;
        out[0] = d0; out[1] = d1; out[2] = d2; out[3] = d3; out[4] = d4;
    }

    void update(byte[] in, int off, int len) {
        if (partialLen > 0) {
            int n = Math.min(len, BLOCK - partialLen);
            System.arraycopy(in, off, partial, partialLen, n);
            partialLen += n;
            off += n;
            len -= n;
            if (partialLen < BLOCK) {
                return;
            }
            blocks(partial, 0, 1, HIBIT);
            partialLen = 0;
        }
        int full = len >>> 4;
        if (full > 0) {
            blocks(in, off, full, HIBIT);
            off += full << 4;
            len -= full << 4;
        }
        if (len > 0) {
            System.arraycopy(in, off, partial, 0, len);
            partialLen = len;
        }
    }

    private void blocks(byte[] in, int off, int n, long hibit) {
        long h0 = this.h0, h1 = this.h1, h2 = this.h2, h3 = this.h3, h4 = this.h4;
        while (n >= 4) {
            long a0, a1, a2, a3, a4, b0, b1, b2, b3, b4, c0, c1, c2, c3, c4, e0, e1, e2, e3, e4, t0, t1;
            t0 = (long) LE64.get(in, off); t1 = (long) LE64.get(in, off + 8);
            a0 = h0 + (t0 & M); a1 = h1 + ((t0 >>> 26) & M); a2 = h2 + (((t0 >>> 52) | (t1 << 12)) & M);
            a3 = h3 + ((t1 >>> 14) & M); a4 = h4 + ((t1 >>> 40) | hibit);
            t0 = (long) LE64.get(in, off + 16); t1 = (long) LE64.get(in, off + 24);
            b0 = t0 & M; b1 = (t0 >>> 26) & M; b2 = ((t0 >>> 52) | (t1 << 12)) & M;
            b3 = (t1 >>> 14) & M; b4 = (t1 >>> 40) | hibit;
            t0 = (long) LE64.get(in, off + 32); t1 = (long) LE64.get(in, off + 40);
            c0 = t0 & M; c1 = (t0 >>> 26) & M; c2 = ((t0 >>> 52) | (t1 << 12)) & M;
            c3 = (t1 >>> 14) & M; c4 = (t1 >>> 40) | hibit;
            t0 = (long) LE64.get(in, off + 48); t1 = (long) LE64.get(in, off + 56);
            e0 = t0 & M; e1 = (t0 >>> 26) & M; e2 = ((t0 >>> 52) | (t1 << 12)) & M;
            e3 = (t1 >>> 14) & M; e4 = (t1 >>> 40) | hibit;

            long d0 = a0 * u0 + a1 * us4 + a2 * us3 + a3 * us2 + a4 * us1
                    + b0 * q0 + b1 * qs4 + b2 * qs3 + b3 * qs2 + b4 * qs1
                    + c0 * p0 + c1 * ps4 + c2 * ps3 + c3 * ps2 + c4 * ps1
                    + e0 * r0 + e1 * s4 + e2 * s3 + e3 * s2 + e4 * s1;
            long d1 = a0 * u1 + a1 * u0 + a2 * us4 + a3 * us3 + a4 * us2
                    + b0 * q1 + b1 * q0 + b2 * qs4 + b3 * qs3 + b4 * qs2
                    + c0 * p1 + c1 * p0 + c2 * ps4 + c3 * ps3 + c4 * ps2
                    + e0 * r1 + e1 * r0 + e2 * s4 + e3 * s3 + e4 * s2;
            long d2 = a0 * u2 + a1 * u1 + a2 * u0 + a3 * us4 + a4 * us3
                    + b0 * q2 + b1 * q1 + b2 * q0 + b3 * qs4 + b4 * qs3
                    + c0 * p2 + c1 * p1 + c2 * p0 + c3 * ps4 + c4 * ps3
                    + e0 * r2 + e1 * r1 + e2 * r0 + e3 * s4 + e4 * s3;
            long d3 = a0 * u3 + a1 * u2 + a2 * u1 + a3 * u0 + a4 * us4
                    + b0 * q3 + b1 * q2 + b2 * q1 + b3 * q0 + b4 * qs4
                    + c0 * p3 + c1 * p2 + c2 * p1 + c3 * p0 + c4 * ps4
                    + e0 * r3 + e1 * r2 + e2 * r1 + e3 * r0 + e4 * s4;
            long d4 = a0 * u4 + a1 * u3 + a2 * u2 + a3 * u1 + a4 * u0
                    + b0 * q4 + b1 * q3 + b2 * q2 + b3 * q1 + b4 * q0
                    + c0 * p4 + c1 * p3 + c2 * p2 + c3 * p1 + c4 * p0
                    + e0 * r4 + e1 * r3 + e2 * r2 + e3 * r1 + e4 * r0;
            long c;
            c = d0 >>> 26; h0 = d0 & M; d1 += c;
            c = d1 >>> 26; h1 = d1 & M; d2 += c;
            c = d2 >>> 26; h2 = d2 & M; d3 += c;
            c = d3 >>> 26; h3 = d3 & M; d4 += c;
            c = d4 >>> 26; h4 = d4 & M; h0 += c * 5;
            c = h0 >>> 26; h0 &= M; h1 += c;
            off += 64;
            n -= 4;
        }
        while (n > 0) {
            long t0 = (long) LE64.get(in, off), t1 = (long) LE64.get(in, off + 8);
            h0 += t0 & M; h1 += (t0 >>> 26) & M; h2 += ((t0 >>> 52) | (t1 << 12)) & M;
            h3 += (t1 >>> 14) & M; h4 += (t1 >>> 40) | hibit;
            long d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1;
            long d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2;
            long d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3;
            long d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4;
            long d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
            long c;
            c = d0 >>> 26; h0 = d0 & M; d1 += c;
            c = d1 >>> 26; h1 = d1 & M; d2 += c;
            c = d2 >>> 26; h2 = d2 & M; d3 += c;
            c = d3 >>> 26; h3 = d3 & M; d4 += c;
            c = d4 >>> 26; h4 = d4 & M; h0 += c * 5;
            c = h0 >>> 26; h0 &= M; h1 += c;
            off += 16;
            n--;
        }
        this.h0 = h0; this.h1 = h1; this.h2 = h2; this.h3 = h3; this.h4 = h4;
    }

    /** Writes the 16-byte tag to {@code out[off..off+16)}; the state must be re-initialized before reuse. */
    void finish(byte[] out, int off) {
        if (partialLen > 0) {
            partial[partialLen] = 1;
            Arrays.fill(partial, partialLen + 1, BLOCK, (byte) 0);
            blocks(partial, 0, 1, 0);
            partialLen = 0;
        }
        long h0 = this.h0, h1 = this.h1, h2 = this.h2, h3 = this.h3, h4 = this.h4;
        long c;
        c = h1 >>> 26; h1 &= M; h2 += c;
        c = h2 >>> 26; h2 &= M; h3 += c;
        c = h3 >>> 26; h3 &= M; h4 += c;
        c = h4 >>> 26; h4 &= M; h0 += c * 5;
        c = h0 >>> 26; h0 &= M; h1 += c;
        c = h1 >>> 26; h1 &= M; h2 += c;
        c = h2 >>> 26; h2 &= M; h3 += c;
        c = h3 >>> 26; h3 &= M; h4 += c;

        // g = h + 5 - 2^130; use g if it is non-negative (h >= p), else h.
        long g0 = h0 + 5; c = g0 >>> 26; g0 &= M;
        long g1 = h1 + c; c = g1 >>> 26; g1 &= M;
        long g2 = h2 + c; c = g2 >>> 26; g2 &= M;
        long g3 = h3 + c; c = g3 >>> 26; g3 &= M;
        long g4 = h4 + c - (1L << 26);
        long mask = (g4 >> 63) ; // all ones if g4 < 0: keep h
        h0 = (h0 & mask) | (g0 & ~mask);
        h1 = (h1 & mask) | (g1 & ~mask);
        h2 = (h2 & mask) | (g2 & ~mask);
        h3 = (h3 & mask) | (g3 & ~mask);
        h4 = (h4 & mask) | (g4 & ~mask);

        // h mod 2^128 as four 32-bit words, plus the key's s half.
        long f0 = ((h0) | (h1 << 26)) & 0xffffffffL;
        long f1 = ((h1 >>> 6) | (h2 << 20)) & 0xffffffffL;
        long f2 = ((h2 >>> 12) | (h3 << 14)) & 0xffffffffL;
        long f3 = ((h3 >>> 18) | (h4 << 8)) & 0xffffffffL;
        f0 += k0;
        f1 += k1 + (f0 >>> 32);
        f2 += k2 + (f1 >>> 32);
        f3 += k3 + (f2 >>> 32);
        LE32.set(out, off, (int) f0);
        LE32.set(out, off + 4, (int) f1);
        LE32.set(out, off + 8, (int) f2);
        LE32.set(out, off + 12, (int) f3);
        this.h0 = this.h1 = this.h2 = this.h3 = this.h4 = 0;
    }
}
