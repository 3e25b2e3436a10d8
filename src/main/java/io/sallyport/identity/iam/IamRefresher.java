package io.sallyport.identity.iam;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.iam.IamClient;

/**
 * Keeps {@link IamIdentities} fresh from IAM on its own thread: one complete read every
 * {@code refresh} (minus up to a quarter, at random, so a fleet of bastions does not call IAM in
 * step — the jitter only shortens the period, which stays the promise for revocation), publishing
 * only complete snapshots.
 *
 * <p>After a throttled refresh the next one waits twice as long each time (at most
 * {@code min(8 × refresh, max_staleness / 4)}, never less than {@code refresh}); other failures —
 * IAM unreachable, 5xx — retry at the normal period, since waiting longer would only bring
 * {@code max_staleness} closer. Within one refresh, each call's retries are the SDK's.
 *
 * <p>The wait is never based on less than the last refresh took: when a refresh takes longer than
 * {@code refresh} (a directory too large for the period at the pacing rate, or calls slowed by
 * IAM's throttling), the next wait is that long, less the same jitter. Refreshes then call IAM at
 * most about half of the time, so one instance averages at most about half its pacing rate
 * whatever the directory's size (docs/fleet.md, "IAM call budget"). Logged once as a warning.
 */
public final class IamRefresher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IamRefresher.class);

    /**
     * @param callsPerSecond  pace of IAM calls within a refresh ({@link CallPacer})
     * @param firstWait       how long {@link #start} waits for the first refresh before letting the server listen
     */
    public record Settings(double callsPerSecond, int burst, Duration firstWait, double jitter) {
        /** 10 calls a second (bursts of 20), the first refresh awaited up to 30 s, periods 75–100 % of {@code refresh}. */
        public static final Settings PRODUCTION = new Settings(10, 20, Duration.ofSeconds(30), 0.25);
    }

    private final IamClient client;
    private final IamIdentities identities;
    private final IamDirectoryReader reader;
    private final Settings settings;
    private final Random random;
    private final ScheduledExecutorService thread;
    private final CountDownLatch firstDone = new CountDownLatch(1);
    private Set<String> reportedProblems = Set.of();
    private int throttledInARow;
    private volatile boolean closed;
    /** A {@link #refreshSoon} is queued and has not started yet. */
    private final java.util.concurrent.atomic.AtomicBoolean soonQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Duration lastDuration;
    private boolean warnedSlowerThanPeriod;

    public IamRefresher(IamClient client, IamIdentities identities, Settings settings, Random random) {
        this.client = client;
        this.identities = identities;
        this.settings = settings;
        this.random = random;
        this.reader = new IamDirectoryReader(client, identities,
                Double.isInfinite(settings.callsPerSecond()) ? CallPacer.unlimited()
                        : CallPacer.perSecond(settings.callsPerSecond(), settings.burst()));
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sallyport-iam-refresh");
            t.setDaemon(true);
            return t;
        });
        identities.refreshWith(this::refreshSoon);
    }

    /**
     * Starts refreshing, and waits up to {@link Settings#firstWait} for the first refresh so that
     * IAM users can log in the moment the server listens. If it fails or is slow, the server starts
     * anyway (local users are unaffected) and IAM logins are refused until a refresh succeeds.
     */
    public void start() throws InterruptedException {
        Duration refresh = identities.config().refresh();
        if (refresh.compareTo(Duration.ofSeconds(10)) < 0) {
            log.warn("identity.iam.refresh is {}: every refresh calls IAM; production uses 60s", IamIdentities.human(refresh));
        }
        thread.execute(this::refreshAndReschedule);
        if (!firstDone.await(settings.firstWait().toMillis(), TimeUnit.MILLISECONDS)) {
            log.warn("IAM: the first refresh is still running after {}; IAM logins are refused until it completes",
                    IamIdentities.human(settings.firstWait()));
        }
    }

    /**
     * Refreshes as soon as the refresh thread is free (after a reload changed the IAM rules), in
     * addition to the regular schedule. Requests made while one is waiting fold into it, so a burst
     * of reloads is at most one refresh beyond the one running, never a queue of full IAM reads.
     */
    public void refreshSoon() {
        if (!closed && soonQueued.compareAndSet(false, true)) {
            try {
                thread.execute(() -> {
                    soonQueued.set(false);
                    refreshOnce();
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                soonQueued.set(false); // closing: nothing to refresh for
            }
        }
    }

    /** How long the last refresh took, successful or not (for metrics); empty before the first. */
    public java.util.Optional<Duration> lastRefreshDuration() {
        return java.util.Optional.ofNullable(lastDuration);
    }

    /** One refresh now, on the caller's thread (tests); returns whether it succeeded. */
    boolean refreshOnce() {
        long started = System.nanoTime();
        try {
            IamSnapshot snapshot = reader.read();
            boolean first = identities.snapshot().isEmpty();
            identities.publish(snapshot);
            throttledInARow = 0;
            report(snapshot, first);
            return true;
        } catch (IamRefreshException e) {
            throttledInARow = e.throttled() ? throttledInARow + 1 : 0;
            String message = identities.failed(e.getMessage());
            if (identities.failingClosed()) {
                log.error(message);
            } else {
                log.warn(message);
            }
            return false;
        } catch (RuntimeException e) {
            // A bug must not end the refresher thread: then revocation would silently stop.
            throttledInARow = 0;
            log.error(identities.failed("unexpected " + e), e);
            return false;
        } finally {
            lastDuration = Duration.ofNanos(System.nanoTime() - started);
        }
    }

    private void refreshAndReschedule() {
        if (closed) {
            return;
        }
        boolean ok = refreshOnce();
        firstDone.countDown();
        if (!closed) {
            Duration next = nextDelay(ok);
            if (!ok) {
                log.info("IAM: next refresh in {}", IamIdentities.human(next));
            }
            thread.schedule(this::refreshAndReschedule, next.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** The wait before the next refresh: the period less jitter, or a throttling backoff; never less than the last refresh took. */
    Duration nextDelay(boolean lastSucceeded) {
        Duration refresh = identities.config().refresh();
        Duration base = refresh;
        if (!lastSucceeded && throttledInARow > 0) {
            Duration cap = refresh.multipliedBy(8);
            Duration quarter = identities.config().maxStaleness().dividedBy(4);
            if (quarter.compareTo(cap) < 0) {
                cap = quarter;
            }
            if (cap.compareTo(refresh) < 0) {
                cap = refresh;
            }
            base = refresh.multipliedBy(1L << Math.min(throttledInARow, 20));
            if (base.compareTo(cap) > 0) {
                base = cap;
            }
        }
        Duration took = lastDuration;
        if (took != null && took.compareTo(base) > 0) {
            if (!warnedSlowerThanPeriod) {
                warnedSlowerThanPeriod = true;
                log.warn("IAM: a refresh took {}, longer than the period ({}): the next waits as long as it took, so that"
                        + " refreshes call IAM at most about half of the time; raise identity.iam.refresh (docs/fleet.md, \"IAM call budget\")",
                        IamIdentities.human(took), IamIdentities.human(base));
            }
            base = took;
        }
        // Jitter applies to the floor too: refreshes slowed alike by throttling must not stay in step.
        double factor = 1 - settings.jitter() * random.nextDouble();
        Duration delay = Duration.ofMillis(Math.max(1, (long) (base.toMillis() * factor)));
        return delay;
    }

    private void report(IamSnapshot snapshot, boolean first) {
        String summary = "IAM refresh: " + snapshot.stats();
        if (first) {
            log.info(summary);
        } else {
            log.debug(summary);
        }
        // Data problems repeat every refresh until someone fixes the tag: say each one once.
        Set<String> now = new HashSet<>(snapshot.problems());
        for (String p : snapshot.problems()) {
            if (!reportedProblems.contains(p)) {
                log.warn(p);
            }
        }
        reportedProblems = Set.copyOf(now);
    }

    /** Problems of the last snapshot (tests). */
    List<String> problems() {
        return identities.snapshot().map(IamSnapshot::problems).orElse(List.of());
    }

    @Override
    public void close() {
        closed = true;
        thread.shutdownNow();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
    }
}
