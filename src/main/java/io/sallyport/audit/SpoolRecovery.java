package io.sallyport.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads what an earlier run left in the spool directory, once, at start: the segment files with
 * their sizes and record counts, and where shipping resumes. A file without the spool header is
 * deleted when it holds nothing (created, never written) or moved aside ({@code *.unreadable})
 * and never shipped; damaged bytes (a record torn by a crash) are counted and skipped.
 */
final class SpoolRecovery {
    private static final Logger log = LoggerFactory.getLogger(SpoolRecovery.class);

    /** One segment file left by an earlier run. */
    record Found(long number, Path path, long size, long records) {}

    /**
     * @param segments     by number, oldest first
     * @param cursor       where shipping resumes (with its index in its segment), or null when nothing was ever written;
     *                     past the last segment when all of them were shipped
     * @param skippedBytes damaged bytes in the segments
     * @param unshipped    records from the cursor on
     */
    record Recovered(List<Found> segments, SpoolPosition cursor, long skippedBytes, long unshipped) {}

    private SpoolRecovery() {}

    static Recovered read(SpoolStore store, Path dir, SpoolCursorFile cursorFile) throws IOException {
        TreeMap<Long, Path> files = new TreeMap<>();
        TreeMap<Long, Long> sizes = new TreeMap<>();
        for (Path p : store.list(dir, "*.seg")) {
            long number = SpoolSegment.numberOf(p.getFileName().toString());
            if (number < 0) {
                continue;
            }
            long size;
            byte[] head;
            try (SpoolFile ch = store.openForRead(p)) {
                size = ch.size();
                head = new byte[(int) Math.min(size, SpoolSegment.HEADER_SIZE)];
                ByteBuffer b = ByteBuffer.wrap(head);
                while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                    // the header is 8 bytes
                }
            }
            if (!SpoolSegment.hasHeader(head)) {
                if (size <= SpoolSegment.HEADER_SIZE) {
                    // Created but not yet written when the process died: nothing in it.
                    store.delete(p);
                } else {
                    Path aside = p.resolveSibling(p.getFileName() + ".unreadable");
                    store.move(p, aside);
                    log.error("audit spool segment {} has no spool header; moved aside to {} and not shipped", p, aside);
                }
                continue;
            }
            files.put(number, p);
            sizes.put(number, size);
        }
        SpoolPosition cursor = cursorFile.read();
        if (!files.isEmpty()) {
            long first = files.firstKey();
            if (cursor == null || cursor.segment() < first) {
                cursor = SpoolPosition.startOf(first);
            } else if (!files.containsKey(cursor.segment()) && cursor.segment() < files.lastKey()) {
                cursor = SpoolPosition.startOf(files.ceilingKey(cursor.segment()));
            }
            // A cursor past the last segment means all of them were shipped.
        }
        List<Found> segments = new ArrayList<>();
        long skipped = 0;
        long unshipped = 0;
        for (var e : files.entrySet()) {
            long number = e.getKey();
            Path p = e.getValue();
            long size = sizes.get(number);
            try (SpoolFile ch = store.openForRead(p)) {
                SpoolSegment.Scan all = SpoolSegment.scanAll(ch, SpoolSegment.HEADER_SIZE, size, false);
                if (all.skippedBytes() > 0) {
                    log.warn("audit spool segment {}: {} damaged bytes skipped (a record torn by a crash)", p, all.skippedBytes());
                    skipped += all.skippedBytes();
                }
                if (cursor != null && number == cursor.segment()) {
                    long before = SpoolSegment.scanAll(ch, SpoolSegment.HEADER_SIZE, Math.min(cursor.offset(), size), false)
                            .count();
                    cursor = new SpoolPosition(cursor.segment(), cursor.offset(), before);
                    unshipped += all.count() - before;
                } else if (cursor != null && number > cursor.segment()) {
                    unshipped += all.count();
                }
                segments.add(new Found(number, p, size, all.count()));
            }
        }
        return new Recovered(segments, cursor, skipped, unshipped);
    }
}
