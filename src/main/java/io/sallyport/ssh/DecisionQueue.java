package io.sallyport.ssh;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs forwarding decisions off MINA's I/O threads, fairly between sessions.
 *
 * <p>A decision may block in the system resolver ({@code InetAddress.getAllByName}), a call that
 * cannot be interrupted and may take as long as the resolver's own timeouts and retries. So:
 * <ul>
 *   <li>the threads that may be stuck there are bounded: at most {@code threads}, started when
 *       needed and ended after a minute idle;</li>
 *   <li>each session has its own FIFO queue, and free threads serve the sessions with work in
 *       round-robin order, one decision per turn;</li>
 *   <li>at most {@code perSession} decisions of one session, and {@code perUser} of one user, run at
 *       once. A session flooding requests for slow names fills its own queue and holds at most
 *       {@code perSession} threads, stuck or not; every other session's decision finds a free thread
 *       at once, as long as fewer than {@code threads / perUser} users are flooding at the same
 *       time. When every thread is taken, a waiting session is served within one turn of the ring:
 *       after at most one decision of each other waiting session.</li>
 * </ul>
 * How long a running decision may take before its tunnel is refused ({@code limits.resolve_timeout})
 * is its caller's business: {@link #after} schedules that answer. The thread stays taken until the
 * resolver returns, and counts against the session's {@code perSession} until then, which is what
 * keeps one session's stuck lookups from taking every thread.
 *
 * <p>Queued work is not bounded here: each queued decision holds a tunnel slot of
 * {@link TunnelQuota}, so a session queues at most {@code max_tunnels_per_session} of them.
 */
final class DecisionQueue implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DecisionQueue.class);
    private static final long IDLE_MILLIS = 60_000;

    private final int maxThreads;
    private final int perSession;
    private final int perUser;
    private final String threadName;
    private final AtomicInteger threadNumber = new AtomicInteger();
    private final ScheduledThreadPoolExecutor timer;

    private final Object lock = new Object();
    // Everything below is guarded by lock.
    /** Sessions with queued or running decisions. */
    private final Map<String, Lane> lanes = new HashMap<>();
    /** Lanes with queued decisions, in the order they will be served. */
    private final ArrayDeque<Lane> ring = new ArrayDeque<>();
    private final Map<String, Integer> runningByUser = new HashMap<>();
    private final Set<Thread> workers = new HashSet<>();
    private int idle;
    private int wakeups;
    private int running;
    private boolean closed;

    /** One session's queue. */
    private static final class Lane {
        final String session;
        final String user;
        final ArrayDeque<Runnable> queue = new ArrayDeque<>();
        int running;
        boolean inRing;

        Lane(String session, String user) {
            this.session = session;
            this.user = user;
        }
    }

    private record Job(Lane lane, Runnable task) {}

    /**
     * @param threads    the most decisions running at once, over all sessions
     * @param perSession the most running at once for one session
     * @param perUser    the most running at once for one user, over their sessions
     */
    DecisionQueue(int threads, int perSession, int perUser, String threadName) {
        if (threads < 1 || perSession < 1 || perUser < 1) {
            throw new IllegalArgumentException("threads, perSession and perUser must be at least 1");
        }
        this.maxThreads = threads;
        this.perSession = perSession;
        this.perUser = perUser;
        this.threadName = threadName;
        this.timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, threadName + "-timer");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
    }

    /**
     * Queues {@code task} behind the session's earlier decisions.
     *
     * @return false when the queue is closed (the server is stopping); the task will not run
     */
    boolean submit(String session, String user, Runnable task) {
        synchronized (lock) {
            if (closed) {
                return false;
            }
            Lane lane = lanes.computeIfAbsent(session, s -> new Lane(s, user));
            lane.queue.add(task);
            if (!lane.inRing) {
                lane.inRing = true;
                ring.addLast(lane);
            }
            if (eligible(lane)) {
                if (idle > wakeups) {
                    wakeups++;
                    lock.notify();
                } else if (workers.size() < maxThreads) {
                    startWorker();
                }
            }
            return true;
        }
    }

    /** Runs {@code task} on the queue's timer after {@code delay}, unless cancelled first. */
    ScheduledFuture<?> after(Duration delay, Runnable task) {
        return timer.schedule(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                log.error("decision deadline: {}", e.toString());
            }
        }, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /** Decisions of {@code session} waiting for a thread. */
    int queued(String session) {
        synchronized (lock) {
            Lane lane = lanes.get(session);
            return lane == null ? 0 : lane.queue.size();
        }
    }

    /** Decisions running now, over all sessions. */
    int running() {
        synchronized (lock) {
            return running;
        }
    }

    /** Worker threads alive now, busy or idle. */
    int threads() {
        synchronized (lock) {
            return workers.size();
        }
    }

    private boolean eligible(Lane lane) {
        return lane.running < perSession && runningByUser.getOrDefault(lane.user, 0) < perUser;
    }

    /** The next decision in round-robin order whose session and user are under their caps; null if none. */
    private Job next() {
        for (int i = ring.size(); i > 0; i--) {
            Lane lane = ring.pollFirst();
            if (eligible(lane)) {
                Runnable task = lane.queue.poll();
                lane.running++;
                running++;
                runningByUser.merge(lane.user, 1, Integer::sum);
                if (lane.queue.isEmpty()) {
                    lane.inRing = false;
                } else {
                    ring.addLast(lane);
                }
                return new Job(lane, task);
            }
            ring.addLast(lane);
        }
        return null;
    }

    private void finished(Lane lane) {
        lane.running--;
        running--;
        runningByUser.computeIfPresent(lane.user, (u, n) -> n <= 1 ? null : n - 1);
        if (lane.running == 0 && lane.queue.isEmpty()) {
            lanes.remove(lane.session);
        }
    }

    private void startWorker() {
        Thread t = new Thread(this::work, threadName + "-" + threadNumber.incrementAndGet());
        t.setDaemon(true);
        workers.add(t);
        t.start();
    }

    private void work() {
        Thread self = Thread.currentThread();
        while (true) {
            Job job;
            synchronized (lock) {
                job = closed ? null : next();
                long idleSince = System.nanoTime();
                while (job == null) {
                    if (closed || System.nanoTime() - idleSince >= TimeUnit.MILLISECONDS.toNanos(IDLE_MILLIS)) {
                        workers.remove(self);
                        return;
                    }
                    idle++;
                    try {
                        lock.wait(IDLE_MILLIS);
                    } catch (InterruptedException e) {
                        // close() interrupts; the loop's check of closed decides
                    } finally {
                        idle--;
                        if (wakeups > 0) {
                            wakeups--;
                        }
                    }
                    job = closed ? null : next();
                }
            }
            try {
                job.task().run();
            } catch (RuntimeException | Error e) {
                log.error("forwarding decision failed: {}", e.toString());
            } finally {
                synchronized (lock) {
                    finished(job.lane());
                }
                // A close interrupts the workers; the flag must not leak into the next decision.
                Thread.interrupted();
            }
        }
    }

    /** Drops queued decisions, interrupts running ones (a resolver may ignore that) and stops the timer. */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            for (Lane lane : lanes.values()) {
                lane.queue.clear();
            }
            ring.clear();
            for (Thread t : workers) {
                t.interrupt();
            }
            lock.notifyAll();
        }
        timer.shutdownNow();
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "DecisionQueue[running=" + running + ", threads=" + workers.size() + "/" + maxThreads
                    + ", sessions=" + lanes.size() + "]";
        }
    }
}
