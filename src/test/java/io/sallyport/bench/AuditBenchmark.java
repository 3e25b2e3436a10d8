package io.sallyport.bench;

import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.Auditor;
import io.sallyport.audit.CloudWatchShipper;
import io.sallyport.audit.Spool;
import io.sallyport.aws.AwsClients;
import io.sallyport.config.Config;
import io.sallyport.testing.FakeCloudWatchLogs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The audit pipeline's numbers (docs/audit.md): how fast {@link Auditor#emit} makes events
 * durable (throughput and latency percentiles, per number of concurrent emitters), and how fast
 * the shipper drains a backlog into CloudWatch Logs (the fake, through the real SDK client).
 *
 * <p>A program, not a test: run it with {@code bench/audit-bench [SPOOL_DIR]}. The spool goes to
 * {@code SPOOL_DIR} (default: a temporary directory under target/), so point it at the disk you
 * want measured. Not part of {@code mvn verify}.
 */
public final class AuditBenchmark {
    private static final int EMITS_PER_RUN = 20_000;
    private static final int BACKLOG = 200_000;

    public static void main(String[] args) throws Exception {
        Path base = args.length > 0 ? Path.of(args[0]) : Path.of("target", "bench");
        Files.createDirectories(base);
        System.setProperty("aws.accessKeyId", "AKIDBENCHBENCH");
        System.setProperty("aws.secretAccessKey", "bench");
        System.out.printf(Locale.ROOT, "sallyport audit benchmark: spool in %s, %d cores, Java %s%n%n",
                base.toAbsolutePath(), Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));

        System.out.println("emit() until durable (encode + group-committed fsync), " + EMITS_PER_RUN + " forward.open events a run:");
        System.out.println("| emitters | events/s | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | events per fsync |");
        System.out.println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        emitRun(base, 1, 2_000); // warm-up, not printed
        for (int threads : new int[] {1, 8, 64}) {
            emitRun(base, threads, EMITS_PER_RUN);
        }

        System.out.println();
        int eventBytes = new Auditor("i-0bench", Clock.systemUTC(), List.of()).encode(event(0)).length();
        System.out.println("shipper draining a backlog of " + BACKLOG + " events (" + eventBytes
                + " bytes each) into the fake CloudWatch Logs:");
        System.out.println("| fake's answer time | events/s | PutLogEvents calls | seconds |");
        System.out.println("| ---: | ---: | ---: | ---: |");
        shipRun(base, Duration.ZERO);
        shipRun(base, Duration.ofMillis(50));
    }

    private static AuditEvent event(long i) {
        return new AuditEvent.ForwardOpen(Long.toHexString(0x5a11_0000_0000L + i), "alice",
                new AuditEvent.ClientRef("203.0.113.7", 40_000 + (int) (i % 20_000)), 0,
                new AuditEvent.TargetRef("db-3.internal.corp", 5432, Optional.of("10.0.20.17")), "db-*.internal.corp:5432");
    }

    private static void emitRun(Path base, int threads, int total) throws Exception {
        Path dir = fresh(base.resolve("emit-" + threads + "-" + System.nanoTime()));
        long[] latencies = new long[total];
        AtomicLong index = new AtomicLong();
        try (Auditor auditor = Auditor.withSpool("i-0bench", Clock.systemUTC(), List.of(), dir, 4L << 30,
                Config.SpoolFullAction.REFUSE_NEW_SESSIONS)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread w = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    long i;
                    while ((i = index.getAndIncrement()) < total) {
                        long start = System.nanoTime();
                        auditor.emit(event(i));
                        latencies[(int) i] = System.nanoTime() - start;
                    }
                });
                w.start();
                workers.add(w);
            }
            long start = System.nanoTime();
            go.countDown();
            for (Thread w : workers) {
                w.join();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Spool.Status st = auditor.spool().orElseThrow().status();
            if (total < EMITS_PER_RUN) {
                return; // warm-up
            }
            Arrays.sort(latencies);
            System.out.printf(Locale.ROOT, "| %d | %,.0f | %d | %d | %d | %d | %d | %.1f |%n", threads, total / seconds,
                    micros(latencies, 0.50), micros(latencies, 0.90), micros(latencies, 0.99), micros(latencies, 0.999),
                    latencies[latencies.length - 1] / 1_000, (double) st.appendedEvents() / st.groupCommits());
        } finally {
            delete(dir);
        }
    }

    private static void shipRun(Path base, Duration answerTime) throws Exception {
        Path dir = fresh(base.resolve("ship-" + System.nanoTime()));
        try (FakeCloudWatchLogs cloudwatch = FakeCloudWatchLogs.start();
             Auditor auditor = Auditor.withSpool("i-0bench", Clock.systemUTC(), List.of(), dir, 4L << 30,
                     Config.SpoolFullAction.REFUSE_NEW_SESSIONS)) {
            cloudwatch.latency(answerTime);
            // Fill the backlog with many emitters, as a busy bastion during an outage would.
            AtomicLong index = new AtomicLong();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < 32; t++) {
                Thread w = new Thread(() -> {
                    long i;
                    while ((i = index.getAndIncrement()) < BACKLOG) {
                        auditor.emit(event(i));
                    }
                });
                w.start();
                workers.add(w);
            }
            for (Thread w : workers) {
                w.join();
            }
            Spool spool = auditor.spool().orElseThrow();
            CloudWatchShipper.Tuning tuning = new CloudWatchShipper.Tuning(Duration.ofSeconds(1), Duration.ofMillis(250),
                    Duration.ofSeconds(30), Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofHours(1));
            CloudWatchShipper shipper = new CloudWatchShipper(spool,
                    AwsClients.cloudWatchLogs("eu-west-1", Optional.of(cloudwatch.endpoint()), tuning.attemptTimeout()),
                    new CloudWatchShipper.Destination("/sallyport/bench", "{instance_id}", true, "i-0bench", "bench"),
                    tuning, Clock.systemUTC());
            auditor.shipWith(shipper);
            long start = System.nanoTime();
            shipper.start();
            while (spool.status().unshippedEvents() > 0) {
                Thread.sleep(5);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long calls = cloudwatch.putCalls().stream().filter(c -> c.status() == 200).count();
            if (cloudwatch.distinctIds().size() != BACKLOG) {
                throw new IllegalStateException("shipped " + cloudwatch.distinctIds().size() + " of " + BACKLOG);
            }
            System.out.printf(Locale.ROOT, "| %d ms | %,.0f | %d | %.2f |%n", answerTime.toMillis(), BACKLOG / seconds, calls,
                    seconds);
        } finally {
            delete(dir);
        }
    }

    private static long micros(long[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1_000;
    }

    private static Path fresh(Path dir) throws IOException {
        delete(dir);
        return Files.createDirectories(dir);
    }

    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
