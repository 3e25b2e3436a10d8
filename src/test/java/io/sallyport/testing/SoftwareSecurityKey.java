package io.sallyport.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A FIDO security key in software, for tests: our own OpenSSH security key provider
 * ({@code src/test/c/sk-test-provider.c}, the middleware API of OpenSSH's {@code sk-api.h}),
 * compiled with the system C compiler against libcrypto into {@code target/} once per build. Stock
 * {@code ssh-keygen -t ed25519-sk|ecdsa-sk -w PROVIDER} enrols keys with it and stock
 * {@code ssh -o SecurityKeyProvider=PROVIDER} signs with them: real FIDO logins without a device.
 *
 * <p>The test chooses the flags of each signature with the environment variable
 * {@link #FLAGS_ENV} of the {@code ssh} process (see {@link #flags}); unset, a signature carries
 * user presence (a device that was touched).
 *
 * <p>Not a security key: the private key travels in the key handle, in the private key file.
 */
public final class SoftwareSecurityKey {
    /** The flags byte the provider signs with, read at every signature: {@code 0x01} present, {@code 0x04} verified. */
    public static final String FLAGS_ENV = "SALLYPORT_TEST_SK_FLAGS";
    public static final int USER_PRESENT = 0x01;
    public static final int USER_VERIFIED = 0x04;

    private static final Duration COMPILE_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration KEYGEN_TIMEOUT = Duration.ofSeconds(60);
    private static Path built;

    private SoftwareSecurityKey() {
    }

    /** The two FIDO key types OpenSSH makes, as {@code ssh-keygen -t} spells them. */
    public enum KeyType {
        ED25519_SK("ed25519-sk", "sk-ssh-ed25519@openssh.com"),
        ECDSA_SK("ecdsa-sk", "sk-ecdsa-sha2-nistp256@openssh.com");

        private final String keygenName;
        private final String sshName;

        KeyType(String keygenName, String sshName) {
            this.keygenName = keygenName;
            this.sshName = sshName;
        }

        public String keygenName() {
            return keygenName;
        }

        /** The key's type on the wire and in a public key line. */
        public String sshName() {
            return sshName;
        }
    }

    /** The environment that makes the provider sign with exactly these flags. */
    public static Map<String, String> flags(int flags) {
        if (flags < 0 || flags > 0xff) {
            throw new IllegalArgumentException("a flags byte: " + flags);
        }
        return Map.of(FLAGS_ENV, String.format("0x%02x", flags));
    }

    /**
     * The provider library, compiled if this build has not yet done it. Aborts the calling test
     * when the C compiler or libcrypto's headers are missing (fails instead when CI=true).
     */
    public static synchronized Path provider() {
        if (built != null) {
            return built;
        }
        Path basedir = projectDirectory();
        Path source = basedir.resolve("src/test/c/sk-test-provider.c");
        Path library = basedir.resolve("target/sk-test-provider/libsk-test-provider.so");
        try {
            if (!Files.isRegularFile(source)) {
                throw new IllegalStateException("provider source not found: " + source);
            }
            if (!Files.isRegularFile(library)
                    || Files.getLastModifiedTime(library).compareTo(Files.getLastModifiedTime(source)) < 0) {
                compile(source, library);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        built = library;
        return library;
    }

    private static void compile(Path source, Path library) throws IOException {
        Path cc = Exec.which("gcc").or(() -> Exec.which("cc")).orElse(null);
        if (cc == null) {
            Exec.missingPrerequisite("no C compiler to build the test security key provider (apt-get install gcc)");
        }
        Files.createDirectories(library.getParent());
        // Built beside its final name and moved into place: another test JVM of the same build may
        // be loading the library at that path.
        Path partial = Files.createTempFile(library.getParent(), "libsk-test-provider", ".so.partial");
        List<String> cmd = List.of(cc.toString(), "-std=c11", "-O2", "-Wall", "-Wextra", "-fPIC", "-shared",
                "-fvisibility=hidden", "-o", partial.toString(), source.toString(), "-lcrypto");
        Exec.Output out = Exec.run(cmd, COMPILE_TIMEOUT);
        if (!out.ok()) {
            Files.deleteIfExists(partial);
            if (out.text().contains("openssl/") && out.text().contains("No such file")) {
                Exec.missingPrerequisite("libcrypto headers missing to build the test security key provider "
                        + "(apt-get install libssl-dev): " + out.text().strip());
            }
            throw new IllegalStateException("cannot build the test security key provider: " + out.describe(cmd));
        }
        Files.move(partial, library, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Enrols a new key with stock {@code ssh-keygen -t TYPE -w PROVIDER} (no passphrase, no PIN,
     * user presence required as ssh-keygen's default); returns the private key path, {@code .pub}
     * beside it.
     */
    public static Path enrol(Path dir, String name, KeyType type) {
        Path provider = provider();
        try {
            Files.createDirectories(dir);
            Path key = dir.resolve(name).toAbsolutePath();
            Files.deleteIfExists(key);
            Files.deleteIfExists(key.resolveSibling(key.getFileName() + ".pub"));
            List<String> cmd = List.of(OpenSsh.tool("ssh-keygen").toString(), "-q", "-t", type.keygenName(),
                    "-w", provider.toString(), "-N", "", "-C", name + "@sallyport-test", "-f", key.toString());
            Exec.Output out = Exec.run(cmd, KEYGEN_TIMEOUT);
            if (!out.ok() || !Files.exists(key)) {
                throw new IllegalStateException("FIDO key enrolment failed: " + out.describe(cmd));
            }
            return key;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The checkout: test classes are in {@code target/test-classes} under it. */
    private static Path projectDirectory() {
        String basedir = System.getProperty("sallyport.basedir");
        if (basedir != null && !basedir.isBlank()) {
            return Path.of(basedir);
        }
        try {
            Path classes = Path.of(SoftwareSecurityKey.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return classes.getParent().getParent();
        } catch (URISyntaxException | RuntimeException e) {
            return Path.of(System.getProperty("user.dir"));
        }
    }
}
