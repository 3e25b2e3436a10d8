package io.sallyport.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local audit file ({@code audit.file}): one JSON event per line, written by one thread with
 * group commit. {@link #append} queues a line; the writer takes everything queued, writes it in
 * one go, fsyncs once and marks all of it durable. With CloudWatch shipping off this file is the
 * audit trail, so {@link Auditor} waits (boundedly) for {@link Append#awaitDurable}.
 *
 * <p>Failures never leave a silent gap. A batch that cannot be written or fsynced (disk full, I/O
 * error, the path unusable) is cut off again (the file is truncated back to where the batch
 * began) and stays queued; the writer retries it every {@link #RETRY}, in order, and while it
 * fails {@link #refusal()} gives the reason, so no new session starts. The first success writes
 * the backlog and the refusal ends. Queued lines are held up to {@link #MAX_QUEUED_BYTES}; beyond
 * that new lines are dropped, counted and logged.
 *
 * <p>Rotation: before each batch the writer compares the file at {@code file} with the one it
 * has open (device and inode). When logrotate has renamed it (or someone removed it), the writer
 * creates a new file and continues there; lines written before it noticed are in the renamed
 * file, complete and fsynced. So rotation needs no signal and loses or repeats nothing, as long
 * as the renamed file is not compressed before sallyport has moved on (logrotate's
 * {@code delaycompress}; never {@code copytruncate}).
 */
public final class JsonLinesFileSink implements AuditSink {
    private static final Logger log = LoggerFactory.getLogger(JsonLinesFileSink.class);
    /** Between attempts while the file cannot be written. */
    static final Duration RETRY = Duration.ofSeconds(1);
    /** Lines waiting for a failing file, at most: about 200,000 events of ~320 bytes. */
    static final long MAX_QUEUED_BYTES = 64L << 20;
    /** One write and fsync takes at most this much (a backlog after a failure goes in several). */
    static final int MAX_BATCH_BYTES = 4 << 20;
    /** A line queued longer than this means the disk is too slow: new sessions are refused. */
    static final Duration BEHIND = Auditor.DURABLE_WAIT;
    /** How long {@link #close} lets the writer finish what is queued. */
    static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

    private final Path file;
    private final Object lock = new Object();
    private final ArrayDeque<Append> queue = new ArrayDeque<>();
    private final Thread writer;
    // Guarded by lock.
    private long queuedBytes;
    private long dropped;
    private boolean closing;
    private String failure;
    private long failingSinceNanos;
    private long commits;
    private long written;
    private long reopened;
    // Writer thread only.
    private FileChannel channel;
    private Object openKey;
    private boolean tailMayBeTorn;
    private long failedAttempts;

    /** Opens (creates, mode 0640) {@code file} for appending; the writer thread starts. */
    public JsonLinesFileSink(Path file) throws IOException {
        this.file = file.toAbsolutePath();
        Path parent = this.file.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        open(); // fail at start-up on a path that cannot be used at all
        writer = new Thread(this::run, "audit-file-writer");
        writer.setDaemon(true);
        writer.start();
    }

    public Path file() {
        return file;
    }

    /** One line handed to the writer; {@link #awaitDurable} tells when it is fsynced. */
    public final class Append {
        private final String line;
        private final int bytes;
        private final long queuedAtNanos = System.nanoTime();
        private boolean durable; // guarded by lock
        private boolean lost; // dropped, never to be written; guarded by lock

        private Append(String line) {
            this.line = line;
            this.bytes = line.length() + 1; // close enough for the memory bound
        }

        /**
         * Waits until the line is written and fsynced, at most {@code bound}; returns at once
         * (false) while the file is failing, since waiting would only stall the caller.
         */
        public boolean awaitDurable(Duration bound) {
            long deadline = System.nanoTime() + bound.toNanos();
            synchronized (lock) {
                while (!durable && !lost && failure == null) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    try {
                        lock.wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return durable;
                    }
                }
                return durable;
            }
        }
    }

    /** Queues one line (no newline); never throws, never waits for the disk. */
    public Append append(String jsonLine) {
        Append a = new Append(jsonLine);
        synchronized (lock) {
            if (closing) {
                a.lost = true;
                dropped++;
                log.error("audit file {} is closed; event dropped: {}", file, jsonLine);
                return a;
            }
            if (queuedBytes + a.bytes > MAX_QUEUED_BYTES) {
                a.lost = true;
                dropped++;
                if (dropped == 1 || dropped % 1000 == 0) {
                    log.error("audit file {} cannot take more: {} bytes wait for it ({}); {} events dropped so far",
                            file, queuedBytes, failure, dropped);
                }
                return a;
            }
            queue.addLast(a);
            queuedBytes += a.bytes;
            lock.notifyAll();
        }
        return a;
    }

    /** {@link AuditSink}: queues the line without waiting (the spool is the durable record then). */
    @Override
    public void write(String jsonLine) {
        append(jsonLine);
    }

    /**
     * Why a new session must be refused now: the file cannot be written, or the writer is more
     * than {@link #BEHIND} behind. Empty when healthy. Cheap enough for every login.
     */
    public Optional<String> refusal() {
        synchronized (lock) {
            if (failure != null) {
                return Optional.of("audit file " + file + " cannot be written (" + failure + "); "
                        + queue.size() + " events wait for it; new sessions are refused until it can be written");
            }
            Append head = queue.peekFirst();
            if (head != null) {
                long behindMs = (System.nanoTime() - head.queuedAtNanos) / 1_000_000;
                if (behindMs > BEHIND.toMillis()) {
                    return Optional.of("audit file " + file + " is " + behindMs + " ms behind (disk too slow); "
                            + "new sessions are refused until it catches up");
                }
            }
            return Optional.empty();
        }
    }

    /** Counters since start, for tests and the log. */
    public record Stats(long commits, long written, long reopened, long dropped, int queued) {}

    public Stats stats() {
        synchronized (lock) {
            return new Stats(commits, written, reopened, dropped, queue.size());
        }
    }

    // ---- the writer thread ----------------------------------------------------------------------

    private void run() {
        while (true) {
            List<Append> batch;
            synchronized (lock) {
                while (queue.isEmpty() && !closing) {
                    waitOn(0);
                }
                if (queue.isEmpty()) {
                    return;
                }
                batch = new ArrayList<>();
                long bytes = 0;
                for (Append a : queue) {
                    if (!batch.isEmpty() && bytes + a.bytes > MAX_BATCH_BYTES) {
                        break;
                    }
                    batch.add(a);
                    bytes += a.bytes;
                }
            }
            String problem = commit(batch);
            synchronized (lock) {
                if (problem == null) {
                    for (int i = 0; i < batch.size(); i++) {
                        Append a = queue.removeFirst();
                        a.durable = true;
                        queuedBytes -= a.bytes;
                    }
                    commits++;
                    written += batch.size();
                    if (failure != null) {
                        log.warn("audit file {} is writable again after {} s: {} waiting events written; new sessions are allowed again",
                                file, (System.nanoTime() - failingSinceNanos) / 1_000_000_000L, batch.size());
                        failure = null;
                        failedAttempts = 0;
                    }
                    lock.notifyAll();
                } else {
                    if (failure == null) {
                        failingSinceNanos = System.nanoTime();
                        log.error("audit file {} cannot be written: {}; new sessions are refused until it can "
                                + "(events wait in memory, up to {} MiB, and are retried every {} ms)",
                                file, problem, MAX_QUEUED_BYTES >> 20, RETRY.toMillis());
                    } else if (++failedAttempts % 60 == 0) {
                        log.error("audit file {} still cannot be written after {} s: {}; {} events wait",
                                file, (System.nanoTime() - failingSinceNanos) / 1_000_000_000L, problem, queue.size());
                    }
                    failure = problem;
                    lock.notifyAll();
                    long retryAt = System.nanoTime() + RETRY.toNanos();
                    while (!closing && System.nanoTime() < retryAt) {
                        waitOn(Math.max(1, (retryAt - System.nanoTime()) / 1_000_000));
                    }
                    if (closing) {
                        return;
                    }
                }
            }
        }
    }

    /** Writes and fsyncs the batch; null on success, else the reason (the file is as before the batch). */
    private String commit(List<Append> batch) {
        long start = -1;
        try {
            followRotation();
            if (channel == null) {
                open();
            }
            start = channel.size();
            StringBuilder sb = new StringBuilder(batch.size() * 320);
            if (tailMayBeTorn && start > 0 && !endsWithNewline(start)) {
                sb.append('\n'); // a line torn by a crash or failed write stands alone
            }
            for (Append a : batch) {
                sb.append(a.line).append('\n');
            }
            ByteBuffer buf = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
            channel.force(false);
            tailMayBeTorn = false;
            return null;
        } catch (IOException | RuntimeException e) {
            cutBack(start);
            return describe(e);
        }
    }

    /** After a failed batch: remove what of it reached the file, so the retry writes it once. */
    private void cutBack(long start) {
        if (channel == null || start < 0) {
            return;
        }
        try {
            if (channel.size() > start) {
                channel.truncate(start);
                channel.force(false);
            }
        } catch (IOException e) {
            tailMayBeTorn = true;
            closeChannel();
        }
    }

    /** Reopens when the path no longer names the open file (renamed by logrotate, or removed). */
    private void followRotation() throws IOException {
        if (channel == null) {
            return;
        }
        Object now;
        try {
            now = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        } catch (NoSuchFileException e) {
            now = null;
        }
        if (!Objects.equals(now, openKey)) {
            closeChannel();
            synchronized (lock) {
                reopened++;
            }
            log.info("audit file {} was rotated or removed; continuing in a new file", file);
        }
    }

    private void open() throws IOException {
        boolean created = !Files.exists(file);
        FileChannel c = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")));
        try {
            if (created && file.getParent() != null) {
                // The new name must survive a power cut as well as the lines in it.
                try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
                    dir.force(true);
                }
            }
            openKey = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            c.close();
            throw e;
        }
        channel = c;
        // A previous process may have died in the middle of a line.
        tailMayBeTorn = true;
    }

    private boolean endsWithNewline(long size) throws IOException {
        try (FileChannel r = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer last = ByteBuffer.allocate(1);
            return r.read(last, size - 1) == 1 && last.get(0) == '\n';
        }
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Everything in it was fsynced or cut back; nothing is lost by a failed close.
            }
            channel = null;
            openKey = null;
        }
    }

    private static String describe(Exception e) {
        String m = e.getMessage();
        if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
            m = fse.getReason();
        }
        return m == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + m;
    }

    /** Under {@code lock}. */
    private void waitOn(long millis) {
        try {
            lock.wait(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closing = true;
        }
    }

    /** Lets the writer finish what is queued (at most {@link #CLOSE_GRACE}), then closes the file. */
    @Override
    public void close() {
        synchronized (lock) {
            closing = true;
            lock.notifyAll();
        }
        try {
            writer.join(CLOSE_GRACE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (lock) {
            if (!queue.isEmpty()) {
                log.error("audit file {}: {} events could not be written before shutdown ({})", file, queue.size(),
                        failure == null ? "writer too slow" : failure);
            }
        }
        if (!writer.isAlive()) {
            closeChannel();
        }
    }
}
