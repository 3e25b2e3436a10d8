package io.sallyport.it;

import io.sallyport.testing.StreamDrain;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A command started by a test, with its stdout and stderr captured as they arrive, so a test can
 * wait for a banner, a listening port or an echoed line, and then stop it the way an operator or
 * systemd would: {@code SIGTERM} first ({@link #terminate}), {@code SIGKILL} only when it does
 * not go.
 *
 * <p>Every wait is bounded: a child that hangs fails its test instead of the build.
 */
final class ChildProcess implements AutoCloseable {
    private final List<String> command;
    private final Process process;
    private final StreamDrain out;
    private final StreamDrain err;

    private ChildProcess(List<String> command, Process process) {
        this.command = List.copyOf(command);
        this.process = process;
        this.out = new StreamDrain(process.getInputStream(), "stdout of " + command.get(0));
        this.err = new StreamDrain(process.getErrorStream(), "stderr of " + command.get(0));
    }

    /**
     * Starts {@code command} with stdin left open (see {@link #write} and {@link #closeStdin}).
     * A developer's agent, askpass helper or display must not change what an {@code ssh} child
     * authenticates with, or make it prompt anyone, so those variables are removed.
     */
    static ChildProcess start(List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> env = pb.environment();
        for (String name : List.of("SSH_AUTH_SOCK", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "DISPLAY")) {
            env.remove(name);
        }
        try {
            return new ChildProcess(command, pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
        }
    }

    /** Runs {@code command} to the end, feeding {@code stdin} (null: EOF at once), killed at {@code timeout}. */
    static Finished run(List<String> command, byte[] stdin, Duration timeout) {
        try (ChildProcess p = start(command)) {
            p.feedAndClose(stdin == null ? new byte[0] : stdin);
            return p.awaitExit(timeout);
        }
    }

    /** What a finished (or killed) command left behind. {@code exitCode} is -1 when it had to be killed. */
    record Finished(List<String> command, int exitCode, String stdout, String stderr, boolean timedOut) {
        List<String> stdoutLines() {
            return stdout.lines().toList();
        }

        List<String> stderrLines() {
            return stderr.lines().toList();
        }

        @Override
        public String toString() {
            return String.join(" ", command) + "\n-> " + (timedOut ? "TIMED OUT" : "exit " + exitCode)
                    + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
        }
    }

    /** Writes to the child's stdin and flushes; the stream stays open. */
    void write(byte[] bytes) {
        try {
            OutputStream in = process.getOutputStream();
            in.write(bytes);
            in.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to " + command.get(0) + "\n" + describe(), e);
        }
    }

    void closeStdin() {
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // The child already went away; its exit code tells the story.
        }
    }

    /**
     * Feeds {@code bytes} on its own thread, then closes stdin: the child may not read its input
     * before its output pipe fills, and writing from the test thread would then deadlock.
     */
    private void feedAndClose(byte[] bytes) {
        Thread writer = new Thread(() -> {
            try (OutputStream in = process.getOutputStream()) {
                in.write(bytes);
            } catch (IOException ignored) {
                // The child closed stdin early; its exit code tells the story.
            }
        }, "stdin of " + command.get(0));
        writer.setDaemon(true);
        writer.start();
    }

    String stdout() {
        return out.text();
    }

    String stderr() {
        return err.text();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The process id, for a signal other than the ones {@link ProcessHandle} sends ({@code SIGHUP}). */
    long pid() {
        return process.pid();
    }

    /**
     * Waits until stdout satisfies {@code condition}. Fails at once, with both streams, if the
     * process exits first: a server that died at start-up should say why, not time out.
     */
    String awaitStdout(Predicate<String> condition, String what, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String text = out.text();
            if (condition.test(text)) {
                return text;
            }
            if (!process.isAlive()) {
                out.await(Duration.ofSeconds(2));
                if (condition.test(out.text())) {
                    return out.text();
                }
                throw new AssertionError("exited (" + process.exitValue() + ") before " + what + "\n" + describe());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + what + " within " + timeout + "\n" + describe());
            }
            sleep(20);
        }
    }

    /** Waits for the process to end by itself; kills its whole tree at {@code timeout}. */
    Finished awaitExit(Duration timeout) {
        boolean exited = waitFor(timeout);
        if (!exited) {
            killTree();
        }
        out.await(Duration.ofSeconds(5));
        err.await(Duration.ofSeconds(5));
        return new Finished(command, exited ? process.exitValue() : -1, out.text(), err.text(), !exited);
    }

    /**
     * {@code SIGTERM} to the process alone (as systemd's {@code KillMode=mixed} would), then waits
     * for it to end, reading what it prints while it shuts down.
     *
     * <p>Sent through {@link ProcessHandle#destroy()}, not {@link Process#destroy()}: on Linux the
     * latter also closes our ends of the child's stdout and stderr right after the signal, so
     * whatever the child's shutdown hook prints (the demo's {@code server.stop} line) is lost.
     */
    Finished terminate(Duration grace) {
        process.toHandle().destroy();
        return awaitExit(grace);
    }

    @Override
    public void close() {
        if (process.isAlive() || process.descendants().anyMatch(ProcessHandle::isAlive)) {
            killTree();
        }
    }

    private boolean waitFor(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** {@code SIGKILL}, as a crash would end it: no shutdown hook runs. */
    void killHard() {
        killTree();
    }

    /** Descendants are collected before anything is signalled: orphans cannot be found afterwards. */
    private void killTree() {
        List<ProcessHandle> all = new ArrayList<>();
        process.descendants().forEach(all::add);
        all.add(process.toHandle());
        all.forEach(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < deadline && all.stream().anyMatch(ProcessHandle::isAlive)) {
            sleep(10);
        }
    }

    String describe() {
        return String.join(" ", command) + "\n--- stdout ---\n" + out.text() + "\n--- stderr ---\n" + err.text();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
