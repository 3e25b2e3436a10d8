package io.sallyport.identity;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Revoked keys and certificates, as read from {@code identity.certificates.revoked}: an OpenSSH
 * KRL ({@code ssh-keygen -k}, see {@link KrlParser}) or a plain list of public keys, one per line.
 * Immutable; a reload builds a new one.
 *
 * <p>Matching follows OpenSSH's {@code ssh_krl_check_key}: explicit keys and SHA-1/SHA-256
 * fingerprints match the plain key (for a certificate, the key it certifies); a certificate is
 * also revoked by its key id or serial in the section of its CA or in the any-CA section, and
 * when its CA key is itself revoked. Serial 0 (a certificate issued without {@code -z}) is never
 * matched by serial, as in OpenSSH.
 */
public final class RevocationList {
    /** Nothing revoked. */
    public static final RevocationList EMPTY = new Builder().build("empty");

    private final Set<String> keys;
    private final Set<String> sha1;
    private final Set<String> sha256;
    private final Map<String, CertSection> byCa;
    private final CertSection anyCa;
    private final String description;

    private RevocationList(Builder b, String description) {
        this.keys = Set.copyOf(b.keys);
        this.sha1 = Set.copyOf(b.sha1);
        this.sha256 = Set.copyOf(b.sha256);
        this.byCa = Map.copyOf(b.byCa);
        this.anyCa = b.anyCa;
        this.description = description;
    }

    /**
     * Reads a revocation file's bytes: a KRL when they start with the KRL magic, else a list of
     * public key lines ({@code #} comments and blank lines allowed; an empty file revokes nothing).
     *
     * @throws IllegalArgumentException with what is wrong and where
     */
    public static RevocationList parse(byte[] bytes) {
        if (KrlParser.isKrl(bytes)) {
            return KrlParser.parse(bytes);
        }
        return parseKeyList(new String(bytes, StandardCharsets.UTF_8));
    }

