package io.sallyport.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * TCP echo target. Runs as its own JVM so it can live inside the {@link PrivateSubnet} namespace:
 * {@code java -cp <test classes> io.sallyport.testing.EchoServer ADDRESS PORT [--exit-on-stdin-eof]}.
 *
 * <p>Prints {@code PORT <n>} then {@code READY} once listening (port 0 picks a free port). Every
 * connection gets its bytes back; when the peer half-closes, the server finishes echoing and closes
 * its side too, so {@code ssh -W} fed from a file ends on its own instead of hanging.
 */
public final class EchoServer {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final AtomicInteger SEQ = new AtomicInteger();

    private EchoServer() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: EchoServer ADDRESS PORT [--exit-on-stdin-eof]");
            System.exit(2);
        }
        InetAddress address = InetAddress.getByName(args[0]);
        int port = Integer.parseInt(args[1]);
        boolean exitWithParent = args.length > 2 && args[2].equals("--exit-on-stdin-eof");

        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(address, port), 512);

        if (exitWithParent) {
            // The parent holds our stdin pipe; EOF means it died (even by SIGKILL), so no orphan is left
            // listening on the port for the next run to trip over.
            Thread watchdog = new Thread(() -> {
                try {
                    while (System.in.read() >= 0) {
                        // Discard anything the parent writes.
                    }
                } catch (IOException ignored) {
                    // Same meaning as EOF.
                }
                System.exit(0);
            }, "stdin-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        }

        System.out.println("PORT " + server.getLocalPort());
        System.out.println("READY");
        System.out.flush();

        while (true) {
            Socket s = server.accept();
            Thread t = new Thread(() -> echo(s), "echo-" + s.getPort());
            t.setDaemon(true);
            t.start();
        }
    }

    private static void echo(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[16 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                out.flush();
            }
            s.shutdownOutput();
        } catch (IOException ignored) {
            // Peer reset or went away: nothing left to echo.
        }
    }

    /** Handle on an echo server process started inside a subnet. */
    public static final class Handle implements AutoCloseable {
        private final String address;
        private final int port;
        private final Process process;
        private final Path logFile;

        private Handle(String address, int port, Process process, Path logFile) {
            this.address = address;
            this.port = port;
            this.process = process;
            this.logFile = logFile;
        }

        public String address() {
            return address;
        }

        public int port() {
            return port;
        }

        public Process process() {
            return process;
        }

        public Path logFile() {
            return logFile;
        }

        @Override
        public void close() {
            Exec.destroyTrees(List.of(process.toHandle()), Duration.ofSeconds(2));
        }

        @Override
        public String toString() {
            return "EchoServer[" + address + ":" + port + "]";
        }
    }

    /** Starts an echo server on {@code subnet.targetAddress():port} and waits until it listens. */
    public static Handle startIn(PrivateSubnet subnet, int port) {
        Path log = subnet.workDir().resolve("echo-" + port + "-" + SEQ.incrementAndGet() + ".log");
        return startIn(subnet, port, log);
    }

    public static Handle startIn(PrivateSubnet subnet, int port, Path logFile) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        // A tiny server: skip the optimizing JIT and big heaps, it roughly halves start-up time.
        cmd.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx64m", "-Xss512k"));
        cmd.addAll(List.of("-cp", ownClassPath(), EchoServer.class.getName(),
                subnet.targetAddress(), Integer.toString(port), "--exit-on-stdin-eof"));
        Process p = subnet.start(cmd, logFile);
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String log = readQuietly(logFile);
            if (log.lines().anyMatch("READY"::equals)) {
                int actual = log.lines().filter(l -> l.startsWith("PORT "))
                        .mapToInt(l -> Integer.parseInt(l.substring(5).trim())).findFirst().orElse(port);
                return new Handle(subnet.targetAddress(), actual, p, logFile);
            }
            if (!p.isAlive()) {
                throw new IllegalStateException("echo server on " + subnet.targetAddress() + ":" + port
                        + " exited with " + p.exitValue() + ":\n" + log);
            }
            Exec.sleep(20);
        }
        Exec.destroyTrees(List.of(p.toHandle()), Duration.ofSeconds(1));
        throw new IllegalStateException("echo server on " + subnet.targetAddress() + ":" + port
                + " not READY after " + READY_TIMEOUT + ":\n" + readQuietly(logFile));
    }

    static String javaBinary() {
        Path fromHome = Path.of(System.getProperty("java.home"), "bin", "java");
        if (Files.isExecutable(fromHome)) {
            return fromHome.toString();
        }
        return ProcessHandle.current().info().command().orElse("java");
    }

    /**
     * Only the directory (or jar) holding this class: the echo server needs nothing else, and under
     * surefire/failsafe {@code java.class.path} may be a manifest-only booter jar in a temp dir.
     */
    static String ownClassPath() {
        try {
            var src = EchoServer.class.getProtectionDomain().getCodeSource();
            if (src != null && src.getLocation() != null) {
                return Path.of(src.getLocation().toURI()).toString();
            }
        } catch (URISyntaxException | RuntimeException ignored) {
            // Fall through to the JVM's class path.
        }
        return System.getProperty("java.class.path");
    }

    private static String readQuietly(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
