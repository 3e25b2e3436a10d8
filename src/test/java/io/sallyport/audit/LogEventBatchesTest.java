package io.sallyport.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LogEventBatchesTest {
    private static final long T0 = Instant.parse("2026-03-01T10:00:00Z").toEpochMilli();
    private static final long HOUR = 3_600_000;

    private static List<SpoolRecord> records(int n, int payloadBytes, long start, long step) {
        List<SpoolRecord> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] p = "x".repeat(payloadBytes).getBytes(StandardCharsets.UTF_8);
            out.add(new SpoolRecord(start + i * step, p, new SpoolPosition(1, 8 + (long) i * 100, i + 1)));
        }
        return out;
    }

    private static List<LogEventBatches.Call> plan(List<SpoolRecord> records) {
        return LogEventBatches.plan(records, Long.MAX_VALUE, ts -> "stream");
    }

    @Test
    void tenThousandEventsFitOneCallAndOneMoreStartsTheNext() {
        List<LogEventBatches.Call> calls = plan(records(10_001, 10, T0, 0));

        assertThat(calls).extracting(c -> c.events().size()).containsExactly(10_000, 1);
    }

    @Test
    void sizeCountsMessageBytesPlus26PerEventUpToExactly1MiB() {
        // 1,048,576 / 1,024 = 1,024 events of 998 + 26 bytes fill a call to the byte.
        List<LogEventBatches.Call> calls = plan(records(1_025, 998, T0, 0));

        assertThat(calls).extracting(c -> c.events().size()).containsExactly(1_024, 1);
        assertThat(calls.get(0).bytes()).isEqualTo(1_048_576);
    }

    @Test
    void callsNeverSpan24Hours() {
        List<LogEventBatches.Call> calls = plan(records(5, 10, T0, 8 * HOUR)); // 0h 8h 16h 24h 32h

        assertThat(calls).extracting(c -> c.events().size()).containsExactly(3, 2);
        for (LogEventBatches.Call c : calls) {
            long span = c.events().get(c.events().size() - 1).timestamp() - c.events().get(0).timestamp();
            assertThat(span).isLessThan(24 * HOUR);
        }
    }

    @Test
    void wallClockSteppingBackWithinASecondIsSentWithThePredecessorsTimestampToStayChronological() {
        List<SpoolRecord> r = new ArrayList<>(records(3, 10, T0, 1_000));
        SpoolRecord back = new SpoolRecord(T0 + 400, "y".getBytes(StandardCharsets.UTF_8), new SpoolPosition(1, 999, 4));
        r.add(2, back);

        List<LogEventBatches.Call> calls = plan(r);

        assertThat(calls).hasSize(1);
        assertThat(calls.get(0).events()).extracting(LogEventBatches.Event::timestamp)
                .containsExactly(T0, T0 + 1_000, T0 + 1_000, T0 + 2_000);
        assertThat(calls.get(0).events().get(2).record()).isSameAs(back);
    }

    @Test
    void wallClockSteppingBackFurtherStartsANewCallWithTheEventsOwnTimestamps() {
        List<SpoolRecord> r = new ArrayList<>(records(2, 10, T0 + 3 * HOUR, 1_000)); // stamped while 3 h ahead
        r.addAll(records(2, 10, T0 + 5_000, 1_000)); // after the step back

        List<LogEventBatches.Call> calls = plan(r);

        assertThat(calls).extracting(c -> c.events().size()).containsExactly(2, 2);
        assertThat(calls.get(1).events()).extracting(LogEventBatches.Event::timestamp).containsExactly(T0 + 5_000, T0 + 6_000);
    }

    @Test
    void anEventStampedAheadOfTheShippersClockIsSentAsOfNowNeverLater() {
        long now = T0 + 10_000;
        List<SpoolRecord> r = new ArrayList<>(records(2, 10, T0 + 3 * HOUR, 1_000)); // the clock was 3 h ahead
        r.addAll(records(2, 10, T0 + 9_500, 100)); // after the step back: within the tolerance of now

        List<LogEventBatches.Call> calls = LogEventBatches.plan(r, now, ts -> "stream");

        assertThat(calls).hasSize(1);
        assertThat(calls.get(0).events()).extracting(LogEventBatches.Event::timestamp).containsExactly(now, now, now, now);
        assertThat(calls.get(0).events()).extracting(e -> e.record().timestamp())
                .as("the spool keeps what the clock said").startsWith(T0 + 3 * HOUR);
    }

    @Test
    void noEventIsEverSentBeforeItsOwnTimeOrMoreThanTheToleranceAfterIt() {
        java.util.Random random = new java.util.Random(7);
        List<SpoolRecord> r = new ArrayList<>();
        long clock = T0;
        for (int i = 0; i < 5_000; i++) {
            // Mostly forward, now and then a step back of up to 3 h, or a jitter of up to 2 s.
            int dice = random.nextInt(100);
            clock += dice < 2 ? -random.nextInt((int) (3 * HOUR)) : dice < 10 ? -random.nextInt(2_000) : random.nextInt(5_000);
            r.add(new SpoolRecord(clock, "z".getBytes(StandardCharsets.UTF_8), new SpoolPosition(1, 8 + i, i + 1)));
        }
        long now = clock + HOUR;

        List<LogEventBatches.Call> calls = LogEventBatches.plan(r, now, ts -> "stream");

        for (LogEventBatches.Call c : calls) {
            List<LogEventBatches.Event> ev = c.events();
            for (int i = 0; i < ev.size(); i++) {
                long own = Math.min(ev.get(i).record().timestamp(), now);
                assertThat(ev.get(i).timestamp()).isBetween(own, own + LogEventBatches.STEP_BACK_TOLERANCE_MILLIS);
                if (i > 0) {
                    assertThat(ev.get(i).timestamp()).isGreaterThanOrEqualTo(ev.get(i - 1).timestamp());
                }
            }
            assertThat(ev.get(ev.size() - 1).timestamp() - ev.get(0).timestamp()).isLessThan(24 * HOUR);
        }
        assertThat(calls.stream().mapToInt(c -> c.events().size()).sum()).isEqualTo(5_000);
    }

    @Test
    void dateInTheStreamNameStartsANewCallAtMidnightUtc() {
        long beforeMidnight = Instant.parse("2026-03-01T23:59:59Z").toEpochMilli();
        List<LogEventBatches.Call> calls = LogEventBatches.plan(records(3, 10, beforeMidnight, 600), Long.MAX_VALUE,
                ts -> LogEventBatches.streamName("{instance_id}/{date}", "i-0abc", "host", ts));

        assertThat(calls).extracting(LogEventBatches.Call::stream)
                .containsExactly("i-0abc/2026-03-01", "i-0abc/2026-03-02");
        assertThat(calls).extracting(c -> c.events().size()).containsExactly(2, 1);
    }

    @Test
    void streamNameTemplateFillsEveryPlaceholder() {
        assertThat(LogEventBatches.streamName("{hostname}-{instance_id}-{date}", "i-0123456789abcdef0", "bastion-a", T0))
                .isEqualTo("bastion-a-i-0123456789abcdef0-2026-03-01");
        assertThat(LogEventBatches.streamName("{hostname}", "i-1", "odd:host*", T0)).isEqualTo("odd_host_");
    }

    @Test
    void theCommitPositionOfACallIsAfterItsLastEvent() {
        List<SpoolRecord> r = records(10_001, 10, T0, 0);

        List<LogEventBatches.Call> calls = plan(r);

        assertThat(calls.get(0).end()).isEqualTo(r.get(9_999).next());
        assertThat(calls.get(1).end()).isEqualTo(r.get(10_000).next());
    }
}
