package io.sallyport.proxy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/** Builds PROXY v2 headers byte by byte, as a sender would, for tests; lengths may be set wrong on purpose. */
final class V2Header {
    private int versionCommand = 0x21;
    private int familyProtocol = 0x11;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private Integer lengthOverride;
    private int crcAt = -1;

    static V2Header tcp4(String source, String destination, int sourcePort, int destinationPort) {
        V2Header h = new V2Header();
        h.raw(ipv4(source)).raw(ipv4(destination)).u16(sourcePort).u16(destinationPort);
        return h;
    }

    static V2Header tcp6(byte[] source, byte[] destination, int sourcePort, int destinationPort) {
        V2Header h = new V2Header().familyProtocol(0x21);
        h.raw(source).raw(destination).u16(sourcePort).u16(destinationPort);
        return h;
    }

    static V2Header empty() {
        return new V2Header();
    }

    V2Header versionCommand(int value) {
        versionCommand = value;
        return this;
    }

    V2Header familyProtocol(int value) {
        familyProtocol = value;
        return this;
    }

    /** Writes this length field instead of the real one. */
    V2Header length(int value) {
        lengthOverride = value;
        return this;
    }

    V2Header raw(byte... bytes) {
        body.writeBytes(bytes);
        return this;
    }

    V2Header raw(int... bytes) {
        for (int b : bytes) {
            body.write(b);
        }
        return this;
    }

    V2Header u16(int value) {
        return raw(value >>> 8 & 0xff, value & 0xff);
    }

    V2Header tlv(int type, byte[] value) {
        raw(type).u16(value.length);
        return raw(value);
    }

    V2Header vpce(String id) {
        byte[] text = id.getBytes(StandardCharsets.ISO_8859_1);
        byte[] value = new byte[text.length + 1];
        value[0] = 0x01;
        System.arraycopy(text, 0, value, 1, text.length);
        return tlv(0xEA, value);
    }

    /** A CRC32c TLV whose value is filled in by {@link #bytes()}. */
    V2Header crc() {
        raw(0x03).u16(4);
        crcAt = 16 + body.size();
        return raw(0, 0, 0, 0);
    }

    byte[] bytes() {
        byte[] b = body.toByteArray();
        int length = lengthOverride != null ? lengthOverride : b.length;
        byte[] out = new byte[16 + b.length];
        System.arraycopy(ProxyHeaderParser.V2_SIGNATURE, 0, out, 0, 12);
        out[12] = (byte) versionCommand;
        out[13] = (byte) familyProtocol;
        out[14] = (byte) (length >>> 8);
        out[15] = (byte) length;
        System.arraycopy(b, 0, out, 16, b.length);
        if (crcAt >= 0) {
            CRC32C crc = new CRC32C();
            crc.update(out, 0, out.length);
            long v = crc.getValue();
            out[crcAt] = (byte) (v >>> 24);
            out[crcAt + 1] = (byte) (v >>> 16);
            out[crcAt + 2] = (byte) (v >>> 8);
            out[crcAt + 3] = (byte) v;
        }
        return out;
    }

    static byte[] ipv4(String dotted) {
        String[] p = dotted.split("\\.");
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            b[i] = (byte) Integer.parseInt(p[i]);
        }
        return b;
    }
}
