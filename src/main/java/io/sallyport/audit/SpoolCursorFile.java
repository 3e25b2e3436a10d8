package io.sallyport.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spool's persistent cursor: {@code SEGMENT OFFSET}, the first event CloudWatch has not
 * accepted. Written to a temporary file, fsynced, renamed over the old one (atomic), the
 * directory fsynced (so the rename itself survives a power cut: without it the old cursor could
 * come back and one batch be shipped again), and never moved backwards. An update lost anyway
 * only ships a batch again; an unreadable file ships the whole spool again. Both are
 * at-least-once.
 */
final class SpoolCursorFile {
    private static final Logger log = LoggerFactory.getLogger(SpoolCursorFile.class);
    static final String NAME = "cursor";

    private final SpoolStore store;
    private final Path dir;
    private final Path file;
    private final Path tmp;
    private SpoolPosition saved;

    SpoolCursorFile(SpoolStore store, Path dir) {
        this.store = store;
        this.dir = dir;
        this.file = dir.resolve(NAME);
        this.tmp = dir.resolve(NAME + ".tmp");
    }

    /** The saved cursor ({@code index} unknown: 0), or null when there is none or it is unreadable. */
    synchronized SpoolPosition read() {
        String text = "";
        try (SpoolFile f = store.openForRead(file)) {
            ByteBuffer b = ByteBuffer.allocate(64);
            while (b.hasRemaining() && f.read(b, b.position()) > 0) {
                // a cursor is one short line
            }
            text = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
            String[] fields = text.split(" ");
            if (fields.length == 2) {
                saved = new SpoolPosition(Long.parseLong(fields[0]), Long.parseLong(fields[1]), 0);
                return saved;
            }
            log.warn("audit spool cursor {} is unreadable ('{}'); shipping everything in the spool again", file, text);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | NumberFormatException e) {
            log.warn("audit spool cursor {} is unreadable ({}); shipping everything in the spool again", file, e.toString());
        }
        return null;
    }

    /** Saves {@code c} unless a later cursor is saved already. False when it could not be saved. */
    synchronized boolean save(SpoolPosition c) {
        if (saved != null && !c.isAfter(saved)) {
            return true;
        }
        try {
            try (SpoolFile f = store.overwrite(tmp)) {
                ByteBuffer b = ByteBuffer.wrap((c.segment() + " " + c.offset() + "\n").getBytes(StandardCharsets.US_ASCII));
                while (b.hasRemaining()) {
                    f.write(b, b.position());
                }
                f.force(false);
            }
            store.move(tmp, file);
            store.syncDirectory(dir);
        } catch (IOException e) {
            log.warn("audit spool: cannot save the cursor ({}); a restart would ship some events again", e.toString());
            return false;
        }
        saved = c;
        return true;
    }
}
