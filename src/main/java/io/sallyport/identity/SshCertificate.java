package io.sallyport.identity;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An OpenSSH certificate (PROTOCOL.certkeys), read from its SSH wire blob by sallyport itself, so
 * that every decision about it is made on the bytes the CA signed and not on a library's
 * re-encoding of them.
 *
 * <p>Parsing checks structure only. Whether the CA is trusted, the signature valid, the validity
 * window current and the options acceptable is {@link CertificateVerifier}'s business.
 *
 * @param certType          the certificate key type, e.g. {@code ssh-ed25519-cert-v01@openssh.com}
 * @param nonce             the CA-chosen nonce
 * @param key               the certified key, as a plain key ({@code ssh-ed25519 ...})
 * @param serial            unsigned 64-bit: print with {@link #serialText()}
 * @param kind              user or host certificate
 * @param keyId             the CA's free-text "key id" (printable in audit only after {@code Printable})
 * @param principals        user names (user certificates) or host names the certificate is valid for
 * @param validAfter        unsigned seconds since the epoch; 0 means "always"
 * @param validBefore       unsigned seconds since the epoch; 2^64-1 means "forever"
 * @param criticalOptions   in the order the CA wrote them; names are unique
 * @param extensions        in the order the CA wrote them; names are unique
 * @param signatureKey      the CA's public key, as embedded in the certificate
 * @param signatureAlgorithm the algorithm the CA signed with ({@code ssh-ed25519}, {@code rsa-sha2-512}, ...)
 */
public record SshCertificate(
        String certType,
        byte[] nonce,
        SshPublicKey key,
        long serial,
        Kind kind,
        String keyId,
        List<String> principals,
        long validAfter,
        long validBefore,
        List<Option> criticalOptions,
        List<Option> extensions,
        SshPublicKey signatureKey,
        String signatureAlgorithm) {

    private static final String SUFFIX = "-cert-v01@openssh.com";

    /** The certificate types OpenSSH issues, with the plain key type and the number of key fields of each. */
    private static final Map<String, PlainKey> TYPES = Map.of(
            "ssh-ed25519-cert-v01@openssh.com", new PlainKey("ssh-ed25519", 1),
            "sk-ssh-ed25519-cert-v01@openssh.com", new PlainKey("sk-ssh-ed25519@openssh.com", 2),
            "ecdsa-sha2-nistp256-cert-v01@openssh.com", new PlainKey("ecdsa-sha2-nistp256", 2),
            "ecdsa-sha2-nistp384-cert-v01@openssh.com", new PlainKey("ecdsa-sha2-nistp384", 2),
            "ecdsa-sha2-nistp521-cert-v01@openssh.com", new PlainKey("ecdsa-sha2-nistp521", 2),
            "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", new PlainKey("sk-ecdsa-sha2-nistp256@openssh.com", 3),
            "ssh-rsa-cert-v01@openssh.com", new PlainKey("ssh-rsa", 2),
            "ssh-dss-cert-v01@openssh.com", new PlainKey("ssh-dss", 4));

    private record PlainKey(String type, int fields) {}

    public enum Kind {
        USER, HOST;

        static Kind of(long code) {
            if (code == 1) {
                return USER;
            }
            if (code == 2) {
                return HOST;
            }
            throw new IllegalArgumentException("certificate type code " + code + " is neither user (1) nor host (2)");
        }
    }

    /**
     * A critical option or extension: {@code string name, string data}. For options that carry a
     * value, OpenSSH puts the value in {@code data} as one more SSH string; flags have empty data.
     */
    public record Option(String name, byte[] data) {
        /**
         * The value: the nested string when {@code data} is one well-formed SSH string (how
         * {@code ssh-keygen -O name=value} writes it), else the raw bytes as UTF-8 (some signers
         * write the value bare); empty for a flag.
         */
        public String value() {
            if (data.length == 0) {
                return "";
            }
            try {
                WireReader r = new WireReader(data);
                byte[] inner = r.readString("value");
                r.requireEnd("value");
                return new String(inner, StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return new String(data, StandardCharsets.UTF_8);
            }
        }
    }

    public SshCertificate {
        principals = List.copyOf(principals);
        criticalOptions = List.copyOf(criticalOptions);
        extensions = List.copyOf(extensions);
    }

    /** Whether {@code keyType} names an OpenSSH certificate type (known or not). */
    public static boolean isCertificateType(String keyType) {
        return keyType.endsWith(SUFFIX);
    }

    /**
     * Reads a certificate from its SSH wire blob.
     *
     * @throws IllegalArgumentException with what is wrong, for the {@code auth.reject} reason
     */
    public static SshCertificate parse(byte[] blob) {
        WireReader in = new WireReader(blob);
        String certType = in.readText("certificate type");
        PlainKey plain = TYPES.get(certType);
        if (plain == null) {
            throw new IllegalArgumentException("unknown certificate type '" + certType + "'");
        }
        byte[] nonce = in.readString("nonce");
        ByteArrayOutputStream plainBlob = new ByteArrayOutputStream();
        writeString(plainBlob, plain.type().getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < plain.fields(); i++) {
            writeString(plainBlob, in.readString("public key field " + (i + 1)));
        }
        SshPublicKey key = SshPublicKey.fromBlob(plainBlob.toByteArray());
        long serial = in.readUint64("serial");
        Kind kind = Kind.of(in.readUint32("certificate type code"));
        String keyId = in.readText("key id");
        List<String> principals = new ArrayList<>();
        WireReader p = in.readNested("principals");
        while (p.hasRemaining()) {
            principals.add(p.readText("principal"));
        }
        long validAfter = in.readUint64("valid after");
        long validBefore = in.readUint64("valid before");
        List<Option> critical = options(in.readNested("critical options"), "critical option");
        List<Option> extensions = options(in.readNested("extensions"), "extension");
        in.readString("reserved");
        SshPublicKey signatureKey = SshPublicKey.fromBlob(in.readString("signature key"));
        if (signatureKey.isCertificate()) {
            throw new IllegalArgumentException("the signature key is itself a certificate");
        }
        WireReader sig = in.readNested("signature");
        String signatureAlgorithm = sig.readText("signature algorithm");
        in.requireEnd("the certificate");
        return new SshCertificate(certType, nonce, key, serial, kind, keyId, principals, validAfter, validBefore,
                critical, extensions, signatureKey, signatureAlgorithm);
    }

    /** Names must be unique: two {@code source-address} options would leave "which one applies" to chance. */
    private static List<Option> options(WireReader in, String what) {
        List<Option> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        while (in.hasRemaining()) {
            String name = in.readText(what + " name");
            byte[] data = in.readString(what + " '" + name + "' data");
            if (!seen.add(name)) {
                throw new IllegalArgumentException(what + " '" + name + "' appears twice");
            }
            out.add(new Option(name, data));
        }
        return out;
    }

    private static void writeString(ByteArrayOutputStream out, byte[] s) {
        out.write(s.length >>> 24);
        out.write(s.length >>> 16);
        out.write(s.length >>> 8);
        out.write(s.length);
        out.write(s, 0, s.length);
    }

    public Optional<Option> criticalOption(String name) {
        return criticalOptions.stream().filter(o -> o.name().equals(name)).findFirst();
    }

    public Optional<Option> extension(String name) {
        return extensions.stream().filter(o -> o.name().equals(name)).findFirst();
    }

    /** The serial as OpenSSH prints it: unsigned decimal. */
    public String serialText() {
        return Long.toUnsignedString(serial);
    }

    /** {@code validAfter} as an instant (0, "always", is the epoch). */
    public Instant validAfterInstant() {
        return instant(validAfter);
    }

    /** {@code validBefore} as an instant; "forever" and anything past {@link Instant#MAX} become {@link Instant#MAX}. */
    public Instant validBeforeInstant() {
        return instant(validBefore);
    }

    private static Instant instant(long unsignedSeconds) {
        if (Long.compareUnsigned(unsignedSeconds, Instant.MAX.getEpochSecond()) > 0) {
            return Instant.MAX;
        }
        return Instant.ofEpochSecond(unsignedSeconds);
    }

    /** Plain-key type of a certificate type OpenSSH knows, e.g. {@code ssh-ed25519} for ed25519 certificates. */
    public static Optional<String> plainTypeOf(String certType) {
        return Optional.ofNullable(TYPES.get(certType)).map(PlainKey::type);
    }

    @Override
    public String toString() {
        return certType + " id=\"" + keyId + "\" serial=" + serialText() + " key=" + key.fingerprint();
    }
}
