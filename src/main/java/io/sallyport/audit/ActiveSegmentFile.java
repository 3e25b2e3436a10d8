package io.sallyport.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * The segment file the spool's writer appends to. Its first {@link #durableSize} bytes are
 * fsynced; an append that fails leaves nothing counted, and whatever it did put on disk past the
 * durable end is cut off ({@link #cutBack}) or overwritten by the next append, which starts at
 * the durable end again. Used by the writer thread only.
 */
final class ActiveSegmentFile implements AutoCloseable {
    private final long number;
    private final Path path;
    private final SpoolFile file;
    private long durable;

    private ActiveSegmentFile(long number, Path path, SpoolFile file, long durable) {
        this.number = number;
        this.path = path;
        this.file = file;
        this.durable = durable;
    }

    /**
     * Creates segment {@code number} in {@code dir}: the header, fsynced, and the directory
     * fsynced so the file itself survives a power cut. A file that could not be completed is
     * deleted (or, failing that, left header-less, and deleted at the next start).
     */
    static ActiveSegmentFile create(SpoolStore store, Path dir, long number) throws IOException {
        Path p = dir.resolve(SpoolSegment.fileName(number));
        SpoolFile f = store.create(p);
        try {
            writeFully(f, ByteBuffer.wrap(SpoolSegment.HEADER), 0);
            f.force(true);
            store.syncDirectory(dir);
        } catch (IOException e) {
            try {
                f.close();
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            // Apart from the close: a file that cannot be closed must still not stay behind.
            try {
                store.delete(p);
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
        return new ActiveSegmentFile(number, p, f, SpoolSegment.HEADER_SIZE);
    }

    long number() {
        return number;
    }

    Path path() {
        return path;
    }

    /** Bytes at the start of the file that are fsynced. */
    long durableSize() {
        return durable;
    }

    /** Writes all of {@code frames} at the durable end and fsyncs; only then are they durable. */
    void append(ByteBuffer frames) throws IOException {
        long end = writeFully(file, frames, durable);
        file.force(false);
        durable = end;
    }

    /** After a failed {@link #append}: cuts the file back to its durable end. */
    void cutBack() throws IOException {
        file.truncate(durable);
        file.force(false);
    }

    @Override
    public void close() throws IOException {
        file.close();
    }

    private static long writeFully(SpoolFile f, ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) {
            at += f.write(b, at);
        }
        return at;
    }
}
