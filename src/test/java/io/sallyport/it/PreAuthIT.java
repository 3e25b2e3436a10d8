package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.LoopbackEcho;
import io.sallyport.testing.OpenSsh;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.auth.AbstractUserAuth;
import org.apache.sshd.client.auth.AbstractUserAuthFactory;
import org.apache.sshd.client.auth.UserAuth;
import org.apache.sshd.client.auth.UserAuthFactory;
import org.apache.sshd.client.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.common.signature.Signature;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Before login, one client cannot take the bastion from the others, and every refused login is
 * audited and counted the moment it is refused, whichever layer refuses it.
 *
 * <p>The hostile clients are scripted (plain sockets that never send a banner, MINA's client for a
 * SHA-1 signature the stock client no longer makes) and bound to other loopback addresses
 * (127.0.0.9 and up), so that the real user — the stock {@code ssh} from 127.0.0.1 — is another
 * source.
 */
class PreAuthIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** The bound the product promises a real user while a flood goes on (login and a tunnel). */
    private static final Duration LOGIN_UNDER_FLOOD = Duration.ofSeconds(2);
    private static final AtomicInteger COUNTER = new AtomicInteger();

    @TempDir
    static Path dir;
    static Path aliceKey;
    static Path strangerKey;
    static Path dsaKey;
    static Path rsaKey;
    static LoopbackEcho echo;

    @BeforeAll
    static void setUp() throws Exception {
        OpenSsh.requireClient();
        aliceKey = OpenSsh.keygen(dir, "alice");
        strangerKey = OpenSsh.keygen(dir, "stranger");
        dsaKey = OpenSsh.keygen(dir, "dsa", "dsa");
        rsaKey = OpenSsh.keygen(dir, "rsa", "rsa");
        echo = new LoopbackEcho();
    }

    @AfterAll
    static void tearDown() throws Exception {
        echo.close();
    }

    /** A bastion where alice (ed25519 or RSA key) may reach the echo target, with the given limits. */
    private static BastionFixture bastion(String limits) throws Exception {
        Path work = Files.createDirectories(dir.resolve("b" + COUNTER.incrementAndGet()));
        String yaml = String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [echo]",
                "        keys:",
                "          - \"" + OpenSsh.publicKeyLine(aliceKey) + "\"",
                "          - \"" + OpenSsh.publicKeyLine(rsaKey) + "\"",
                "policy:",
                "  roles:",
                "    echo:",
                "      allow: [\"" + echo.address() + "/32:" + echo.port() + "\"]",
                "  unsafe_allow_loopback: true",
                "limits:",
                limits,
                "");
        return BastionFixture.start(work, yaml, TargetResolver.system());
    }

    private static OpenSsh ssh(BastionFixture bastion) {
        Path work = bastion.configFile().getParent();
        Path knownHosts = work.resolve("known_hosts");
        try {
            OpenSsh.addKnownHost(knownHosts, "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return OpenSsh.config()
                .host(OpenSsh.host("alice").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts))
                .host(OpenSsh.host("stranger").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(strangerKey).userKnownHostsFile(knownHosts))
                .host(OpenSsh.host("dsa").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(dsaKey).userKnownHostsFile(knownHosts)
                        .option("PubkeyAcceptedAlgorithms", "+ssh-dss"))
                .host(OpenSsh.host("sha1").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(rsaKey).userKnownHostsFile(knownHosts)
                        .option("PubkeyAcceptedAlgorithms", "ssh-rsa"))
                .writeTo(work.resolve("ssh_config"));
    }

    /** The stock client logs in from 127.0.0.1 and sends bytes through a {@code -W} tunnel to the echo target. */
    private static OpenSsh.Result tunnel(OpenSsh ssh) {
        byte[] payload = new byte[4096];
        new Random(3).nextBytes(payload);
        OpenSsh.Result r = ssh.run(List.of("-W", echo.address() + ":" + echo.port(), "alice"), payload, TIMEOUT);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).isEqualTo(payload);
        System.err.println("PreAuthIT: login and tunnel took " + r.elapsed().toMillis() + " ms");
        return r;
    }

    /**
     * One login and tunnel before the flood, so that the timed one under the flood measures the
     * flood's effect, not the first key exchange of a cold JVM.
     */
    private static OpenSsh warmedUp(BastionFixture bastion) {
        OpenSsh ssh = ssh(bastion);
        tunnel(ssh);
        return ssh;
    }

    private static List<JsonNode> terminations(BastionFixture bastion, String clientIp, String reason) {
        return bastion.audit().named("session.terminate").stream()
                .filter(e -> e.path("client").path("ip").asText().equals(clientIp))
                .filter(e -> e.path("reason").asText().equals(reason))
                .toList();
    }

    @Test
    void preAuthFloodFromOneAddressDoesNotLockOutOthers() throws Exception {
        // More connections than max_unauthenticated, from one address, each refilled when it ends.
        try (BastionFixture bastion = bastion("  max_unauthenticated: 20\n  login_grace_time: 3s")) {
            OpenSsh ssh = warmedUp(bastion);
            try (Flood flood = Flood.from(List.of("127.0.0.9"), bastion.port(), 30)) {
                bastion.audit().await(e -> e.path("event").asText().equals("session.terminate")
                        && e.path("reason").asText().equals("max_unauthenticated_per_source"), TIMEOUT);

                OpenSsh.Result r = tunnel(ssh);

                assertThat(r.elapsed()).as("login and tunnel under the flood").isLessThan(LOGIN_UNDER_FLOOD);
                // The flood's slots run out at login_grace_time without a key: its address is then refused.
                bastion.audit().await(e -> e.path("event").asText().equals("session.terminate")
                        && e.path("reason").asText().equals("noauth_penalty"), TIMEOUT);
                assertThat(terminations(bastion, "127.0.0.9", "max_unauthenticated_per_source")).isNotEmpty();
                assertThat(terminations(bastion, "127.0.0.9", "noauth_penalty")).isNotEmpty();
                assertThat(terminations(bastion, "127.0.0.1", "max_unauthenticated")).isEmpty();
                assertThat(flood.attempts()).isGreaterThan(30);
            }
        }
    }

    @Test
    void floodFromManyAddressesCannotTakeEveryPreAuthSlot() throws Exception {
        // Six addresses at their per-source cap would hold 30 slots; there are 20.
        try (BastionFixture bastion = bastion("  max_unauthenticated: 20\n  max_unauthenticated_per_source: 5")) {
            OpenSsh ssh = warmedUp(bastion);
            try (Flood flood = Flood.from(List.of("127.0.0.9", "127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13",
                    "127.0.0.14"), bastion.port(), 8)) {
                bastion.audit().await(e -> e.path("event").asText().equals("session.terminate")
                        && e.path("reason").asText().equals("max_unauthenticated"), TIMEOUT);
                // The flood is refilling what the server ended before the engineer starts, so the
                // login below meets a flood that goes on, not one that has spent its first wave.
                long deadline = System.nanoTime() + TIMEOUT.toNanos();
                while (flood.attempts() <= 48) {
                    assertThat(System.nanoTime()).as("the flood refills within " + TIMEOUT).isLessThan(deadline);
                    Thread.sleep(10);
                }

                OpenSsh.Result r = tunnel(ssh);

                assertThat(r.elapsed()).as("login and tunnel under the flood").isLessThan(LOGIN_UNDER_FLOOD);
                assertThat(terminations(bastion, "127.0.0.1", "max_unauthenticated")).isEmpty();
                assertThat(terminations(bastion, "127.0.0.1", "max_unauthenticated_per_source")).isEmpty();
                assertThat(flood.attempts()).isGreaterThan(48);
            }
        }
    }

    @Test
    void connectionRefusedAtTheCapCanNeverLogInAndAFloodOfThemDoesNotDelayAnotherUsersLogin() throws Exception {
        // Two connections from 127.0.0.9 hold its slots; the rest of the flood is refused over and over.
        try (BastionFixture bastion = bastion("  max_unauthenticated_per_source: 2\n  login_grace_time: 40s")) {
            OpenSsh ssh = warmedUp(bastion);
            try (Flood flood = Flood.from(List.of("127.0.0.9"), bastion.port(), 30)) {
                awaitCount(bastion, "session.terminate", "max_unauthenticated_per_source", 30);
                SshClient client = client(List.of());
                try {
                    // alice's own key, from the capped address: each connection is refused before it can log in.
                    for (int i = 0; i < 5; i++) {
                        boolean loggedIn;
                        try (ClientSession session = client.connect("alice", new InetSocketAddress("127.0.0.1", bastion.port()),
                                null, new InetSocketAddress("127.0.0.9", 0)).verify(Duration.ofSeconds(10)).getSession()) {
                            try (InputStream in = Files.newInputStream(aliceKey)) {
                                session.addPublicKeyIdentity(SecurityUtils.loadKeyPairIdentities(null,
                                        NamedResource.ofName("alice"), in, null).iterator().next());
                            }
                            session.auth().verify(Duration.ofSeconds(10));
                            loggedIn = session.isAuthenticated();
                        } catch (Exception refused) {
                            loggedIn = false;
                        }
                        assertThat(loggedIn).as("connection %d from the capped address", i).isFalse();
                    }
                } finally {
                    client.stop();
                }

                OpenSsh.Result r = tunnel(ssh);

                assertThat(r.elapsed()).as("login and tunnel under the flood").isLessThan(LOGIN_UNDER_FLOOD);
                assertThat(bastion.audit().named("auth.accept").stream()
                        .filter(e -> e.path("client").path("ip").asText().equals("127.0.0.9")).toList())
                        .as(bastion.audit().dump()).isEmpty();
                assertThat(flood.attempts()).isGreaterThan(30);
            }
        }
    }

    @Test
    void floodThatKeepsDisplacingItsOwnConnectionsIsRefusedForConnectionsWithoutAKey() throws Exception {
        // Twelve addresses for four slots: each newcomer displaces a connection that never offered a key.
        List<String> addresses = new ArrayList<>();
        for (int i = 9; i < 21; i++) {
            addresses.add("127.0.0." + i);
        }
        try (BastionFixture bastion = bastion("  max_unauthenticated: 4\n  login_grace_time: 60s\n  noauth_penalty: 10s");
             Flood flood = Flood.from(addresses, bastion.port(), 1)) {
            awaitCount(bastion, "session.terminate", "max_unauthenticated", 11);

            // None ran out at login_grace_time: only the displacements can have put a source in the penalty.
            awaitCount(bastion, "session.terminate", "noauth_penalty", 1);
            assertThat(bastion.audit().named("session.close").stream()
                    .filter(e -> e.path("reason").asText().equals("login_grace_time")).toList()).isEmpty();
        }
    }

    @Test
    void penaltyExemptAddressIsNeitherCappedNorPenalised() throws Exception {
        try (BastionFixture bastion = bastion("  max_unauthenticated: 8\n  max_unauthenticated_per_source: 2\n"
                + "  login_grace_time: 1s\n  noauth_penalty: 1s\n  penalty_exempt: [\"127.0.0.9/32\"]");
             Flood office = Flood.from(List.of("127.0.0.9"), bastion.port(), 6)) {
            // Six at once from one exempt address, each running out at login_grace_time, twice over.
            awaitCount(bastion, "session.close", "login_grace_time", 12);

            assertThat(terminations(bastion, "127.0.0.9", "max_unauthenticated_per_source")).isEmpty();
            assertThat(terminations(bastion, "127.0.0.9", "noauth_penalty")).isEmpty();
            tunnel(ssh(bastion));
        }
    }

    @Test
    void dsaKeyIsRefusedWithItsReasonAndCountsTowardThePenaltyAtOnce() throws Exception {
        try (BastionFixture bastion = bastion("  max_auth_attempts: 2\n  auth_failure_penalty: 60s\n  login_grace_time: 60s");
             Socket waiting = connectFrom("127.0.0.1", bastion.port())) {
            OpenSsh ssh = ssh(bastion);
            JsonNode waitingOpen = bastion.audit().await("session.open", e -> true);

            OpenSsh.Result dsa = ssh.run(List.of("-N", "dsa"), TIMEOUT);

            assertThat(dsa.exitCode()).as(dsa.toString()).isNotZero();
            JsonNode reject = bastion.audit().await("auth.reject", e -> e.path("auth").path("key_type").asText().equals("ssh-dss"));
            assertThat(reject.path("reason").asText()).contains("DSA keys are refused");
            assertThat(terminations(bastion, "127.0.0.1", "auth_penalty")).isEmpty();

            // The second refused key reaches max_auth_attempts: the source is refused now, and its
            // connection still waiting to log in is ended, not left to count later.
            ssh.run(List.of("-N", "stranger"), TIMEOUT);
            JsonNode ended = bastion.audit().await("session.terminate", e -> e.path("session").equals(waitingOpen.path("session")));
            assertThat(ended.path("reason").asText()).isEqualTo("auth_penalty");
            OpenSsh.Result alice = ssh.run(List.of("-N", "alice"), TIMEOUT);
            assertThat(alice.exitCode()).as(alice.toString()).isNotZero();
            assertThat(bastion.audit().named("auth.accept")).isEmpty();
        }
    }

    /**
     * OpenSSH 7.2 and later never sign with {@code ssh-rsa} when the server's {@code server-sig-algs}
     * leaves it out (the stock client says "no mutual signature algorithm" and offers nothing), so
     * an older client is scripted with MINA's client signing with {@code ssh-rsa} regardless.
     */
    @Test
    void sha1RsaSignatureIsRefusedWithItsReasonAndCountsTowardThePenaltyAtOnce() throws Exception {
        try (BastionFixture bastion = bastion("  max_auth_attempts: 2\n  auth_failure_penalty: 60s")) {
            OpenSsh.Result stock = ssh(bastion).run(List.of("-v", "-N", "sha1"), TIMEOUT);
            assertThat(stock.exitCode()).as(stock.toString()).isNotZero();
            assertThat(stock.stderr()).contains("no mutual signature algorithm");

            SshClient client = client(List.of(BuiltinSignatures.rsa));
            try {
                for (int i = 0; i < 3; i++) {
                    try (ClientSession session = connect(client, bastion.port(), rsaKey)) {
                        assertThatThrownBy(() -> session.auth().verify(Duration.ofSeconds(10))).isNotNull();
                    } catch (IOException refusedAtAccept) {
                        // the third: the source is in the penalty box by now
                    }
                }
            } finally {
                client.stop();
            }

            List<JsonNode> rejects = bastion.audit().named("auth.reject").stream()
                    .filter(e -> e.path("reason").asText().contains("ssh-rsa (SHA-1) signatures are refused")).toList();
            assertThat(rejects).hasSize(2);
            assertThat(rejects.get(0).path("auth").path("key_type").asText()).isEqualTo("ssh-rsa");
            bastion.audit().await("session.terminate", e -> e.path("reason").asText().equals("auth_penalty"));
            assertThat(bastion.audit().named("auth.accept")).isEmpty();
        }
    }

    /**
     * Keys no client library will send are written on the wire by a scripted client: a key type
     * nobody knows, and an ed25519 key cut short. Both are refused before MINA would fail on them.
     */
    @Test
    void unknownKeyTypeAndUnreadableKeyAreRefusedWithTheirReasonsAndCountAtOnce() throws Exception {
        try (BastionFixture bastion = bastion("  max_auth_attempts: 2\n  auth_failure_penalty: 60s")) {
            byte[] unknown = blob("ssh-foo@example.com", new byte[16]);
            byte[] cutShort = blob("ssh-ed25519", new byte[5]);
            for (byte[][] offer : List.of(new byte[][] {"ssh-foo@example.com".getBytes(), unknown},
                    new byte[][] {"ssh-ed25519".getBytes(), cutShort})) {
                SshClient client = SshClient.setUpDefaultClient();
                client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
                client.setUserAuthFactories(List.of(CraftedKeyAuth.factory(new String(offer[0]), offer[1])));
                client.start();
                try (ClientSession session = client.connect("alice", "127.0.0.1", bastion.port())
                        .verify(Duration.ofSeconds(10)).getSession()) {
                    assertThatThrownBy(() -> session.auth().verify(Duration.ofSeconds(10))).isNotNull();
                } finally {
                    client.stop();
                }
            }

            JsonNode unknownReject = bastion.audit().await("auth.reject",
                    e -> e.path("auth").path("key_type").asText().equals("ssh-foo@example.com"));
            assertThat(unknownReject.path("reason").asText()).isEqualTo("key type ssh-foo@example.com is not accepted");
            JsonNode unreadable = bastion.audit().await("auth.reject", e -> e.path("reason").asText().startsWith("unreadable"));
            assertThat(unreadable.path("reason").asText()).contains("expected 32");
            // The second refusal reached max_auth_attempts: its connection was ended at once.
            JsonNode ended = bastion.audit().await("session.terminate", e -> e.path("reason").asText().equals("auth_penalty"));
            assertThat(ended.path("session")).isEqualTo(unreadable.path("session"));
        }
    }

    private static byte[] blob(String type, byte[] field) {
        ByteArrayBuffer b = new ByteArrayBuffer();
        b.putString(type);
        b.putBytes(field);
        return b.getCompactData();
    }

    /** A client {@code publickey} method that offers one key blob as given, once, without a signature. */
    static final class CraftedKeyAuth extends AbstractUserAuth {
        private final String algorithm;
        private final byte[] blob;
        private boolean sent;

        private CraftedKeyAuth(String algorithm, byte[] blob) {
            super("publickey");
            this.algorithm = algorithm;
            this.blob = blob;
        }

        static UserAuthFactory factory(String algorithm, byte[] blob) {
            return new AbstractUserAuthFactory("publickey") {
                @Override
                public UserAuth createUserAuth(ClientSession session) {
                    return new CraftedKeyAuth(algorithm, blob);
                }
            };
        }

        @Override
        protected boolean sendAuthDataRequest(ClientSession session, String service) throws Exception {
            if (sent) {
                return false;
            }
            sent = true;
            Buffer b =
                    session.createBuffer(SshConstants.SSH_MSG_USERAUTH_REQUEST);
            b.putString(session.getUsername());
            b.putString(service);
            b.putString(getName());
            b.putBoolean(false);
            b.putString(algorithm);
            b.putBytes(blob);
            session.writePacket(b);
            return true;
        }

        @Override
        protected boolean processAuthDataRequest(ClientSession session, String service,
                                                 Buffer buffer) {
            return false;
        }
    }

    @Test
    void parallelConnectionsTryingKeysArePenalisedAfterMaxAuthAttemptsInTotal() throws Exception {
        try (BastionFixture bastion = bastion("  max_auth_attempts: 3\n  auth_failure_penalty: 60s\n  login_grace_time: 60s")) {
            SshClient client = client(List.of());
            List<ClientSession> sessions = new ArrayList<>();
            try {
                // Six connections open before any of them tries a key, as a parallel guesser would.
                for (int i = 0; i < 6; i++) {
                    sessions.add(connect(client, bastion.port(), strangerKey));
                }
                for (ClientSession session : sessions) {
                    try {
                        session.auth().verify(Duration.ofSeconds(10));
                    } catch (Exception expected) {
                        // refused, or ended by the penalty
                    }
                }
                List<JsonNode> guesses = bastion.audit().named("auth.reject").stream()
                        .filter(e -> e.path("reason").asText().contains("is not one of alice's keys")).toList();
                assertThat(guesses).as(bastion.audit().dump()).hasSize(3);
                // The connections still waiting to log in are ended with the penalty's reason.
                awaitCount(bastion, "session.terminate", "auth_penalty", 6);
            } finally {
                for (ClientSession s : sessions) {
                    s.close(true);
                }
                client.stop();
            }
        }
    }

    /** Waits until at least {@code count} events named {@code event} carry {@code reason}. */
    private static void awaitCount(BastionFixture bastion, String event, String reason, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        long seen = 0;
        while (System.nanoTime() < deadline) {
            seen = bastion.audit().named(event).stream().filter(e -> e.path("reason").asText().equals(reason)).count();
            if (seen >= count) {
                break;
            }
            Thread.sleep(50);
        }
        assertThat(seen).as(bastion.audit().dump()).isGreaterThanOrEqualTo(count);
    }

    /** MINA's client, a real peer; {@code signatures} empty means its defaults. */
    private static SshClient client(List<BuiltinSignatures> signatures) {
        SshClient client = SshClient.setUpDefaultClient();
        // The host key is not what these tests are about; JumpIT checks it with StrictHostKeyChecking.
        client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
        if (!signatures.isEmpty()) {
            List<NamedFactory<Signature>> only = new ArrayList<>(signatures);
            client.setUserAuthFactories(List.of(new UserAuthPublicKeyFactory(only)));
        }
        client.start();
        return client;
    }

    private static ClientSession connect(SshClient client, int port, Path key) throws Exception {
        ClientSession session = client.connect("alice", "127.0.0.1", port).verify(Duration.ofSeconds(10)).getSession();
        try (InputStream in = Files.newInputStream(key)) {
            KeyPair pair = SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(key.getFileName().toString()), in, null)
                    .iterator().next();
            session.addPublicKeyIdentity(pair);
        }
        return session;
    }

    private static Socket connectFrom(String from, int port) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        return s;
    }

    /**
     * The hostile client: from each address, {@code perAddress} connections that never send a
     * banner, each reopened as soon as the server closes it. Bounded: it stops when closed, and
     * after a minute in any case.
     */
    static final class Flood implements AutoCloseable {
        private static final Duration MAX_RUN = Duration.ofSeconds(60);
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicInteger attempts = new AtomicInteger();
        private final List<Thread> threads = new ArrayList<>();

        static Flood from(List<String> addresses, int port, int perAddress) {
            Flood f = new Flood();
            long deadline = System.nanoTime() + MAX_RUN.toNanos();
            for (String a : addresses) {
                for (int i = 0; i < perAddress; i++) {
                    Thread t = new Thread(() -> f.run(a, port, deadline), "flood-" + a + "-" + i);
                    t.setDaemon(true);
                    t.start();
                    f.threads.add(t);
                }
            }
            return f;
        }

        private void run(String from, int port, long deadline) {
            byte[] sink = new byte[4096];
            while (!stop.get() && System.nanoTime() < deadline) {
                attempts.incrementAndGet();
                try (Socket s = connectFrom(from, port)) {
                    s.setSoTimeout(200);
                    InputStream in = s.getInputStream();
                    while (!stop.get() && System.nanoTime() < deadline) {
                        try {
                            if (in.read(sink) < 0) {
                                break; // the server closed it: refill
                            }
                        } catch (SocketTimeoutException stillOpen) {
                            // holding the slot, saying nothing
                        }
                    }
                } catch (IOException e) {
                    // refused or reset: try again
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        int attempts() {
            return attempts.get();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join(5_000);
            }
        }
    }
}
