package io.sallyport.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A certificate authority driven through the real {@code ssh-keygen}: it signs user and host keys
 * ({@code ssh-keygen -s}) and writes revocation lists ({@code ssh-keygen -k}), exactly as an
 * operator would, so tests see certificates and KRLs byte for byte as OpenSSH makes them.
 *
 * <pre>{@code
 * TestCa ca = TestCa.create(dir, "corp-ca");
 * Path key = OpenSsh.keygen(dir, "alice");
 * Path cert = ca.sign(key, TestCa.user("alice-laptop").principals("alice").validity("-1m:+1h").serial(42)
 *         .option("extension:roles@sallyport=ops"));
 * ca.revoke(krl, "serial: 42");
 * }</pre>
 */
public final class TestCa {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final Path key;

    private TestCa(Path key) {
        this.key = key;
    }

    /** A new ed25519 CA key pair in {@code dir} ({@code name} and {@code name.pub}). */
    public static TestCa create(Path dir, String name) {
        return new TestCa(OpenSsh.keygen(dir, name));
    }

    /** A new CA of the given ssh-keygen type (ed25519, ecdsa, rsa). */
    public static TestCa create(Path dir, String name, String type) {
        return new TestCa(OpenSsh.keygen(dir, name, type));
    }

    public Path privateKey() {
        return key;
    }

    public Path publicKeyFile() {
        return key.resolveSibling(key.getFileName() + ".pub");
    }

    /** {@code TYPE BASE64 COMMENT}, for {@code authorities[].public_key} or a {@code @cert-authority} line. */
    public String publicKeyLine() {
        return OpenSsh.publicKeyLine(key);
    }

    public static Cert user(String keyId) {
        return new Cert(keyId, false);
    }

    public static Cert host(String keyId) {
        return new Cert(keyId, true);
    }

    /** What to put in a certificate: the {@code ssh-keygen -s} options, each optional. */
    public static final class Cert {
        private final String keyId;
        private final boolean host;
        private final List<String> principals = new ArrayList<>();
        private String validity;
        private String serial;
        private String signatureAlgorithm;
        private final List<String> options = new ArrayList<>();

        private Cert(String keyId, boolean host) {
            this.keyId = keyId;
            this.host = host;
        }

        /** {@code -n}; none means a certificate with no principals. */
        public Cert principals(String... names) {
            principals.addAll(List.of(names));
            return this;
        }

        /** {@code -V}, e.g. {@code -1m:+1h}, {@code +5s}, {@code 20300101:20300102}; none means forever. */
        public Cert validity(String v) {
            this.validity = v;
            return this;
        }

        /** {@code -z}: an unsigned 64-bit serial, as text. */
        public Cert serial(String s) {
            this.serial = s;
            return this;
        }

        public Cert serial(long s) {
            return serial(Long.toUnsignedString(s));
        }

        /** {@code -t} with {@code -s}: the CA's signature algorithm, e.g. {@code ssh-rsa} (SHA-1) for an RSA CA. */
        public Cert signatureAlgorithm(String alg) {
            this.signatureAlgorithm = alg;
            return this;
        }

        /** {@code -O}, e.g. {@code source-address=10.0.0.0/8}, {@code clear}, {@code extension:roles@sallyport=ops}. */
        public Cert option(String o) {
            options.add(o);
            return this;
        }
    }

    /**
     * Signs {@code privateKey}'s public half. ssh-keygen writes the certificate beside it as
     * {@code <key>-cert.pub}, where the OpenSSH client looks for it; that path is returned.
     */
    public Path sign(Path privateKey, Cert cert) {
        Path pub = privateKey.resolveSibling(privateKey.getFileName() + ".pub");
        List<String> cmd = new ArrayList<>(List.of(OpenSsh.tool("ssh-keygen").toString(), "-q",
                "-s", key.toString(), "-I", cert.keyId));
        if (cert.host) {
            cmd.add("-h");
        }
        if (!cert.principals.isEmpty()) {
            cmd.addAll(List.of("-n", String.join(",", cert.principals)));
        }
        if (cert.validity != null) {
            cmd.add("-V" + cert.validity); // attached: a validity starting with '-' is not an option
        }
        if (cert.serial != null) {
            cmd.addAll(List.of("-z", cert.serial));
        }
        if (cert.signatureAlgorithm != null) {
            cmd.addAll(List.of("-t", cert.signatureAlgorithm));
        }
        for (String o : cert.options) {
            cmd.addAll(List.of("-O", o));
        }
        cmd.add(pub.toString());
        Exec.Output out = Exec.run(cmd, TIMEOUT);
        Path certFile = privateKey.resolveSibling(privateKey.getFileName() + "-cert.pub");
        if (!out.ok() || !Files.exists(certFile)) {
            throw new IllegalStateException("signing failed: " + out.describe(cmd));
        }
        return certFile;
    }

    /**
     * Writes (or with {@code update}, extends) the KRL {@code krl} with {@code ssh-keygen -k}, for
     * certificates of this CA. Each spec line is {@code serial: N}, {@code serial: LO-HI},
     * {@code id: KEYID}, {@code key: PUBKEY}, {@code sha1: PUBKEY} or {@code hash: SHA256:...}.
     */
    public Path revoke(Path krl, boolean update, String... specLines) {
        return krl(krl, update, key.resolveSibling(key.getFileName() + ".pub").toString(), specLines);
    }

    /** Like {@link #revoke} with {@code -s none}: the certificate section applies to any CA. */
    public static Path revokeForAnyCa(Path krl, boolean update, String... specLines) {
        return krl(krl, update, "none", specLines);
    }

    /** A KRL without a CA ({@code key:}, {@code sha1:}, {@code hash:} lines, or public key files given as specs). */
    public static Path revokeKeys(Path krl, boolean update, String... specLines) {
        return krl(krl, update, null, specLines);
    }

    private static Path krl(Path krl, boolean update, String ca, String... specLines) {
        try {
            Path spec = Files.createTempFile(krl.toAbsolutePath().getParent(), "krl-spec", ".txt");
            Files.writeString(spec, String.join("\n", specLines) + "\n", StandardCharsets.UTF_8);
            List<String> cmd = new ArrayList<>(List.of(OpenSsh.tool("ssh-keygen").toString(), "-q", "-k", "-f", krl.toString()));
            if (update) {
                cmd.add("-u");
            }
            if (ca != null) {
                cmd.addAll(List.of("-s", ca));
            }
            cmd.add(spec.toString());
            Exec.Output out = Exec.run(cmd, TIMEOUT);
            Files.deleteIfExists(spec);
            if (!out.ok()) {
                throw new IllegalStateException("KRL generation failed: " + out.describe(cmd));
            }
            return krl;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code ssh-keygen -Q -f krl file}: whether OpenSSH itself considers the key or certificate revoked. */
    public static boolean opensshSaysRevoked(Path krl, Path keyOrCertFile) {
        List<String> cmd = List.of(OpenSsh.tool("ssh-keygen").toString(), "-Q", "-f", krl.toString(), keyOrCertFile.toString());
        Exec.Output out = Exec.run(cmd, TIMEOUT);
        if (out.text().contains("REVOKED")) {
            return true;
        }
        if (out.text().contains(": ok")) {
            return false;
        }
        throw new IllegalStateException("unexpected ssh-keygen -Q answer: " + out.describe(cmd));
    }
}
