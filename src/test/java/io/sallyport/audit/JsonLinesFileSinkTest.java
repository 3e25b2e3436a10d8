package io.sallyport.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit file as the record when CloudWatch shipping is off: group commit, failure, rotation. */
class JsonLinesFileSinkTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** An event whose {@code session} field is the marker {@code tag}. */
    static AuditEvent marked(String tag) {
        return new AuditEvent.ForwardClose(tag, "alice", 1, new AuditEvent.TargetRef("10.0.0.1", 22, Optional.of("10.0.0.1")), 1, 1, 1);
    }

    @Test
    void emitReturnsOnlyOnceItsLineIsInTheFileAndConcurrentEmitsShareFsyncs() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        JsonLinesFileSink sink = new JsonLinesFileSink(file);
        ConcurrentLinkedQueue<String> missing = new ConcurrentLinkedQueue<>();
        try (Auditor auditor = new Auditor("host", Clock.systemUTC(), List.of(sink))) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 100; i++) {
                        String tag = "t" + thread + "-" + i;
                        auditor.emit(marked(tag));
                        if (i % 10 == 0 && !read(file).contains("\"session\":\"" + tag + "\"")) {
                            missing.add(tag);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            JsonLinesFileSink.Stats stats = sink.stats();
            assertThat(stats.written()).isEqualTo(800);
            assertThat(stats.commits()).as("fsyncs for 800 events from 8 threads").isLessThanOrEqualTo(800);
        }
        assertThat(missing).as("events not in the file when emit returned").isEmpty();
        assertThat(sessions(List.of(file))).hasSize(800).doesNotHaveDuplicates();
        assertThat(Files.getPosixFilePermissions(file)).as("not for every local user")
                .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
    }

    @Test
    void linesQueuedWhileTheWriterIsBusyShareOneWriteAndFsync() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        JsonLinesFileSink sink = new JsonLinesFileSink(file);
        try {
            List<JsonLinesFileSink.Append> appends = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                appends.add(sink.append("{\"session\":\"q" + i + "\"}"));
            }
            for (JsonLinesFileSink.Append a : appends) {
                assertThat(a.awaitDurable(Duration.ofSeconds(10))).isTrue();
            }
            JsonLinesFileSink.Stats stats = sink.stats();
            assertThat(stats.written()).isEqualTo(1000);
            // The writer takes everything queued at once: while it fsyncs one batch, the next forms.
            assertThat(stats.commits()).as("fsyncs for 1000 lines queued back to back").isLessThanOrEqualTo(500);
        } finally {
            sink.close();
        }
        assertThat(sessions(List.of(file))).hasSize(1000).doesNotHaveDuplicates();
    }

    @Test
    void rotationUnderABurstLosesAndDuplicatesNothing() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        JsonLinesFileSink sink = new JsonLinesFileSink(file);
        List<Path> files = new ArrayList<>();
        int rotations = 10;
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger emitted = new java.util.concurrent.atomic.AtomicInteger();
        try (Auditor auditor = new Auditor("host", Clock.systemUTC(), List.of(sink))) {
            ExecutorService pool = Executors.newFixedThreadPool(6);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 20_000 && !stop.get(); i++) {
                        auditor.emit(marked("t" + thread + "-" + i));
                        emitted.incrementAndGet();
                    }
                    return null;
                }));
            }
            // logrotate's way: rename the live file while events keep coming; sallyport notices and starts a new one.
            for (int r = 1; r <= rotations; r++) {
                long before = emitted.get();
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (emitted.get() < before + 50 && System.nanoTime() < deadline) {
                    Thread.sleep(2);
                }
                Path rotated = dir.resolve("audit.jsonl." + r);
                if (Files.exists(file)) {
                    Files.move(file, rotated);
                    files.add(rotated);
                }
            }
            stop.set(true);
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertThat(sink.stats().reopened()).as("rotations noticed").isGreaterThanOrEqualTo(rotations - 1);
        }
        files.add(file);
        List<String> all = sessions(files);
        assertThat(all).as("events across %s", files).hasSize(emitted.get()).doesNotHaveDuplicates();
        assertThat(files.subList(0, files.size() - 1))
                .allSatisfy(f -> assertThat(read(f)).as("%s holds events and ends with a whole line", f).endsWith("\n"));
    }

    @Test
    void aRemovedFileIsCreatedAgainForTheNextEvent() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        try (Auditor auditor = new Auditor("host", Clock.systemUTC(), List.of(new JsonLinesFileSink(file)))) {
            auditor.emit(marked("before"));
            Files.delete(file);
            auditor.emit(marked("after"));
            assertThat(sessions(List.of(file))).containsExactly("after");
        }
    }

    @Test
    void writeFailureRefusesNewSessionsWithTheReasonAndTheyResumeWhenWritesSucceed() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        JsonLinesFileSink sink = new JsonLinesFileSink(file);
        try (Auditor auditor = new Auditor("host", Clock.systemUTC(), List.of(sink))) {
            auditor.emit(marked("first"));
            assertThat(auditor.refusal()).isEmpty();

            // The path becomes unusable (rotated away, and a directory in its place): every write fails.
            Files.move(file, dir.resolve("audit.jsonl.1"));
            Files.createDirectory(file);
            long start = System.nanoTime();
            auditor.emit(marked("during-1"));
            assertThat(auditor.refusal()).as("refused while the file cannot be written").hasValueSatisfying(reason ->
                    assertThat(reason).startsWith("audit file " + file + " cannot be written (")
                            .contains("new sessions are refused"));
            auditor.emit(marked("during-2"));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("emits do not hang on a failing file")
                    .isLessThan(Auditor.DURABLE_WAIT.multipliedBy(2));
            assertThat(sink.stats().queued()).isEqualTo(2);

            Files.delete(file);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (auditor.refusal().isPresent() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(auditor.refusal()).as("allowed again once the file can be written").isEmpty();
            auditor.emit(marked("after"));
        }
        assertThat(sessions(List.of(dir.resolve("audit.jsonl.1"), file))).containsExactly("first", "during-1", "during-2", "after");
    }

    @Test
    void aBacklogLargerThanOneBatchIsWrittenInOrderOnceTheFileWorksAgain() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        JsonLinesFileSink sink = new JsonLinesFileSink(file);
        Files.delete(file);
        Files.createDirectory(file); // unusable path: every write fails
        String padding = "x".repeat(300);
        List<JsonLinesFileSink.Append> appends = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        try {
            for (int i = 0; i < 20_000; i++) {
                expected.add("b" + i);
                appends.add(sink.append("{\"session\":\"b" + i + "\",\"pad\":\"" + padding + "\"}"));
            }
            assertThat(20_000L * 300).as("more than one batch").isGreaterThan(JsonLinesFileSink.MAX_BATCH_BYTES);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (sink.refusal().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(sink.refusal()).isPresent();
            Files.delete(file);
            for (JsonLinesFileSink.Append a : appends) {
                assertThat(a.awaitDurable(Duration.ofSeconds(30)) || sink.refusal().isPresent()).isTrue();
            }
            deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (sink.stats().queued() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(sink.stats().commits()).as("several batches").isGreaterThan(1);
        } finally {
            sink.close();
        }
        assertThat(sessions(List.of(file))).containsExactlyElementsOf(expected);
    }

    @Test
    void aLineTornByACrashStaysOnItsOwnLineAndTheNextEventsAreWhole() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        Files.writeString(file, "{\"id\":\"whole\"}\n{\"id\":\"torn", StandardCharsets.UTF_8);
        try (Auditor auditor = new Auditor("host", Clock.systemUTC(), List.of(new JsonLinesFileSink(file)))) {
            auditor.emit(marked("next"));
        }
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).isEqualTo("{\"id\":\"whole\"}");
        assertThat(lines.get(1)).isEqualTo("{\"id\":\"torn");
        assertThat(JSON.readTree(lines.get(2)).path("session").asText()).isEqualTo("next");
    }

    // ------------------------------------------------------------------------------------------

    /** The {@code session} marker of every event in the files, in file order; unparsable lines are left out. */
    static List<String> sessions(List<Path> files) throws IOException {
        List<String> out = new ArrayList<>();
        for (Path f : files) {
            if (!Files.exists(f)) {
                continue;
            }
            try (Stream<String> lines = Files.lines(f)) {
                for (String line : (Iterable<String>) lines::iterator) {
                    try {
                        out.add(JSON.readTree(line).path("session").asText());
                    } catch (IOException torn) {
                        // a torn tail; the caller counts what is whole
                    }
                }
            }
        }
        return out;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }
}
