package io.sallyport.audit;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

/**
 * Cuts spooled events into PutLogEvents calls that CloudWatch Logs accepts whole: at most
 * {@value #MAX_EVENTS} events and {@value #MAX_BYTES} bytes (UTF-8 message bytes plus
 * {@value #EVENT_OVERHEAD} per event), in chronological order, spanning less than 24 hours, all
 * for one log stream. Breaking any of these fails the whole call, so they are kept here rather
 * than discovered from errors.
 *
 * <p>Spool order is timestamp order (events are stamped as they are queued), except when the
 * wall clock steps: CloudWatch refuses an event more than 2 hours ahead of its clock (one by one,
 * never retried), so the timestamp an event is sent with follows two rules, and the event's own
 * {@code ts} always stays in the message:
 * <ol>
 *   <li><b>Never after the moment it is shipped.</b> An event stamped by a clock that ran ahead
 *       and was then stepped back is sent with the shipper's now: it cannot have happened later.
 *       (Without this, a clock that was more than 2 hours ahead loses those events.)</li>
 *   <li><b>A step back starts a new call.</b> When an event's timestamp is earlier than its
 *       predecessor's by more than {@value #STEP_BACK_TOLERANCE_MILLIS} ms, it goes into a new
 *       call with its own timestamp (order is required within a call, not between calls). A
 *       smaller step is sent with the predecessor's timestamp, so a jittery clock does not cut
 *       calls short. Either way no event is ever sent later than {@code max(own ts, predecessor)}
 *       nor more than {@value #STEP_BACK_TOLERANCE_MILLIS} ms after its own time: an earlier
 *       event's future timestamp is never carried on to later events.</li>
 * </ol>
 */
final class LogEventBatches {
    static final int MAX_EVENTS = 10_000;
    static final int MAX_BYTES = 1_048_576;
    static final int EVENT_OVERHEAD = 26;
    static final long MAX_SPAN_MILLIS = 24L * 3600 * 1000 - 1;
    /**
     * A step back up to this is absorbed (the event is sent with its predecessor's timestamp):
     * chrony and ntpd slew rather than step below 1 s (chrony's {@code makestep 1.0} on Amazon
     * Linux), so anything larger is a real step and costs one extra call.
     */
    static final long STEP_BACK_TOLERANCE_MILLIS = 1_000;
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);

    /** One event as it goes out: the timestamp CloudWatch gets (maybe clamped), and the record. */
    record Event(long timestamp, SpoolRecord record) {}

    /** One PutLogEvents call; {@code end} is the spool position to commit once it is accepted. */
    record Call(String stream, List<Event> events, int bytes) {
        SpoolPosition end() {
            return events.get(events.size() - 1).record().next();
        }

        Call slice(int from, int to) {
            List<Event> part = List.copyOf(events.subList(from, to));
            int b = 0;
            for (Event e : part) {
                b += e.record().payload().length + EVENT_OVERHEAD;
            }
            return new Call(stream, part, b);
        }
    }

    private LogEventBatches() {}

    /**
     * @param nowMillis the shipper's clock: no event is sent with a later timestamp
     * @param streamFor the log stream for an event's timestamp (the {@code {date}} placeholder
     *                  makes it change at midnight UTC)
     */
    static List<Call> plan(List<SpoolRecord> records, long nowMillis, LongFunction<String> streamFor) {
        List<Call> calls = new ArrayList<>();
        List<Event> current = new ArrayList<>();
        String stream = null;
        int bytes = 0;
        long first = 0;
        long last = Long.MIN_VALUE;
        for (SpoolRecord r : records) {
            long ts = Math.min(r.timestamp(), nowMillis);
            boolean steppedBack = !current.isEmpty() && ts < last - STEP_BACK_TOLERANCE_MILLIS;
            if (!steppedBack) {
                ts = Math.max(ts, last);
            }
            String s = streamFor.apply(ts);
            int size = r.payload().length + EVENT_OVERHEAD;
            boolean full = current.size() == MAX_EVENTS || bytes + size > MAX_BYTES || steppedBack
                    || (!current.isEmpty() && ts - first > MAX_SPAN_MILLIS) || (stream != null && !stream.equals(s));
            if (!current.isEmpty() && full) {
                calls.add(new Call(stream, List.copyOf(current), bytes));
                current.clear();
                bytes = 0;
            }
            if (current.isEmpty()) {
                first = ts;
                stream = s;
            }
            current.add(new Event(ts, r));
            bytes += size;
            last = ts;
        }
        if (!current.isEmpty()) {
            calls.add(new Call(stream, List.copyOf(current), bytes));
        }
        return calls;
    }

    /** Fills the {@code log_stream} template: {@code {instance_id}}, {@code {hostname}}, {@code {date}} (UTC). */
    static String streamName(String template, String instanceId, String hostname, long timestampMillis) {
        String name = template.replace("{instance_id}", instanceId).replace("{hostname}", hostname);
        if (name.contains("{date}")) {
            name = name.replace("{date}", DATE.format(Instant.ofEpochMilli(timestampMillis)));
        }
        // CloudWatch refuses ':' and '*' in stream names; a host name could carry neither, but be sure.
        return name.replace(':', '_').replace('*', '_');
    }
}
