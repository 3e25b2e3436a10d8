package io.sallyport.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stamps events with their envelope ({@code id}, {@code ts}, {@code event}, {@code instance},
 * {@code session}) and hands one JSON line to every sink.
 *
 * <p>Contract with the SSH threads that call it: {@link #emit} never throws and never waits on
 * the network. A sink that fails is logged (rate-limited) and the other sinks still get the event.
 */
public final class Auditor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Auditor.class);
    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final ObjectMapper json = new ObjectMapper();
    private final String instance;
    private final Clock clock;
    private final List<AuditSink> sinks;
    private long lastFailureLog;

    public Auditor(String instance, Clock clock, List<AuditSink> sinks) {
        this.instance = instance;
        this.clock = clock;
        this.sinks = List.copyOf(sinks);
    }

    /** Encodes the event as its JSON line; the same bytes go to every sink. */
    public String encode(AuditEvent event) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", UUID.randomUUID().toString());
        m.put("ts", TS.format(clock.instant().truncatedTo(ChronoUnit.MILLIS)));
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

    public synchronized void emit(AuditEvent event) {
        String line;
        try {
            line = encode(event);
        } catch (RuntimeException e) {
            log.error("audit event {} could not be encoded: {}", event.name(), e.toString());
            return;
        }
        for (AuditSink sink : sinks) {
            try {
                sink.write(line);
            } catch (Exception e) {
                long now = System.nanoTime();
                if (now - lastFailureLog > 10_000_000_000L) {
                    lastFailureLog = now;
                    log.error("audit sink {} failed: {}", sink.getClass().getSimpleName(), e.toString());
                }
            }
        }
    }

    @Override
    public synchronized void close() {
        for (AuditSink sink : sinks) {
            try {
                sink.close();
            } catch (Exception e) {
                log.warn("closing audit sink {}: {}", sink.getClass().getSimpleName(), e.toString());
            }
        }
    }
}
