package io.sallyport.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.config.Config;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stamps events with their envelope ({@code id}, {@code ts}, {@code event}, {@code instance},
 * {@code session}) and hands one JSON line to the spool and to every local sink.
 *
 * <p>Contract with the SSH threads that call it: {@link #emit} never throws and never waits on
 * the network. With a spool (CloudWatch shipping on), {@code emit} returns once the event is
 * fsynced to the spool, waiting at most {@link #DURABLE_WAIT} for the local disk; the local sinks
 * (file, stdout) get each event right after it is durable, in the same order. Without a spool the
 * sinks are written directly, and the audit file ({@link JsonLinesFileSink}) is the record:
 * {@code emit} returns once the event is fsynced to it, with the same bound, and while it cannot
 * be written {@link #refusal()} refuses new sessions. A sink that fails is logged (rate-limited)
 * and the others still get the event.
 */
public final class Auditor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Auditor.class);
    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    /**
     * How long {@link #emit} waits for the spool's fsync. A local disk answers in milliseconds;
     * past this the disk is sick, and an SSH I/O thread must not hang on it (the spool then
     * refuses new sessions until it catches up).
     */
    public static final Duration DURABLE_WAIT = Duration.ofSeconds(2);

    private final ObjectMapper json = new ObjectMapper();
    private final String instance;
    private final Clock clock;
    /** Written only under {@code sinkLock}, replaced whole by {@link #replaceSinks}. */
    private volatile List<AuditSink> sinks;
    /** The audit files among the sinks: with no spool, {@link #emit} waits for their fsync. */
    private volatile List<JsonLinesFileSink> files;
    /** Stamping and queueing happen under this lock, so spool order is {@code ts} order. */
    private final Object order = new Object();
    private final Object sinkLock = new Object();
    private final Spool spool;
    private volatile CloudWatchShipper shipper;
    private final List<java.util.function.Consumer<AuditEvent>> observers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile boolean closed;
    private long lastFailureLog;
    private final java.util.concurrent.atomic.AtomicLong lastNotDurableLog = new java.util.concurrent.atomic.AtomicLong(System.nanoTime() - 20_000_000_000L);

    /** Without a spool: events go straight to the sinks (CloudWatch shipping off). */
    public Auditor(String instance, Clock clock, List<AuditSink> sinks) {
        this.instance = instance;
        this.clock = clock;
        this.sinks = List.copyOf(sinks);
        this.files = files(sinks);
        this.spool = null;
    }

    private Auditor(String instance, Clock clock, List<AuditSink> sinks, Path spoolDir, long spoolMaxBytes,
                    Config.SpoolFullAction onFull) throws IOException {
        this.instance = instance;
        this.clock = clock;
        this.sinks = List.copyOf(sinks);
        this.files = files(sinks);
        this.spool = Spool.open(spoolDir, spoolMaxBytes, onFull, written -> writeSinks(written));
    }

    /**
     * With a durable spool in {@code spoolDir}: {@link #emit} returns once the event is on disk.
     *
     * @throws IOException when the spool directory cannot be used
     */
    public static Auditor withSpool(String instance, Clock clock, List<AuditSink> sinks, Path spoolDir, long spoolMaxBytes,
                                    Config.SpoolFullAction onFull) throws IOException {
        return new Auditor(instance, clock, sinks, spoolDir, spoolMaxBytes, onFull);
    }

    private static List<JsonLinesFileSink> files(List<AuditSink> sinks) {
        return sinks.stream().filter(JsonLinesFileSink.class::isInstance).map(JsonLinesFileSink.class::cast).toList();
    }

    /**
     * Swaps the sinks {@code replaced} selects for {@code next} (a reload changed {@code audit.file}
     * or {@code audit.stdout}): between two events, so each event goes whole to the old sinks or
     * whole to the new. The replaced sinks are closed after the swap; an audit file first writes
     * and syncs what it had queued. The spool, and so CloudWatch, is not a sink and never changes.
     */
    public void replaceSinks(java.util.function.Predicate<AuditSink> replaced, List<AuditSink> next) {
        List<AuditSink> removed = new java.util.ArrayList<>();
        synchronized (sinkLock) {
            List<AuditSink> kept = new java.util.ArrayList<>();
            for (AuditSink s : sinks) {
                (replaced.test(s) ? removed : kept).add(s);
            }
            kept.addAll(next);
            sinks = List.copyOf(kept);
            files = files(sinks);
        }
        for (AuditSink s : removed) {
            try {
                s.close();
            } catch (Exception e) {
                log.warn("closing audit sink {}: {}", s.getClass().getSimpleName(), e.toString());
            }
        }
    }

    public Optional<Spool> spool() {
        return Optional.ofNullable(spool);
    }

    /** The shipper that drains the spool; {@link #close} lets it drain, then stops it, before closing the spool. */
    public void shipWith(CloudWatchShipper shipper) {
        this.shipper = shipper;
    }

    public Optional<CloudWatchShipper> shipper() {
        return Optional.ofNullable(shipper);
    }

    /**
     * Lets {@code observer} see every event {@link #emit} records, right after it is recorded (on
     * the emitting thread; it must be quick and must not emit). Metrics count from here, so a
     * counter moves exactly when its event is in the audit trail.
     */
    public void observe(java.util.function.Consumer<AuditEvent> observer) {
        observers.add(observer);
    }

    private void tellObservers(AuditEvent event) {
        for (java.util.function.Consumer<AuditEvent> o : observers) {
            try {
                o.accept(event);
            } catch (RuntimeException e) {
                log.warn("audit observer failed on {}: {}", event.name(), e.toString());
            }
        }
    }

    public String instance() {
        return instance;
    }

    /**
     * Why a new session must be refused now ({@code on_spool_full: refuse_new_sessions} and the
     * spool full, failing or behind; or the audit file failing or behind), or empty. Cheap: for
     * the authenticator, on every login.
     */
    public Optional<String> refusal() {
        Optional<String> spoolRefusal = spool == null ? Optional.empty() : spool.refusal();
        if (spoolRefusal.isPresent()) {
            return spoolRefusal;
        }
        for (JsonLinesFileSink f : files) {
            Optional<String> r = f.refusal();
            if (r.isPresent()) {
                return r;
            }
        }
        return Optional.empty();
    }

    /** Encodes the event as its JSON line, stamped now; the same bytes go to every sink. */
    public String encode(AuditEvent event) {
        return encode(event, clock.instant().truncatedTo(ChronoUnit.MILLIS));
    }

    private String encode(AuditEvent event, Instant ts) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", UUID.randomUUID().toString());
        m.put("ts", TS.format(ts));
        m.put("event", event.name());
        m.put("instance", instance);
        event.session().ifPresent(s -> m.put("session", s));
        m.putAll(event.fields());
        try {
            return json.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            // Only plain maps, lists, strings and numbers go in: this cannot happen.
            throw new IllegalStateException(e);
        }
    }

    /** Records one event. Never throws; with a spool, returns once the event is on disk (or the wait bound passed). */
    public void emit(AuditEvent event) {
        try {
            if (spool == null) {
                List<JsonLinesFileSink.Append> pending;
                synchronized (order) {
                    String line = encode(event);
                    synchronized (sinkLock) {
                        pending = writeToSinks(line);
                    }
                }
                // The audit file is the record: returned means fsynced (group commit, bounded wait).
                for (JsonLinesFileSink.Append a : pending) {
                    if (!a.awaitDurable(DURABLE_WAIT)) {
                        notDurable(event);
                    }
                }
                tellObservers(event);
                return;
            }
            Spool.Append pending;
            synchronized (order) {
                Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
                pending = spool.append(now.toEpochMilli(), encode(event, now));
            }
            tellObservers(event);
            if (!pending.awaitDurable(DURABLE_WAIT)) {
                notDurable(event);
            }
        } catch (RuntimeException e) {
            log.error("audit event {} could not be recorded: {}", event.name(), e.toString());
        }
    }

    private void notDurable(AuditEvent event) {
        long now = System.nanoTime();
        long last = lastNotDurableLog.get();
        if (now - last < 10_000_000_000L || !lastNotDurableLog.compareAndSet(last, now)) {
            return;
        }
        log.error("audit event {} is not {} yet (waited at most {} ms): {}", event.name(), spool == null ? "on disk" : "in the spool",
                DURABLE_WAIT.toMillis(), closed ? "audit is shut down" : refusal().orElse("writer behind or discarding"));
    }

    private void writeSinks(List<Spool.Append> written) {
        synchronized (sinkLock) {
            for (Spool.Append a : written) {
                writeToSinks(a.line());
            }
        }
    }

    /**
     * Under {@code sinkLock}: sinks are written in order and never concurrently. Audit files only
     * queue the line; what they queued is returned, to wait for outside the locks.
     */
    private List<JsonLinesFileSink.Append> writeToSinks(String line) {
        List<JsonLinesFileSink.Append> pending = files.isEmpty() ? List.of() : new java.util.ArrayList<>(files.size());
        for (AuditSink sink : sinks) {
            try {
                if (sink instanceof JsonLinesFileSink f) {
                    pending.add(f.append(line));
                    continue;
                }
                sink.write(line);
            } catch (Exception e) {
                long now = System.nanoTime();
                if (now - lastFailureLog > 10_000_000_000L) {
                    lastFailureLog = now;
                    log.error("audit sink {} failed: {}", sink.getClass().getSimpleName(), e.toString());
                }
            }
        }
        return pending;
    }

    /**
     * Shuts the pipeline down in order: what is queued reaches the spool, the shipper gets a
     * short grace to send it, the spool closes (what was not shipped waits on disk for the next
     * start), then the sinks close.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (spool != null) {
            spool.flush(Duration.ofSeconds(5));
            CloudWatchShipper s = shipper;
            if (s != null) {
                s.close();
            }
            spool.close();
        }
        synchronized (sinkLock) {
            for (AuditSink sink : sinks) {
                try {
                    sink.close();
                } catch (Exception e) {
                    log.warn("closing audit sink {}: {}", sink.getClass().getSimpleName(), e.toString());
                }
            }
        }
    }
}
