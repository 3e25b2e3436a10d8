package io.sallyport.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.audit.Auditor;
import io.sallyport.cli.ServerAssembly;
import io.sallyport.config.Config;
import io.sallyport.config.ConfigLoader;
import io.sallyport.identity.AuthDecision;
import io.sallyport.identity.IdentitySource;
import io.sallyport.identity.KeyPolicy;
import io.sallyport.identity.Logins;
import io.sallyport.identity.SshPublicKey;
import io.sallyport.it.RecordingAuditSink;
import io.sallyport.net.TargetResolver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A reload racing the things that happen beside it: a login, the server's stop. */
class ReloadRacesTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private final int port = freePort();

    /**
     * A login decided under the rules of the moment, whose session MINA reports authenticated only
     * after a reload has re-checked every live session: the re-check skipped it (not yet logged in),
     * so it is held to the rules in force when it becomes a session.
     */
    @Test
    void loginAcceptedJustBeforeAReloadRemovedTheUserIsEndedAsRevoked() throws Exception {
        KeyPair alice = rsa();
        Config before = config("before.yaml", "alice", alice);
        Config after = config("after.yaml", "bob", rsa());
        ServerAssembly.Validated v = ServerAssembly.validate(before, TargetResolver.system());
        ServerAssembly.Validated next = ServerAssembly.validate(after, TargetResolver.system());
        RecordingAuditSink audit = new RecordingAuditSink();
        Auditor auditor = new Auditor("test", Clock.systemUTC(), List.of(audit));
        BastionServer[] server = new BastionServer[1];
        AtomicInteger asked = new AtomicInteger();
        // Each of the client's two requests (the query, then the signed one) is decided twice: before
        // MINA's own checks, then by MINA's callback. After the last decision, before MINA reports the
        // session authenticated, the reload runs and re-checks the live sessions.
        IdentitySource reloadsAfterDeciding = new IdentitySource() {
            @Override
            public AuthDecision authenticate(String user, SshPublicKey key) {
                AuthDecision d = v.local().authenticate(user, key);
                if (asked.incrementAndGet() == 4) {
                    server[0].apply(new Rules(after, next.logins(), next.policy()), Optional.empty(), () -> {});
                }
                return d;
            }
        };
        Logins logins = new Logins(new KeyPolicy(before.policy().minRsaBits()), List.of(reloadsAfterDeciding));
        server[0] = new BastionServer(before, List.of(rsa()), logins, v.policy(), auditor);
        SshClient client = SshClient.setUpDefaultClient();
        client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
        try {
            server[0].start();
            client.start();
            try (ClientSession session = client.connect("alice", "127.0.0.1", server[0].boundAddresses().get(0).getPort())
                    .verify(WAIT).getSession()) {
                session.addPublicKeyIdentity(alice);
                try {
                    session.auth().verify(WAIT);
                } catch (java.io.IOException e) {
                    // The server may end the session before the client has read its login's success.
                }

                JsonNode ended = audit.await("session.terminate", e -> e.path("user").asText().equals("alice"));
                assertThat(asked.get()).as("the reload ran between the decision and the login").isEqualTo(4);
                assertThat(ended.path("reason").asText()).isEqualTo("revoked");
            }
        } finally {
            client.stop();
            server[0].close();
            auditor.close();
        }
    }

    /** SIGHUP or {@code sallyport reload} as the server shuts down: nothing is applied after its stop. */
    @Test
    void reloadAfterTheServerStoppedAppliesNothingAndAuditsNothingAfterServerStop() throws Exception {
        Config before = config("before.yaml", "alice", rsa());
        Config after = config("after.yaml", "bob", rsa());
        ServerAssembly.Validated v = ServerAssembly.validate(before, TargetResolver.system());
        ServerAssembly.Validated next = ServerAssembly.validate(after, TargetResolver.system());
        RecordingAuditSink audit = new RecordingAuditSink();
        Auditor auditor = new Auditor("test", Clock.systemUTC(), List.of(audit));
        BastionServer server = new BastionServer(before, List.of(rsa()), v.logins(), v.policy(), auditor);
        try {
            server.start();
            server.stop("shutdown");
            Rules rules = server.rules();
            AtomicInteger swapped = new AtomicInteger();

            org.assertj.core.api.Assertions.assertThatThrownBy(() -> server.apply(new Rules(after, next.logins(), next.policy()),
                    Optional.empty(), swapped::incrementAndGet)).isInstanceOf(IllegalStateException.class);

            assertThat(swapped.get()).isZero();
            assertThat(server.rules()).isSameAs(rules);
            List<JsonNode> events = audit.all();
            assertThat(events.get(events.size() - 1).path("event").asText()).isEqualTo("server.stop");
        } finally {
            server.close();
            auditor.close();
        }
    }

    /**
     * A tunnel or login decided under the new rules on another thread the moment they are in force
     * is refused for a reason the reload caused: its event must come after {@code config.reload}.
     */
    @Test
    void theNewRulesComeIntoForceOnlyOnceTheReloadIsAudited() throws Exception {
        Config before = config("before.yaml", "alice", rsa());
        Config after = config("after.yaml", "bob", rsa());
        ServerAssembly.Validated v = ServerAssembly.validate(before, TargetResolver.system());
        ServerAssembly.Validated next = ServerAssembly.validate(after, TargetResolver.system());
        Auditor auditor = new Auditor("test", Clock.systemUTC(), List.of(new RecordingAuditSink()));
        BastionServer server = new BastionServer(before, List.of(rsa()), v.logins(), v.policy(), auditor);
        try {
            Rules old = server.rules();
            Rules[] inForceWhileAudited = new Rules[1];

            server.apply(new Rules(after, next.logins(), next.policy()), Optional.empty(),
                    () -> inForceWhileAudited[0] = server.rules());

            assertThat(inForceWhileAudited[0]).isSameAs(old);
            assertThat(server.rules().config()).isSameAs(after);
        } finally {
            server.close();
            auditor.close();
        }
    }

    private Config config(String name, String user, KeyPair key) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, String.join("\n",
                "listen: [\"127.0.0.1:" + port + "\"]",
                "host_keys: [\"" + dir.resolve("host_key") + "\"]",
                "identity:",
                "  local:",
                "    users:",
                "      " + user + ":",
                "        roles: [ops]",
                "        keys: [\"" + PublicKeyEntry.toString(key.getPublic()) + "\"]",
                "policy:",
                "  roles:",
                "    ops:",
                "      allow:",
                "        - \"10.0.0.0/8:22\"",
                ""));
        return ConfigLoader.load(file);
    }

    private static int freePort() {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static KeyPair rsa() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(3072);
        return g.generateKeyPair();
    }
}