    private static RevocationList parseKeyList(String text) {
        Builder b = new Builder();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            SshPublicKey key;
            try {
                key = SshPublicKey.parseLine(line);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage()
                        + " (the file is neither an OpenSSH KRL nor a list of public keys)");
            }
            if (key.isCertificate()) {
                throw new IllegalArgumentException("line " + (i + 1) + ": a certificate; list plain public keys,"
                        + " or revoke certificates by serial or key id in a KRL (ssh-keygen -k)");
            }
            b.revokeKey(key.blob());
        }
        return b.build("list of " + b.keys.size() + (b.keys.size() == 1 ? " public key" : " public keys"));
    }

    /** Why {@code key} (a plain key) is revoked, or empty. */
    public Optional<String> revocationOf(SshPublicKey key) {
        if (keys.contains(hex(key.blob()))) {
            return Optional.of("key " + key.fingerprint() + " is revoked");
        }
        if (sha256.contains(hex(key.digest("SHA-256")))) {
            return Optional.of("key " + key.fingerprint() + " is revoked by its SHA256 fingerprint");
        }
        if (sha1.contains(hex(key.digest("SHA-1")))) {
            return Optional.of("key " + key.fingerprint() + " is revoked by its SHA1 fingerprint");
        }
        return Optional.empty();
    }

    /** Why {@code cert} is revoked (by its key, its CA key, its key id or its serial), or empty. */
    public Optional<String> revocationOf(SshCertificate cert) {
        Optional<String> key = revocationOf(cert.key());
        if (key.isPresent()) {
            return key.map(why -> "the certified " + why);
        }
        Optional<String> ca = revocationOf(cert.signatureKey());
        if (ca.isPresent()) {
            return ca.map(why -> "the CA " + why);
        }
        CertSection own = byCa.get(hex(cert.signatureKey().blob()));
        if (own != null) {
            Optional<String> why = own.match(cert);
            if (why.isPresent()) {
                return why.map(w -> w + " is revoked for this CA");
            }
        }
        if (anyCa != null) {
            return anyCa.match(cert).map(w -> w + " is revoked for any CA");
        }
        return Optional.empty();
    }

    /** What was loaded, for the log: {@code KRL version 3: 2 serials, 1 key id; 1 key}. */
    public String description() {
        return description;
    }

    @Override
    public String toString() {
        return description;
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** Revocations of certificates issued by one CA (or by any CA). */
    static final class CertSection {
        private final Set<Long> serials = new HashSet<>();
        private final List<long[]> ranges = new ArrayList<>();
        private final List<Bitmap> bitmaps = new ArrayList<>();
        private final Set<String> keyIds = new HashSet<>();

        private record Bitmap(long offset, BitSet bits) {}

        Optional<String> match(SshCertificate cert) {
            if (keyIds.contains(cert.keyId())) {
                return Optional.of("key id \"" + cert.keyId() + "\"");
            }
            long s = cert.serial();
            if (s == 0) {
                return Optional.empty();
            }
            String serial = "serial " + Long.toUnsignedString(s);
            if (serials.contains(s)) {
                return Optional.of(serial);
            }
            for (long[] r : ranges) {
                if (Long.compareUnsigned(r[0], s) <= 0 && Long.compareUnsigned(s, r[1]) <= 0) {
                    return Optional.of(serial + " (range " + Long.toUnsignedString(r[0]) + "-" + Long.toUnsignedString(r[1]) + ")");
                }
            }
            for (Bitmap b : bitmaps) {
                long index = s - b.offset();
                if (Long.compareUnsigned(s, b.offset()) >= 0 && Long.compareUnsigned(index, b.bits().length()) < 0
                        && b.bits().get((int) index)) {
                    return Optional.of(serial);
                }
            }
            return Optional.empty();
        }

        void addSerial(long serial) {
            serials.add(serial);
        }

        void addRange(long lo, long hi) {
            ranges.add(new long[] {lo, hi});
        }

        void addBitmap(long offset, BitSet bits) {
            bitmaps.add(new Bitmap(offset, bits));
        }

        void addKeyId(String keyId) {
            keyIds.add(keyId);
        }

        int serialCount() {
            int n = serials.size();
            for (Bitmap b : bitmaps) {
                n += b.bits().cardinality();
            }
            return n;
        }

        int rangeCount() {
            return ranges.size();
        }

        int keyIdCount() {
            return keyIds.size();
        }
    }

    /** Collects revocations while a file is parsed; {@link KrlParser} and the key list share it. */
    static final class Builder {
        private final Set<String> keys = new HashSet<>();
        private final Set<String> sha1 = new HashSet<>();
        private final Set<String> sha256 = new HashSet<>();
        private final Map<String, CertSection> byCa = new HashMap<>();
        private CertSection anyCa;

        void revokeKey(byte[] plainBlob) {
            keys.add(hex(plainBlob));
        }

        void revokeSha1(byte[] digest) {
            sha1.add(hex(digest));
        }

        void revokeSha256(byte[] digest) {
            sha256.add(hex(digest));
        }

        /** @param caBlob the CA key's wire blob, or empty for the section that applies to any CA */
        CertSection certificatesOf(byte[] caBlob) {
            if (caBlob.length == 0) {
                if (anyCa == null) {
                    anyCa = new CertSection();
                }
                return anyCa;
            }
            return byCa.computeIfAbsent(hex(caBlob), k -> new CertSection());
        }

        String counts() {
            int serials = 0;
            int ranges = 0;
            int ids = 0;
            List<CertSection> sections = new ArrayList<>(byCa.values());
            if (anyCa != null) {
                sections.add(anyCa);
            }
            for (CertSection s : sections) {
                serials += s.serialCount();
                ranges += s.rangeCount();
                ids += s.keyIdCount();
            }
            return byCa.size() + " CA section(s)" + (anyCa != null ? " + any-CA" : "")
                    + ", " + serials + " serial(s), " + ranges + " serial range(s), " + ids + " key id(s), "
                    + keys.size() + " key(s), " + sha1.size() + " SHA1 and " + sha256.size() + " SHA256 fingerprint(s)";
        }

        RevocationList build(String description) {
            return new RevocationList(this, description);
        }
    }
}
