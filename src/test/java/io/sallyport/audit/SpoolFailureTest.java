package io.sallyport.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.sallyport.config.Config;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The spool on a disk that fails: writes that stop part-way, a full disk, a write torn by a power
 * cut, fsyncs that hang. A {@link FaultySpoolStore} over the real files stands in for the disk,
 * and a {@link SkippingSpoolClock} makes the writer's retry pauses take no time.
 */
class SpoolFailureTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private final FaultySpoolStore store = new FaultySpoolStore();
    private final SkippingSpoolClock clock = new SkippingSpoolClock();
    private final List<Spool> open = new ArrayList<>();
    private final List<String> delivered = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void closeAll() {
        store.heal();
        open.forEach(Spool::close);
    }

    private Spool spool(long maxBytes, Config.SpoolFullAction onFull) throws IOException {
        Spool s = Spool.open(dir, maxBytes, onFull, written -> written.forEach(a -> delivered.add(a.line())), store,
                clock);
        open.add(s);
        return s;
    }

    private static String event(int i) {
        return "{\"id\":\"e" + i + "\",\"event\":\"session.open\",\"pad\":\"" + "x".repeat(200) + "\"}";
    }

    private static List<String> events(int from, int to) {
        return IntStream.range(from, to).mapToObj(SpoolFailureTest::event).toList();
    }

    private static void appendDurably(Spool s, int from, int to) {
        for (int i = from; i < to; i++) {
            assertThat(s.append(1_000 + i, event(i)).awaitDurable(WAIT)).isTrue();
        }
    }

    private static List<String> ids(List<SpoolRecord> records) {
        return records.stream().map(r -> r.line().substring(7, r.line().indexOf('"', 7))).toList();
    }

    private static List<String> ids(int from, int to) {
        return IntStream.range(from, to).mapToObj(i -> "e" + i).toList();
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as("condition within " + WAIT).isTrue();
            Thread.sleep(5);
        }
    }

    @Test
    void writeFailurePartWayThroughABatchDoesNotDuplicateFsyncedChunks() throws Exception {
        Spool s = spool(64 << 10, Config.SpoolFullAction.REFUSE_NEW_SESSIONS); // 4 KiB segments: a group spans several
        // Hold the writer in e0's fsync while e1..e40 queue up: they become one group.
        store.holdFsyncs();
        List<Spool.Append> appends = new ArrayList<>();
        appends.add(s.append(1_000, event(0)));
        await(() -> store.fsyncsWaiting() > 0);
        for (int i = 1; i <= 40; i++) {
            appends.add(s.append(1_000 + i, event(i)));
        }
        // The group's first chunk (the rest of segment 1) is written and fsynced; the disk fills
        // part-way through the second, in the next segment.
        store.failWritesAfter(6_000);
        store.releaseFsyncs();
        await(() -> store.failures() > 0);
        store.heal();

        assertThat(appends).allSatisfy(a -> assertThat(a.awaitDurable(WAIT)).isTrue());
        assertThat(SpoolFiles.lines(dir)).as("every event on disk exactly once, in order").containsExactlyElementsOf(events(0, 41));
        assertThat(ids(s.read(1_000, MIB).records())).containsExactlyElementsOf(ids(0, 41));
        assertThat(s.status().appendedEvents()).isEqualTo(41);
        assertThat(s.status().unshippedEvents()).isEqualTo(41);
        assertThat(delivered).as("the local sinks got each event once").containsExactlyElementsOf(events(0, 41));
    }

    @Test
    void diskFullRefusesNewSessionsWithTheReasonUntilThereIsRoomAgain() throws Exception {
        Spool s = spool(64 * MIB, Config.SpoolFullAction.REFUSE_NEW_SESSIONS);
        appendDurably(s, 0, 3);
        store.diskFull(true);

        Spool.Append waiting = s.append(1_003, event(3));

        assertThat(waiting.awaitDurable(Duration.ofMillis(200))).isFalse();
        await(() -> s.status().writeFailing());
        assertThat(s.refusal()).hasValueSatisfying(reason -> assertThat(reason)
                .startsWith("audit spool disk is full: cannot write to " + dir)
                .contains("No space left on device").contains("0 bytes free")
                .endsWith("new sessions are refused (on_spool_full: refuse_new_sessions)"));
        assertThat(delivered).as("the local sinks do not go dark").contains(event(3));

        store.diskFull(false);
        assertThat(waiting.awaitDurable(WAIT)).isTrue();
        appendDurably(s, 4, 5);
        await(() -> s.refusal().isEmpty());
        assertThat(SpoolFiles.lines(dir)).containsExactlyElementsOf(events(0, 5));
        assertThat(s.status().discardedEvents()).isZero();
    }

    @Test
    void diskFullUnderDropOldestDeletesTheOldestSegmentToMakeRoomAndCountsTheLoss() throws Exception {
        Spool s = spool(64 << 10, Config.SpoolFullAction.DROP_OLDEST); // 4 KiB segments
        appendDurably(s, 0, 140); // about 37 KiB: more than half the limit, under the limit itself
        assertThat(s.status().droppedEvents()).isZero();
        store.fullUntilADelete();

        boolean durable = s.append(1_140, event(140)).awaitDurable(WAIT);

        Spool.Status st = s.status();
        List<String> left = ids(s.read(1_000, MIB).records());
        assertThat(durable).isTrue();
        assertThat(s.refusal()).isEmpty();
        assertThat(st.droppedEvents()).isPositive();
        assertThat(st.droppedEvents() + left.size()).isEqualTo(141);
        assertThat(left).endsWith("e140").containsExactlyElementsOf(ids((int) st.droppedEvents(), 141));
        assertThat(store.operations()).anySatisfy(op -> assertThat(op).matches("delete 0+1\\.seg"));
    }

    @Test
    void diskFullJustAsTheNextSegmentStartsLosesAndDuplicatesNothing() throws Exception {
        Spool s = spool(64 << 10, Config.SpoolFullAction.REFUSE_NEW_SESSIONS); // 4 KiB segments: 15 events fill one
        appendDurably(s, 0, 15);
        store.diskFull(true); // the next event needs a new segment, and the new file cannot be made

        Spool.Append waiting = s.append(1_015, event(15));
        await(() -> store.failures() >= 3);
        assertThat(store.operations()).contains("create failed " + SpoolSegment.fileName(2));
        store.diskFull(false);

        assertThat(waiting.awaitDurable(WAIT)).isTrue();
        appendDurably(s, 16, 20);
        assertThat(SpoolFiles.lines(dir)).containsExactlyElementsOf(events(0, 20));
        assertThat(ids(s.read(100, MIB).records())).containsExactlyElementsOf(ids(0, 20));
        assertThat(s.status().discardedEvents()).isZero();
        assertThat(s.status().appendedEvents()).isEqualTo(20);
    }

    @Test
    void tornFrameAtTheTailIsSkippedOnRestartAndEverythingDurableIsKept() throws Exception {
        Spool s = spool(64 * MIB, Config.SpoolFullAction.REFUSE_NEW_SESSIONS);
        appendDurably(s, 0, 5);
        // Power cut in the middle of e5's frame: its first 100 bytes reach the disk, then nothing does.
        store.tearNextWriteAfter(100);

        assertThat(s.append(1_005, event(5)).awaitDurable(Duration.ofMillis(200))).isFalse();
        await(store::crashed);
        s.close(); // gives e5 up (after its 5 s, which the skipping clock makes instant)
        open.remove(s);

        Spool restarted = Spool.open(dir, 64 * MIB, Config.SpoolFullAction.REFUSE_NEW_SESSIONS, written -> {});
        open.add(restarted);
        assertThat(restarted.status().skippedBytes()).isEqualTo(100);
        assertThat(restarted.status().unshippedEvents()).isEqualTo(5);
        appendDurably(restarted, 6, 8);

        assertThat(ids(restarted.read(100, MIB).records())).containsExactly("e0", "e1", "e2", "e3", "e4", "e6", "e7");
    }

    @Test
    void slowFsyncRefusesNewSessionsUntilTheWriterCatchesUpAndLosesNothing() throws Exception {
        Spool s = spool(64 * MIB, Config.SpoolFullAction.REFUSE_NEW_SESSIONS);
        store.holdFsyncs();

        Spool.Append first = s.append(1_000, event(0));
        assertThat(first.awaitDurable(Duration.ofMillis(100))).isFalse();
        assertThat(s.refusal()).hasValueSatisfying(r -> assertThat(r).startsWith("audit spool writer is behind"));
        Spool.Append second = s.append(1_001, event(1)); // queued behind the slow fsync
        store.releaseFsyncs();

        assertThat(first.awaitDurable(WAIT)).isTrue();
        assertThat(second.awaitDurable(WAIT)).isTrue();
        appendDurably(s, 2, 3);
        await(() -> s.refusal().isEmpty());
        assertThat(SpoolFiles.lines(dir)).containsExactlyElementsOf(events(0, 3));
        assertThat(s.status().appendedEvents()).isEqualTo(3);
    }

    @Test
    void cursorRenameIsFollowedByADirectoryFsync() throws Exception {
        Spool s = spool(64 * MIB, Config.SpoolFullAction.REFUSE_NEW_SESSIONS);
        appendDurably(s, 0, 3);
        store.clearOperations();

        s.commit(s.read(100, MIB).end());

        // Without the directory fsync a power cut can bring the old cursor back: one batch shipped twice.
        assertThat(store.operations()).containsSubsequence("overwrite cursor.tmp", "force cursor.tmp",
                "move cursor.tmp cursor", "syncDirectory");
        assertThat(store.operations().get(store.operations().size() - 1)).isEqualTo("syncDirectory");
    }

    @Test
    void segmentWhoseHeaderCannotBeWrittenIsDeletedEvenWhenClosingItFails() {
        store.failWritesAfter(0);
        store.failCloses(true);

        assertThatThrownBy(() -> ActiveSegmentFile.create(store, dir, 7)).isInstanceOf(IOException.class)
                .hasMessageContaining("No space left on device");

        assertThat(dir.resolve(SpoolSegment.fileName(7))).doesNotExist();
        assertThat(store.operations()).contains("delete " + SpoolSegment.fileName(7));
    }

    @Test
    void eventsDiscardedBehindAFailingDiskAreLoggedAtAMeasuredPaceNotOneLineEach() throws Exception {
        // Real time here: a skipping clock would let the rate limit's 10 s pass within milliseconds.
        Spool s = Spool.open(dir, 64 * MIB, Config.SpoolFullAction.REFUSE_NEW_SESSIONS, written -> {}, store,
                SpoolClock.SYSTEM);
        open.add(s);
        store.diskFull(true);
        String big = "{\"id\":\"big\",\"pad\":\"" + "x".repeat(SpoolSegment.MAX_PAYLOAD - 40) + "\"}";
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        Logger spoolLog = (Logger) LoggerFactory.getLogger(Spool.class);
        spoolLog.addAppender(logged);
        try {
            // 64 MiB fill the queue behind the stuck writer; each event after that is discarded.
            for (int i = 0; i < 64 * 4 + 40; i++) {
                s.append(1_000 + i, big);
            }
            await(() -> s.status().discardedEvents() >= 20);
        } finally {
            spoolLog.detachAppender(logged);
        }

        List<String> behind = logged.list.stream().map(ILoggingEvent::getFormattedMessage)
                .filter(m -> m.contains("MiB behind")).toList();
        assertThat(s.status().discardedEvents()).isGreaterThanOrEqualTo(20);
        assertThat(behind).hasSize(1);
        assertThat(behind.get(0)).contains("No space left on device").contains("events discarded since start");
    }

    @Test
    void interruptedWriterKeepsItsRetryPaceAndWritesOnceTheDiskHasRoom() throws Exception {
        Spool s = spool(64 * MIB, Config.SpoolFullAction.REFUSE_NEW_SESSIONS);
        appendDurably(s, 0, 2);
        store.diskFull(true);
        clock.interruptNextSleep();

        Spool.Append waiting = s.append(1_002, event(2));
        await(() -> clock.sleeps() >= 5);
        store.diskFull(false);

        assertThat(waiting.awaitDurable(WAIT)).as("written once the disk has room, despite the interrupt").isTrue();
        appendDurably(s, 3, 4);
        assertThat(SpoolFiles.lines(dir)).containsExactlyElementsOf(events(0, 4));
        assertThat(s.status().discardedEvents()).isZero();
    }

    @Test
    void shutdownOnAFailingDiskGivesUpAfterFiveSecondsInAllNotFiveSecondsPerQueuedGroup() throws Exception {
        Spool s = spool(64 * MIB, Config.SpoolFullAction.REFUSE_NEW_SESSIONS);
        store.diskFull(true);
        String big = "{\"id\":\"big\",\"pad\":\"" + "x".repeat(SpoolSegment.MAX_PAYLOAD - 40) + "\"}";
        List<Spool.Append> appends = new ArrayList<>();
        appends.add(s.append(1_000, big));
        await(() -> store.failures() > 0);
        for (int i = 1; i < 60; i++) { // about 15 MiB behind the failing group: four more groups of 4 MiB
            appends.add(s.append(1_000 + i, big));
        }
        Duration before = clock.skipped();

        s.close();

        assertThat(clock.skipped().minus(before)).as("time the shutdown spent retrying").isLessThan(Duration.ofSeconds(8));
        assertThat(appends).allSatisfy(a -> assertThat(a.isDone()).isTrue());
        assertThat(appends).noneSatisfy(a -> assertThat(a.awaitDurable(Duration.ZERO)).isTrue());
        assertThat(s.status().discardedEvents()).as("every queued event counted as discarded").isEqualTo(60);
        assertThat(delivered).as("the local sinks still got each event").hasSize(60);
    }

    @Test
    void diskFilledByAnotherWriterDoesNotEmptyADropOldestSpoolFarUnderItsLimit() throws Exception {
        Spool s = spool(64 << 10, Config.SpoolFullAction.DROP_OLDEST); // 4 KiB segments
        appendDurably(s, 0, 60); // about 16 KiB: a backlog held for CloudWatch, a quarter of the limit
        store.diskFull(true); // something else on the volume (the audit file, journald) took the space

        Spool.Append waiting = s.append(1_060, event(60));
        await(() -> clock.sleeps() >= 10);

        assertThat(s.status().droppedEvents()).isZero();
        assertThat(store.operations()).noneSatisfy(op -> assertThat(op).startsWith("delete"));
        assertThat(s.refusal()).hasValueSatisfying(reason -> assertThat(reason)
                .startsWith("audit spool disk is full: cannot write to " + dir)
                .contains("so no events are dropped for it")
                .endsWith("new sessions are refused (on_spool_full: drop_oldest)"));

        store.diskFull(false);
        assertThat(waiting.awaitDurable(WAIT)).isTrue();
        assertThat(SpoolFiles.lines(dir)).containsExactlyElementsOf(events(0, 61));
        await(() -> s.refusal().isEmpty());
    }

    @Test
    void diskKeptFullUnderDropOldestDropsOneSegmentPerRetryAndKeepsTheLowerHalfOfTheSpool() throws Exception {
        Spool s = spool(64 << 10, Config.SpoolFullAction.DROP_OLDEST); // 4 KiB segments
        appendDurably(s, 0, 200); // about 53 KiB
        store.diskFull(true); // and it stays full: dropping does not help

        s.append(1_200, event(200));
        await(() -> s.refusal().isPresent()); // dropped down to half the limit, then waits
        long drops = store.operations().stream().filter(op -> op.startsWith("delete")).count();
        int pauses = clock.sleeps();

        assertThat(drops).isPositive();
        assertThat(drops).as("one drop per retry pause").isLessThanOrEqualTo(pauses + 1);
        assertThat(s.status().diskBytes()).isGreaterThan((64 << 10) / 2 - (4 << 10));
        assertThat(s.status().unshippedEvents()).isGreaterThan(100);
        await(() -> clock.sleeps() >= pauses + 10);
        assertThat(store.operations().stream().filter(op -> op.startsWith("delete")).count()).isEqualTo(drops);
    }
}
