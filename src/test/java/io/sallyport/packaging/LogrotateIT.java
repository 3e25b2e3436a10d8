package io.sallyport.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.Auditor;
import io.sallyport.audit.JsonLinesFileSink;
import io.sallyport.testing.HostTool;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped logrotate policy ({@code packaging/logrotate.conf}, installed as
 * {@code /etc/logrotate.d/sallyport}) run by the real {@code logrotate} while the audit file is
 * written under load: every event is in exactly one file, compressed or not, afterwards.
 */
class LogrotateIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void shippedPolicyRotatesAndCompressesUnderABurstLosingAndDuplicatingNothing() throws Exception {
        HostTool logrotate = HostTool.require("logrotate", "logrotate");
        Path logDir = Files.createDirectory(dir.resolve("log"));
        Path file = logDir.resolve("audit.jsonl");
        String shipped = BuiltPackage.read(BuiltPackage.source("packaging/logrotate.conf"));
        assertThat(shipped).contains("/var/log/sallyport/audit.jsonl {", "delaycompress", "nocreate").doesNotContainPattern("(?m)^\\s*copytruncate");
        // The scratch directory instead of /var/log/sallyport; logrotate runs as this test's user,
        // who owns it, instead of switching to the sallyport user (which this machine lacks).
        String policy = shipped.replace("/var/log/sallyport/audit.jsonl", file.toString())
                .replaceAll("(?m)^\\s*su sallyport sallyport\\s*$\\n", "");
        assertThat(policy).doesNotContain("su sallyport");
        Path conf = dir.resolve("logrotate.conf");
        Files.writeString(conf, policy);
        Path state = dir.resolve("logrotate.state");

        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger emitted = new AtomicInteger();
        int rotations = 3;
        JsonLinesFileSink sink = new JsonLinesFileSink(file);
        try (Auditor auditor = new Auditor("host", Clock.systemUTC(), List.of(sink))) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 200_000 && !stop.get(); i++) {
                        auditor.emit(new AuditEvent.ForwardClose("t" + thread + "-" + i, "alice", 1,
                                new AuditEvent.TargetRef("10.0.0.1", 22, Optional.of("10.0.0.1")), 1, 1, 1));
                        emitted.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (int r = 0; r < rotations; r++) {
                Thread.sleep(1100); // dateext names carry the second: one rotation a second at most
                HostTool.Result run = logrotate.run("-f", "-s", state.toString(), conf.toString());
                assertThat(run.exitCode()).as(run.toString()).isZero();
            }
            Thread.sleep(200);
            stop.set(true);
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
        }

        List<Path> files;
        try (Stream<Path> s = Files.list(logDir)) {
            files = s.sorted().toList();
        }
        assertThat(files.stream().filter(f -> f.toString().endsWith(".gz")))
                .as("delaycompress: the rotations before the last are compressed: %s", files).hasSize(rotations - 1);
        assertThat(files).as("the live file, the last rotation uncompressed, the older ones compressed")
                .hasSize(rotations + 1);
        List<String> tags = new ArrayList<>();
        for (Path f : files) {
            try (InputStream raw = Files.newInputStream(f);
                 InputStream in = f.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
                 BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    tags.add(JSON.readTree(line).path("session").asText());
                }
            } catch (IOException e) {
                throw new AssertionError("reading " + f, e);
            }
        }
        assertThat(emitted.get()).as("a burst").isGreaterThan(1000);
        assertThat(tags).as("events across %s", files).hasSize(emitted.get()).doesNotHaveDuplicates();
    }
}
