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
        return LogEventBatches.plan(records, ts -> "stream");
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
    void wallClockSteppingBackIsSentWithThePredecessorsTimestampToStayChronological() {
        List<SpoolRecord> r = new ArrayList<>(records(3, 10, T0, 1_000));
        SpoolRecord back = new SpoolRecord(T0 - 5_000, "y".getBytes(StandardCharsets.UTF_8), new SpoolPosition(1, 999, 4));
        r.add(2, back);

        List<LogEventBatches.Call> calls = plan(r);

        assertThat(calls).hasSize(1);
        assertThat(calls.get(0).events()).extracting(LogEventBatches.Event::timestamp)
                .containsExactly(T0, T0 + 1_000, T0 + 1_000, T0 + 2_000);
        assertThat(calls.get(0).events().get(2).record()).isSameAs(back);
    }

    @Test
    void dateInTheStreamNameStartsANewCallAtMidnightUtc() {
        long beforeMidnight = Instant.parse("2026-03-01T23:59:59Z").toEpochMilli();
        List<LogEventBatches.Call> calls = LogEventBatches.plan(records(3, 10, beforeMidnight, 600),
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
