package io.sallyport.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A TCP echo service in the test JVM on 127.0.0.2 (a loopback address other than the bastion's:
 * OpenSSH refuses {@code -J}/{@code -W} loops to the jump host's own address), for tests that
 * need a tunnel target but not a private subnet. Reach it with {@code unsafe_allow_loopback}.
 */
public final class LoopbackEcho implements AutoCloseable {
    private final ServerSocket server;

    public LoopbackEcho() throws IOException {
        server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0), 64);
        Thread t = new Thread(this::acceptLoop, "loopback-echo");
        t.setDaemon(true);
        t.start();
    }

    public String address() {
        return "127.0.0.2";
    }

    public int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> echo(s), "loopback-echo-conn");
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
        } catch (IOException ignored) {
            // The tunnel closed; nothing to echo.
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
