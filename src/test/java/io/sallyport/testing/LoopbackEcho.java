package io.sallyport.testing;

import io.sallyport.cli.EchoService;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A TCP echo service in the test JVM on 127.0.0.2 (a loopback address other than the bastion's:
 * OpenSSH refuses {@code -J}/{@code -W} loops to the jump host's own address), for tests that
 * need a tunnel target but not a private subnet. Reach it with {@code unsafe_allow_loopback}.
 */
public final class LoopbackEcho implements AutoCloseable {
    private final EchoService echo;

    public LoopbackEcho() throws IOException {
        echo = new EchoService(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
    }

    public String address() {
        return "127.0.0.2";
    }

    public int port() {
        return echo.port();
    }

    @Override
    public void close() throws IOException {
        echo.close();
    }
}
