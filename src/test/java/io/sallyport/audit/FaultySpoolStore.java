package io.sallyport.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The spool's files on the real disk, failing on demand the way disks fail (after OkHttp's
 * {@code FaultyFileSystem}): writes that fail after N more bytes (the last one partly written), a
 * full disk, a write torn by a power cut after which nothing works any more, and fsyncs that
 * hang until released. Records what the spool did, in order.
 */
final class FaultySpoolStore implements SpoolStore {
    private static final String ENOSPC = "No space left on device";

    private final SpoolStore disk = DiskSpoolStore.INSTANCE;
    private final List<String> operations = new ArrayList<>();
    private final AtomicInteger failures = new AtomicInteger();
    private final AtomicInteger fsyncsWaiting = new AtomicInteger();
    private long writeBudget = Long.MAX_VALUE;
    private boolean full;
    private boolean fullUntilADelete;
    private long tearAfter = -1;
    private boolean crashed;
    private boolean closesFail;
    private volatile CountDownLatch fsyncGate = new CountDownLatch(0);

    // ---- faults ---------------------------------------------------------------------------------

    /** Writes fail with ENOSPC once {@code bytes} more bytes were written; the write that crosses it lands partly. */
    synchronized void failWritesAfter(long bytes) {
        writeBudget = bytes;
    }

    /** Every write and every new file fails with ENOSPC, and no space is free, until set back. */
    synchronized void diskFull(boolean on) {
        full = on;
    }

    /** Full as {@link #diskFull}, until a file is deleted. */
    synchronized void fullUntilADelete() {
        full = true;
        fullUntilADelete = true;
    }

    /** The next write lands only its first {@code bytes}, then the machine is gone: every later call fails. */
    synchronized void tearNextWriteAfter(long bytes) {
        tearAfter = bytes;
    }

    /** Closing a file fails with an I/O error (the file is closed all the same). */
    synchronized void failCloses(boolean on) {
        closesFail = on;
    }

    /** fsyncs wait (at most 30 s) until {@link #releaseFsyncs}. */
    void holdFsyncs() {
        fsyncGate = new CountDownLatch(1);
    }

    void releaseFsyncs() {
        fsyncGate.countDown();
    }

    /** Everything works again (but a crash stays a crash). */
    synchronized void heal() {
        writeBudget = Long.MAX_VALUE;
        full = false;
        fullUntilADelete = false;
        tearAfter = -1;
        closesFail = false;
        releaseFsyncs();
    }

    // ---- observation ----------------------------------------------------------------------------

    int failures() {
        return failures.get();
    }

    int fsyncsWaiting() {
        return fsyncsWaiting.get();
    }

    synchronized boolean crashed() {
        return crashed;
    }

    synchronized List<String> operations() {
        return List.copyOf(operations);
    }

    synchronized void clearOperations() {
        operations.clear();
    }

    private synchronized void record(String op) {
        operations.add(op);
    }

    private synchronized void checkAlive(String op) throws IOException {
        if (crashed) {
            failures.incrementAndGet();
            throw new IOException("Input/output error (" + op + " after the crash)");
        }
    }

    // ---- the store ------------------------------------------------------------------------------

    @Override
    public SpoolFile create(Path file) throws IOException {
        synchronized (this) {
            checkAlive("create");
            if (full) {
                failures.incrementAndGet();
                record("create failed " + file.getFileName());
                throw new IOException(ENOSPC);
            }
        }
        record("create " + file.getFileName());
        return new FaultyFile(file, disk.create(file));
    }

    @Override
    public SpoolFile openForRead(Path file) throws IOException {
        return new FaultyFile(file, disk.openForRead(file));
    }

    @Override
    public SpoolFile overwrite(Path file) throws IOException {
        checkAlive("overwrite");
        record("overwrite " + file.getFileName());
        return new FaultyFile(file, disk.overwrite(file));
    }

    @Override
    public void move(Path source, Path target) throws IOException {
        checkAlive("move");
        disk.move(source, target);
        record("move " + source.getFileName() + " " + target.getFileName());
    }

    @Override
    public void delete(Path file) throws IOException {
        checkAlive("delete");
        disk.delete(file);
        record("delete " + file.getFileName());
        synchronized (this) {
            if (fullUntilADelete) {
                full = false;
                fullUntilADelete = false;
            }
        }
    }

    @Override
    public List<Path> list(Path dir, String glob) throws IOException {
        return disk.list(dir, glob);
    }

    @Override
    public void syncDirectory(Path dir) {
        record("syncDirectory");
        disk.syncDirectory(dir);
    }

    @Override
    public synchronized long usableSpace(Path dir) throws IOException {
        return full ? 0 : disk.usableSpace(dir);
    }

    private final class FaultyFile implements SpoolFile {
        private final Path path;
        private final SpoolFile file;

        FaultyFile(Path path, SpoolFile file) {
            this.path = path;
            this.file = file;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return file.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            synchronized (FaultySpoolStore.this) {
                checkAlive("write");
                if (full) {
                    failures.incrementAndGet();
                    throw new IOException(ENOSPC);
                }
                if (tearAfter >= 0) {
                    writePart(src, position, tearAfter);
                    tearAfter = -1;
                    crashed = true;
                    failures.incrementAndGet();
                    throw new IOException("Input/output error (power cut during a write)");
                }
                if (src.remaining() > writeBudget) {
                    writePart(src, position, writeBudget);
                    writeBudget = 0;
                    failures.incrementAndGet();
                    throw new IOException(ENOSPC);
                }
                int n = file.write(src, position);
                if (writeBudget != Long.MAX_VALUE) {
                    writeBudget -= n;
                }
                return n;
            }
        }

        private void writePart(ByteBuffer src, long position, long bytes) throws IOException {
            ByteBuffer part = src.slice();
            part.limit((int) Math.min(bytes, part.remaining()));
            while (part.hasRemaining()) {
                file.write(part, position + part.position());
            }
            src.position(src.position() + part.limit());
        }

        @Override
        public long size() throws IOException {
            return file.size();
        }

        @Override
        public void truncate(long size) throws IOException {
            checkAlive("truncate");
            file.truncate(size);
        }

        @Override
        public void force(boolean metadata) throws IOException {
            checkAlive("force");
            fsyncsWaiting.incrementAndGet();
            try {
                if (!fsyncGate.await(30, TimeUnit.SECONDS)) {
                    throw new IOException("fsync held for 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted in fsync");
            } finally {
                fsyncsWaiting.decrementAndGet();
            }
            checkAlive("force");
            file.force(metadata);
            record("force " + path.getFileName());
        }

        @Override
        public void close() throws IOException {
            file.close();
            synchronized (FaultySpoolStore.this) {
                if (closesFail) {
                    failures.incrementAndGet();
                    throw new IOException("Input/output error (close)");
                }
            }
        }
    }
}
