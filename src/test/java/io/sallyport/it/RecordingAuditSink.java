package io.sallyport.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.audit.AuditSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Keeps every audit event the server emitted, parsed, so tests can wait for and inspect them. */
public final class RecordingAuditSink implements AuditSink {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<JsonNode> events = new ArrayList<>();

    @Override
    public synchronized void write(String jsonLine) throws Exception {
        events.add(JSON.readTree(jsonLine));
        notifyAll();
    }

    public synchronized List<JsonNode> all() {
        return List.copyOf(events);
    }

    public synchronized List<JsonNode> named(String event) {
        return events.stream().filter(e -> e.path("event").asText().equals(event)).toList();
    }

    /** Events of one session, in order. */
    public synchronized List<JsonNode> ofSession(String session) {
        return events.stream().filter(e -> e.path("session").asText().equals(session)).toList();
    }

    /** Waits for the first event (in emission order, from index {@code from}) matching the predicate. */
    public synchronized JsonNode await(Predicate<JsonNode> match, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (JsonNode e : events) {
                if (match.test(e)) {
                    return e;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no matching audit event within " + timeout + "; events were:\n" + dump());
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    public JsonNode await(String event, Predicate<JsonNode> match) throws InterruptedException {
        return await(e -> e.path("event").asText().equals(event) && match.test(e), Duration.ofSeconds(15));
    }

    public synchronized int size() {
        return events.size();
    }

    /** Events emitted after the first {@code mark} ones. */
    public synchronized List<JsonNode> since(int mark) {
        return List.copyOf(events.subList(Math.min(mark, events.size()), events.size()));
    }

    public synchronized String dump() {
        StringBuilder b = new StringBuilder();
        for (JsonNode e : events) {
            b.append("  ").append(e).append('\n');
        }
        return b.toString();
    }
}
