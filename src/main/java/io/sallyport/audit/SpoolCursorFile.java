package io.sallyport.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spool's persistent cursor: {@code SEGMENT OFFSET}, the first event CloudWatch has not
 * accepted. Written to a temporary file, fsynced, renamed over the old one (atomic), and never
 * moved backwards. Losing an update (a power cut before the rename reaches the disk) only ships
 * a batch again; an unreadable file ships the whole spool again. Both are at-least-once.
 */
final class SpoolCursorFile {
    private static final Logger log = LoggerFactory.getLogger(SpoolCursorFile.class);
    static final String NAME = "cursor";

    private final Path file;
    private final Path tmp;
    private SpoolPosition saved;

    SpoolCursorFile(Path dir) {
        this.file = dir.resolve(NAME);
        this.tmp = dir.resolve(NAME + ".tmp");
    }

    /** The saved cursor ({@code index} unknown: 0), or null when there is none or it is unreadable. */
    synchronized SpoolPosition read() {
        try {
            String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
            String[] f = text.split(" ");
            if (f.length == 2) {
                saved = new SpoolPosition(Long.parseLong(f[0]), Long.parseLong(f[1]), 0);
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
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap((c.segment() + " " + c.offset() + "\n").getBytes(StandardCharsets.US_ASCII)));
            ch.force(false);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            log.warn("audit spool: cannot save the cursor ({}); a restart would ship some events again", e.toString());
            return false;
        }
        saved = c;
        return true;
    }
}
