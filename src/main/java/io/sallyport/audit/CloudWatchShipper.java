package io.sallyport.audit;

import io.sallyport.aws.AwsErrors;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.cloudwatchlogs.model.InputLogEvent;
import software.amazon.awssdk.services.cloudwatchlogs.model.InvalidParameterException;
import software.amazon.awssdk.services.cloudwatchlogs.model.PutLogEventsResponse;
import software.amazon.awssdk.services.cloudwatchlogs.model.RejectedLogEventsInfo;
import software.amazon.awssdk.services.cloudwatchlogs.model.ResourceAlreadyExistsException;
import software.amazon.awssdk.services.cloudwatchlogs.model.ResourceNotFoundException;

/**
 * Drains the {@link Spool} into one CloudWatch Logs stream per instance, in spool order, one
 * thread, one PutLogEvents call at a time.
 *
 * <p>Each call is cut within the service's limits ({@link LogEventBatches}); the spool cursor
 * moves past a call only once CloudWatch accepted it, so a crash or restart re-sends at most the
 * call in flight (at least once; the event {@code id} de-duplicates). Throttling, 5xx answers,
 * timeouts and connection failures are retried forever with capped, jittered exponential backoff
 * (the spool holds the backlog meanwhile). A missing group or stream is created
 * ({@code create_log_group}). Events CloudWatch refuses one by one (too old, too new, past the
 * group's retention: {@code rejectedLogEventsInfo}) are counted and logged, never retried.
 *
 * <p>Never runs on an SSH thread and never blocks one: it only reads the spool.
 */
