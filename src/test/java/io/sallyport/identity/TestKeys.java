package io.sallyport.identity;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real OpenSSH keys made by the stock {@code ssh-keygen} on the PATH, and hand-built wire blobs for
 * key types modern OpenSSH no longer makes (DSA) or for damaged keys.
 */
final class TestKeys {
    private TestKeys() {}

    /**
     * A key pair as {@code ssh-keygen} wrote it, with what {@code ssh-keygen -lf} says about it.
     *
     * @param line        the {@code .pub} line, comment included
     * @param fingerprint {@code SHA256:...} as printed by {@code ssh-keygen -lf}
     * @param bits        the size {@code ssh-keygen -lf} prints
     */
    record Generated(String name, String line, String fingerprint, int bits) {
        SshPublicKey parsed() {
            return SshPublicKey.parseLine(line);
        }

        @Override
        public String toString() {
            return name; // parameterized test names
        }
    }

    private static final java.util.Map<String, Generated> SHARED = new java.util.concurrent.ConcurrentHashMap<>();
    private static Path sharedDir;

    /**
     * The same as {@link #generate}, but made once per test JVM and reused by every test class:
     * a 3072-bit RSA key takes most of a second to make.
     */
    static Generated shared(String name, String type, int bits) {
        return SHARED.computeIfAbsent(name + "/" + type + "/" + bits, k -> generate(sharedDir(), name, type, bits));
    }

    private static synchronized Path sharedDir() {
        if (sharedDir == null) {
            try {
                Path dir = Files.createTempDirectory("sallyport-test-keys");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
                sharedDir = dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return sharedDir;
    }

    private static void deleteTree(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort at JVM exit
        }
    }

    static Generated ed25519() {
        return shared("ed25519", "ed25519", 0);
    }

    static Generated ecdsa256() {
        return shared("ecdsa256", "ecdsa", 256);
    }

    static Generated rsa1024() {
        return shared("rsa1024", "rsa", 1024);
    }

    static Generated rsa3072() {
        return shared("rsa3072", "rsa", 3072);
    }

    /**
     * Runs {@code ssh-keygen -t TYPE [-b BITS] -N '' -f DIR/NAME -q} and reads the result back.
     *
     * @param bits 0 for the type's default
     */
    static Generated generate(Path dir, String name, String type, int bits) {
        Path key = dir.resolve(name);
        List<String> cmd = new ArrayList<>(List.of("ssh-keygen", "-q", "-t", type, "-N", "", "-C", name + "@test", "-f", key.toString()));
        if (bits > 0) {
            cmd.addAll(List.of("-b", Integer.toString(bits)));
        }
        run(cmd);
        try {
            String line = Files.readString(dir.resolve(name + ".pub")).trim();
            // "3072 SHA256:GMbz... comment (RSA)"
            String[] fp = run(List.of("ssh-keygen", "-lf", dir.resolve(name + ".pub").toString())).trim().split("\\s+");
            return new Generated(name, line, fp[1], Integer.parseInt(fp[0]));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Builds an SSH wire blob: {@code string type} followed by each part as an SSH {@code string}. */
    static byte[] blob(String type, byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeString(out, type.getBytes(StandardCharsets.US_ASCII));
        for (byte[] p : parts) {
            writeString(out, p);
        }
        return out.toByteArray();
    }

    /** A syntactically complete {@code ssh-dss} key (p, q, g, y); the numbers are not a real group. */
    static byte[] dsaBlob() {
        return blob("ssh-dss", mpint(1024), mpint(160), mpint(1024), mpint(1024));
    }

    /** An {@code ssh-rsa} blob with e = 65537 and a modulus of exactly {@code bits} bits. */
    static byte[] rsaBlob(int bits) {
        return blob("ssh-rsa", BigInteger.valueOf(65537).toByteArray(), mpint(bits));
    }

    static String line(String type, byte[] blob) {
        return type + " " + Base64.getEncoder().encodeToString(blob) + " fabricated@test";
    }

    /** A positive number of exactly {@code bits} bits in SSH mpint form (leading zero byte when the top bit is set). */
    private static byte[] mpint(int bits) {
        BigInteger n = BigInteger.ONE.shiftLeft(bits - 1).or(BigInteger.valueOf(0x10001));
        return n.toByteArray();
    }

    private static void writeString(ByteArrayOutputStream out, byte[] data) {
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(data);
    }

    private static String run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " did not finish in 30s");
            }
            if (p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + output);
            }
            return output;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
