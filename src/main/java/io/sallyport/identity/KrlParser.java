package io.sallyport.identity;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.BitSet;

/**
 * Reads an OpenSSH key revocation list (PROTOCOL.krl, as {@code ssh-keygen -k} writes it): the
 * header, certificate sections for one CA or for any CA (serial lists, serial ranges, serial
 * bitmaps, key ids), explicit keys, and SHA-1 and SHA-256 fingerprints.
 *
 * <p>Refused, as OpenSSH refuses them: a wrong magic or format version, bytes that run past a
 * section or are left over in one, unknown section types, critical extensions, serial 0, an
 * inverted range, a bitmap that wraps past 2^64, a certificate where a plain key belongs, key ids
 * with NUL bytes, fingerprints of the wrong length. Signed KRLs are refused too: OpenSSH 9.4 and
 * later refuse them, and this file comes from the operator over a trusted path anyway.
 *
 * <p>A refusal is an {@link IllegalArgumentException} saying what and where (byte offset); the
 * caller keeps its previous list.
 */
final class KrlParser {
    private static final byte[] MAGIC = "SSHKRL\n\0".getBytes(StandardCharsets.ISO_8859_1);
    private static final long FORMAT_VERSION = 1;

    private static final int SECTION_CERTIFICATES = 1;
    private static final int SECTION_EXPLICIT_KEY = 2;
    private static final int SECTION_FINGERPRINT_SHA1 = 3;
    private static final int SECTION_SIGNATURE = 4;
    private static final int SECTION_FINGERPRINT_SHA256 = 5;
    private static final int SECTION_EXTENSION = 255;

    private static final int CERT_SERIAL_LIST = 0x20;
    private static final int CERT_SERIAL_RANGE = 0x21;
    private static final int CERT_SERIAL_BITMAP = 0x22;
    private static final int CERT_KEY_ID = 0x23;
    private static final int CERT_EXTENSION = 0x39;

    private KrlParser() {}

    static boolean isKrl(byte[] bytes) {
        return bytes.length >= MAGIC.length && Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
    }

    static RevocationList parse(byte[] bytes) {
        if (!isKrl(bytes)) {
            throw new IllegalArgumentException("not a KRL (no SSHKRL magic)");
        }
        byte[] body = Arrays.copyOfRange(bytes, MAGIC.length, bytes.length);
        WireReader in = new WireReader(body);
        try {
            long format = in.readUint32("format version");
            if (format != FORMAT_VERSION) {
                throw new IllegalArgumentException("KRL format version " + format + " is not supported (only 1)");
            }
            long krlVersion = in.readUint64("KRL version");
            long generated = in.readUint64("generated date");
            in.readUint64("flags");
            in.readString("reserved");
            String comment = WireReader.text(in.readString("comment"), "comment");

            RevocationList.Builder b = new RevocationList.Builder();
            while (in.hasRemaining()) {
                int offset = in.position() + MAGIC.length;
                int type = in.readByte("section type");
                WireReader section = in.readNested("section " + type);
                try {
                    switch (type) {
                        case SECTION_CERTIFICATES -> certificates(section, b);
                        case SECTION_EXPLICIT_KEY -> explicitKeys(section, b);
                        case SECTION_FINGERPRINT_SHA1 -> fingerprints(section, 20, "SHA1", b::revokeSha1);
                        case SECTION_FINGERPRINT_SHA256 -> fingerprints(section, 32, "SHA256", b::revokeSha256);
                        case SECTION_EXTENSION -> extension(section, "KRL extension");
                        case SECTION_SIGNATURE -> throw new IllegalArgumentException(
                                "signed KRLs are not supported (OpenSSH 9.4 and later refuse them too)");
                        default -> throw new IllegalArgumentException("unknown section type " + type);
                    }
                    section.requireEnd("the section");
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(sectionName(type) + " at byte " + offset + ": " + e.getMessage());
                }
            }
            String when = Long.compareUnsigned(generated, Instant.MAX.getEpochSecond()) <= 0
                    ? Instant.ofEpochSecond(generated).toString() : "?";
            return b.build("KRL version " + Long.toUnsignedString(krlVersion) + " generated " + when
                    + (comment.isEmpty() ? "" : " (" + comment + ")") + ": " + b.counts());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("malformed KRL: " + e.getMessage());
        }
    }

    private static String sectionName(int type) {
        return switch (type) {
            case SECTION_CERTIFICATES -> "certificate section";
            case SECTION_EXPLICIT_KEY -> "explicit key section";
            case SECTION_FINGERPRINT_SHA1 -> "SHA1 fingerprint section";
            case SECTION_FINGERPRINT_SHA256 -> "SHA256 fingerprint section";
            case SECTION_EXTENSION -> "extension section";
            case SECTION_SIGNATURE -> "signature section";
            default -> "section";
        };
    }

