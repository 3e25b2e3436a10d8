package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.HostTool;
import io.sallyport.testing.LoopbackEcho;
import io.sallyport.testing.OpenSsh;
import io.sallyport.testing.TestCa;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PROXY protocol on the SSH port, with Debian's haproxy as the load balancer: stock
 * {@code ssh -W} through haproxy ({@code send-proxy-v2} and {@code send-proxy}) logs in and
 * tunnels, and the audit names the client's own address and the proxy's. Refusals, each audited:
 * a header from outside {@code trusted_sources}, a trusted peer without a header, malformed v1 and
 * v2 headers (raw sockets). Loopback holds 127.0.0.0/8: haproxy listens on 127.0.0.3 and connects
 * from 127.0.0.9 (the one trusted source); clients connect from 127.0.0.5.
 */
class ProxyProtocolIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String PROXY_IP = "127.0.0.9";
    private static final String CLIENT_IP = "127.0.0.5";
    /** Allowed in by allow_sources, outside the role's from. */
    private static final String ELSEWHERE = "127.0.0.10";
    /** Holds pre-auth connections through the proxy. */
    private static final String FLOODER = "127.0.0.11";

    @TempDir
    static Path dir;
    static Path aliceKey;
    static TestCa corp;
    static LoopbackEcho echo;
    static BastionFixture bastion;
    static Process haproxy;
    static int v2Port;
    static int v1Port;

    @BeforeAll
    static void start() throws Exception {
        OpenSsh.requireClient();
        Path haproxyBin = HostTool.require("haproxy", "haproxy").path();
        aliceKey = OpenSsh.keygen(dir, "alice");
        corp = TestCa.create(dir, "corp-ca");
        echo = new LoopbackEcho();
        bastion = BastionFixture.start(dir, String.join("\n",
                "proxy_protocol:",
                "  enabled: true",
                "  trusted_sources: [" + PROXY_IP + "/32]",
                // The proxy's own address is not listed: allow_sources judges the relayed clients.
                "limits:",
                "  allow_sources: [127.0.0.1/32, " + CLIENT_IP + "/32, 127.0.0.6/32, 127.0.0.7/32, " + ELSEWHERE
                        + "/32, " + FLOODER + "/32]",
                "  max_unauthenticated_per_source: 3",
                "identity:",
                "  certificates:",
                "    authorities:",
                "      - {name: corp-ca, public_key: \"" + corp.publicKeyLine() + "\", grantable_roles: [ops]}",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [ops]",
                "        keys: [\"" + OpenSsh.publicKeyLine(aliceKey) + "\"]",
                "policy:",
                "  unsafe_allow_loopback: true",
                "  roles:",
                "    ops:",
                "      allow: [\"127.0.0.2:" + echo.port() + "\"]",
                "      from: [" + CLIENT_IP + "/32, 127.0.0.7/32]",
                ""), TargetResolver.system());
        v2Port = freePort("127.0.0.3");
        v1Port = freePort("127.0.0.3");
        Path cfg = dir.resolve("haproxy.cfg");
        String backend = "127.0.0.1:" + bastion.port();
        Files.writeString(cfg, String.join("\n",
                "global",
                "  maxconn 64",
                "defaults",
                "  mode tcp",
                "  timeout connect 5s",
                "  timeout client 60s",
                "  timeout server 60s",
                "frontend v2",
                "  bind 127.0.0.3:" + v2Port,
                "  default_backend v2",
                "backend v2",
                "  server bastion " + backend + " send-proxy-v2 source " + PROXY_IP,
                "frontend v1",
                "  bind 127.0.0.3:" + v1Port,
                "  default_backend v1",
                "backend v1",
                "  server bastion " + backend + " send-proxy source " + PROXY_IP,
                ""));
        haproxy = new ProcessBuilder(haproxyBin.toString(), "-db", "-f", cfg.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        awaitListening("127.0.0.3", v2Port);
        awaitListening("127.0.0.3", v1Port);
    }

    @AfterAll
    static void stop() throws Exception {
        if (haproxy != null) {
            haproxy.destroy();
            haproxy.waitFor(10, TimeUnit.SECONDS);
        }
        if (bastion != null) {
            bastion.close();
        }
        if (echo != null) {
            echo.close();
        }
    }

    private static int freePort(String ip) throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(ip))) {
            return s.getLocalPort();
        }
    }

    private static void awaitListening(String ip, int port) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(ip, port), 1000);
                return;
            } catch (IOException e) {
                if (!haproxy.isAlive()) {
                    throw new IllegalStateException("haproxy exited: " + Files.readString(dir.resolve("haproxy.log")));
                }
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    private static OpenSsh ssh(int port) throws Exception {
        return ssh(port, aliceKey, "ssh-" + port);
    }

    private static OpenSsh ssh(int port, Path key, String name) throws Exception {
        Path work = Files.createDirectories(dir.resolve(name));
        Path knownHosts = OpenSsh.addKnownHost(work.resolve("known_hosts"), "127.0.0.3", port, bastion.hostKeyLine());
        return OpenSsh.config()
                .host(OpenSsh.host("alice").hostName("127.0.0.3").port(port).user("alice")
                        .identityFile(key).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes")
                        .option("IdentitiesOnly", "yes"))
                .writeTo(work.resolve("ssh_config"));
    }

    /** {@code ssh -b CLIENT_IP -W target alice} through haproxy: the echo of one line. */
    private static void echoThroughTunnel(int haproxyPort) throws Exception {
        Process p = new ProcessBuilder(ssh(haproxyPort).command(List.of("-b", CLIENT_IP, "-W", "127.0.0.2:" + echo.port(), "alice")))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            OutputStream in = p.getOutputStream();
            InputStream out = p.getInputStream();
            in.write("ping\n".getBytes(StandardCharsets.US_ASCII));
            in.flush();
            assertThat(new String(out.readNBytes(5), StandardCharsets.US_ASCII)).as("echo through the tunnel").isEqualTo("ping\n");
        } finally {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static void assertRelayedLogin(int haproxyPort) throws Exception {
        int mark = bastion.audit().size();
        echoThroughTunnel(haproxyPort);
        JsonNode open = bastion.audit().await(e -> bastion.audit().since(mark).contains(e)
                && e.path("event").asText().equals("session.open"), TIMEOUT);
        assertThat(open.path("client").path("ip").asText()).as(open.toString()).isEqualTo(CLIENT_IP);
        assertThat(open.path("proxy").path("ip").asText()).as(open.toString()).isEqualTo(PROXY_IP);
        JsonNode accept = bastion.audit().await("auth.accept", e -> e.path("session").equals(open.path("session")));
        assertThat(accept.path("client").path("ip").asText()).isEqualTo(CLIENT_IP);
        JsonNode forward = bastion.audit().await("forward.open", e -> e.path("session").equals(open.path("session")));
        assertThat(forward.path("client").path("ip").asText()).isEqualTo(CLIENT_IP);
    }

    @Test
    void stockSshThroughHaproxySendProxyV2IsAuditedWithTheClientsAddressAndTheProxys() throws Exception {
        assertRelayedLogin(v2Port);
    }

    @Test
    void stockSshThroughHaproxySendProxyV1IsAuditedWithTheClientsAddressAndTheProxys() throws Exception {
        assertRelayedLogin(v1Port);
    }

    /** Sends {@code bytes} from {@code from} straight to the bastion; returns once the bastion has closed the connection. */
    private static void sendRaw(String from, byte[] bytes) throws Exception {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(from, 0));
            s.connect(new InetSocketAddress("127.0.0.1", bastion.port()), 5000);
            s.setSoTimeout((int) TIMEOUT.toMillis());
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            try {
                while (in.read(buf) >= 0) {
                    // drain the server's identification until it closes
                }
            } catch (java.net.SocketException reset) {
                // closed with our bytes unread: a reset is a close too
            }
        }
    }

    private static JsonNode awaitProxyRefusal(String detailPart) throws Exception {
        JsonNode refused = bastion.audit().await("connection.refuse", e -> e.path("reason").asText().equals("proxy_protocol")
                && e.path("detail").asText().contains(detailPart));
        assertThat(refused.path("proxy").path("ip").asText()).as(refused.toString()).isEqualTo(PROXY_IP);
        assertThat(refused.has("session")).isFalse();
        return refused;
    }

    @Test
    void aHeaderFromOutsideTrustedSourcesIsRefusedAndAudited() throws Exception {
        String forged = "PROXY TCP4 198.51.100.7 127.0.0.1 40000 22\r\nSSH-2.0-OpenSSH_9.2\r\n";
        sendRaw("127.0.0.6", forged.getBytes(StandardCharsets.US_ASCII));
        JsonNode ended = bastion.audit().await("session.terminate", e -> e.path("reason").asText().equals("proxy_protocol"));
        assertThat(ended.path("client").path("ip").asText()).as(ended.toString()).isEqualTo("127.0.0.6");
        assertThat(bastion.audit().named("session.open")).as("the forged address is never a client")
                .noneMatch(e -> e.path("client").path("ip").asText().equals("198.51.100.7"));
    }

    @Test
    void aTrustedSourceWithoutAHeaderIsRefusedAndAudited() throws Exception {
        sendRaw(PROXY_IP, "SSH-2.0-OpenSSH_9.2\r\n".getBytes(StandardCharsets.US_ASCII));
        JsonNode refused = awaitProxyRefusal("SSH greeting");
        assertThat(refused.path("client").path("ip").asText()).isEqualTo(PROXY_IP);
    }

    @Test
    void aMalformedV1HeaderFromTheTrustedSourceIsRefusedAndAudited() throws Exception {
        sendRaw(PROXY_IP, "PROXY TCP4 198.51.100.7 127.0.0.1 040000 22\r\nSSH-2.0-x\r\n".getBytes(StandardCharsets.US_ASCII));
        awaitProxyRefusal("source port");
    }

    @Test
    void aMalformedV2HeaderFromTheTrustedSourceIsRefusedAndAudited() throws Exception {
        byte[] header = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
            0x31, 0x11, 0x00, 0x0C, (byte) 198, 51, 100, 7, 127, 0, 0, 1, (byte) 0x9c, 0x40, 0x00, 0x16};
        sendRaw(PROXY_IP, header);
        awaitProxyRefusal("version");
    }

    @Test
    void aDirectClientFromOutsideTrustedSourcesStillLogsIn() throws Exception {
        Path work = Files.createDirectories(dir.resolve("direct"));
        Path knownHosts = OpenSsh.addKnownHost(work.resolve("known_hosts"), "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        OpenSsh ssh = OpenSsh.config()
                .host(OpenSsh.host("alice").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .writeTo(work.resolve("ssh_config"));
        OpenSsh.Result r = ssh.run(List.of("-b", "127.0.0.7", "-W", "127.0.0.2:" + echo.port(), "alice"),
                "hi\n".getBytes(StandardCharsets.US_ASCII), TIMEOUT);
        JsonNode open = bastion.audit().await("session.open", e -> e.path("client").path("ip").asText().equals("127.0.0.7"));
        assertThat(open.has("proxy")).isFalse();
        bastion.audit().await("auth.accept", e -> e.path("session").equals(open.path("session")));
        assertThat(new String(r.stdout(), StandardCharsets.US_ASCII)).as(r.toString()).startsWith("hi");
    }

    private static OpenSsh.Result loginThroughProxy(OpenSsh ssh, String from) {
        return ssh.run(List.of("-b", from, "-W", "127.0.0.2:" + echo.port(), "alice"),
                "hi\n".getBytes(StandardCharsets.US_ASCII), TIMEOUT);
    }

    private static OpenSsh certificateClient(String name, String sourceAddress) throws Exception {
        Path key = OpenSsh.keygen(Files.createDirectories(dir.resolve("keys-" + name)), name);
        corp.sign(key, TestCa.user(name).principals("alice").validity("-5m:+1h").serial(7)
                .option("extension:roles@sallyport=ops").option("source-address=" + sourceAddress));
        return ssh(v2Port, key, "cert-" + name);
    }

    @Test
    void certificateSourceAddressIsJudgedOnTheRelayedClientNotTheProxy() throws Exception {
        OpenSsh.Result r = loginThroughProxy(certificateClient("relayed", CLIENT_IP + "/32"), CLIENT_IP);
        assertThat(new String(r.stdout(), StandardCharsets.US_ASCII)).as(r.toString()).startsWith("hi");
        JsonNode accept = bastion.audit().await("auth.accept", e -> e.path("auth").path("cert_key_id").asText().equals("relayed"));
        assertThat(accept.path("client").path("ip").asText()).isEqualTo(CLIENT_IP);
    }

    @Test
    void certificateBoundToTheProxysAddressIsRefusedForTheClientBehindIt() throws Exception {
        OpenSsh.Result r = loginThroughProxy(certificateClient("proxybound", PROXY_IP + "/32"), CLIENT_IP);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(255);
        JsonNode reject = bastion.audit().await("auth.reject", e -> e.path("reason").asText().contains("source-address " + PROXY_IP));
        assertThat(reject.path("reason").asText())
                .isEqualTo("certificate source-address " + PROXY_IP + "/32 does not allow the client address " + CLIENT_IP);
    }

    @Test
    void aRolesFromIsJudgedOnTheRelayedClient() throws Exception {
        OpenSsh.Result r = loginThroughProxy(ssh(v2Port), ELSEWHERE);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(255);
        JsonNode reject = bastion.audit().await("auth.reject", e -> e.path("client").path("ip").asText().equals(ELSEWHERE));
        assertThat(reject.path("reason").asText()).contains("from: " + ELSEWHERE + " is not in");
    }

    @Test
    void allowSourcesRefusesARelayedClientOutsideItThoughTheProxyIsNotListed() throws Exception {
        OpenSsh.Result r = loginThroughProxy(ssh(v2Port), "127.0.0.8");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(255);
        JsonNode refused = bastion.audit().await("connection.refuse", e -> e.path("reason").asText().equals("allow_sources"));
        assertThat(refused.path("client").path("ip").asText()).isEqualTo("127.0.0.8");
        assertThat(bastion.audit().named("session.open")).noneMatch(e -> e.path("client").path("ip").asText().equals("127.0.0.8"));
    }

    @Test
    void preAuthFloodThroughTheProxyIsCountedPerRelayedClientAndDoesNotLockOutOthers() throws Exception {
        List<Socket> held = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Socket s = new Socket();
                s.bind(new InetSocketAddress(FLOODER, 0));
                s.connect(new InetSocketAddress("127.0.0.3", v2Port), 5000);
                held.add(s);
            }
            for (int i = 0; i < 3; i++) {
                int n = i + 1;
                bastion.audit().await(e -> bastion.audit().named("session.open").stream()
                        .filter(o -> o.path("client").path("ip").asText().equals(FLOODER)).count() >= n, TIMEOUT);
            }
            Socket fourth = new Socket();
            fourth.bind(new InetSocketAddress(FLOODER, 0));
            fourth.connect(new InetSocketAddress("127.0.0.3", v2Port), 5000);
            held.add(fourth);
            JsonNode ended = bastion.audit().await("session.terminate",
                    e -> e.path("reason").asText().equals("max_unauthenticated_per_source"));
            assertThat(ended.path("client").path("ip").asText()).isEqualTo(FLOODER);

            // Every connection arrives from the proxy's address; the quota counts the clients behind it.
            OpenSsh.Result r = loginThroughProxy(ssh(v2Port), CLIENT_IP);
            assertThat(new String(r.stdout(), StandardCharsets.US_ASCII)).as(r.toString()).startsWith("hi");
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    @Test
    void aLocalHeaderFromTheTrustedSourceIsAHealthCheckClosedWithoutAudit() throws Exception {
        int mark = bastion.audit().size();
        byte[] local = java.util.Arrays.copyOf(V2_SIGNATURE, 16);
        local[12] = 0x20; // version 2, LOCAL
        sendRaw(PROXY_IP, local);
        // A later refusal is audited; nothing came between.
        sendRaw(PROXY_IP, "SSH-2.0-after-local\r\n".getBytes(StandardCharsets.US_ASCII));
        awaitProxyRefusal("SSH greeting");
        assertThat(bastion.audit().since(mark)).as(bastion.audit().dump())
                .filteredOn(e -> e.path("client").path("ip").asText().equals(PROXY_IP)
                        || e.path("proxy").path("ip").asText().equals(PROXY_IP))
                .hasSize(1);
    }

    @Test
    void aTrustedSourceThatStopsMidHeaderIsRefusedAfterTheTimeoutAndAudited() throws Exception {
        long started = System.nanoTime();
        sendRaw(PROXY_IP, "PROXY TCP4 198.51.100.7 ".getBytes(StandardCharsets.US_ASCII));
        JsonNode refused = awaitProxyRefusal("no complete PROXY header within 5 s");
        assertThat(refused.path("client").path("ip").asText()).isEqualTo(PROXY_IP);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(4));
    }

    @Test
    void aTrustedSourceThatLeavesMidHeaderIsAudited() throws Exception {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(PROXY_IP, 0));
            s.connect(new InetSocketAddress("127.0.0.1", bastion.port()), 5000);
            s.getOutputStream().write(java.util.Arrays.copyOf(V2_SIGNATURE, 8));
            s.getOutputStream().flush();
            Thread.sleep(200); // the bytes reach the server before the close
        }
        awaitProxyRefusal("closed before the PROXY header was complete");
    }

    @Test
    void aVpcEndpointIdInTheV2HeaderIsOnSessionOpen() throws Exception {
        String vpce = "vpce-0123456789abcdef0";
        java.io.ByteArrayOutputStream h = new java.io.ByteArrayOutputStream();
        h.writeBytes(V2_SIGNATURE);
        h.write(0x21); // version 2, PROXY
        h.write(0x11); // TCP over IPv4
        int tlv = 3 + 1 + vpce.length();
        h.write(0);
        h.write(12 + tlv);
        h.writeBytes(new byte[] {127, 0, 0, 7, 127, 0, 0, 1, (byte) 0x9c, 0x41, 0x00, 0x16});
        h.write(0xEA);
        h.write(0);
        h.write(1 + vpce.length());
        h.write(0x01);
        h.writeBytes(vpce.getBytes(StandardCharsets.US_ASCII));
        h.writeBytes("SSH-2.0-OpenSSH_9.2\r\n".getBytes(StandardCharsets.US_ASCII));
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(PROXY_IP, 0));
            s.connect(new InetSocketAddress("127.0.0.1", bastion.port()), 5000);
            s.getOutputStream().write(h.toByteArray());
            s.getOutputStream().flush();
            JsonNode open = bastion.audit().await("session.open", e -> e.path("vpc_endpoint").asText().equals(vpce));
            assertThat(open.path("client").path("ip").asText()).isEqualTo("127.0.0.7");
            assertThat(open.path("client").path("port").asInt()).isEqualTo(40001);
            assertThat(open.path("proxy").path("ip").asText()).isEqualTo(PROXY_IP);
        }
    }
}
