package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The shaded jar that {@code mvn package} built, run the way an operator runs it:
 * {@code java -jar target/sallyport.jar ARGS}, one process per command. Failsafe passes its
 * path as the system property {@code sallyport.jar}.
 */
final class SallyportJar {
    /** A one-shot command (check-config, explain, version) has no business taking longer. */
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private SallyportJar() {
    }

    static Path jar() {
        String property = System.getProperty("sallyport.jar");
        assertThat(property).as("system property sallyport.jar (set by failsafe in pom.xml)").isNotBlank();
        Path jar = Path.of(property);
        assertThat(jar).as("the shaded jar; run `mvn -B verify`, which packages it before the integration tests")
                .isRegularFile();
        return jar;
    }

    static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-jar");
        cmd.add(jar().toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs one command to its end. */
    static ChildProcess.Finished run(String... args) {
        return ChildProcess.run(command(args), null, COMMAND_TIMEOUT);
    }

    /** Starts a long-running command ({@code run}, {@code demo}); the caller stops it. */
    static ChildProcess start(String... args) {
        return ChildProcess.start(command(args));
    }

    /**
     * Nothing but sallyport's own one-line errors on stderr: README's Commands section allows a stack trace only
     * with {@code --debug}.
     */
    static void assertNoStackTrace(ChildProcess.Finished r) {
        assertThat(r.stderr()).as("stderr without --debug\n%s", r)
                .doesNotContainPattern("(?m)^\\s+at [\\w$.]+\\(")
                .doesNotContainPattern("(?m)^(Exception in thread|Caused by:)")
                .doesNotContainPattern("(?m)^[\\w$.]+(Exception|Error)(: |$)");
    }

    /** A port on 127.0.0.1 that was free a moment ago. */
    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits until something accepts on {@code host:port}, failing at once (with its output) if
     * {@code server} exits first.
     */
    static void awaitListening(ChildProcess server, String host, int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getByName(host), port), 200);
                return;
            } catch (IOException notYet) {
                if (!server.isAlive()) {
                    throw new AssertionError("exited before listening on " + host + ":" + port + "\n" + server.describe());
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("not listening on " + host + ":" + port + " after " + timeout + "\n"
                            + server.describe());
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted", e);
                }
            }
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
