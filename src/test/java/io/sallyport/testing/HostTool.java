package io.sallyport.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A command-line tool of this machine that a packaging test drives ({@code rpm}, {@code shellcheck},
 * {@code packer}, {@code systemd-analyze}). Missing tools skip the test with the package to install,
 * and fail it when {@code CI=true}: {@code .ci/run} installs them all.
 */
public final class HostTool {
    private final Path path;

    private HostTool(Path path) {
        this.path = path;
    }

    /** The tool, or the calling test is aborted (failed under CI) naming the Debian package to install. */
    public static HostTool require(String name, String debianPackage) {
        return Exec.which(name).map(HostTool::new).orElseGet(() -> {
            Exec.missingPrerequisite(name + " is not installed (apt-get install " + debianPackage + ")");
            throw new IllegalStateException("unreachable: " + name + " missing");
        });
    }

    /** Aborts the calling test (fails it under CI) for a missing prerequisite that is not a tool. */
    public static void missing(String message) {
        Exec.missingPrerequisite(message);
    }

    /** Aborts the calling test unless it runs as root (failed under CI); {@code why} says what needs root. */
    public static void requireRoot(String why) {
        if (!Exec.isRoot()) {
            Exec.missingPrerequisite("not running as root, which " + why + " needs");
        }
    }

    public Path path() {
        return path;
    }

    /** What a run produced; stdout and stderr apart, because some tools report problems only on stderr. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr, boolean timedOut) {
        public boolean ok() {
            return !timedOut && exitCode == 0;
        }

        @Override
        public String toString() {
            return String.join(" ", command) + " -> " + (timedOut ? "timed out" : "exit " + exitCode)
                    + (stdout.isBlank() ? "" : "\n--- stdout ---\n" + stdout.strip())
                    + (stderr.isBlank() ? "" : "\n--- stderr ---\n" + stderr.strip());
        }
    }

    public Result run(String... args) {
        return run(List.of(args), Map.of(), null);
    }

    public Result run(List<String> args) {
        return run(args, Map.of(), null);
    }

    /**
     * Runs the tool with extra environment variables and, when {@code stdin} is not null, that text
     * as its input. Two minutes at most: none of the tools should come near that.
     */
    public Result run(List<String> args, Map<String, String> env, String stdin) {
        List<String> command = new ArrayList<>();
        command.add(path.toString());
        command.addAll(args);
        return exec(command, env, stdin, Duration.ofMinutes(2));
    }

    /**
     * Any command, for scripts and launchers that are not tools of this machine. {@code env} is added
     * to this JVM's environment; a variable mapped to null is removed from it.
     */
    public static Result exec(List<String> command, Map<String, String> env, String stdin, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(command);
        env.forEach((name, value) -> {
            if (value == null) {
                pb.environment().remove(name);
            } else {
                pb.environment().put(name, value);
            }
        });
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
        StreamDrain out = new StreamDrain(p.getInputStream(), "tool-stdout");
        StreamDrain err = new StreamDrain(p.getErrorStream(), "tool-stderr");
        if (stdin != null) {
            try (var in = p.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // The command exited without reading its input; its exit status tells the story.
            }
        }
        boolean finished;
        try {
            finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            finished = false;
        }
        if (!finished) {
            Exec.destroyTrees(List.of(p.toHandle()), Duration.ofMillis(500));
        }
        return new Result(command, finished ? p.exitValue() : -1,
                new String(out.await(Duration.ofSeconds(5)), StandardCharsets.UTF_8),
                new String(err.await(Duration.ofSeconds(5)), StandardCharsets.UTF_8), !finished);
    }
}
