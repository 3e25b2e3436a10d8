package io.sallyport.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sallyport.config.Config;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private final List<Spool> open = new ArrayList<>();
    private final List<String> delivered = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void closeAll() {
        open.forEach(Spool::close);
    }

    private Spool spool(long maxBytes, Config.SpoolFullAction onFull) throws IOException {
        Spool s = Spool.open(dir, maxBytes, onFull, written -> written.forEach(a -> delivered.add(a.line())));
        open.add(s);
        return s;
    }

    private Spool spool() throws IOException {
        return spool(64 * MIB, Config.SpoolFullAction.REFUSE_NEW_SESSIONS);
    }

    private static String event(int i) {
        return "{\"id\":\"e" + i + "\",\"event\":\"session.open\",\"pad\":\"" + "x".repeat(200) + "\"}";
    }

    private static void appendDurably(Spool s, int from, int to) {
        for (int i = from; i < to; i++) {
            assertThat(s.append(1_000 + i, event(i)).awaitDurable(WAIT)).isTrue();
        }
    }

    private static List<String> ids(List<SpoolRecord> records) {
        return records.stream().map(r -> r.line().substring(7, r.line().indexOf('"', 7))).toList();
    }

    private void reopen(Spool s) {
        s.close();
        open.remove(s);
    }

    @Test
    void appendReturnsOnceTheEventIsInASegmentFileOnDisk() throws Exception {
        Spool s = spool();

        boolean durable = s.append(42, event(1)).awaitDurable(WAIT);

        assertThat(durable).isTrue();
        // Read from the files themselves, not through the spool.
        assertThat(SpoolFiles.lines(dir)).containsExactly(event(1));
        assertThat(delivered).containsExactly(event(1));
    }

    @Test
    void concurrentAppendsShareFsyncs() throws Exception {
        Spool s = spool();
        int threads = 32;
        int each = 50;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Boolean> results = Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < threads; t++) {
            int base = t * each;
            pool.execute(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    results.add(s.append(1_000, event(base + i)).awaitDurable(WAIT));
                }
            });
        }
        go.countDown();
        pool.shutdown();
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

        Spool.Status st = s.status();
        assertThat(results).hasSize(threads * each).containsOnly(true);
        assertThat(st.appendedEvents()).isEqualTo(threads * each);
        assertThat(st.groupCommits()).as("one fsync served many appends").isLessThan(threads * each);
        assertThat(SpoolFiles.lines(dir)).hasSize(threads * each);
    }

    @Test
    void readsComeBackInAppendOrderAndTheCursorSurvivesARestart() throws Exception {
        Spool s = spool();
        appendDurably(s, 0, 10);
        Spool.Batch first = s.read(4, MIB);
        assertThat(ids(first.records())).containsExactly("e0", "e1", "e2", "e3");
        s.commit(first.records().get(3).next());
        assertThat(s.status().unshippedEvents()).isEqualTo(6);
        reopen(s);

        Spool again = spool();
        Spool.Status st = again.status();
        Spool.Batch rest = again.read(100, MIB);

        assertThat(st.unshippedEvents()).isEqualTo(6);
        assertThat(st.oldestUnshipped()).hasValueSatisfying(t -> assertThat(t.toEpochMilli()).isEqualTo(1_004));
        assertThat(ids(rest.records())).containsExactly("e4", "e5", "e6", "e7", "e8", "e9");
    }

    @Test
    void aReadTakesWhatFitsTheByteBudgetCountingTheOverheadPerEventAndAlwaysTheFirst() throws Exception {
        Spool s = spool();
        appendDurably(s, 0, 10);
        int size = event(0).length();

        assertThat(s.read(100, 3L * (size + 26), 26).records()).hasSize(3);
        assertThat(s.read(100, 3L * (size + 26) - 1, 26).records()).hasSize(2);
        assertThat(s.read(100, 1, 26).records()).hasSize(1);
    }

    @Test
    void tornRecordAtTheEndOfASegmentIsSkippedAfterACrash() throws Exception {
        Spool s = spool();
        appendDurably(s, 0, 5);
        reopen(s);
        // What a crash in the middle of a write leaves: the last record cut short.
        Path segment = segments().get(0);
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            f.setLength(f.length() - 37);
        }

        Spool again = spool();
        appendDurably(again, 5, 7);
        Spool.Batch all = again.read(100, MIB);

        assertThat(ids(all.records())).containsExactly("e0", "e1", "e2", "e3", "e5", "e6");
        assertThat(again.status().skippedBytes()).isPositive();
    }

    @Test
    void damagedRecordInTheMiddleIsSkippedAndTheRestStillRead() throws Exception {
        Spool s = spool();
        appendDurably(s, 0, 5);
        reopen(s);
        Path segment = segments().get(0);
        byte[] bytes = Files.readAllBytes(segment);
        int third = SpoolSegment.HEADER_SIZE + 2 * (SpoolSegment.FRAME_OVERHEAD + event(0).length());
        bytes[third + SpoolSegment.FRAME_OVERHEAD + 30] ^= 0x20; // one flipped bit in e2's payload
        Files.write(segment, bytes);

        Spool again = spool();
        Spool.Batch all = again.read(100, MIB);

        assertThat(ids(all.records())).containsExactly("e0", "e1", "e3", "e4");
    }

    @Test
    void headerlessFileIsMovedAsideNotShipped() throws Exception {
        Files.writeString(dir.resolve(SpoolSegment.fileName(3)), "this is not a spool segment, but long enough");

        Spool s = spool();

        assertThat(s.read(100, MIB).records()).isEmpty();
        assertThat(dir.resolve(SpoolSegment.fileName(3) + ".unreadable")).exists();
    }

    @Test
    void segmentsAreDeletedOnlyOnceEverythingInThemWasCommitted() throws Exception {
        Spool s = spool(MIB, Config.SpoolFullAction.REFUSE_NEW_SESSIONS); // 64 KiB segments
        appendDurably(s, 0, 1_000);
        int before = segments().size();
        assertThat(before).isGreaterThan(3);

        Spool.Batch some = s.read(300, 64 * MIB);
        s.commit(some.records().get(some.records().size() - 1).next());
        int afterSome = segments().size();
        Spool.Batch rest = s.read(10_000, 64 * MIB);
        s.commit(rest.end());

        assertThat(afterSome).isLessThan(before).isGreaterThan(1);
        assertThat(rest.records()).hasSize(700);
        assertThat(segments()).hasSize(1); // the active one
        assertThat(s.status().unshippedEvents()).isZero();
    }

    @Test
    void fullSpoolRefusesNewSessionsButStillWritesIntoItsReserve() throws Exception {
        Spool s = spool(64 << 10, Config.SpoolFullAction.REFUSE_NEW_SESSIONS);
        assertThat(s.refusal()).isEmpty();
        int i = 0;
        while (s.refusal().isEmpty()) {
            assertThat(s.append(1_000, event(i++)).awaitDurable(WAIT)).isTrue();
        }
        String reason = s.refusal().orElseThrow();

        // Live sessions' events still go to disk, past the limit.
        assertThat(s.append(1_000, event(i++)).awaitDurable(WAIT)).isTrue();
        assertThat(reason).startsWith("audit spool full:").contains("on_spool_full: refuse_new_sessions");
        assertThat(s.status().full()).isTrue();

        s.commit(s.read(100_000, 64 * MIB).end());
        assertThat(s.refusal()).isEmpty();
    }

    @Test
    void exhaustedReserveDiscardsAndCountsInsteadOfBlocking() throws Exception {
        Spool s = spool(64 << 10, Config.SpoolFullAction.REFUSE_NEW_SESSIONS); // reserve: 1 MiB
        String big = "{\"id\":\"big\",\"pad\":\"" + "y".repeat(100_000) + "\"}";
        int durable = 0;
        int refused = 0;
        for (int i = 0; i < 20; i++) {
            if (s.append(1_000, big).awaitDurable(WAIT)) {
                durable++;
            } else {
                refused++;
            }
        }

        assertThat(durable).isBetween(10, 12);
        assertThat(refused).isPositive();
        assertThat(s.status().discardedEvents()).isEqualTo(refused);
        assertThat(delivered).as("the local sinks still got every event").hasSize(20);
    }

    @Test
    void dropOldestDeletesTheOldestUnshippedSegmentAndCountsWhatWasLost() throws Exception {
        Spool s = spool(64 << 10, Config.SpoolFullAction.DROP_OLDEST); // 4 KiB segments
        appendDurably(s, 0, 1_000);

        Spool.Status st = s.status();
        Spool.Batch left = s.read(10_000, 64 * MIB);

        assertThat(s.refusal()).isEmpty();
        assertThat(st.diskBytes()).isLessThanOrEqualTo(64 << 10);
        assertThat(st.droppedEvents()).isPositive();
        assertThat(st.droppedEvents() + left.records().size()).isEqualTo(1_000);
        // What is left is the newest, still in order.
        List<String> ids = ids(left.records());
        assertThat(ids.get(ids.size() - 1)).isEqualTo("e999");
        assertThat(ids).isSortedAccordingTo((a, b) -> Integer.compare(Integer.parseInt(a.substring(1)), Integer.parseInt(b.substring(1))));
    }

    @Test
    void aSecondSpoolOnTheSameDirectoryIsRefused() throws Exception {
        spool();

        assertThatThrownBy(this::spool).isInstanceOf(IOException.class).hasMessageContaining("in use");
    }

    @Test
    void appendAfterCloseNeverThrowsAndIsNotDurable() throws Exception {
        Spool s = spool();
        s.close();

        assertThat(s.append(1, event(1)).awaitDurable(WAIT)).isFalse();
        assertThat(delivered).containsExactly(event(1));
    }

    @Test
    void eventLargerThanCloudWatchTakesIsNotSpooled() throws Exception {
        Spool s = spool();

        assertThat(s.append(1, "{\"pad\":\"" + "z".repeat(300_000) + "\"}").awaitDurable(WAIT)).isFalse();
        assertThat(s.status().discardedEvents()).isEqualTo(1);
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".seg")).sorted().toList();
        }
    }
}
