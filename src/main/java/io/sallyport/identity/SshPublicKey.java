package io.sallyport.identity;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;

/**
 * A public key in SSH wire form ({@code string type, ...}). Identities are matched by comparing
 * these bytes, which does not depend on which JCA provider decoded the key.
 */
public final class SshPublicKey {
    private final String type;
    private final byte[] blob;

    private SshPublicKey(String type, byte[] blob) {
        this.type = type;
        this.blob = blob;
    }

    /** Wraps a wire-form key blob, reading its type from inside it. */
    public static SshPublicKey fromBlob(byte[] blob) {
        WireReader in = new WireReader(blob);
        byte[] rawType = in.readString("key type");
        // Hostile input that ends up in audit events: a key type is short, printable ASCII.
        if (rawType.length == 0 || rawType.length > 64) {
            throw new IllegalArgumentException("bad key type length");
        }
        for (byte b : rawType) {
            if (b < 0x21 || b > 0x7e) {
                throw new IllegalArgumentException("key type is not printable");
            }
        }
        String type = new String(rawType, StandardCharsets.US_ASCII);
        checkStructure(type, in);
        return new SshPublicKey(type, blob.clone());
    }

    /**
     * Walks the fields of the key types sallyport knows and refuses a blob that is cut short or
     * has bytes left over (a bad copy-paste must be an error, not a key that never matches).
     * Unknown types are left to {@link KeyPolicy}, which refuses them.
     */
    private static void checkStructure(String type, WireReader in) {
        int fields;
        switch (type) {
            case "ssh-ed25519" -> {
                requireLength(in.readString("public key"), 32);
                fields = 0;
            }
            case "sk-ssh-ed25519@openssh.com" -> {
                requireLength(in.readString("public key"), 32);
                fields = 1; // application
            }
            case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521" -> {
                String curve = new String(in.readString("curve"), StandardCharsets.US_ASCII);
                if (!type.endsWith(curve)) {
                    throw new IllegalArgumentException("curve " + curve + " does not match " + type);
                }
                fields = 1; // Q
            }
            case "sk-ecdsa-sha2-nistp256@openssh.com" -> {
                if (!new String(in.readString("curve"), StandardCharsets.US_ASCII).equals("nistp256")) {
                    throw new IllegalArgumentException("curve does not match " + type);
                }
                fields = 2; // Q, application
            }
            case "ssh-rsa" -> fields = 2; // e, n
            case "ssh-dss" -> fields = 4; // p, q, g, y
            default -> {
                return;
            }
        }
        for (int i = 0; i < fields; i++) {
            in.readString("key field " + (i + 1));
        }
        if (in.hasRemaining()) {
            throw new IllegalArgumentException(in.remaining() + " bytes after the end of the key");
        }
    }

    private static void requireLength(byte[] field, int length) {
        if (field.length != length) {
            throw new IllegalArgumentException("key field of " + field.length + " bytes, expected " + length);
        }
    }

    /**
     * Parses an OpenSSH public key line: {@code TYPE BASE64 [COMMENT]}. Options in front of the
     * type (authorized_keys style) are not accepted: a bastion has nowhere to honour them.
     *
     * @throws IllegalArgumentException with a message fit for the operator
     */
    public static SshPublicKey parseLine(String line) {
        String[] fields = line.trim().split("\\s+", 3);
        if (fields.length < 2) {
            throw new IllegalArgumentException("not an OpenSSH public key line (want: TYPE BASE64 [COMMENT])");
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(fields[1]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("key data of '" + fields[0] + "' is not valid base64");
        }
        SshPublicKey key;
        try {
            key = fromBlob(blob);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("key data of '" + fields[0] + "' is truncated or malformed");
        }
        if (!key.type.equals(fields[0])) {
            throw new IllegalArgumentException("key type '" + fields[0] + "' does not match the key data ('" + key.type + "')");
        }
        return key;
    }

    public String type() {
        return type;
    }

    public byte[] blob() {
        return blob.clone();
    }

    /** Whether this is an OpenSSH certificate ({@code *-cert-v01@openssh.com}) rather than a plain key. */
    public boolean isCertificate() {
        return SshCertificate.isCertificateType(type);
    }

    /** The SHA-1 or SHA-256 digest of the blob, as revocation lists store them. */
    byte[] digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm).digest(blob);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code SHA256:...} as {@code ssh-keygen -l} prints it. */
    public String fingerprint() {
        return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest("SHA-256"));
    }

    /** RSA modulus length in bits; 0 for other key types or a malformed blob. */
    public int rsaBits() {
        if (!type.equals("ssh-rsa")) {
            return 0;
        }
        try {
            WireReader in = new WireReader(blob);
            in.readString("key type");
            in.readString("RSA exponent");
            return new BigInteger(1, in.readString("RSA modulus")).bitLength();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** The one-line OpenSSH form, without comment. */
    public String toLine() {
        return type + " " + Base64.getEncoder().encodeToString(blob);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SshPublicKey other && Arrays.equals(other.blob, blob);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(blob);
    }

    @Override
    public String toString() {
        return type + " " + fingerprint();
    }
}