    private static void certificates(WireReader in, RevocationList.Builder b) {
        byte[] caBlob = in.readString("CA key");
        if (caBlob.length > 0) {
            SshPublicKey ca;
            try {
                ca = SshPublicKey.fromBlob(caBlob);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("CA key is malformed (" + e.getMessage() + ")");
            }
            if (ca.isCertificate()) {
                throw new IllegalArgumentException("CA key is a certificate");
            }
        }
        in.readString("reserved");
        RevocationList.CertSection certs = b.certificatesOf(caBlob);
        while (in.hasRemaining()) {
            int type = in.readByte("certificate subsection type");
            WireReader sub = in.readNested("certificate subsection " + type);
            switch (type) {
                case CERT_SERIAL_LIST -> {
                    while (sub.hasRemaining()) {
                        certs.addSerial(nonZero(sub.readUint64("serial")));
                    }
                }
                case CERT_SERIAL_RANGE -> {
                    long lo = nonZero(sub.readUint64("range start"));
                    long hi = sub.readUint64("range end");
                    if (Long.compareUnsigned(lo, hi) > 0) {
                        throw new IllegalArgumentException("serial range " + Long.toUnsignedString(lo) + "-"
                                + Long.toUnsignedString(hi) + " is inverted");
                    }
                    certs.addRange(lo, hi);
                }
                case CERT_SERIAL_BITMAP -> {
                    long offset = sub.readUint64("bitmap offset");
                    byte[] magnitude = sub.readNonNegativeMpint("serial bitmap");
                    BitSet bits = bitsOf(magnitude);
                    if (bits.length() > 0) {
                        long last = offset + bits.length() - 1;
                        if (Long.compareUnsigned(last, offset) < 0) {
                            throw new IllegalArgumentException("serial bitmap wraps past 2^64");
                        }
                        if (offset == 0 && bits.get(0)) {
                            nonZero(0);
                        }
                    }
                    certs.addBitmap(offset, bits);
                }
                case CERT_KEY_ID -> {
                    if (!sub.hasRemaining()) {
                        throw new IllegalArgumentException("key id subsection is empty");
                    }
                    while (sub.hasRemaining()) {
                        certs.addKeyId(sub.readText("key id"));
                    }
                }
                case CERT_EXTENSION -> extension(sub, "certificate section extension");
                default -> throw new IllegalArgumentException("unknown certificate subsection type 0x" + Integer.toHexString(type));
            }
            sub.requireEnd("certificate subsection 0x" + Integer.toHexString(type));
        }
    }

    private static long nonZero(long serial) {
        if (serial == 0) {
            // OpenSSH refuses it too: 0 is what certificates issued without -z carry.
            throw new IllegalArgumentException("serial 0 cannot be revoked");
        }
        return serial;
    }

    /** The mpint's magnitude is big-endian; bit N of the number is serial offset + N. */
    private static BitSet bitsOf(byte[] bigEndian) {
        byte[] littleEndian = new byte[bigEndian.length];
        for (int i = 0; i < bigEndian.length; i++) {
            littleEndian[i] = bigEndian[bigEndian.length - 1 - i];
        }
        return BitSet.valueOf(littleEndian);
    }

    private static void explicitKeys(WireReader in, RevocationList.Builder b) {
        if (!in.hasRemaining()) {
            throw new IllegalArgumentException("no keys in it");
        }
        while (in.hasRemaining()) {
            byte[] blob = in.readString("key");
            SshPublicKey key;
            try {
                key = SshPublicKey.fromBlob(blob);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("a key is malformed (" + e.getMessage() + ")");
            }
            if (key.isCertificate()) {
                throw new IllegalArgumentException("a certificate where a plain key belongs");
            }
            b.revokeKey(blob);
        }
    }

    private static void fingerprints(WireReader in, int length, String name, java.util.function.Consumer<byte[]> revoke) {
        if (!in.hasRemaining()) {
            throw new IllegalArgumentException("no fingerprints in it");
        }
        while (in.hasRemaining()) {
            byte[] hash = in.readString(name + " fingerprint");
            if (hash.length != length) {
                throw new IllegalArgumentException(name + " fingerprint of " + hash.length + " bytes, expected " + length);
            }
            revoke.accept(hash);
        }
    }

    /** Extensions may be skipped unless marked critical (PROTOCOL.krl §2.5, §5). */
    private static void extension(WireReader in, String what) {
        String name = in.readText(what + " name");
        boolean critical = in.readBoolean(what + " critical flag");
        in.readString(what + " contents");
        if (critical) {
            throw new IllegalArgumentException("critical " + what + " '" + name + "' is not supported");
        }
    }
}
