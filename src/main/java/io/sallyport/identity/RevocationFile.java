package io.sallyport.identity;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The {@code revoked} file, kept loaded: {@link #current()} answers logins from memory, and
 * {@link #reloadIfChanged()} (polled) or {@link #reload()} (on {@code sallyport reload} / SIGHUP)
 * swap in a new list.
 *
 * <p>A file that cannot be read or parsed at start is an error (the server must not start with
 * revocations silently missing). Later, a bad file keeps the previous list and the outcome says
 * why: an operator's half-written KRL must never un-revoke everything.
 */
public final class RevocationFile implements Supplier<RevocationList> {
    /** Far beyond any real KRL; bounds what a mistaken path (a disk image, say) could make us read. */
    static final long MAX_BYTES = 64L * 1024 * 1024;

    private final Path path;
    private volatile RevocationList current;
    /** What the file looked like when last read, good or bad, so a bad file is not re-read every poll. */
    private volatile Stamp lastSeen;

    /** Size, modification time and file identity (inode): a rename over the file changes the identity. */
    private record Stamp(long size, long modifiedNanos, Object fileKey) {}

    /** What a reload did. */
    public sealed interface Outcome {
        record Loaded(RevocationList list) implements Outcome {}

        record Unchanged() implements Outcome {}

        /** The file could not be used; the previous list stays in force. */
        record KeptPrevious(String reason, RevocationList previous) implements Outcome {}
    }

    private RevocationFile(Path path, RevocationList list, Stamp stamp) {
        this.path = path;
        this.current = list;
        this.lastSeen = stamp;
    }

    /**
     * Reads the file for the first time.
     *
     * @throws IllegalArgumentException with a message fit for the operator
     */
    public static RevocationFile load(Path path) {
        Stamp stamp = stamp(path);
        return new RevocationFile(path, read(path), stamp);
    }

    public Path path() {
        return path;
    }

    /** The list in force. */
    public RevocationList current() {
        return current;
    }

    @Override
    public RevocationList get() {
        return current;
    }

    /** Re-reads the file if its size, modification time or identity changed since it was last read. */
    public synchronized Outcome reloadIfChanged() {
        Stamp now;
        try {
            now = stamp(path);
        } catch (IllegalArgumentException e) {
            // Gone or unreadable: say so once, not every second.
            if (lastSeen == null) {
                return new Outcome.Unchanged();
            }
            lastSeen = null;
            return new Outcome.KeptPrevious(e.getMessage(), current);
        }
        if (now.equals(lastSeen)) {
            return new Outcome.Unchanged();
        }
        return readAndSwap(now);
    }

    /** Re-reads the file whatever its stamp says. */
    public synchronized Outcome reload() {
        Stamp now;
        try {
            now = stamp(path);
        } catch (IllegalArgumentException e) {
            lastSeen = null;
            return new Outcome.KeptPrevious(e.getMessage(), current);
        }
        return readAndSwap(now);
    }

    private Outcome readAndSwap(Stamp stamp) {
        lastSeen = stamp;
        try {
            RevocationList list = read(path);
            current = list;
            return new Outcome.Loaded(list);
        } catch (IllegalArgumentException e) {
            return new Outcome.KeptPrevious(e.getMessage(), current);
        }
    }

    private static Stamp stamp(Path path) {
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            return new Stamp(a.size(), a.lastModifiedTime().toInstant().getEpochSecond() * 1_000_000_000L
                    + a.lastModifiedTime().toInstant().getNano(), a.fileKey());
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("revocation file " + path + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("revocation file " + path + " cannot be read: " + e.getMessage());
        }
    }

    private static RevocationList read(Path path) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(path)) {
            bytes = in.readNBytes((int) MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("revocation file " + path + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("revocation file " + path + " cannot be read: " + e.getMessage());
        }
        if (bytes.length > MAX_BYTES) {
            throw new IllegalArgumentException("revocation file " + path + " is larger than " + MAX_BYTES / (1024 * 1024) + " MiB");
        }
        try {
            return RevocationList.parse(bytes);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("revocation file " + path + ": " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return Objects.toString(path) + " (" + current.description() + ")";
    }
}
