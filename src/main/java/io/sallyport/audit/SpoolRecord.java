package io.sallyport.audit;

import java.nio.charset.StandardCharsets;

/**
 * One audit event as read back from the spool.
 *
 * @param timestamp the event's {@code ts}, in epoch milliseconds
 * @param payload   the event's JSON line, UTF-8
 * @param next      the position just after this record: commit it once the event is shipped
 */
public record SpoolRecord(long timestamp, byte[] payload, SpoolPosition next) {
    public String line() {
        return new String(payload, StandardCharsets.UTF_8);
    }
}