public final class CloudWatchShipper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CloudWatchShipper.class);

    /**
     * Timing of the shipper; {@link #DEFAULTS} in production, shorter in tests.
     *
     * @param linger         how long a small batch waits for more events before it is sent
     * @param backoffBase    the first retry delay; doubled per failed attempt
     * @param backoffCap     the longest retry delay
     * @param attemptTimeout the most one HTTP attempt may take (used when the client is built)
     * @param drainOnClose   how long shutdown waits for the backlog to go out
     * @param statsEvery     how often the pipeline's state is logged (a heartbeat, also during outages)
     */
    public record Tuning(Duration linger, Duration backoffBase, Duration backoffCap, Duration attemptTimeout,
                         Duration drainOnClose, Duration statsEvery) {
        public static final Tuning DEFAULTS = new Tuning(Duration.ofSeconds(1), Duration.ofMillis(250),
                Duration.ofSeconds(30), Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofMinutes(1));
    }

    /** Where the events go: {@code logStream} is the template, filled per event date. */
    public record Destination(String logGroup, String logStream, boolean createLogGroup, String instanceId, String hostname) {}

    /**
     * Counters since start.
     *
     * @param failedAttempts calls that failed and were retried (throttled included)
     * @param rejectedEvents events CloudWatch accepted the call for but refused one by one
     * @param unshippable    single events CloudWatch refused as invalid; skipped after logging
     */
    public record Stats(long shippedEvents, long calls, long failedAttempts, long throttled, long rejectedEvents,
                        long unshippable, Optional<String> lastError) {}

    private final Spool spool;
    private final CloudWatchLogsClient client;
    private final Destination destination;
    private final Tuning tuning;
    private final Clock clock;
    private final Thread thread;

    private final AtomicLong shipped = new AtomicLong();
    private final AtomicLong calls = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong throttled = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong unshippable = new AtomicLong();
    private volatile String lastError;
    private volatile boolean draining;
    /** Cut short the linger when shutdown starts draining. */
    private final Object wake = new Object();
    private volatile boolean stopped;
    private volatile boolean closed;
    private final java.util.concurrent.ScheduledExecutorService statsTimer;

    public CloudWatchShipper(Spool spool, CloudWatchLogsClient client, Destination destination, Tuning tuning, Clock clock) {
        this.spool = spool;
        this.client = client;
        this.destination = destination;
        this.tuning = tuning;
        this.clock = clock;
        this.thread = new Thread(this::run, "sallyport-cloudwatch");
        thread.setDaemon(true);
        this.statsTimer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sallyport-audit-stats");
            t.setDaemon(true);
            return t;
        });
    }

    public void start() {
        log.info("shipping audit events to CloudWatch Logs group {} stream {}", destination.logGroup(),
                streamFor(clock.millis()));
        thread.start();
        long every = tuning.statsEvery().toMillis();
        statsTimer.scheduleAtFixedRate(this::logStats, every, every, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    public Stats stats() {
        return new Stats(shipped.get(), calls.get(), failed.get(), throttled.get(), rejected.get(), unshippable.get(),
                Optional.ofNullable(lastError));
    }

    String streamFor(long timestampMillis) {
        return LogEventBatches.streamName(destination.logStream(), destination.instanceId(), destination.hostname(),
                timestampMillis);
    }

    // ---- the loop -------------------------------------------------------------------------------

    private void run() {
        while (!stopped) {
            try {
                // Only a read that began after draining started may end the drain: one that began
                // before it can have missed the last events.
                boolean drainingBefore = draining;
                if (!shipOnce()) {
                    if (drainingBefore) {
                        return;
                    }
                    if (!draining) {
                        spool.awaitData(spool.cursor(), Duration.ofSeconds(1));
                    }
                }
            } catch (InterruptedException e) {
                if (stopped) {
                    return;
                }
            } catch (IOException | RuntimeException e) {
                // Reading the spool failed: not CloudWatch's fault, but the same cure.
                lastError = e.toString();
                log.error("audit shipper: {}", e.toString());
                if (!pause(tuning.backoffCap())) {
                    return;
                }
            }
        }
    }

    /** Ships what the spool holds now, one read's worth. False when there was nothing to ship. */
    private boolean shipOnce() throws IOException, InterruptedException {
        Spool.Batch batch = spool.read(LogEventBatches.MAX_EVENTS, LogEventBatches.MAX_BYTES, LogEventBatches.EVENT_OVERHEAD);
        if (batch.records().isEmpty()) {
            if (batch.end().isAfter(spool.cursor())) {
                spool.commit(batch.end()); // damaged bytes or a finished segment: step over them
                return true;
            }
            return false;
        }
        if (!draining && batch.records().size() < LogEventBatches.MAX_EVENTS) {
            // A lone event waits a moment for company: fewer, fuller calls.
            long age = clock.millis() - batch.records().get(0).timestamp();
            long wait = tuning.linger().toMillis() - Math.max(0, age);
            if (wait > 0) {
                synchronized (wake) {
                    if (!draining) {
                        wake.wait(Math.min(wait, tuning.linger().toMillis()));
                    }
                }
                batch = spool.read(LogEventBatches.MAX_EVENTS, LogEventBatches.MAX_BYTES, LogEventBatches.EVENT_OVERHEAD);
            }
        }
        for (LogEventBatches.Call call : LogEventBatches.plan(batch.records(), clock.millis(), this::streamFor)) {
            if (!send(call)) {
                return true;
            }
            spool.commit(call.end());
        }
        spool.commit(batch.end());
        return true;
    }

    /**
     * Sends one call until CloudWatch accepts it. False only when the shipper was stopped first;
     * true also when an invalid event had to be skipped.
     */
    private boolean send(LogEventBatches.Call call) throws InterruptedException {
        int attempt = 0;
        boolean createTried = false;
        String firstFailure = null;
        long failingSince = 0;
        while (!stopped) {
            try {
                PutLogEventsResponse r = client.putLogEvents(b -> b.logGroupName(destination.logGroup())
                        .logStreamName(call.stream())
                        .logEvents(toInput(call.events())));
                calls.incrementAndGet();
                shipped.addAndGet(call.events().size());
                reportRejected(call, r.rejectedLogEventsInfo());
                if (firstFailure != null) {
                    log.info("CloudWatch Logs accepted audit events again after {} failed attempts over {} s ({})",
                            attempt, (System.nanoTime() - failingSince) / 1_000_000_000L, firstFailure);
                }
                lastError = null;
                return true;
            } catch (ResourceNotFoundException e) {
                // The group or stream is missing (first start, or deleted under us): create, then
                // resend at once. Creating fails like any call does: back off and try again.
                try {
                    ensureStream(call.stream());
                    if (!createTried) {
                        createTried = true;
                        continue;
                    }
                    failure(e, attempt, call);
                } catch (SdkException | IllegalStateException creating) {
                    if (firstFailure == null) {
                        firstFailure = failureText(creating);
                        failingSince = System.nanoTime();
                    }
                    failure(creating, attempt, call);
                }
            } catch (InvalidParameterException e) {
                // The call breaks a rule the batcher does not know about: halve it until the bad
                // event stands alone, and skip that one (it could never be shipped).
                if (call.events().size() == 1) {
                    unshippable.incrementAndGet();
                    log.error("CloudWatch Logs refuses an audit event as invalid ({}); skipped, it stays in the local"
                            + " audit file if one is configured: {}", failureText(e), call.events().get(0).record().line());
                    return true;
                }
                int half = call.events().size() / 2;
                log.warn("CloudWatch Logs refused a call of {} events as invalid ({}); splitting it", call.events().size(),
                        failureText(e));
                LogEventBatches.Call head = call.slice(0, half);
                if (!send(head)) {
                    return false;
                }
                spool.commit(head.end());
                return send(call.slice(half, call.events().size()));
            } catch (SdkException e) {
                if (firstFailure == null) {
                    firstFailure = failureText(e);
                    failingSince = System.nanoTime();
                }
                failure(e, attempt, call);
            }
            attempt++;
            if (!pause(backoff(attempt))) {
                return false;
            }
        }
        return false;
    }

    private void failure(Exception e, int attempt, LogEventBatches.Call call) {
        failed.incrementAndGet();
        boolean isThrottled = e instanceof AwsServiceException ase && ase.isThrottlingException();
        if (isThrottled) {
            throttled.incrementAndGet();
        }
        lastError = failureText(e);
        // First failure of a streak at WARN, then every tenth: an outage must not flood the journal.
        if (attempt == 0 || attempt % 10 == 0) {
            Spool.Status s = spool.status();
            log.warn("CloudWatch Logs PutLogEvents of {} events to {} failed (attempt {}): {}; retrying with backoff."
                    + " Backlog: {} events{}", call.events().size(), call.stream(), attempt + 1, lastError,
                    s.unshippedEvents(), s.oldestUnshipped().map(t -> ", oldest " + age(t) + " s old").orElse(""));
        }
    }

    private void ensureStream(String stream) {
        try {
            client.createLogStream(b -> b.logGroupName(destination.logGroup()).logStreamName(stream));
            log.info("created CloudWatch Logs stream {} in {}", stream, destination.logGroup());
        } catch (ResourceAlreadyExistsException e) {
            // Another start (or a retried call) made it: fine.
        } catch (ResourceNotFoundException e) {
            if (!destination.createLogGroup()) {
                throw new IllegalStateException("log group " + destination.logGroup()
                        + " does not exist and audit.cloudwatch.create_log_group is false");
            }
            try {
                client.createLogGroup(b -> b.logGroupName(destination.logGroup()));
                log.info("created CloudWatch Logs group {} (set its retention and KMS key: see docs/audit.md)",
                        destination.logGroup());
            } catch (ResourceAlreadyExistsException raced) {
                // fine
            }
            try {
                client.createLogStream(b -> b.logGroupName(destination.logGroup()).logStreamName(stream));
            } catch (ResourceAlreadyExistsException raced) {
                // fine
            }
        }
    }

    private void reportRejected(LogEventBatches.Call call, RejectedLogEventsInfo info) {
        if (info == null) {
            return;
        }
        List<LogEventBatches.Event> events = call.events();
        int n = events.size();
        // Indexes as CloudWatch defines them: events [0, tooOldEnd) too old, [0, expiredEnd) past
        // retention, [tooNewStart, n) too far in the future.
        int oldEnd = Math.max(bound(info.tooOldLogEventEndIndex(), n), bound(info.expiredLogEventEndIndex(), n));
        int newStart = info.tooNewLogEventStartIndex() == null ? n : bound(info.tooNewLogEventStartIndex(), n);
        int count = oldEnd + (n - Math.max(newStart, oldEnd));
        if (count <= 0) {
            return;
        }
        rejected.addAndGet(count);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (i < oldEnd || i >= newStart) {
                ids.add(idOf(events.get(i).record()));
            }
        }
        log.error("CloudWatch Logs rejected {} audit events of a call ({} too old or past the group's retention, {} more"
                + " than 2 h in the future); they are not retried. Event ids: {}", count, oldEnd, n - Math.max(newStart, oldEnd),
                ids.size() > 20 ? ids.subList(0, 20) + " and " + (ids.size() - 20) + " more" : ids);
    }

    private static int bound(Integer index, int n) {
        return index == null ? 0 : Math.max(0, Math.min(index, n));
    }

    private static String idOf(SpoolRecord r) {
        String line = r.line();
        int at = line.indexOf("\"id\":\"");
        return at < 0 ? "?" : line.substring(at + 6, Math.max(at + 6, line.indexOf('"', at + 6)));
    }

    private static List<InputLogEvent> toInput(List<LogEventBatches.Event> events) {
        List<InputLogEvent> out = new ArrayList<>(events.size());
        for (LogEventBatches.Event e : events) {
            out.add(InputLogEvent.builder().timestamp(e.timestamp()).message(e.record().line()).build());
        }
        return out;
    }

    /** Exponential from {@code backoffBase}, capped, with "equal jitter": at least half the step, so throttling really slows us. */
    Duration backoff(int attempt) {
        long base = tuning.backoffBase().toMillis();
        long cap = tuning.backoffCap().toMillis();
        long step = attempt >= 30 ? cap : Math.min(cap, base << Math.min(attempt - 1, 30));
        long half = Math.max(1, step / 2);
        return Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(half + 1));
    }

    /** Sleeps unless stopped; false when stopped. */
    private boolean pause(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        while (!stopped) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return true;
            }
            try {
                Thread.sleep(Math.max(1, Math.min(left / 1_000_000, 200)));
            } catch (InterruptedException e) {
                if (stopped) {
                    return false;
                }
            }
        }
        return false;
    }

    private static String failureText(Exception e) {
        Optional<String> answer = AwsErrors.serviceError(e);
        if (answer.isPresent()) {
            return answer.get();
        }
        if (e instanceof SdkClientException && e.getCause() != null) {
            return e.getClass().getSimpleName() + " (" + e.getCause() + ")";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private long age(Instant t) {
        return Math.max(0, (clock.millis() - t.toEpochMilli()) / 1000);
    }

    // ---- stats ----------------------------------------------------------------------------------

    /**
     * The heartbeat: one line every {@code statsEvery}, also while CloudWatch is failing. Its tail
     * ({@code audit-pipeline}, the instance and nine numbers) is fixed so that a CloudWatch metric filter can read
     * it from the service's journal (docs/audit.md); a missing heartbeat is itself a signal.
     */
    private void logStats() {
        try {
            log.info(pipelineLine(spool.status(), stats()));
        } catch (RuntimeException e) {
            log.warn("audit pipeline stats: {}", e.toString());
        }
    }

    /**
     * The pipeline in one line: spool depth, oldest unshipped age, shipped and failed counts,
     * first for people, then after {@code |} as {@code audit-pipeline INSTANCE UNSHIPPED OLDEST_S
     * SPOOL_BYTES SHIPPED FAILED THROTTLED REJECTED DROPPED DISCARDED} for metric filters.
     */
    public String pipelineLine(Spool.Status s, Stats st) {
        long oldest = s.oldestUnshipped().map(this::age).orElse(0L);
        return "audit pipeline: " + s.unshippedEvents() + " unshipped events"
                + s.oldestUnshipped().map(t -> " (oldest " + age(t) + " s)").orElse("")
                + ", spool " + s.diskBytes() + " of " + s.maxBytes() + " bytes"
                + (s.full() ? " FULL" : "") + (s.writeFailing() ? " WRITE FAILING" : "")
                + "; shipped " + st.shippedEvents() + " events in " + st.calls() + " calls; "
                + st.failedAttempts() + " failed attempts (" + st.throttled() + " throttled); rejected " + st.rejectedEvents()
                + ", dropped " + s.droppedEvents() + ", discarded " + s.discardedEvents()
                // Quotes and brackets would make a metric filter read the error as one field with what follows.
                + st.lastError().map(e -> "; last error: " + e.replace('|', '/').replace('"', '\'')
                        .replace('[', '(').replace(']', ')')).orElse("")
                + " | audit-pipeline " + destination.instanceId() + " " + s.unshippedEvents() + " " + oldest + " " + s.diskBytes() + " " + st.shippedEvents()
                + " " + st.failedAttempts() + " " + st.throttled() + " " + st.rejectedEvents() + " " + s.droppedEvents()
                + " " + s.discardedEvents();
    }

    /**
     * Lets the shipper send what the spool holds for up to {@code drainOnClose}, then stops it.
     * What is left stays in the spool for the next start.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        statsTimer.shutdownNow();
        draining = true;
        synchronized (wake) {
            wake.notifyAll();
        }
        spool.wakeReaders();
        try {
            thread.join(tuning.drainOnClose().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopped = true;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Spool.Status s = spool.status();
        if (s.unshippedEvents() > 0) {
            log.info("audit shipper stopped with {} events not yet in CloudWatch; they are shipped at the next start",
                    s.unshippedEvents());
        }
        log.info(pipelineLine(s, stats()));
        client.close();
    }
}
