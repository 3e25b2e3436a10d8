package io.sallyport.ssh.cipher;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.sshd.common.cipher.ChaCha20Cipher;
import org.apache.sshd.common.cipher.Cipher.Mode;
import org.apache.sshd.common.mac.Poly1305Mac;

/**
 * In-process speed of chacha20-poly1305@openssh.com and its parts: MINA SSHD's cipher, ours with
 * each payload keystream, and the two Poly1305s and ChaCha20 keystreams alone, encrypting 32 KiB
 * packets (the size OpenSSH sends in a bulk tunnel). Reports MiB per CPU-second of this thread
 * (medians of interleaved rounds), so a busy machine skews it less than wall time would.
 *
 * <p>A program, not a test: {@code java -cp target/test-classes:target/classes:<deps>
 * io.sallyport.ssh.cipher.ChaCha20Poly1305Benchmark [names...]}; run it on each JDK of interest.
 */
public final class ChaCha20Poly1305Benchmark {
    private interface Op {
        void run(byte[] buf, int n, long seq) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int size = 32768;
        Random rnd = new Random(1);
        byte[] key = new byte[64];
        rnd.nextBytes(key);
        byte[] buf = new byte[size + 4 + 16];
        rnd.nextBytes(buf);
        byte[] tag = new byte[16];
        Map<String, Op> ops = new LinkedHashMap<>();

        ChaCha20Cipher mina = new ChaCha20Cipher();
        mina.init(Mode.Encrypt, key, new byte[8]);
        ops.put("mina", (b, n, s) -> mina.updateWithAAD(b, 0, 4, n));
        ChaCha20Poly1305 withJdk = new ChaCha20Poly1305(true);
        withJdk.init(Mode.Encrypt, key, new byte[8]);
        ops.put("ours-jdk-keystream", (b, n, s) -> withJdk.updateWithAAD(b, 0, 4, n));
        ChaCha20Poly1305 withOwn = new ChaCha20Poly1305(false);
        withOwn.init(Mode.Encrypt, key, new byte[8]);
        ops.put("ours-own-keystream", (b, n, s) -> withOwn.updateWithAAD(b, 0, 4, n));

        Poly1305Mac minaPoly = new Poly1305Mac();
        byte[] polyKey = Arrays.copyOf(key, 32);
        ops.put("mina-poly1305", (b, n, s) -> {
            minaPoly.init(polyKey);
            minaPoly.update(b, 4, n);
            minaPoly.doFinal(tag, 0);
        });
        Poly1305 poly = new Poly1305();
        ops.put("own-poly1305", (b, n, s) -> {
            poly.init(key, 0);
            poly.update(b, 4, n);
            poly.finish(tag, 0);
        });
        int[] k = new int[8];
        ChaCha20.loadKey(key, 0, k);
        int[] scratch = new int[16];
        ops.put("own-chacha20", (b, n, s) -> ChaCha20.xor(k, 1, 0, (int) s, b, 4, n, scratch));
        javax.crypto.Cipher jdk = javax.crypto.Cipher.getInstance("ChaCha20");
        javax.crypto.spec.SecretKeySpec jdkKey = new javax.crypto.spec.SecretKeySpec(key, 0, 32, "ChaCha20");
        byte[] nonce = new byte[12];
        ops.put("jdk-chacha20", (b, n, s) -> {
            for (int i = 0; i < 8; i++) {
                nonce[11 - i] = (byte) (s >>> (8 * i));
            }
            jdk.init(javax.crypto.Cipher.ENCRYPT_MODE, jdkKey, new javax.crypto.spec.ChaCha20ParameterSpec(nonce, 1));
            jdk.update(b, 4, n, b, 4);
        });
        if (args.length > 0) {
            ops.keySet().retainAll(Arrays.asList(args));
        }

        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<String, List<Double>> speeds = new LinkedHashMap<>();
        long seq = 0;
        int iters = 8192; // 256 MiB per round
        for (int round = 0; round < 10; round++) {
            for (Map.Entry<String, Op> e : ops.entrySet()) {
                long t0 = mx.getCurrentThreadCpuTime();
                for (int i = 0; i < iters; i++) {
                    e.getValue().run(buf, size, seq++);
                }
                long ns = mx.getCurrentThreadCpuTime() - t0;
                if (round >= 2) { // warm-up
                    speeds.computeIfAbsent(e.getKey(), x -> new ArrayList<>()).add(iters * (double) size / (1 << 20) / (ns / 1e9));
                }
            }
        }
        System.out.printf("Java %s, %d-byte packets, MiB per CPU-second (median, min-max of %d rounds)%n",
                System.getProperty("java.version"), size, 8);
        for (Map.Entry<String, List<Double>> e : speeds.entrySet()) {
            List<Double> v = e.getValue();
            Collections.sort(v);
            System.out.printf("%-20s %6.0f  (%.0f-%.0f)%n", e.getKey(), v.get(v.size() / 2), v.get(0), v.get(v.size() - 1));
        }
    }
}
