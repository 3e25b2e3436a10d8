package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.Auditor;
import io.sallyport.cli.ServerAssembly;
import io.sallyport.config.Config;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL in the middle of a burst with CloudWatch shipping off, where the audit file is the
 * record: a child JVM builds the audit pipeline from a config exactly as {@code run} does
 * ({@link ServerAssembly#auditor}) and emits from several threads, printing each event's marker
 * once {@code emit} has returned. It is killed with {@code kill -9}, started again (it appends to
 * the same file), and every marker it printed must be in the file, once.
 */
class AuditFileCrashIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void sigkillMidBurstLosesNoEventWhoseEmitReturned() throws Exception {
        Path file = dir.resolve("log/audit.jsonl");
        Path config = dir.resolve("sallyport.yaml");
        Files.writeString(config, String.join("\n",
                "listen: [\"127.0.0.1:2222\"]",
                "host_keys: [\"" + dir.resolve("host_key") + "\"]",
                "audit:",
                "  file: " + file,
                "  cloudwatch:",
                "    enabled: false",
                ""));

        Set<String> acknowledged = new TreeSet<>();
        // First run: killed once well into the burst.
        // 8 × 5,000 events: the kill lands long before the end, and the run ends by itself if it does not.
        Process first = burst(config, "a", 8, 5_000);
        try (BufferedReader out = reader(first)) {
            String line;
            while ((line = out.readLine()) != null) {
                acknowledged.add(line);
                if (acknowledged.size() == 3000) {
                    // kill -9 from outside: Process.destroyForcibly would also close our end of its
                    // stdout, and the markers already in the pipe count.
                    new ProcessBuilder("kill", "-KILL", String.valueOf(first.pid())).start().waitFor(10, TimeUnit.SECONDS);
                }
            }
        } finally {
            first.destroyForcibly();
        }
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).as("killed by SIGKILL").isEqualTo(137);
        assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(3000);

        // Restart: appends after whatever the kill left, and exits normally.
        Process second = burst(config, "b", 4, 200);
        try (BufferedReader out = reader(second)) {
            out.lines().forEach(acknowledged::add);
        }
        assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(second.exitValue()).isZero();

        List<String> inFile = new ArrayList<>();
        int unreadable = 0;
        for (String line : Files.readAllLines(file)) {
            try {
                inFile.add(JSON.readTree(line).path("session").asText());
            } catch (IOException torn) {
                unreadable++;
            }
        }
        assertThat(unreadable).as("at most the one line the kill tore").isLessThanOrEqualTo(1);
        assertThat(inFile).as("no event twice").doesNotHaveDuplicates();
        assertThat(inFile).as("every event whose emit returned").containsAll(acknowledged);
        assertThat(inFile.stream().filter(t -> t.startsWith("b-"))).hasSize(800);
    }

    private static BufferedReader reader(Process p) {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    }

    private Process burst(Path config, String prefix, int threads, int perThread) throws IOException {
        String test = Path.of(System.getProperty("sallyport.basedir", ""), "target", "test-classes").toString();
        try {
            test = Path.of(Burst.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (Exception ignored) {
            // the default above
        }
        String jar = System.getProperty("sallyport.jar");
        assertThat(jar).as("sallyport.jar (set by failsafe; run mvn verify)").isNotNull();
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", test + File.pathSeparator + jar, Burst.class.getName(),
                config.toString(), prefix, String.valueOf(threads), String.valueOf(perThread))
                .redirectError(dir.resolve("burst-" + prefix + ".log").toFile())
                .start();
    }

    /** The child: the real audit pipeline from the config; prints each marker after its emit returned. */
    public static final class Burst {
        public static void main(String[] args) throws Exception {
            Config config = ServerAssembly.load(Path.of(args[0]));
            String prefix = args[1];
            int threads = Integer.parseInt(args[2]);
            int perThread = Integer.parseInt(args[3]);
            PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, StandardCharsets.UTF_8);
            try (Auditor auditor = ServerAssembly.auditor(config, new PrintStream(PrintStream.nullOutputStream()), List.of())) {
                List<Thread> workers = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    Thread w = new Thread(() -> {
                        for (int i = 0; i < perThread; i++) {
                            String tag = prefix + "-" + thread + "-" + i;
                            auditor.emit(new AuditEvent.ForwardClose(tag, "alice", 1,
                                    new AuditEvent.TargetRef("10.0.0.1", 22, Optional.of("10.0.0.1")), 1, 1, 1));
                            synchronized (out) {
                                out.println(tag);
                                out.flush();
                            }
                        }
                    });
                    w.start();
                    workers.add(w);
                }
                for (Thread w : workers) {
                    w.join();
                }
            }
        }
    }
}
