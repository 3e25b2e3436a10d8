package io.sallyport.identity;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads the SSH wire encoding (RFC 4251 §5) from untrusted bytes: certificates sent by clients,
 * revocation lists written by operators. Every read checks its bounds first and fails with an
 * {@link IllegalArgumentException} that names the field, so a malformed input is refused with a
 * reason instead of an {@code IndexOutOfBoundsException} from somewhere inside.
 */
final class WireReader {
    private final byte[] data;
    private int pos;
    private final int end;

    WireReader(byte[] data) {
        this(data, 0, data.length);
    }

    private WireReader(byte[] data, int from, int to) {
        this.data = data;
        this.pos = from;
        this.end = to;
    }

    boolean hasRemaining() {
        return pos < end;
    }

    int remaining() {
        return end - pos;
    }

    /** Where the next read starts, counted from the beginning of the underlying array. */
    int position() {
        return pos;
    }

    private void need(int n, String field) {
        if (n > end - pos) {
            throw new IllegalArgumentException(field + " is cut short (needs " + n + " bytes, " + (end - pos) + " left)");
        }
    }

    int readByte(String field) {
        need(1, field);
        return data[pos++] & 0xff;
    }

    boolean readBoolean(String field) {
        return readByte(field) != 0;
    }

    long readUint32(String field) {
        need(4, field);
        long v = 0;
        for (int i = 0; i < 4; i++) {
            v = (v << 8) | (data[pos++] & 0xff);
        }
        return v;
    }

    /** An unsigned 64-bit value in a {@code long}: compare with {@link Long#compareUnsigned}. */
    long readUint64(String field) {
        need(8, field);
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (data[pos++] & 0xff);
        }
        return v;
    }

    byte[] readString(String field) {
        long len = readUint32(field + " length");
        if (len > end - pos) {
            throw new IllegalArgumentException(field + " claims " + len + " bytes but only " + (end - pos) + " are left");
        }
        byte[] out = new byte[(int) len];
        System.arraycopy(data, pos, out, 0, (int) len);
        pos += (int) len;
        return out;
    }

    /** A string field read as a nested reader over its bytes (sections, option lists). */
    WireReader readNested(String field) {
        long len = readUint32(field + " length");
        if (len > end - pos) {
            throw new IllegalArgumentException(field + " claims " + len + " bytes but only " + (end - pos) + " are left");
        }
        WireReader nested = new WireReader(data, pos, pos + (int) len);
        pos += (int) len;
        return nested;
    }

    /** A string that must be valid UTF-8 without NUL bytes (names, key ids, principals). */
    String readText(String field) {
        return text(readString(field), field);
    }

    static String text(byte[] bytes, String field) {
        for (byte b : bytes) {
            if (b == 0) {
                throw new IllegalArgumentException(field + " contains a NUL byte");
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(field + " is not valid UTF-8");
        }
    }

    /**
     * An mpint that must not be negative, as its magnitude in big-endian bytes without leading
     * zeros (RFC 4251: two's complement, a positive value with its top bit set has a 0 byte in front).
     */
    byte[] readNonNegativeMpint(String field) {
        byte[] raw = readString(field);
        if (raw.length > 0 && (raw[0] & 0x80) != 0) {
            throw new IllegalArgumentException(field + " is negative");
        }
        int skip = 0;
        while (skip < raw.length && raw[skip] == 0) {
            skip++;
        }
        byte[] out = new byte[raw.length - skip];
        System.arraycopy(raw, skip, out, 0, out.length);
        return out;
    }

    void requireEnd(String what) {
        if (pos != end) {
            throw new IllegalArgumentException((end - pos) + " unexpected bytes after the end of " + what);
        }
    }
}
