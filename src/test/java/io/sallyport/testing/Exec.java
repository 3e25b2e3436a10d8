package io.sallyport.testing;


import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

/** Small process and environment helpers shared by the fixtures. Package-private on purpose. */
final class Exec {

    private Exec() {
    }

    /** Outcome of a short helper command; stdout and stderr are merged because we only show them in errors. */
    record Output(int exitCode, String text, boolean timedOut) {
        boolean ok() {
            return !timedOut && exitCode == 0;
        }

        String describe(List<String> command) {
            return String.join(" ", command) + " -> " + (timedOut ? "timed out" : "exit " + exitCode)
                    + (text.isBlank() ? "" : ": " + text.strip());
        }
    }

    static boolean isCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /**
     * A missing tool is an environment problem: locally the test is skipped so developers without
     * sshd can still run the suite, but CI installs everything, so there it must fail loudly.
     */
    static void missingPrerequisite(String message) {
        if (isCi()) {
            throw new IllegalStateException(message + " (CI=true: a missing prerequisite is a failure, not a skip)");
        }
        Assumptions.abort(message);
    }

    /** PATH lookup that also tries the sbin directories, which a non-login PATH often lacks. */
    static Optional<Path> which(String name) {
        Set<String> dirs = new LinkedHashSet<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(java.io.File.pathSeparator)) {
                if (!d.isEmpty()) {
                    dirs.add(d);
                }
            }
        }
        dirs.addAll(List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"));
        for (String d : dirs) {
            Path p = Path.of(d, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p.toAbsolutePath());
            }
        }
        return Optional.empty();
    }

    static boolean isRoot() {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return false;
        }
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("Uid:")) {
                    String[] f = line.substring(4).trim().split("\\s+");
                    return f.length > 1 && f[1].equals("0"); // effective uid
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    static Output run(List<String> command, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new Output(-1, "cannot start: " + e.getMessage(), false);
        }
        StreamDrain out = new StreamDrain(p.getInputStream(), "exec-out");
        boolean finished;
        try {
            finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            finished = false;
        }
        if (!finished) {
            destroyTrees(List.of(p.toHandle()), Duration.ofMillis(500));
        }
        String text = new String(out.await(Duration.ofSeconds(2)), StandardCharsets.UTF_8);
        return new Output(finished ? p.exitValue() : -1, text, !finished);
    }

    /**
     * SIGTERM, then SIGKILL after the grace period. Descendants are collected before anything is
     * signalled: once a parent dies its children are re-parented to init and can no longer be found.
     */
    static void destroyTrees(Collection<ProcessHandle> roots, Duration grace) {
        List<ProcessHandle> all = new ArrayList<>();
        for (ProcessHandle root : roots) {
            if (root.isAlive()) {
                all.add(root);
            }
            root.descendants().forEach(all::add);
        }
        if (all.isEmpty()) {
            return;
        }
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + grace.toNanos();
        while (System.nanoTime() < deadline && all.stream().anyMatch(ProcessHandle::isAlive)) {
            sleep(10);
        }
        for (ProcessHandle h : all) {
            if (h.isAlive()) {
                h.destroyForcibly();
            }
        }
        deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (System.nanoTime() < deadline && all.stream().anyMatch(ProcessHandle::isAlive)) {
            sleep(10);
        }
    }

    /**
     * Probes a TCP port once. Returns true if something accepted, false if the host actively refused
     * (which proves the address is reachable), and throws for anything else (timeouts, no route).
     */
    static boolean tcpAccepts(String host, int port, Duration connectTimeout) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), (int) connectTimeout.toMillis());
            return true;
        } catch (ConnectException e) {
            if (String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("refused")) {
                return false;
            }
            throw e;
        }
    }

    static String tail(Path file, int maxChars) {
        try {
            if (file == null || !Files.exists(file)) {
                return "(no log)";
            }
            String s = Files.readString(file, StandardCharsets.UTF_8);
            return s.length() <= maxChars ? s : "..." + s.substring(s.length() - maxChars);
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // Best effort: a leftover temp file must not fail a test's teardown.
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // Same as above.
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
