package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.LoopbackEcho;
import io.sallyport.testing.OpenSsh;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The after-login quotas (tunnels per session and per user, the resolve timeout, the fair
 * decision queue, the session-closed guard) against a hostile but authenticated user. The hostile
 * user is MINA's client, a real peer on the wire that opens channels faster than any stock client
 * would; the honest user is the stock OpenSSH client.
 */
class TunnelLimitsIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final AtomicInteger COUNTER = new AtomicInteger();
    /** Names under this domain resolve slowly (see {@link #slowResolver}). */
    private static final String SLOW = ".slow.test";

    @TempDir
    static Path dir;
    static Path aliceKey;
    static Path malloryKey;
    static SshClient client;

    @BeforeAll
    static void setUp() {
        OpenSsh.requireClient();
        aliceKey = OpenSsh.keygen(dir, "alice");
        malloryKey = OpenSsh.keygen(dir, "mallory");
        client = SshClient.setUpDefaultClient();
        // The host key is not what these tests are about; JumpIT checks it with StrictHostKeyChecking.
        client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
        client.start();
    }

    @AfterAll
    static void tearDown() {
        if (client != null) {
            client.stop();
        }
    }

    /** Users alice (role ops) and mallory (role flood), with the given roles and limits. */
    static String users(String roles, String policyExtra, String limits) {
        return users(aliceKey, malloryKey, roles, policyExtra, limits);
    }

    /** The same, for alice's and mallory's keys as given. */
    static String users(Path aliceKey, Path malloryKey, String roles, String policyExtra, String limits) {
        return String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [ops]",
                "        keys: [\"" + OpenSsh.publicKeyLine(aliceKey) + "\"]",
                "      mallory:",
                "        roles: [flood]",
                "        keys: [\"" + OpenSsh.publicKeyLine(malloryKey) + "\"]",
                "policy:",
                "  unsafe_allow_loopback: true",
                "  roles:",
                roles,
                policyExtra,
                "limits:",
                limits,
                "");
    }

    private static BastionFixture bastion(String yaml, TargetResolver resolver) throws Exception {
        Path work = Files.createDirectories(dir.resolve("b" + COUNTER.incrementAndGet()));
        return BastionFixture.start(work, yaml, resolver);
    }

    /** The system resolver, except that names under {@value #SLOW} take {@code delay} and then resolve to 127.0.0.2. */
    private static TargetResolver slowResolver(Duration delay) {
        return name -> {
            if (!name.endsWith(SLOW)) {
                return TargetResolver.system().resolve(name);
            }
            try {
                Thread.sleep(delay.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UnknownHostException(name + ": interrupted");
            }
            return List.of(InetAddress.getByName("127.0.0.2"));
        };
    }

    static ClientSession login(SshClient client, String user, Path key, int port) throws Exception {
        ClientSession session = client.connect(user, "127.0.0.1", port).verify(Duration.ofSeconds(10)).getSession();
        try (InputStream in = Files.newInputStream(key)) {
            session.addPublicKeyIdentity(SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(user), in, null)
                    .iterator().next());
        }
        session.auth().verify(Duration.ofSeconds(10));
        return session;
    }

    /** Sends a {@code direct-tcpip} open without waiting for the answer. */
    static OpenFuture requestTunnel(ClientSession session, String host, int port) throws Exception {
        return session.createDirectTcpipChannel(new SshdSocketAddress("127.0.0.1", 65535), new SshdSocketAddress(host, port))
                .open();
    }

    private static OpenSsh ssh(BastionFixture bastion) throws Exception {
        Path work = bastion.configFile().getParent();
        Path knownHosts = OpenSsh.addKnownHost(work.resolve("known_hosts"), "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        return OpenSsh.config()
                .host(OpenSsh.host("alice").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .writeTo(work.resolve("ssh_config"));
    }

    /**
     * {@code ssh -W} to the echo target: the milliseconds from starting {@code ssh} to the echo of
     * the first line coming back.
     */
    static long echoThroughTunnel(OpenSsh ssh, String alias, String target) throws Exception {
        long start = System.nanoTime();
        Process p = new ProcessBuilder(ssh.command(List.of("-W", target, alias)))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            OutputStream in = p.getOutputStream();
            InputStream out = p.getInputStream();
            in.write("ping\n".getBytes(StandardCharsets.US_ASCII));
            in.flush();
            byte[] echoed = new byte[5];
            int n = 0;
            while (n < echoed.length) {
                int r = out.read(echoed, n, echoed.length - n);
                assertThat(r).as("echo through the tunnel (ssh exited?)").isPositive();
                n += r;
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(new String(echoed, StandardCharsets.US_ASCII)).isEqualTo("ping\n");
            return millis;
        } finally {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void floodOfSlowTunnelRequestsDoesNotDelayAnotherUsersTunnelAndQuotaRefusalsAreAudited() throws Exception {
        try (LoopbackEcho echo = new LoopbackEcho();
             BastionFixture bastion = bastion(users(
                     "    ops:\n      allow: [\"127.0.0.2:" + echo.port() + "\"]\n"
                             + "    flood:\n      allow: [\"*" + SLOW + ":*\"]",
                     "", "  max_tunnels_per_session: 64\n  resolve_timeout: 2s"), slowResolver(Duration.ofSeconds(20)))) {
            ClientSession mallory = login(client, "mallory", malloryKey, bastion.port());
            try {
                List<OpenFuture> flood = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    flood.add(requestTunnel(mallory, "h" + i + SLOW, 22));
                }
                // 64 requests wait for their decisions; the other 36 are refused at once.
                JsonNode quota = bastion.audit().await("forward.reject",
                        e -> e.path("reason").asText().startsWith("max_tunnels_per_session"));
                assertThat(quota.path("reason").asText()).isEqualTo("max_tunnels_per_session: 64 tunnels open on this connection");
                assertThat(quota.path("user").asText()).isEqualTo("mallory");
                assertThat(quota.path("target").path("host").asText()).endsWith(SLOW);

                long millis = echoThroughTunnel(ssh(bastion), "alice", "127.0.0.2:" + echo.port());

                assertThat(millis).as("alice's ssh -W carried bytes while mallory's slow names were being resolved")
                        .isLessThan(2000);
                System.out.println("alice's ssh -W echoed after " + millis + " ms during mallory's flood");
                long quotaRefusals = bastion.audit().named("forward.reject").stream()
                        .filter(e -> e.path("reason").asText().startsWith("max_tunnels_per_session")).count();
                assertThat(quotaRefusals).isEqualTo(36);

                // The first of mallory's names reach resolve_timeout and are refused with that reason.
                JsonNode slow = bastion.audit().await("forward.reject",
                        e -> e.path("reason").asText().startsWith("resolve_timeout"));
                assertThat(slow.path("reason").asText()).matches("resolve_timeout: h\\d+\\.slow\\.test not resolved within 2s");
                assertThat(bastion.audit().named("forward.open")).extracting(e -> e.path("user").asText()).containsOnly("alice");
                assertThat(flood.stream().filter(OpenFuture::isOpened)).isEmpty();
            } finally {
                mallory.close(true);
            }
        }
    }

    @Test
    void tunnelStillDecidingWhenItsClientDisconnectsIsNeverConnected() throws Exception {
        CountDownLatch resolving = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        TargetResolver resolver = name -> {
            if (!name.endsWith(SLOW)) {
                return TargetResolver.system().resolve(name);
            }
            resolving.countDown();
            try {
                answer.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return List.of(InetAddress.getByName("127.0.0.2"));
        };
        try (ConnectionCounter target = new ConnectionCounter();
             BastionFixture bastion = bastion(users(
                     "    ops:\n      allow: [\"127.0.0.2:1\"]\n"
                             + "    flood:\n      allow: [\"*" + SLOW + ":" + target.port() + "\"]",
                     "", "  resolve_timeout: 30s"), resolver)) {
            ClientSession mallory = login(client, "mallory", malloryKey, bastion.port());
            requestTunnel(mallory, "db" + SLOW, target.port());
            assertThat(resolving.await(10, TimeUnit.SECONDS)).as("the decision is waiting on DNS").isTrue();

            mallory.close(true);
            JsonNode closed = bastion.audit().await("session.close", e -> e.path("user").asText().equals("mallory"));
            answer.countDown();
            // The decision thread returns after the session is gone; give it time to (wrongly) connect.
            Thread.sleep(1500);

            assertThat(target.accepted()).as("connections the target saw").isZero();
            List<JsonNode> events = bastion.audit().ofSession(closed.path("session").asText());
            assertThat(events).extracting(e -> e.path("event").asText())
                    .doesNotContain("forward.open", "forward.close")
                    .containsSubsequence("auth.accept", "forward.reject", "session.close")
                    .endsWith("session.close");
            JsonNode reject = events.stream().filter(e -> e.path("event").asText().equals("forward.reject")).findFirst().orElseThrow();
            assertThat(reject.path("reason").asText()).isEqualTo("session closed before the tunnel opened");
            assertThat(reject.path("target").path("host").asText()).isEqualTo("db" + SLOW);
        }
    }

    /**
     * The connect's turn: a target whose accept queue is full drops the bastion's SYN, so the connect
     * hangs; the client disconnects; then the queue drains and the connect completes. The target
     * socket must be closed at once, and the tunnel never opened.
     */
    @Test
    void tunnelStillConnectingWhenItsClientDisconnectsIsClosedNotOpened() throws Exception {
        try (java.net.ServerSocket target = new java.net.ServerSocket()) {
            target.bind(new java.net.InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0), 1);
            // Linux queues backlog + 1 connections; later SYNs are dropped and retried by the sender.
            List<java.net.Socket> filler = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                java.net.Socket f = new java.net.Socket();
                f.connect(target.getLocalSocketAddress(), 2000);
                filler.add(f);
            }
            try (BastionFixture bastion = bastion(users(
                    "    ops:\n      allow: [\"127.0.0.2:1\"]\n"
                            + "    flood:\n      allow: [\"127.0.0.2:" + target.getLocalPort() + "\"]",
                    "", "  resolve_timeout: 30s"), TargetResolver.system())) {
                ClientSession mallory = login(client, "mallory", malloryKey, bastion.port());
                OpenFuture open = requestTunnel(mallory, "127.0.0.2", target.getLocalPort());
                Thread.sleep(1000);
                assertThat(open.isDone()).as("the connect is stuck in the target's full accept queue").isFalse();

                mallory.close(true);
                JsonNode closed = bastion.audit().await("session.close", e -> e.path("user").asText().equals("mallory"));
                // Drain the queue: the bastion's next SYN (retried after 1 s, then 2 s, 4 s) is accepted.
                target.setSoTimeout(10_000);
                java.util.Set<Integer> fillers = new java.util.HashSet<>();
                for (java.net.Socket f : filler) {
                    fillers.add(f.getLocalPort());
                }
                int accepted = 0;
                java.net.Socket fromBastion = null;
                while (fromBastion == null && accepted < 3) {
                    java.net.Socket s;
                    try {
                        s = target.accept();
                    } catch (java.net.SocketTimeoutException e) {
                        break; // the connect was abandoned: nothing reached the target
                    }
                    accepted++;
                    if (!fillers.contains(s.getPort())) {
                        fromBastion = s;
                    } else {
                        s.close();
                    }
                }
                if (fromBastion != null) {
                    try (java.net.Socket s = fromBastion) {
                        s.setSoTimeout(5000);
                        assertThat(s.getInputStream().read()).as("the bastion closed the target socket of a tunnel whose session was gone")
                                .isEqualTo(-1);
                    }
                }
                Thread.sleep(500);
                List<JsonNode> events = bastion.audit().ofSession(closed.path("session").asText());
                assertThat(events).extracting(e -> e.path("event").asText())
                        .doesNotContain("forward.open", "forward.close")
                        .containsSubsequence("auth.accept", "forward.reject", "session.close")
                        .endsWith("session.close");
                JsonNode reject = events.stream().filter(e -> e.path("event").asText().equals("forward.reject")).findFirst().orElseThrow();
                assertThat(reject.path("reason").asText()).isEqualTo("session closed before the tunnel opened");
                assertThat(reject.path("target").path("ip").asText()).isEqualTo("127.0.0.2");
            } finally {
                for (java.net.Socket f : filler) {
                    f.close();
                }
            }
        }
    }

    /**
     * The high water measured on this JVM's own heap: ballast above 10% of it refuses new logins
     * (stock client) and new tunnels (an existing session), while a tunnel opened before goes on;
     * once the ballast is collected, logins are served again.
     */
    @Test
    void aboveMemoryHighWaterNewLoginsAndTunnelsAreRefusedWhileLiveTunnelsGoOn() throws Exception {
        try (LoopbackEcho echo = new LoopbackEcho();
             BastionFixture bastion = bastion(users(
                     "    ops:\n      allow: [\"127.0.0.2:" + echo.port() + "\"]\n"
                             + "    flood:\n      allow: [\"127.0.0.2:" + echo.port() + "\"]",
                     "", "  memory_high_water: 10%\n  max_auth_attempts: 100"), TargetResolver.system())) {
            OpenSsh ssh = ssh(bastion);
            String target = "127.0.0.2:" + echo.port();
            ChildProcess live = ChildProcess.start(ssh.command(List.of("-W", target, "alice")));
            ClientSession mallory = login(client, "mallory", malloryKey, bastion.port());
            List<byte[]> ballast = new ArrayList<>();
            try {
                live.write("before\n".getBytes(StandardCharsets.UTF_8));
                live.awaitStdout(out -> out.contains("before\n"), "the echo through the live tunnel", TIMEOUT);

                long tenth = Runtime.getRuntime().maxMemory() / 10;
                for (long held = 0; held < tenth + tenth / 2; held += 8 << 20) {
                    ballast.add(new byte[8 << 20]);
                }
                System.gc(); // the collection's notification is what the server measures
                Thread.sleep(500);

                OpenSsh.Result refused = ssh.run(List.of("-W", target, "alice"), new byte[0], TIMEOUT);
                assertThat(refused.exitCode()).as(refused.toString()).isNotZero();
                JsonNode login = bastion.audit().await("auth.reject", e -> e.path("user").asText().equals("alice"));
                assertThat(login.path("reason").asText()).startsWith("memory_high_water: ").endsWith("(limit 10%)");

                OpenFuture tunnel = requestTunnel(mallory, "127.0.0.2", echo.port());
                assertThat(tunnel.await(Duration.ofSeconds(10))).isTrue();
                assertThat(tunnel.isOpened()).isFalse();
                JsonNode reject = bastion.audit().await("forward.reject", e -> e.path("user").asText().equals("mallory"));
                assertThat(reject.path("reason").asText()).startsWith("memory_high_water: ");

                live.write("during\n".getBytes(StandardCharsets.UTF_8));
                live.awaitStdout(out -> out.contains("before\nduring\n"), "the echo through the live tunnel", TIMEOUT);

                ballast.clear();
                System.gc();
                OpenSsh.Result served = null;
                long deadline = System.nanoTime() + TIMEOUT.toNanos();
                while (System.nanoTime() < deadline) {
                    served = ssh.run(List.of("-W", target, "alice"), "after\n".getBytes(StandardCharsets.UTF_8), TIMEOUT);
                    if (served.succeeded()) {
                        break;
                    }
                    System.gc();
                    Thread.sleep(500);
                }
                assertThat(served.succeeded()).as(served.toString()).isTrue();
                assertThat(served.stdoutText()).isEqualTo("after\n");
            } finally {
                ballast.clear();
                mallory.close(true);
                live.close();
            }
        }
    }

    /** A TCP target on 127.0.0.2 that counts connections and holds them, reading nothing. */
    static final class ConnectionCounter implements AutoCloseable {
        private final java.nio.channels.ServerSocketChannel server;
        private final List<java.nio.channels.SocketChannel> held = java.util.Collections.synchronizedList(new ArrayList<>());
        private final AtomicInteger accepted = new AtomicInteger();

        ConnectionCounter() throws java.io.IOException {
            server = java.nio.channels.ServerSocketChannel.open();
            server.bind(new java.net.InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0), 4096);
            Thread t = new Thread(() -> {
                while (server.isOpen()) {
                    try {
                        held.add(server.accept());
                        accepted.incrementAndGet();
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            }, "connection-counter");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.socket().getLocalPort();
        }

        int accepted() {
            return accepted.get();
        }

        @Override
        public void close() throws java.io.IOException {
            server.close();
            synchronized (held) {
                for (java.nio.channels.SocketChannel s : held) {
                    s.close();
                }
            }
        }
    }

    /**
     * MINA answers a channel request it does not know with a WARN line: a client looping requests
     * on its tunnel could flood the journal. They are refused without a line, and the tunnel goes on.
     */
    @Test
    void clientLoopingRequestsOnItsTunnelCannotFloodTheLog() throws Exception {
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(logged);
        try (LoopbackEcho echo = new LoopbackEcho();
             BastionFixture bastion = bastion(users("    ops:\n      allow: [\"127.0.0.2:" + echo.port() + "\"]\n"
                     + "    flood:\n      allow: []", "", "  max_tunnels_per_session: 64"), TargetResolver.system())) {
            ClientSession alice = login(client, "alice", aliceKey, bastion.port());
            try {
                ChannelDirectTcpip tunnel = alice.createDirectTcpipChannel(new SshdSocketAddress("127.0.0.1", 65535),
                        new SshdSocketAddress("127.0.0.2", echo.port()));
                tunnel.open().verify(TIMEOUT);
                for (int i = 0; i < 500; i++) {
                    Buffer b = alice.createBuffer(SshConstants.SSH_MSG_CHANNEL_REQUEST, 64);
                    b.putUInt(tunnel.getRecipient());
                    b.putString("junk-" + i + "@example.com");
                    b.putBoolean(false);
                    alice.writePacket(b).verify(TIMEOUT);
                }
                // Requests and data are handled in order: once the echo is back, every request was seen.
                OutputStream out = tunnel.getInvertedIn();
                out.write("still here\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                byte[] back = new byte[11];
                int n = 0;
                InputStream in = tunnel.getInvertedOut();
                while (n < back.length) {
                    int r = in.read(back, n, back.length - n);
                    assertThat(r).as("the tunnel still echoes").isPositive();
                    n += r;
                }
                assertThat(new String(back, StandardCharsets.UTF_8)).isEqualTo("still here\n");
                tunnel.close(false);
            } finally {
                alice.close(true);
            }
        } finally {
            root.detachAppender(logged);
        }
        assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage)
                .noneMatch(m -> m.contains("junk-"));
    }
}
