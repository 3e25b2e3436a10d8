package io.sallyport.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.config.Config;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditorTest {
    @TempDir
    Path dir;

    private static AuditEvent open(int i) {
        return new AuditEvent.SessionOpen("s" + i, new AuditEvent.ClientRef("192.0.2.1", 50_000 + i), 22);
    }

    @Test
    void withASpoolEmitReturnsOnlyOnceTheEventIsOnDisk() throws Exception {
        List<String> sink = Collections.synchronizedList(new ArrayList<>());
        try (Auditor auditor = Auditor.withSpool("i-0abc", Clock.systemUTC(), List.of(sink::add), dir, 1L << 30,
                Config.SpoolFullAction.REFUSE_NEW_SESSIONS)) {
            auditor.emit(open(1));

            assertThat(SpoolFiles.lines(dir)).singleElement().satisfies(line -> assertThat(line)
                    .contains("\"event\":\"session.open\"", "\"instance\":\"i-0abc\"", "\"session\":\"s1\""));
            assertThat(sink).containsExactlyElementsOf(SpoolFiles.lines(dir));
        }
    }

    @Test
    void theLocalSinksSeeTheSpoolsOrderWhichIsTimestampOrder() throws Exception {
        List<String> sink = Collections.synchronizedList(new ArrayList<>());
        try (Auditor auditor = Auditor.withSpool("host", Clock.systemUTC(), List.of(sink::add), dir, 1L << 30,
                Config.SpoolFullAction.REFUSE_NEW_SESSIONS)) {
            ExecutorService pool = Executors.newFixedThreadPool(16);
            for (int i = 0; i < 400; i++) {
                int n = i;
                pool.execute(() -> auditor.emit(open(n)));
            }
            pool.shutdown();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

            List<String> spooled = SpoolFiles.lines(dir);
            assertThat(spooled).hasSize(400);
            assertThat(sink).containsExactlyElementsOf(spooled);
            List<String> ts = spooled.stream().map(l -> l.substring(l.indexOf("\"ts\":\"") + 6, l.indexOf("\"ts\":\"") + 30)).toList();
            assertThat(ts).isSorted();
        }
    }

    @Test
    void aFailingSinkNeverReachesTheCallerAndTheOtherSinksStillGetTheEvent() throws Exception {
        List<String> good = new ArrayList<>();
        AuditSink broken = line -> {
            throw new java.io.IOException("disk gone");
        };
        try (Auditor auditor = Auditor.withSpool("host", Clock.systemUTC(), List.of(broken, good::add), dir, 1L << 30,
                Config.SpoolFullAction.REFUSE_NEW_SESSIONS)) {
            auditor.emit(open(1));

            assertThat(good).hasSize(1);
        }
    }

    @Test
    void emitAfterCloseNeitherThrowsNorHangs() throws Exception {
        Auditor auditor = Auditor.withSpool("host", Clock.systemUTC(), List.of(), dir, 1L << 30,
                Config.SpoolFullAction.REFUSE_NEW_SESSIONS);
        auditor.close();

        long start = System.nanoTime();
        auditor.emit(open(1));

        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(Auditor.DURABLE_WAIT.toMillis());
    }

    @Test
    void withoutASpoolNothingIsEverRefused() {
        Auditor auditor = new Auditor("host", Clock.systemUTC(), List.of());

        assertThat(auditor.refusal()).isEmpty();
        assertThat(auditor.spool()).isEmpty();
    }

    @Test
    void anObserverSeesEachRecordedEventOnceWithOrWithoutASpoolAndAFailingOneHarmsNothing() throws Exception {
        List<String> sink = Collections.synchronizedList(new ArrayList<>());
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        try (Auditor spooled = Auditor.withSpool("host", Clock.systemUTC(), List.of(sink::add), dir, 1L << 30,
                Config.SpoolFullAction.REFUSE_NEW_SESSIONS);
             Auditor direct = new Auditor("host", Clock.systemUTC(), List.of(sink::add))) {
            for (Auditor a : List.of(spooled, direct)) {
                a.observe(e -> {
                    throw new IllegalStateException("broken observer");
                });
                a.observe(e -> seen.add(e.name()));
                a.emit(new AuditEvent.ServerStop("one"));
                a.emit(new AuditEvent.ServerStop("two"));
            }
        }
        assertThat(seen).containsExactly("server.stop", "server.stop", "server.stop", "server.stop");
        assertThat(sink).hasSize(4);
    }
}
