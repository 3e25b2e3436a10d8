package io.sallyport.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.config.Config;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A reload that changes {@code audit.file} or {@code audit.stdout} swaps those sinks while events
 * flow ({@link Auditor#replaceSinks}): nothing is lost, nothing is split or written twice, and the
 * replaced file is complete before it is let go.
 */
class SinkReplacementTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int THREADS = 4;
    private static final int EVENTS_PER_THREAD = 150;

    @TempDir
    Path dir;

    /** Keeps every line it is given and whether it was closed. */
    static final class RecordingSink implements AuditSink {
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());
        volatile boolean closed;

        @Override
        public void write(String jsonLine) {
            if (closed) {
                throw new IllegalStateException("written after close");
            }
            lines.add(jsonLine);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static AuditEvent open(int i) {
        return new AuditEvent.SessionOpen("s" + i, new AuditEvent.ClientRef("192.0.2.1", 1024 + i), 22);
    }

    private static AuditEvent reload() {
        return new AuditEvent.ConfigReload("signal", "/etc/sallyport/sallyport.yaml", true, Optional.of("sha256:abcd"),
                List.of(), Optional.empty());
    }

    /**
     * Emits from several threads and runs {@code swap} once {@code kept} has seen a third of the
     * events, so that it lands while events flow; returns once every event is emitted.
     */
    private static void emitWhile(Auditor auditor, List<String> kept, Runnable swap) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            for (int t = 0; t < THREADS; t++) {
                int base = t * EVENTS_PER_THREAD;
                pool.execute(() -> {
                    for (int i = 0; i < EVENTS_PER_THREAD; i++) {
                        auditor.emit(open(base + i));
                    }
                });
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (kept.size() < THREADS * EVENTS_PER_THREAD / 3 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            swap.run();
        } finally {
            pool.shutdown();
            assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        }
    }

    private Auditor auditor(boolean spooled, List<AuditSink> sinks) throws Exception {
        return spooled
                ? Auditor.withSpool("host", Clock.systemUTC(), sinks, dir.resolve("spool"), 1L << 30,
                        Config.SpoolFullAction.REFUSE_NEW_SESSIONS)
                : new Auditor("host", Clock.systemUTC(), sinks);
    }

    @ParameterizedTest(name = "spool: {0}")
    @ValueSource(booleans = {false, true})
    void eachEventGoesWholeToTheOldSinkOrToTheNewOneAndTheOthersSeeEveryEvent(boolean spooled) throws Exception {
        RecordingSink kept = new RecordingSink();
        RecordingSink old = new RecordingSink();
        RecordingSink next = new RecordingSink();
        try (Auditor auditor = auditor(spooled, List.of(kept, old))) {
            emitWhile(auditor, kept.lines, () -> auditor.replaceSinks(s -> s == old, List.of(next)));

            assertThat(kept.lines).hasSize(THREADS * EVENTS_PER_THREAD);
            assertThat(old.lines).as("the swap came while events flowed").isNotEmpty();
            assertThat(next.lines).isNotEmpty();
            List<String> both = new ArrayList<>(old.lines);
            both.addAll(next.lines);
            assertThat(both).as("the old sink has every event up to the swap, the new one every event after it, in order")
                    .containsExactlyElementsOf(kept.lines);
            assertThat(old.closed).isTrue();
            assertThat(next.closed).isFalse();
            assertThat(kept.closed).as("a sink the predicate does not select stays").isFalse();
        }
    }

    @Test
    void aReplacedAuditFileEndsWithTheReloadThatReplacedItAndTheNewFileTakesWhatFollows() throws Exception {
        Path oldFile = dir.resolve("old.log");
        Path newFile = dir.resolve("new.log");
        RecordingSink stdout = new RecordingSink();
        try (Auditor auditor = new Auditor("host", Clock.systemUTC(), List.of(new JsonLinesFileSink(oldFile), stdout))) {
            for (int i = 0; i < 20; i++) {
                auditor.emit(open(i));
            }
            auditor.emit(reload());
            auditor.replaceSinks(s -> s instanceof JsonLinesFileSink, List.of(new JsonLinesFileSink(newFile)));
            auditor.emit(open(99));

            List<String> oldLines = Files.readAllLines(oldFile);
            assertThat(oldLines).hasSize(21);
            assertThat(JSON.readTree(oldLines.get(20)).path("event").asText()).isEqualTo("config.reload");
            assertThat(Files.readAllLines(newFile)).singleElement()
                    .satisfies(l -> assertThat(JSON.readTree(l).path("session").asText()).isEqualTo("s99"));
            assertThat(stdout.lines).hasSize(22);
        }
    }

    @Test
    void aReplacedAuditFileHasEveryLineQueuedForItWrittenWholeBeforeItIsLetGo() throws Exception {
        Path oldFile = dir.resolve("old.log");
        Path newFile = dir.resolve("new.log");
        RecordingSink kept = new RecordingSink();
        JsonLinesFileSink old = new JsonLinesFileSink(oldFile);
        try (Auditor auditor = new Auditor("host", Clock.systemUTC(), List.of(old, kept))) {
            emitWhile(auditor, kept.lines, () -> {
                try {
                    auditor.replaceSinks(s -> s == old, List.of(new JsonLinesFileSink(newFile)));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });

            String oldText = Files.readString(oldFile, StandardCharsets.UTF_8);
            assertThat(oldText).endsWith("\n");
            List<String> both = new ArrayList<>(Files.readAllLines(oldFile));
            assertThat(both).as("the swap came while events flowed").isNotEmpty();
            assertThat(old.stats().queued()).as("nothing left in the old file's queue").isZero();
            assertThat(old.stats().dropped()).isZero();
            both.addAll(Files.readAllLines(newFile));
            assertThat(both).containsExactlyElementsOf(kept.lines);
        }
    }

    @Test
    void aReplacedSinkThatFailsToCloseHarmsNothing() throws Exception {
        RecordingSink next = new RecordingSink();
        AuditSink failing = new AuditSink() {
            @Override
            public void write(String jsonLine) {}

            @Override
            public void close() throws Exception {
                throw new java.io.IOException("stdout is gone");
            }
        };
        try (Auditor auditor = new Auditor("host", Clock.systemUTC(), List.of(failing))) {
            auditor.replaceSinks(s -> s == failing, List.of(next));
            auditor.emit(open(1));

            assertThat(next.lines).hasSize(1);
        }
    }
}
