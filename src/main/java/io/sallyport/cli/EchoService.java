package io.sallyport.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A TCP echo service: the demo's second private target, to try {@code ssh -W} by hand, and the
 * in-JVM tunnel target of tests that need no private subnet.
 */
public final class EchoService implements AutoCloseable {
    private final ServerSocket server;

    public EchoService(InetSocketAddress bind) throws IOException {
        server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(bind, 64);
        Thread t = new Thread(this::acceptLoop, "echo-service");
        t.setDaemon(true);
        t.start();
    }

    /** The port bound, useful when {@code bind} asked for port 0. */
    public int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> echo(s), "echo-service-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void echo(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
