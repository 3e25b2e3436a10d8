package io.sallyport.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The on-disk format of one spool segment file, and the reader that finds the records in it.
 *
 * <p>A segment is an 8-byte header ({@code SPOOLv01}) followed by records, each framed as
 * <pre>
 *   magic   4 bytes  0x53505231 ("SPR1"), where a record starts
 *   length  4 bytes  payload length, 0 .. {@value #MAX_PAYLOAD}
 *   time    8 bytes  the event's timestamp, epoch milliseconds
 *   crc     4 bytes  CRC-32C over length, time and payload
 *   payload          the event's JSON line, UTF-8
 * </pre>
 * all big-endian. A crash can leave the last record torn (a partial frame, or a full-length frame
 * whose bytes never reached the disk). The checksum catches both; the reader then skips ahead to
 * the next magic that starts a valid frame, so one torn record costs that record only. A JSON line
 * can never fake a frame: the length field's high byte is 0x00, which JSON text never contains.
 */
final class SpoolSegment {
    static final byte[] HEADER = "SPOOLv01".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER_SIZE = HEADER.length;
    static final int MAGIC = 0x53505231;
    static final int FRAME_OVERHEAD = 20;
    /** CloudWatch Logs takes events of up to 256 KiB including its 26 bytes of overhead. */
    static final int MAX_PAYLOAD = 256 * 1024 - 26;

    private SpoolSegment() {}

    static String fileName(long number) {
        return String.format("%016d.seg", number);
    }

    /** The segment number of a file name written by {@link #fileName}, or -1. */
    static long numberOf(String fileName) {
        if (!fileName.matches("[0-9]{16}\\.seg")) {
            return -1;
        }
        return Long.parseLong(fileName.substring(0, 16));
    }

    static int frameSize(int payloadLength) {
        return FRAME_OVERHEAD + payloadLength;
    }

    static void writeFrame(ByteBuffer out, long timestamp, byte[] payload) {
        CRC32C crc = new CRC32C();
        int start = out.position();
        out.putInt(MAGIC).putInt(payload.length).putLong(timestamp);
        crc.update(out.array(), out.arrayOffset() + start + 4, 12);
        crc.update(payload);
        out.putInt((int) crc.getValue()).put(payload);
    }

    static boolean hasHeader(byte[] firstBytes) {
        return firstBytes.length >= HEADER_SIZE && Arrays.equals(firstBytes, 0, HEADER_SIZE, HEADER, 0, HEADER_SIZE);
    }

    /** What a scan found: records (unless only counted), where it stopped, and what it skipped. */
    record Scan(List<Found> records, long count, long end, long skippedBytes, long lastTimestamp) {}

    /** A record's place and content; {@code payload} is null when the scan only counts. */
    record Found(long offset, long next, long timestamp, byte[] payload) {}

    /**
     * Reads frames from {@code from} up to {@code limit} (exclusive), stopping after
     * {@code maxRecords} records or before the records' cost (payload plus {@code overhead} each)
     * would pass {@code maxBytes}. Damaged bytes are skipped and counted; {@code end} is where
     * the next read should start.
     *
     * @param firstAlways take the first record even if it alone costs more than {@code maxBytes}
     */
    static Scan scan(SpoolFile ch, long from, long limit, int maxRecords, long maxBytes, int overhead,
                     boolean firstAlways, boolean keepPayloads) throws IOException {
        return new Reader(ch, limit).scan(from, maxRecords, maxBytes, overhead, firstAlways, keepPayloads);
    }

    /** Every record from {@code from} to {@code limit}. */
    static Scan scanAll(SpoolFile ch, long from, long limit, boolean keepPayloads) throws IOException {
        return scan(ch, from, limit, Integer.MAX_VALUE, Long.MAX_VALUE, 0, true, keepPayloads);
    }

    /** A window over the file, refilled as the scan moves on. */
    private static final class Reader {
        private static final int WINDOW = FRAME_OVERHEAD + MAX_PAYLOAD + 64 * 1024;
        private final SpoolFile ch;
        private final long limit;
        private final ByteBuffer buf = ByteBuffer.allocate(WINDOW);
        private long bufStart = -1;
        private final CRC32C crc = new CRC32C();

        Reader(SpoolFile ch, long limit) {
            this.ch = ch;
            this.limit = limit;
        }

        /** Makes [pos, pos + need) available in the window when the file has it; false otherwise. */
        private boolean ensure(long pos, int need) throws IOException {
            if (pos + need > limit) {
                return false;
            }
            if (bufStart >= 0 && pos >= bufStart && pos + need <= bufStart + buf.limit()) {
                return true;
            }
            buf.clear();
            long want = Math.min(WINDOW, limit - pos);
            buf.limit((int) want);
            long at = pos;
            while (buf.hasRemaining()) {
                int n = ch.read(buf, at);
                if (n < 0) {
                    break;
                }
                at += n;
            }
            buf.flip();
            bufStart = pos;
            return buf.limit() >= need;
        }

        Scan scan(long from, int maxRecords, long maxBytes, int overhead, boolean firstAlways, boolean keep)
                throws IOException {
            List<Found> out = new ArrayList<>();
            long count = 0;
            long cost = 0;
            long skipped = 0;
            long lastTs = Long.MIN_VALUE;
            long pos = from;
            while (pos < limit && count < maxRecords) {
                int length = frameAt(pos);
                if (length < 0) {
                    long resume = nextMagic(pos + 1);
                    skipped += resume - pos;
                    pos = resume;
                    continue;
                }
                if (cost + length + overhead > maxBytes && (count > 0 || !firstAlways)) {
                    break;
                }
                int rel = (int) (pos - bufStart);
                long ts = buf.getLong(rel + 8);
                byte[] payload = null;
                if (keep) {
                    payload = new byte[length];
                    buf.get(rel + FRAME_OVERHEAD, payload);
                }
                long next = pos + FRAME_OVERHEAD + length;
                out.add(new Found(pos, next, ts, payload));
                count++;
                cost += length + overhead;
                lastTs = ts;
                pos = next;
            }
            if (!keep) {
                out = List.of();
            }
            return new Scan(out, count, pos, skipped, lastTs);
        }

        /** The payload length of a valid frame at {@code pos}, or -1 when there is none. */
        private int frameAt(long pos) throws IOException {
            if (!ensure(pos, FRAME_OVERHEAD)) {
                return -1;
            }
            int rel = (int) (pos - bufStart);
            if (buf.getInt(rel) != MAGIC) {
                return -1;
            }
            int length = buf.getInt(rel + 4);
            if (length < 0 || length > MAX_PAYLOAD) {
                return -1;
            }
            if (!ensure(pos, FRAME_OVERHEAD + length)) {
                return -1;
            }
            rel = (int) (pos - bufStart);
            crc.reset();
            crc.update(buf.array(), rel + 4, 12);
            crc.update(buf.array(), rel + FRAME_OVERHEAD, length);
            return (int) crc.getValue() == buf.getInt(rel + 16) ? length : -1;
        }

        /** The first offset at or after {@code pos} that starts a valid frame, or {@code limit}. */
        private long nextMagic(long pos) throws IOException {
            while (pos + FRAME_OVERHEAD <= limit) {
                if (!ensure(pos, 4)) {
                    return limit;
                }
                int rel = (int) (pos - bufStart);
                int end = buf.limit() - 3;
                for (int i = rel; i < end; i++) {
                    if (buf.get(i) == 0x53 && buf.getInt(i) == MAGIC) {
                        long candidate = bufStart + i;
                        if (frameAt(candidate) >= 0) {
                            return candidate;
                        }
                        // frameAt may have moved the window; carry on from the candidate.
                        pos = candidate + 1;
                        rel = -1;
                        break;
                    }
                }
                if (rel >= 0) {
                    pos = bufStart + end;
                }
            }
            return limit;
        }
    }
}
