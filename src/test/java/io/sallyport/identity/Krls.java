package io.sallyport.identity;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Hand-built KRL bytes (PROTOCOL.krl), for the malformed inputs ssh-keygen never writes. */
final class Krls {
    private Krls() {}

    static final byte[] MAGIC = "SSHKRL\n\0".getBytes(StandardCharsets.ISO_8859_1);

    /** Header (format 1, version 1, date 0, no flags, no comment) followed by the sections. */
    static byte[] krl(byte[]... sections) {
        return krlWithFormat(1, sections);
    }

    static byte[] krlWithFormat(int format, byte[]... sections) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(MAGIC);
        out.writeBytes(u32(format));
        out.writeBytes(u64(1));
        out.writeBytes(u64(0));
        out.writeBytes(u64(0));
        CertBlob.string(out, new byte[0]);
        CertBlob.string(out, new byte[0]);
        for (byte[] s : sections) {
            out.writeBytes(s);
        }
        return out.toByteArray();
    }

    static byte[] section(int type, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(type);
        CertBlob.string(out, data);
        return out.toByteArray();
    }

    /** A certificates section: CA key (empty for any CA), reserved, then subsections. */
    static byte[] certSection(byte[] caKey, byte[]... subsections) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        CertBlob.string(data, caKey);
        CertBlob.string(data, new byte[0]);
        for (byte[] s : subsections) {
            data.writeBytes(s);
        }
        return section(1, data.toByteArray());
    }

    static byte[] serialList(long... serials) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (long s : serials) {
            data.writeBytes(u64(s));
        }
        return section(0x20, data.toByteArray());
    }

    static byte[] serialRange(long lo, long hi) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        data.writeBytes(u64(lo));
        data.writeBytes(u64(hi));
        return section(0x21, data.toByteArray());
    }

    /** @param mpint the bitmap exactly as the mpint's bytes (two's complement, big-endian) */
    static byte[] serialBitmap(long offset, byte[] mpint) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        data.writeBytes(u64(offset));
        CertBlob.string(data, mpint);
        return section(0x22, data.toByteArray());
    }

    static byte[] keyIds(String... ids) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (String id : ids) {
            CertBlob.string(data, id.getBytes(StandardCharsets.UTF_8));
        }
        return section(0x23, data.toByteArray());
    }

    /** Strings in one section: explicit keys (2), SHA1 (3) or SHA256 (5) fingerprints. */
    static byte[] blobs(int type, byte[]... blobs) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (byte[] b : blobs) {
            CertBlob.string(data, b);
        }
        return section(type, data.toByteArray());
    }

    /** An extension section (255) or certificate subsection (0x39). */
    static byte[] extension(int type, String name, boolean critical) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        CertBlob.string(data, name.getBytes(StandardCharsets.UTF_8));
        data.write(critical ? 1 : 0);
        CertBlob.string(data, new byte[] {1, 2, 3});
        return section(type, data.toByteArray());
    }

    static byte[] u32(int v) {
        return ByteBuffer.allocate(4).putInt(v).array();
    }

    static byte[] u64(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }
}
