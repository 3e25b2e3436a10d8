package io.sallyport.ssh;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where refused connections are ended (audited, then disconnected): one thread of its own with a
 * bounded queue, apart from MINA's I/O threads, which must never wait on the audit, and from the
 * session timer, which enforces idle time, duration and revocation for the users logged in. A flood
 * of refusals thus waits only on itself. When the queue is full, a refusal is not queued: the caller
 * closes the connection at once, and the refusal is counted as {@link #summarised}.
 */
final class Refusals implements AutoCloseable {
    /**
     * Refusals waiting at most: ten times the default {@code max_unauthenticated}, so an ordinary
     * burst is always audited one by one, while a stuck audit (each event waiting up to 2 s for its
     * spool) holds at most this many connections marked but not yet disconnected.
     */
    static final int QUEUE = 1024;

    private final ThreadPoolExecutor executor;
    private final AtomicLong summarised = new AtomicLong();

    Refusals(int queue) {
        this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(queue), r -> {
            Thread t = new Thread(r, "sallyport-refusals");
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
    }

    /**
     * Runs {@code end} on the refusal thread or, when its queue is full, {@code closeNow} here (it
     * must not block) and counts the refusal as summarised. Never waits.
     */
    void submit(Runnable end, Runnable closeNow) {
        try {
            executor.execute(end);
        } catch (RejectedExecutionException e) {
            summarised.incrementAndGet();
            closeNow.run();
        }
    }

    /** Runs {@code task} on the refusal thread; false, and nothing run, when its queue is full. Never waits. */
    boolean offer(Runnable task) {
        try {
            executor.execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** Refusals closed at once because the queue was full, since the start. */
    long summarised() {
        return summarised.get();
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
