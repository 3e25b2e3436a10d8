package io.sallyport.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.audit.AuditSink;
import java.util.ArrayList;
import java.util.List;

/** Keeps the audit events, parsed. */
final class ListSink implements AuditSink {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<JsonNode> events = new ArrayList<>();

    @Override
    public synchronized void write(String jsonLine) throws Exception {
        events.add(JSON.readTree(jsonLine));
    }

    synchronized List<JsonNode> named(String name) {
        return events.stream().filter(e -> e.path("event").asText().equals(name)).toList();
    }
}
