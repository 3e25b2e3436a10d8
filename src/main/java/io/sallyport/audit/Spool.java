package io.sallyport.audit;

import io.sallyport.config.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable audit spool: an append-only directory of segment files that the CloudWatch shipper
 * drains. "Appended" means written and fsynced; a segment is deleted only once every event in it
 * was accepted by CloudWatch (or, under {@code drop_oldest}, given up to make room).
 *
 * <p><b>Appending</b> ({@link #append}) only queues the event; one writer thread takes everything
 * queued, writes it in one go and fsyncs once (group commit), so many SSH threads appending at
 * the same moment share one fsync. {@link Append#awaitDurable} waits, with a bound, for that.
 * Nothing here ever waits on the network, and nothing throws at the caller of {@code append}.
 *
 * <p><b>Shipping</b> ({@link #read}, {@link #commit}) reads from a persistent cursor, the first
 * event CloudWatch has not accepted yet. The cursor is saved after each accepted batch; a crash
 * between acceptance and saving sends that batch again (at least once; events carry an
 * {@code id} for de-duplication).
 *
 * <p><b>Limits</b>: once the segments take {@code maxBytes}, {@code refuse_new_sessions} reports
 * {@link #refusal()} so that no new session starts, while events of live sessions (and the
 * refusals themselves) are still written, into a reserve above the limit; {@code drop_oldest}
 * deletes the oldest segment instead, counting what it dropped.
 *
 * <p>Each process starts a new segment: segments left by an earlier run are never appended to,
 * so a torn record at their end stays a skipped tail and never sits between good records.
 *
 * <p><b>Write failures</b>: events are written in chunks, each fsynced before the next; a chunk
 * that fails is cut off again (truncated to the last durable byte) and retried, and only the
 * events not yet durable are written again, so a failure part-way through a group never
 * duplicates what was already on disk. A full disk is a write failure with a known cause:
 * {@code refuse_new_sessions} refuses new sessions with that reason until the disk has room,
 * {@code drop_oldest} deletes the oldest segment to make room, one a second, but only while the
 * spool holds more than half its limit; below that the disk was filled by something else, and
 * it refuses new sessions instead, as {@code refuse_new_sessions} does. Files are reached through a
 * {@link SpoolStore} and time through a {@link SpoolClock}, so tests can fail the disk at will.
 */
public final class Spool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Spool.class);
    private static final String LOCK_FILE = "lock";
    /** At most this much is written per group commit, so one fsync never waits on a mountain. */
    private static final int MAX_WRITE_BYTES = 4 << 20;
    /** Events queued but not yet written, beyond which appends are discarded (the disk is not keeping up). */
    private static final long MAX_QUEUED_BYTES = 64L << 20;
    private static final Duration WRITE_RETRY = Duration.ofSeconds(1);
    /**
     * How long a closing spool goes on writing what is queued, retrying a failing disk, before it
     * gives up everything still unwritten (counted as discarded): one bound for the whole shutdown.
     */
    private static final Duration GIVE_UP_ON_CLOSE = Duration.ofSeconds(5);
    /** How long {@link #close} waits for the writer: its deadline, one retry pause and a last chunk's fsync. */
    private static final Duration CLOSE_JOIN = Duration.ofSeconds(15);
    /** At most one "writer is behind, event discarded" line per this long. */
    private static final Duration BEHIND_LOG_INTERVAL = Duration.ofSeconds(10);
    private static final long CAUGHT_UP_NANOS = Duration.ofMillis(200).toNanos();

    /** One event handed to the spool; completes once it is on disk, or when it was discarded. */
    public static final class Append {
        private final long timestamp;
        private final String line;
        private final byte[] payload;
        private final CompletableFuture<Boolean> done = new CompletableFuture<>();
        private final Spool spool;
        private final long queuedNanos;
        private boolean delivered;

        private Append(Spool spool, long timestamp, String line) {
            this.spool = spool;
            this.queuedNanos = spool.clock.nanoTime();
            this.timestamp = timestamp;
            this.line = line;
            this.payload = line.getBytes(StandardCharsets.UTF_8);
        }

        public String line() {
            return line;
        }

        public long timestamp() {
            return timestamp;
        }

        int frameSize() {
            return SpoolSegment.frameSize(payload.length);
        }

        /**
         * Waits at most {@code timeout} for the event to be on disk. Never throws.
         *
         * @return true once durable; false when discarded, or still not written after {@code timeout}
         */
        public boolean awaitDurable(Duration timeout) {
            try {
                return done.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                spool.noteSlow();
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (ExecutionException e) {
                return false;
            }
        }

        boolean isDone() {
            return done.isDone();
        }
    }

    /** A segment as a reader saw it, so the file can be read without holding the lock. */
    private record SegmentView(long number, Path path, long size, boolean sealed) {}

    /** What {@link #read} found: the records, and where the next read starts. */
    public record Batch(List<SpoolRecord> records, SpoolPosition end) {}

    /**
     * The spool's state for metrics and logs.
     *
     * @param unshippedEvents events on disk that CloudWatch has not accepted yet
     * @param diskBytes       bytes the segment files take
     * @param oldestUnshipped timestamp of the oldest unshipped event
     * @param groupCommits    fsyncs that made appended events durable (fewer than events under load)
     * @param droppedEvents   unshipped events deleted by {@code drop_oldest} since start
     * @param discardedEvents events never written: the reserve was exhausted, or the disk failed
     */
    public record Status(long unshippedEvents, long diskBytes, long maxBytes, Optional<Instant> oldestUnshipped,
                         boolean full, boolean writeFailing, long appendedEvents, long groupCommits,
                         long droppedEvents, long discardedEvents, long skippedBytes) {}

    private static final class Segment {
        final long number;
        final Path path;
        /** Bytes on disk and durable; for the active segment it grows with each group commit. */
        long size;
        long records;
        boolean sealed;

        Segment(long number, Path path, long size, long records, boolean sealed) {
            this.number = number;
            this.path = path;
            this.size = size;
            this.records = records;
            this.sealed = sealed;
        }
    }

    private final Path dir;
    private final SpoolStore store;
    private final SpoolClock clock;
    private final long maxBytes;
    private final long reserveBytes;
    private final long segmentBytes;
    private final Config.SpoolFullAction onFull;
    private final Consumer<List<Append>> afterWrite;
    private final FileChannel lockChannel;
    private final FileLock dirLock;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition queuedCondition = lock.newCondition();
    private final Condition writtenCondition = lock.newCondition();
    private final ArrayDeque<Append> queue = new ArrayDeque<>();
    private final TreeMap<Long, Segment> segments = new TreeMap<>();
    private long queuedBytes;
    private Append lastQueued;
    private long diskBytes;
    private SpoolPosition cursor;
    private boolean closing;
    /** When {@link #closing}: the {@link SpoolClock#nanoTime} after which nothing more is written. */
    private long closeDeadline;
    private boolean writeFailing;
    private String writeFailure = "";
    /** The failing writes are for want of space (then {@code writeFailure} says how much is free). */
    private boolean diskFull;
    private long slowSinceNanos;
    private boolean slow;
    private long appended;
    private long commits;
    private long dropped;
    private long discarded;
    private long skippedBytes;
    private boolean behindLogged;
    private boolean droppedForSpace;
    private long lastDropForSpaceNanos;
    private long lastBehindLogNanos;

    private final SpoolCursorFile cursorFile;

    /**
     * Touched only by the writer thread: the segment being written, its bookkeeping and its file.
     * {@code activeFile} is null after a roll that sealed the old segment but could not start the next.
     */
    private Segment active;
    /** The writer was interrupted (the flag is set again only when it ends). */
    private boolean interrupted;
    private ActiveSegmentFile activeFile;
    private long nextSegment;
    private final ByteBuffer writeBuffer = ByteBuffer.allocate(MAX_WRITE_BYTES + SpoolSegment.frameSize(SpoolSegment.MAX_PAYLOAD));
    private final Thread writer;

    /**
     * Opens (or creates, mode 0700) the spool in {@code dir}, recovers what an earlier run left,
     * and starts the writer thread.
     *
     * @param afterWrite called on the writer thread, in append order, with each group of events
     *                   once they are durable (or discarded); the local sinks hang off it
     * @throws IOException when the directory cannot be used, or another process holds it
     */
    public static Spool open(Path dir, long maxBytes, Config.SpoolFullAction onFull, Consumer<List<Append>> afterWrite)
            throws IOException {
        return open(dir, maxBytes, onFull, afterWrite, DiskSpoolStore.INSTANCE, SpoolClock.SYSTEM);
    }

    /** {@link #open(Path, long, Config.SpoolFullAction, Consumer)} with its files and time given: for tests. */
    static Spool open(Path dir, long maxBytes, Config.SpoolFullAction onFull, Consumer<List<Append>> afterWrite,
                      SpoolStore store, SpoolClock clock) throws IOException {
        return new Spool(dir, maxBytes, onFull, afterWrite, store, clock);
    }

    private Spool(Path dir, long maxBytes, Config.SpoolFullAction onFull, Consumer<List<Append>> afterWrite,
                  SpoolStore store, SpoolClock clock) throws IOException {
        this.dir = dir;
        this.store = store;
        this.clock = clock;
        this.maxBytes = maxBytes;
        this.reserveBytes = Math.max(1L << 20, Math.min(maxBytes / 8, 64L << 20));
        // drop_oldest gives up a whole segment at a time: keep that a small part of the spool.
        this.segmentBytes = Math.max(4L << 10, Math.min(maxBytes / 16, 16L << 20));
        this.onFull = onFull;
        this.afterWrite = afterWrite;
        this.cursorFile = new SpoolCursorFile(store, dir);
        createPrivateDirectory(dir);
        this.lockChannel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = lockChannel.tryLock();
        } catch (IOException e) {
            lockChannel.close();
            throw e;
        } catch (java.nio.channels.OverlappingFileLockException e) {
            l = null; // held by this very process (a second server in one JVM, in tests)
        }
        if (l == null) {
            lockChannel.close();
            throw new IOException("audit spool " + dir + " is in use by another sallyport process");
        }
        this.dirLock = l;
        try {
            recover();
            nextSegment = lastSegmentNumber() + 1;
            startSegment();
        } catch (IOException | RuntimeException e) {
            dirLock.release();
            lockChannel.close();
            throw e;
        }
        this.writer = new Thread(this::writeLoop, "sallyport-spool-writer");
        writer.setDaemon(true);
        writer.start();
    }

    private static void createPrivateDirectory(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir);
        }
    }

    // ---- recovery -------------------------------------------------------------------------------

    private void recover() throws IOException {
        SpoolRecovery.Recovered r = SpoolRecovery.read(store, dir, cursorFile);
        for (SpoolRecovery.Found f : r.segments()) {
            segments.put(f.number(), new Segment(f.number(), f.path(), f.size(), f.records(), true));
            diskBytes += f.size();
        }
        cursor = r.cursor();
        skippedBytes += r.skippedBytes();
        deleteShippedSegments();
        if (!segments.isEmpty()) {
            log.info("audit spool {}: {} unshipped events in {} segments from an earlier run, resuming at {}", dir,
                    r.unshipped(), segments.size(), cursor);
        }
    }

    private long lastSegmentNumber() {
        long last = segments.isEmpty() ? 0 : segments.lastKey();
        return cursor == null ? last : Math.max(last, cursor.segment());
    }

    // ---- appending ------------------------------------------------------------------------------

    /**
     * Queues one event for the next group commit. Never blocks on the disk, never throws.
     * The returned {@link Append} completes when the event is on disk (or was discarded).
     */
    public Append append(long timestamp, String line) {
        Append a = new Append(this, timestamp, line);
        if (a.payload.length > SpoolSegment.MAX_PAYLOAD) {
            log.error("audit event of {} bytes is larger than CloudWatch takes ({}); not spooled", a.payload.length,
                    SpoolSegment.MAX_PAYLOAD);
            lock.lock();
            try {
                discarded++;
            } finally {
                lock.unlock();
            }
            discardNow(a);
            return a;
        }
        lock.lock();
        try {
            if (closing || queuedBytes + a.frameSize() > MAX_QUEUED_BYTES) {
                discarded++;
                if (!closing) {
                    noteBehind();
                }
            } else {
                queue.add(a);
                lastQueued = a;
                queuedBytes += a.frameSize();
                queuedCondition.signal();
                return a;
            }
        } finally {
            lock.unlock();
        }
        discardNow(a);
        return a;
    }

    /**
     * Under the lock: an event was discarded because the writer is too far behind. Logged at once,
     * then at most every {@link #BEHIND_LOG_INTERVAL} with the running total, so that a failing disk
     * under a flood of events does not become a flood of log lines too.
     */
    private void noteBehind() {
        long now = clock.nanoTime();
        if (behindLogged && now - lastBehindLogNanos < BEHIND_LOG_INTERVAL.toNanos()) {
            return;
        }
        log.error("audit spool writer is {} MiB behind ({}); {} events discarded since start", queuedBytes >> 20,
                writeFailing ? writeFailure : "the disk is not keeping up", discarded);
        behindLogged = true;
        lastBehindLogNanos = now;
    }

    private void discardNow(Append a) {
        a.done.complete(false);
        deliver(List.of(a));
    }

    private void deliver(List<Append> written) {
        List<Append> fresh = new ArrayList<>(written.size());
        for (Append a : written) {
            synchronized (a) {
                if (!a.delivered) {
                    a.delivered = true;
                    fresh.add(a);
                }
            }
        }
        if (fresh.isEmpty()) {
            return;
        }
        try {
            afterWrite.accept(fresh);
        } catch (RuntimeException e) {
            log.error("audit spool listener failed: {}", e.toString());
        }
    }

    private void noteSlow() {
        lock.lock();
        try {
            if (!slow) {
                slow = true;
                slowSinceNanos = clock.nanoTime();
                log.error("audit spool: an event was not on disk within the wait bound; new sessions are refused"
                        + " until the spool writer catches up ({} MiB queued)", queuedBytes >> 20);
            }
        } finally {
            lock.unlock();
        }
    }

    private void writeLoop() {
        List<Append> batch = new ArrayList<>();
        List<Append> lost = new ArrayList<>();
        while (true) {
            lock.lock();
            try {
                while (queue.isEmpty() && !closing) {
                    queuedCondition.awaitUninterruptibly();
                }
                if (queue.isEmpty()) {
                    break;
                }
                if (pastCloseDeadline()) {
                    lost.addAll(queue);
                    queue.clear();
                    queuedBytes = 0;
                    discarded += lost.size();
                } else {
                    long bytes = 0;
                    while (!queue.isEmpty() && (batch.isEmpty() || bytes + queue.peek().frameSize() <= MAX_WRITE_BYTES)) {
                        Append a = queue.poll();
                        bytes += a.frameSize();
                        batch.add(a);
                    }
                    queuedBytes -= bytes;
                }
            } finally {
                lock.unlock();
            }
            if (!lost.isEmpty()) {
                log.error("audit spool {}: {} queued events could not be written within {} s of shutdown and are lost",
                        dir, lost.size(), GIVE_UP_ON_CLOSE.toSeconds());
                lost.forEach(a -> a.done.complete(false));
                deliver(lost); // the local sinks still get them
                lost.clear();
                continue;
            }
            try {
                writeDurably(batch);
            } catch (RuntimeException e) {
                log.error("audit spool writer: {}", e.toString(), e);
                int failed = (int) batch.stream().filter(a -> !a.isDone()).count();
                lock.lock();
                try {
                    discarded += failed;
                } finally {
                    lock.unlock();
                }
                batch.forEach(a -> a.done.complete(false));
                deliver(batch);
            }
            batch.clear();
        }
        closeActive();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Under the lock: the spool is closing and its {@link #GIVE_UP_ON_CLOSE} for the whole shutdown are over. */
    private boolean pastCloseDeadline() {
        return closing && clock.nanoTime() - closeDeadline > 0;
    }

    /**
     * Writes one group and fsyncs it, chunk by chunk; on I/O errors retries what is not yet
     * durable (on a fresh segment if the old one cannot be repaired) until it works or the spool
     * closes. A chunk that was fsynced is never written again.
     */
    private void writeDurably(List<Append> batch) {
        List<Append> admitted = admit(batch);
        int written = 0;
        while (written < admitted.size()) {
            try {
                written = writeChunk(admitted, written);
                noteWritable(admitted.get(written - 1));
            } catch (IOException e) {
                if (Thread.interrupted()) {
                    interrupted = true; // a FileChannel call saw it (and closed its channel): see pause()
                }
                boolean full = isDiskFull(e, admitted.get(written).frameSize());
                boolean first;
                boolean givingUp;
                boolean madeRoom = false;
                lock.lock();
                try {
                    first = !writeFailing || diskFull != full;
                    writeFailing = true;
                    diskFull = full;
                    writeFailure = e.toString() + (full ? ", " + freeBytes() + " bytes free" : "");
                    givingUp = pastCloseDeadline();
                    if (full && onFull == Config.SpoolFullAction.DROP_OLDEST) {
                        madeRoom = dropOldestForSpace();
                    }
                } finally {
                    lock.unlock();
                }
                if (first) {
                    log.error("audit spool {}: {} ({}); retrying every {}s{}", dir, full ? "the disk is full" : "cannot write",
                            writeFailure, WRITE_RETRY.toSeconds(), onFull == Config.SpoolFullAction.REFUSE_NEW_SESSIONS
                                    ? ", new sessions are refused meanwhile (on_spool_full: refuse_new_sessions)"
                                    : full ? "; while the spool holds more than half of its limit the oldest segment is"
                                            + " dropped to make room, one a retry, else new sessions are refused"
                                            + " (on_spool_full: drop_oldest)" : "");
                }
                // The local sinks should not go dark because the spool disk did.
                deliver(batch);
                if (givingUp) {
                    List<Append> lost = admitted.subList(written, admitted.size());
                    log.error("audit spool {}: {} events could not be written before shutdown and are lost", dir, lost.size());
                    lock.lock();
                    try {
                        discarded += lost.size();
                    } finally {
                        lock.unlock();
                    }
                    lost.forEach(a -> a.done.complete(false));
                    admitted.subList(0, written).forEach(a -> a.done.complete(true));
                    return;
                }
                if (!madeRoom) {
                    pause();
                }
                recoverActiveSegment();
            }
        }
        // Sinks first, then the emitters: once emit returns, the file and stdout have the event too.
        deliver(batch);
        admitted.forEach(a -> a.done.complete(true));
    }

    /**
     * The pause between retries on a failing disk. An interrupt ends the pause but is not set
     * again here: with the flag set every FileChannel call would fail at once (closing its
     * channel) and the retry loop would spin. It is remembered and set again when the writer ends;
     * only {@link #close} stops the writer.
     */
    private void pause() {
        try {
            clock.sleep(WRITE_RETRY);
        } catch (InterruptedException e) {
            if (!interrupted) {
                log.warn("audit spool writer interrupted; it goes on writing until the spool is closed");
            }
            interrupted = true;
        }
    }

    /** After a chunk went to disk: the spool is writable again, and maybe caught up with its wait bound. */
    private void noteWritable(Append last) {
        lock.lock();
        try {
            if (writeFailing) {
                log.info("audit spool {} is writable again", dir);
            }
            writeFailing = false;
            diskFull = false;
            // Caught up once what was just written had waited well under the emit bound.
            if (slow && clock.nanoTime() - last.queuedNanos < CAUGHT_UP_NANOS) {
                slow = false;
                log.info("audit spool writer caught up after {} ms", (clock.nanoTime() - slowSinceNanos) / 1_000_000);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether a failed write failed for want of space: ENOSPC's text, or a file system with less
     * room left than the frame that was being written.
     */
    private boolean isDiskFull(IOException e, int frameBytes) {
        if (e.getMessage() != null && e.getMessage().contains("No space left on device")) {
            return true;
        }
        long free = freeBytes();
        return free >= 0 && free < frameBytes + SpoolSegment.HEADER_SIZE;
    }

    /** Free bytes on the spool's file system, or -1 when that cannot be told. */
    private long freeBytes() {
        try {
            return store.usableSpace(dir);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Applies {@code on_spool_full} to a group about to be written: {@code drop_oldest} makes room
     * by deleting old segments; {@code refuse_new_sessions} writes into the reserve and discards
     * only what the reserve cannot hold.
     */
    private List<Append> admit(List<Append> batch) {
        long incoming = 0;
        for (Append a : batch) {
            incoming += a.frameSize();
        }
        lock.lock();
        try {
            if (onFull == Config.SpoolFullAction.DROP_OLDEST) {
                while (diskBytes + incoming + SpoolSegment.HEADER_SIZE > maxBytes && dropOldestSegment("over " + maxBytes + " bytes")) {
                    // keep dropping until the group fits or only the active segment is left
                }
                return batch;
            }
            long room = maxBytes + reserveBytes - diskBytes;
            if (incoming <= room) {
                return batch;
            }
            List<Append> fits = new ArrayList<>();
            long used = 0;
            for (Append a : batch) {
                if (used + a.frameSize() <= room) {
                    fits.add(a);
                    used += a.frameSize();
                }
            }
            int lost = batch.size() - fits.size();
            discarded += lost;
            java.util.Set<Append> kept = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            kept.addAll(fits);
            // Not on disk, but the local sinks (file, stdout) still get them, as discardNow does.
            List<Append> dropped = batch.stream().filter(a -> !kept.contains(a)).toList();
            deliver(dropped);
            dropped.forEach(a -> a.done.complete(false));
            log.error("audit spool {} is full including its reserve ({} bytes on disk, limit {} + reserve {}):"
                    + " {} events discarded; CloudWatch is not taking the backlog", dir, diskBytes, maxBytes, reserveBytes, lost);
            return fits;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Under the lock, on a full disk under {@code drop_oldest}: deletes the oldest segment only
     * while the spool holds more than half of {@code spool_max_bytes}, and at most one per
     * {@link #WRITE_RETRY}. A spool below half its limit did not fill the disk (the audit file,
     * journald or anything else on the volume did): deleting its backlog would erase evidence
     * and free nothing that lasts, so it waits for space as {@code refuse_new_sessions} does.
     * The pause between drops bounds what a disk kept full by another writer can cost: one
     * segment (a sixteenth of the limit at most) a second, and never the lower half of the spool.
     */
    private boolean dropOldestForSpace() {
        if (!mayDropForSpace()) {
            return false;
        }
        long now = clock.nanoTime();
        if (droppedForSpace && now - lastDropForSpaceNanos < WRITE_RETRY.toNanos()) {
            return false;
        }
        if (!dropOldestSegment("on a full disk")) {
            return false;
        }
        droppedForSpace = true;
        lastDropForSpaceNanos = now;
        return true;
    }

    /** Under the lock: the spool holds a real share of its limit, so the disk is full partly for its sake. */
    private boolean mayDropForSpace() {
        return diskBytes > maxBytes / 2;
    }

    /**
     * Under the lock. Deletes the oldest sealed segment, moving the cursor past it; {@code why} is
     * for the log. False if there is none, or it could not be deleted.
     */
    private boolean dropOldestSegment(String why) {
        Segment oldest = segments.isEmpty() ? null : segments.firstEntry().getValue();
        if (oldest == null || !oldest.sealed) {
            return false;
        }
        long lost = 0;
        if (cursor.segment() == oldest.number) {
            lost = oldest.records - cursor.index();
        } else if (cursor.segment() < oldest.number) {
            lost = oldest.records;
        }
        Long next = segments.higherKey(oldest.number);
        SpoolPosition after = SpoolPosition.startOf(next == null ? oldest.number + 1 : next);
        if (after.isAfter(cursor)) {
            cursor = after;
            cursorFile.save(after);
        }
        if (!removeSegment(oldest)) {
            return false;
        }
        dropped += lost;
        log.warn("audit spool {}: dropped segment {} with {} unshipped events (on_spool_full: drop_oldest;"
                + " {} dropped since start)", why, oldest.path.getFileName(), lost, dropped);
        return true;
    }

    /**
     * Writes one chunk of {@code admitted} from index {@code from} on (what fits the active
     * segment and the write buffer) and fsyncs it; returns the index after the chunk. When it
     * throws, nothing of the chunk counts as written: the caller cuts it off and retries from
     * {@code from}, and the chunks before stay written exactly once.
     */
    private int writeChunk(List<Append> admitted, int from) throws IOException {
        if (activeFile == null) {
            startSegment(); // an earlier roll sealed the old segment but could not start the next
        } else if (active.records > 0 && active.size + admitted.get(from).frameSize() > segmentBytes) {
            rollSegment();
        }
        writeBuffer.clear();
        int count = 0;
        long room = Math.max(segmentBytes - active.size, admitted.get(from).frameSize());
        int j = from;
        while (j < admitted.size() && writeBuffer.position() + admitted.get(j).frameSize() <= room
                && admitted.get(j).frameSize() <= writeBuffer.remaining()) {
            Append a = admitted.get(j++);
            SpoolSegment.writeFrame(writeBuffer, a.timestamp, a.payload);
            count++;
        }
        writeBuffer.flip();
        int bytes = writeBuffer.remaining();
        activeFile.append(writeBuffer);
        lock.lock();
        try {
            active.size += bytes;
            active.records += count;
            diskBytes += bytes;
            appended += count;
            commits++;
            writtenCondition.signalAll();
        } finally {
            lock.unlock();
        }
        return j;
    }

    /**
     * After a failed write: cut the segment back to its last durable byte. If even that fails,
     * seal it at that size (readers stop there) and let the next write start a new segment. (Its
     * file may then keep bytes of the failed chunk past the durable size, skipped as a torn tail
     * after a restart, or, if they hold whole frames, shipped twice: at least once.)
     */
    private void recoverActiveSegment() {
        if (activeFile == null) {
            return;
        }
        try {
            activeFile.cutBack();
        } catch (IOException | RuntimeException e) {
            sealActive();
        }
    }

    private void rollSegment() throws IOException {
        sealActive();
        startSegment();
    }

    /** Closes the active segment for good; the next write starts a new one. */
    private void sealActive() {
        closeActive();
        lock.lock();
        try {
            active.sealed = true;
        } finally {
            lock.unlock();
        }
    }

    /** Every creation takes a new number, so a file left by a failed one never blocks the next. */
    private void startSegment() throws IOException {
        ActiveSegmentFile f = ActiveSegmentFile.create(store, dir, nextSegment++);
        Segment s = new Segment(f.number(), f.path(), f.durableSize(), 0, false);
        lock.lock();
        try {
            segments.put(s.number, s);
            diskBytes += s.size;
            if (cursor == null) {
                cursor = SpoolPosition.startOf(s.number);
            }
        } finally {
            lock.unlock();
        }
        active = s;
        activeFile = f;
    }

    private void closeActive() {
        if (activeFile != null) {
            try {
                activeFile.close();
            } catch (IOException e) {
                log.warn("closing audit spool segment {}: {}", active.path, e.toString());
            }
            activeFile = null;
        }
    }

    // ---- shipping -------------------------------------------------------------------------------

    /** {@link #read(int, long, int)} without a per-event overhead. */
    public Batch read(int maxRecords, long maxBytes) throws IOException {
        return read(maxRecords, maxBytes, 0);
    }

    /**
     * Reads durable events from the cursor on: at most {@code maxRecords}, and as many as fit in
     * {@code maxBytes} counting each event's payload plus {@code overhead} (the first event
     * always comes). An empty batch whose {@code end} is past the cursor means damaged bytes or
     * an exhausted segment were skipped: commit it.
     */
    public Batch read(int maxRecords, long maxBytes, int overhead) throws IOException {
        SpoolPosition from;
        List<SegmentView> view = new ArrayList<>();
        lock.lock();
        try {
            from = cursor;
            for (Segment s : segments.tailMap(from.segment(), true).values()) {
                view.add(new SegmentView(s.number, s.path, s.size, s.sealed));
            }
        } finally {
            lock.unlock();
        }
        List<SpoolRecord> out = new ArrayList<>();
        SpoolPosition pos = from;
        long cost = 0;
        for (int i = 0; i < view.size() && out.size() < maxRecords && cost < maxBytes; i++) {
            SegmentView s = view.get(i);
            long limit = s.size();
            boolean sealed = s.sealed();
            if (pos.segment() != s.number) {
                pos = SpoolPosition.startOf(s.number);
            }
            SpoolSegment.Scan scan;
            try (SpoolFile ch = store.openForRead(s.path)) {
                scan = SpoolSegment.scan(ch, pos.offset(), limit, maxRecords - out.size(), maxBytes - cost, overhead,
                        out.isEmpty(), true);
            } catch (NoSuchFileException e) {
                continue; // dropped under us (drop_oldest): go on with the next one
            }
            long index = pos.index();
            for (SpoolSegment.Found f : scan.records()) {
                index++;
                out.add(new SpoolRecord(f.timestamp(), f.payload(), new SpoolPosition(s.number, f.next(), index)));
                cost += f.payload().length + overhead;
            }
            if (scan.skippedBytes() > 0) {
                log.warn("audit spool segment {}: skipped {} damaged bytes at {}", s.path.getFileName(), scan.skippedBytes(),
                        pos.offset());
            }
            pos = new SpoolPosition(s.number, scan.end(), index);
            if (!sealed || scan.end() < limit) {
                break;
            }
        }
        return new Batch(out, pos);
    }

    /**
     * Waits until an event after {@code position} is on disk, {@code timeout} passes, or
     * {@link #wakeReaders} is called. True when there is something to read.
     */
    public boolean awaitData(SpoolPosition position, Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            if (!hasDataAfter(position) && !closing) {
                writtenCondition.awaitNanos(timeout.toNanos());
            }
            return hasDataAfter(position);
        } finally {
            lock.unlock();
        }
    }

    /** Ends every {@link #awaitData} now (the shipper is shutting down). */
    public void wakeReaders() {
        lock.lock();
        try {
            writtenCondition.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock. */
    private boolean hasDataAfter(SpoolPosition p) {
        for (Segment s : segments.tailMap(p.segment(), true).values()) {
            long start = s.number == p.segment() ? p.offset() : SpoolSegment.HEADER_SIZE;
            if (s.size > start) {
                return true;
            }
        }
        return false;
    }

    /** The position the next read starts at. */
    public SpoolPosition cursor() {
        lock.lock();
        try {
            return cursor;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Records that everything before {@code upTo} was accepted by CloudWatch: saves the cursor,
     * then deletes the segments wholly before it. A position at or before the cursor is ignored
     * ({@code drop_oldest} may have moved it on meanwhile).
     */
    public void commit(SpoolPosition upTo) {
        SpoolPosition c = upTo;
        lock.lock();
        try {
            if (!upTo.isAfter(cursor)) {
                return;
            }
            Segment s = segments.get(c.segment());
            while (s != null && s.sealed && c.offset() >= s.size) {
                Long next = segments.higherKey(s.number);
                if (next == null) {
                    break;
                }
                c = SpoolPosition.startOf(next);
                s = segments.get(next);
            }
            cursor = c;
        } finally {
            lock.unlock();
        }
        // The fsync of the cursor file happens outside the lock that appends take: an SSH
        // thread never waits on it. Segments go only once the cursor past them is on disk.
        if (cursorFile.save(c)) {
            lock.lock();
            try {
                deleteShippedSegments();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Under the lock: segments wholly before the cursor are shipped. */
    private void deleteShippedSegments() {
        if (cursor == null) {
            return;
        }
        while (!segments.isEmpty() && segments.firstKey() < cursor.segment()) {
            Segment s = segments.firstEntry().getValue();
            if (!s.sealed) {
                break;
            }
            removeSegment(s);
        }
    }

    /** Under the lock. False when the file could not be deleted (it stays, and is tried again later). */
    private boolean removeSegment(Segment s) {
        try {
            store.delete(s.path);
        } catch (IOException e) {
            log.warn("audit spool: cannot delete segment {}: {}", s.path, e.toString());
            return false;
        }
        segments.remove(s.number);
        diskBytes -= s.size;
        return true;
    }

    // ---- health ---------------------------------------------------------------------------------

    /**
     * Why new sessions must be refused now, under {@code refuse_new_sessions}: the spool is full,
     * cannot write, or cannot keep up. Under {@code drop_oldest} only while the disk is full and
     * the spool is too small to drop from ({@link #dropOldestForSpace}). Empty when sessions may start.
     */
    public Optional<String> refusal() {
        lock.lock();
        try {
            if (onFull == Config.SpoolFullAction.DROP_OLDEST) {
                if (writeFailing && diskFull && !mayDropForSpace()) {
                    return Optional.of("audit spool disk is full: cannot write to " + dir + " (" + writeFailure + ");"
                            + " the spool holds only " + diskBytes + " of " + maxBytes + " bytes, so no events are"
                            + " dropped for it; new sessions are refused (on_spool_full: drop_oldest)");
                }
                return Optional.empty();
            }
            if (writeFailing && diskFull) {
                return Optional.of("audit spool disk is full: cannot write to " + dir + " (" + writeFailure + "); new sessions"
                        + " are refused (on_spool_full: refuse_new_sessions)");
            }
            if (writeFailing) {
                return Optional.of("audit spool cannot write to " + dir + " (" + writeFailure + "); new sessions are refused"
                        + " (on_spool_full: refuse_new_sessions)");
            }
            if (diskBytes >= maxBytes) {
                return Optional.of("audit spool full: " + diskBytes + " of " + maxBytes + " bytes hold events CloudWatch has"
                        + " not accepted yet; new sessions are refused (on_spool_full: refuse_new_sessions)");
            }
            if (slow) {
                return Optional.of("audit spool writer is behind (events not on disk within the wait bound); new sessions"
                        + " are refused (on_spool_full: refuse_new_sessions)");
            }
            return Optional.empty();
        } finally {
            lock.unlock();
        }
    }

    public Status status() {
        SpoolPosition at;
        long unshipped = 0;
        lock.lock();
        Status partial;
        try {
            at = cursor;
            for (Segment s : segments.tailMap(at.segment(), true).values()) {
                unshipped += s.number == at.segment() ? s.records - at.index() : s.records;
            }
            partial = new Status(unshipped, diskBytes, maxBytes, Optional.empty(), diskBytes >= maxBytes, writeFailing,
                    appended, commits, dropped, discarded, skippedBytes);
        } finally {
            lock.unlock();
        }
        Optional<Instant> oldest = Optional.empty();
        if (unshipped > 0) {
            try {
                Batch first = read(1, 1);
                if (!first.records().isEmpty()) {
                    oldest = Optional.of(Instant.ofEpochMilli(first.records().get(0).timestamp()));
                }
            } catch (IOException | UncheckedIOException e) {
                // Metrics only: report without the age.
            }
        }
        return new Status(partial.unshippedEvents(), partial.diskBytes(), partial.maxBytes(), oldest, partial.full(),
                partial.writeFailing(), partial.appendedEvents(), partial.groupCommits(), partial.droppedEvents(),
                partial.discardedEvents(), partial.skippedBytes());
    }

    public Path directory() {
        return dir;
    }

    /** Waits until everything appended so far is written (or {@code timeout} passes). */
    public void flush(Duration timeout) {
        Append last;
        lock.lock();
        try {
            last = lastQueued;
        } finally {
            lock.unlock();
        }
        if (last != null) {
            try {
                last.done.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                log.warn("audit spool: not everything was written within {}", timeout);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Writes what is queued, stops the writer and releases the directory. Appends after this are discarded. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closing) {
                return;
            }
            closing = true;
            closeDeadline = clock.nanoTime() + GIVE_UP_ON_CLOSE.toNanos();
            queuedCondition.signalAll();
            writtenCondition.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            writer.join(CLOSE_JOIN.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            // Stuck in the file system (an fsync that never returns): keep the directory locked,
            // so that no other process writes the same segments; the lock goes with this process.
            log.error("audit spool {}: the writer did not stop within {} s; the spool directory stays locked", dir,
                    CLOSE_JOIN.toSeconds());
            return;
        }
        try {
            dirLock.release();
            lockChannel.close();
        } catch (IOException e) {
            log.warn("releasing audit spool lock: {}", e.toString());
        }
    }
}
