package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.OpenSsh;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every limit is enforced on a real connection from the stock client, and every enforcement is
 * audited. Each test runs its own bastion with the limit under test set low.
 */
class LimitsIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final AtomicInteger COUNTER = new AtomicInteger();

    @TempDir
    static Path dir;
    static Path aliceKey;
    static Path strangerKey;

    @BeforeAll
    static void keys() {
        OpenSsh.requireClient();
        aliceKey = OpenSsh.keygen(dir, "alice");
        strangerKey = OpenSsh.keygen(dir, "stranger");
    }

    /** A bastion whose alice may log in, with the given policy and limits sections. */
    private static BastionFixture bastion(String policy, String limits) throws Exception {
        Path work = Files.createDirectories(dir.resolve("b" + COUNTER.incrementAndGet()));
        String yaml = String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: []",
                "        keys: [\"" + OpenSsh.publicKeyLine(aliceKey) + "\"]",
                "policy:",
                policy,
                "limits:",
                limits,
                "");
        return BastionFixture.start(work, yaml, TargetResolver.system());
    }

    private static OpenSsh ssh(BastionFixture bastion) throws Exception {
        Path work = bastion.configFile().getParent();
        Path knownHosts = work.resolve("known_hosts");
        OpenSsh.addKnownHost(knownHosts, "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        return OpenSsh.config()
                .host(OpenSsh.host("alice").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .host(OpenSsh.host("stranger").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(strangerKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .writeTo(work.resolve("ssh_config"));
    }

    @Test
    void idleSessionIsTerminatedAndAudited() throws Exception {
        try (BastionFixture bastion = bastion("  idle_timeout: 2s", "  max_auth_attempts: 6")) {
            OpenSsh.Result r = ssh(bastion).run(List.of("-N", "alice"), TIMEOUT);

            assertThat(r.timedOut()).as(r.toString()).isFalse();
            JsonNode terminate = bastion.audit().await("session.terminate", e -> true);
            assertThat(terminate.path("reason").asText()).isEqualTo("idle");
            assertThat(terminate.path("user").asText()).isEqualTo("alice");
            JsonNode close = bastion.audit().await("session.close", e -> e.path("session").equals(terminate.path("session")));
            assertThat(close.path("reason").asText()).isEqualTo("idle");
        }
    }

    @Test
    void sessionIsTerminatedAtMaxSessionDuration() throws Exception {
        try (BastionFixture bastion = bastion("  max_session_duration: 2s", "  max_auth_attempts: 6")) {
            OpenSsh.Result r = ssh(bastion).run(List.of("-N", "alice"), TIMEOUT);

            assertThat(r.timedOut()).as(r.toString()).isFalse();
            JsonNode terminate = bastion.audit().await("session.terminate", e -> true);
            assertThat(terminate.path("reason").asText()).isEqualTo("max_duration");
        }
    }

    @Test
    void loginBeyondMaxSessionsPerUserIsRefused() throws Exception {
        try (BastionFixture bastion = bastion("  max_sessions_per_user: 1", "  max_auth_attempts: 6")) {
            OpenSsh ssh = ssh(bastion);
            Process first = new ProcessBuilder(ssh.command(List.of("-N", "alice")))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                bastion.audit().await("auth.accept", e -> true);
                OpenSsh.Result second = ssh.run(List.of("-N", "alice"), TIMEOUT);

                assertThat(second.exitCode()).as(second.toString()).isNotZero();
                assertThat(second.stderr()).contains("Permission denied");
                JsonNode reject = bastion.audit().await("auth.reject", e -> true);
                assertThat(reject.path("reason").asText()).startsWith("max_sessions_per_user");
                assertThat(reject.path("user").asText()).isEqualTo("alice");
            } finally {
                first.destroy();
                first.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void connectionsBeyondMaxUnauthenticatedAreClosed() throws Exception {
        try (BastionFixture bastion = bastion("  idle_timeout: 30m", "  max_unauthenticated: 1\n  login_grace_time: 60s");
             Socket lingering = new Socket(InetAddress.getLoopbackAddress(), bastion.port())) {
            bastion.audit().await("session.open", e -> true);
            OpenSsh.Result r = ssh(bastion).run(List.of("-N", "alice"), TIMEOUT);

            assertThat(r.exitCode()).as(r.toString()).isNotZero();
            JsonNode terminate = bastion.audit().await("session.terminate", e -> true);
            assertThat(terminate.path("reason").asText()).isEqualTo("max_unauthenticated");
            assertThat(bastion.audit().named("auth.accept")).isEmpty();
        }
    }

    @Test
    void connectionThatDoesNotLogInWithinGraceTimeIsClosed() throws Exception {
        try (BastionFixture bastion = bastion("  idle_timeout: 30m", "  login_grace_time: 1s");
             Socket silent = new Socket(InetAddress.getLoopbackAddress(), bastion.port())) {
            silent.setSoTimeout(15_000);
            JsonNode close = bastion.audit().await("session.close", e -> true);

            assertThat(close.path("reason").asText()).isEqualTo("login_grace_time");
            assertThat(close.has("user")).isFalse();
        }
    }

    @Test
    void sourceWithRepeatedFailedLoginsIsRefusedForThePenaltyPeriod() throws Exception {
        try (BastionFixture bastion = bastion("  idle_timeout: 30m", "  max_auth_attempts: 2\n  auth_failure_penalty: 60s")) {
            OpenSsh ssh = ssh(bastion);
            OpenSsh.Result first = ssh.run(List.of("-N", "stranger"), TIMEOUT);
            assertThat(first.stderr()).contains("Permission denied");
            // The refusal that reaches max_auth_attempts starts the penalty at once and ends its
            // connection: the client hears either the refusal or the disconnect first.
            OpenSsh.Result second = ssh.run(List.of("-N", "stranger"), TIMEOUT);
            assertThat(second.exitCode()).as(second.toString()).isNotZero();
            assertThat(second.stderr()).containsAnyOf("Permission denied", "too many failed logins from your address");
            // Even the right key is refused now: the source is in the penalty box.
            OpenSsh.Result r = ssh.run(List.of("-N", "alice"), TIMEOUT);

            assertThat(r.exitCode()).as(r.toString()).isNotZero();
            JsonNode terminate = bastion.audit().await("session.terminate", e -> true);
            assertThat(terminate.path("reason").asText()).isEqualTo("auth_penalty");
            assertThat(terminate.path("client").path("ip").asText()).isEqualTo("127.0.0.1");
            assertThat(bastion.audit().named("auth.accept")).isEmpty();
        }
    }

    /**
     * The stock client opens one session channel per connection, so this drives MINA's own client,
     * a real peer on the wire, to open more than OpenSSH's MaxSessions default would allow.
     */
    @Test
    void moreThanTenSessionChannelsOnOneConnectionAreRefused() throws Exception {
        try (BastionFixture bastion = bastion("  idle_timeout: 30m", "  max_auth_attempts: 6")) {
            org.apache.sshd.client.SshClient client = org.apache.sshd.client.SshClient.setUpDefaultClient();
            // The host key is not what this test is about; JumpIT checks it with StrictHostKeyChecking.
            client.setServerKeyVerifier(org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier.INSTANCE);
            client.start();
            try (org.apache.sshd.client.session.ClientSession session =
                         client.connect("alice", "127.0.0.1", bastion.port()).verify(Duration.ofSeconds(10)).getSession()) {
                try (var in = Files.newInputStream(aliceKey)) {
                    session.addPublicKeyIdentity(org.apache.sshd.common.util.security.SecurityUtils.loadKeyPairIdentities(
                            null, org.apache.sshd.common.NamedResource.ofName("alice"), in, null).iterator().next());
                }
                session.auth().verify(Duration.ofSeconds(10));
                List<org.apache.sshd.client.channel.ClientChannel> open = new java.util.ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    org.apache.sshd.client.channel.ClientChannel ch = sessionChannel(session);
                    ch.open().verify(Duration.ofSeconds(10));
                    open.add(ch);
                }
                org.apache.sshd.client.channel.ClientChannel eleventh = sessionChannel(session);
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> eleventh.open().verify(Duration.ofSeconds(10)))
                        .hasStackTraceContaining("SshChannelOpenException");
                JsonNode reject = bastion.audit().await("request.reject", e -> e.path("request").asText().equals("session"));
                assertThat(reject.path("reason").asText()).contains("more than 10 session channels");

                // Closing one gives its slot back.
                open.get(0).close(false).await(Duration.ofSeconds(10));
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                boolean reopened = false;
                while (!reopened && System.nanoTime() < deadline) {
                    org.apache.sshd.client.channel.ClientChannel again = sessionChannel(session);
                    try {
                        again.open().verify(Duration.ofSeconds(10));
                        reopened = true;
                    } catch (java.io.IOException e) {
                        Thread.sleep(50); // the server may not have seen the close yet
                    }
                }
                assertThat(reopened).as("a slot is given back when a session channel closes").isTrue();
            } finally {
                client.stop();
            }
        }
    }

    /** A bare session channel: opened, nothing requested on it. */
    private static org.apache.sshd.client.channel.ClientChannel sessionChannel(
            org.apache.sshd.client.session.ClientSession session) throws java.io.IOException {
        org.apache.sshd.client.channel.ChannelSession channel = new org.apache.sshd.client.channel.ChannelSession();
        session.getService(org.apache.sshd.common.session.ConnectionService.class).registerChannel(channel);
        return channel;
    }
}
