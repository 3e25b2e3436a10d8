package io.sallyport.identity;

import java.math.BigInteger;
import java.nio.ByteBuffer;
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
        ByteBuffer in = ByteBuffer.wrap(blob);
        byte[] rawType = readString(in);
        // Hostile input that ends up in audit events: a key type is short, printable ASCII.
        if (rawType.length == 0 || rawType.length > 64) {
            throw new IllegalArgumentException("bad key type length");
        }
        for (byte b : rawType) {
            if (b < 0x21 || b > 0x7e) {
                throw new IllegalArgumentException("key type is not printable");
            }
        }
        return new SshPublicKey(new String(rawType, StandardCharsets.US_ASCII), blob.clone());
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

    /** {@code SHA256:...} as {@code ssh-keygen -l} prints it. */
    public String fingerprint() {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(blob);
            return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** RSA modulus length in bits; 0 for other key types or a malformed blob. */
    public int rsaBits() {
        if (!type.equals("ssh-rsa")) {
            return 0;
        }
        try {
            ByteBuffer in = ByteBuffer.wrap(blob);
            readString(in); // type
            readString(in); // e
            return new BigInteger(1, readString(in)).bitLength();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** The one-line OpenSSH form, without comment. */
    public String toLine() {
        return type + " " + Base64.getEncoder().encodeToString(blob);
    }

    private static byte[] readString(ByteBuffer in) {
        int len = in.getInt();
        if (len < 0 || len > in.remaining()) {
            throw new IllegalArgumentException("bad length");
        }
        byte[] out = new byte[len];
        in.get(out);
        return out;
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
