package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.OpenSsh;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelSession;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a client asks on a {@code session} channel besides a shell: a terminal ({@code ssh -t}),
 * environment variables ({@code SetEnv}, {@code SendEnv}), and whatever a scripted client makes
 * up. All refused; each kind audited once per connection as {@code request.reject}; values of
 * environment variables never recorded.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class SessionRequestsIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;

    BastionFixture bastion;
    OpenSsh ssh;
    Path aliceKey;

    @BeforeAll
    void start() throws Exception {
        OpenSsh.requireClient();
        aliceKey = OpenSsh.keygen(dir, "alice");
        bastion = BastionFixture.start(Files.createDirectories(dir.resolve("bastion")), String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: []",
                "        keys: [\"" + OpenSsh.publicKeyLine(aliceKey) + "\"]",
                ""), TargetResolver.system());
        Path knownHosts = dir.resolve("known_hosts");
        OpenSsh.addKnownHost(knownHosts, "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        ssh = OpenSsh.config()
                .host(OpenSsh.host("bastion").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .writeTo(dir.resolve("ssh_config"));
    }

    @AfterAll
    void stop() throws Exception {
        if (bastion != null) {
            bastion.close();
        }
    }

    @Test
    void terminalRequestedWithSshDashTIsRefusedAndAudited() throws Exception {
        OpenSsh.Result r = ssh.run(List.of("-tt", "bastion"), new byte[0], TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("PTY allocation request failed");
        JsonNode pty = bastion.audit().await("request.reject", e -> e.path("request").asText().equals("pty"));
        assertThat(pty.path("user").asText()).isEqualTo("alice");
        assertThat(pty.path("reason").asText()).isEqualTo("pty is not available on a jump server; use ssh -J or ssh -W");
        JsonNode shell = bastion.audit().await("request.reject", e -> e.path("request").asText().equals("shell")
                && e.path("session").asText().equals(pty.path("session").asText()));
        assertThat(shell).isNotNull();
    }

    /**
     * {@code SetEnv} with two variables sends two {@code env} requests on one channel: the first is
     * audited by name, the second adds nothing; no value reaches the audit trail.
     */
    @Test
    void setEnvIsAuditedByVariableNameAndTheValueIsNeverRecorded() throws Exception {
        int mark = bastion.audit().size();
        OpenSsh.Result r = ssh.run(List.of("-o", "SetEnv=SALLYPORT_FIRST=s3cret-one SALLYPORT_SECOND=s3cret-two",
                "bastion", "true"), new byte[0], TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        JsonNode env = bastion.audit().await("request.reject", e -> e.path("request").asText().equals("env")
                && e.path("reason").asText().contains("SALLYPORT_FIRST"));
        String session = env.path("session").asText();
        bastion.audit().await("session.close", e -> e.path("session").asText().equals(session));
        List<JsonNode> events = bastion.audit().ofSession(session);
        assertThat(events.stream().filter(e -> e.path("request").asText().equals("env")))
                .as("one env event per channel\n%s", bastion.audit().dump()).hasSize(1);
        assertThat(events).extracting(e -> e.path("request").asText()).contains("exec");
        assertThat(bastion.audit().since(mark).toString()).doesNotContain("s3cret");
    }

    @Test
    void sendEnvFromTheClientsEnvironmentIsAuditedByName() throws Exception {
        List<String> command = new ArrayList<>(List.of("env", "LC_SALLYPORT_TEST=hunter2"));
        command.addAll(ssh.command(List.of("-o", "SendEnv=LC_SALLYPORT_TEST", "bastion", "true")));
        int mark = bastion.audit().size();

        ChildProcess.Finished r = ChildProcess.run(command, null, TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        JsonNode env = bastion.audit().await("request.reject", e -> e.path("request").asText().equals("env")
                && e.path("reason").asText().contains("LC_SALLYPORT_TEST"));
        assertThat(env.path("user").asText()).isEqualTo("alice");
        bastion.audit().await("session.close", e -> e.path("session").asText().equals(env.path("session").asText()));
        assertThat(bastion.audit().since(mark).toString()).doesNotContain("hunter2");
    }

    /**
     * The stock client sends a handful of requests; a scripted one (MINA's client, raw channel
     * requests) can send thousands. Each kind is audited once per connection, the quiet ones
     * (follow-ups of a refused shell, liveness pings) never, and an unknown type once as
     * {@code other}: the audit trail grows by a bounded number of events however long it goes on.
     */
    @Test
    void clientRepeatingRequestsOnOneChannelCannotFloodTheAuditTrail() throws Exception {
        SshClient client = SshClient.setUpDefaultClient();
        client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
        client.start();
        try (ClientSession session = client.connect("alice", "127.0.0.1", bastion.port()).verify(TIMEOUT).getSession()) {
            try (var in = Files.newInputStream(aliceKey)) {
                session.addPublicKeyIdentity(SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName("alice"), in, null)
                        .iterator().next());
            }
            session.auth().verify(TIMEOUT);
            ChannelSession channel = new ChannelSession();
            session.getService(ConnectionService.class).registerChannel(channel);
            channel.open().verify(TIMEOUT);
            int mark = bastion.audit().size();

            for (int i = 0; i < 300; i++) {
                request(session, channel, "env", "VAR_" + i, "secret-" + i);
                request(session, channel, "unknown-" + i + "@example.com", "x", "y");
                request(session, channel, "exec", "cat /etc/shadow #" + i, null);
                for (String quiet : List.of("window-change", "signal", "break", "eow@openssh.com", "keepalive@openssh.com")) {
                    request(session, channel, quiet, "x", null);
                }
            }
            request(session, channel, "pty-req", "xterm", null);
            // Requests on a channel are handled in order: once the shell is audited, so is all before it.
            request(session, channel, "shell", null, null);
            String id = bastion.audit().await("request.reject", e -> e.path("reason").asText().startsWith("env VAR_0 "))
                    .path("session").asText();
            bastion.audit().await("request.reject", e -> e.path("request").asText().equals("shell")
                    && e.path("session").asText().equals(id));

            List<JsonNode> events = bastion.audit().since(mark);
            assertThat(events).as(bastion.audit().dump()).extracting(e -> e.path("request").asText())
                    .containsExactly("env", "other", "exec", "pty", "shell");
            assertThat(events.get(0).path("reason").asText()).startsWith("env VAR_0 ");
            assertThat(events.get(1).path("reason").asText()).startsWith("session request 'unknown-0@example.com'");
            assertThat(events.toString()).doesNotContain("secret-").doesNotContain("shadow");
        } finally {
            client.stop();
        }
    }

    /**
     * Opening a fresh session channel for each try used to get every kind audited again on each
     * one. Now each kind is audited once per connection, and past 100 session channels the
     * connection is ended.
     */
    @Test
    void clientOpeningAndClosingSessionChannelsInALoopIsAuditedOncePerKindAndThenDisconnected() throws Exception {
        SshClient client = SshClient.setUpDefaultClient();
        client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
        client.start();
        try (ClientSession session = login(client)) {
            int opened = 0;
            for (int i = 0; i < 150 && session.isOpen(); i++) {
                ChannelSession channel = new ChannelSession();
                try {
                    session.getService(ConnectionService.class).registerChannel(channel);
                } catch (Exception closedMeanwhile) {
                    break;
                }
                OpenFuture open = channel.open();
                if (!open.await(TIMEOUT) || !open.isOpened()) {
                    break;
                }
                opened++;
                request(session, channel, "env", "LOOP_" + i, "secret-" + i);
                request(session, channel, "unknown-" + i + "@example.com", "x", "y");
                request(session, channel, "exec", "cat /etc/shadow #" + i, null);
                request(session, channel, "pty-req", "xterm", null);
                request(session, channel, "shell", null, null);
                channel.close(false).await(TIMEOUT);
            }

            JsonNode ended = bastion.audit().await("session.terminate",
                    e -> e.path("reason").asText().equals("max_session_channels"));
            String id = ended.path("session").asText();
            bastion.audit().await("session.close", e -> e.path("session").asText().equals(id));
            List<JsonNode> rejects = bastion.audit().ofSession(id).stream()
                    .filter(e -> e.path("event").asText().equals("request.reject")).toList();
            assertThat(opened).isEqualTo(100);
            assertThat(rejects).as(bastion.audit().dump()).extracting(e -> e.path("request").asText())
                    .containsExactly("env", "other", "exec", "pty", "shell");
            assertThat(rejects.toString()).doesNotContain("secret-").doesNotContain("shadow");
        } finally {
            client.stop();
        }
    }

    /** The eleventh open session channel is refused; asking again and again is audited once. */
    @Test
    void clientRetryingAnEleventhSessionChannelIsAuditedOnce() throws Exception {
        SshClient client = SshClient.setUpDefaultClient();
        client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
        client.start();
        try (ClientSession session = login(client)) {
            List<ChannelSession> held = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                ChannelSession channel = new ChannelSession();
                session.getService(ConnectionService.class).registerChannel(channel);
                channel.open().verify(TIMEOUT);
                held.add(channel);
            }
            int refused = 0;
            for (int i = 0; i < 40; i++) {
                ChannelSession extra = new ChannelSession();
                session.getService(ConnectionService.class).registerChannel(extra);
                OpenFuture open = extra.open();
                if (open.await(TIMEOUT) && open.getException() != null) {
                    refused++;
                }
            }
            // One more request on a held channel: once it is audited, the server has handled all of the above.
            request(session, held.get(0), "shell", null, null);
            JsonNode shell = bastion.audit().await("request.reject", e -> e.path("request").asText().equals("shell")
                    && bastion.audit().ofSession(e.path("session").asText()).stream()
                            .anyMatch(x -> x.path("request").asText().equals("session")));
            String id = shell.path("session").asText();

            assertThat(refused).isEqualTo(40);
            assertThat(session.isOpen()).isTrue();
            assertThat(bastion.audit().ofSession(id).stream().filter(e -> e.path("request").asText().equals("session")))
                    .as(bastion.audit().dump()).singleElement()
                    .satisfies(e -> assertThat(e.path("reason").asText())
                            .isEqualTo("more than 10 session channels open on one connection"));
        } finally {
            client.stop();
        }
    }

    private ClientSession login(SshClient client) throws Exception {
        ClientSession session = client.connect("alice", "127.0.0.1", bastion.port()).verify(TIMEOUT).getSession();
        try (var in = Files.newInputStream(aliceKey)) {
            session.addPublicKeyIdentity(SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName("alice"), in, null)
                    .iterator().next());
        }
        session.auth().verify(TIMEOUT);
        return session;
    }

    /** Sends a raw {@code SSH_MSG_CHANNEL_REQUEST} without asking for a reply. */
    private static void request(ClientSession session, ChannelSession channel, String type, String first, String second)
            throws Exception {
        Buffer b = session.createBuffer(SshConstants.SSH_MSG_CHANNEL_REQUEST, 64);
        b.putUInt(channel.getRecipient());
        b.putString(type);
        b.putBoolean(false);
        if (first != null) {
            b.putString(first);
        }
        if (second != null) {
            b.putString(second);
        }
        session.writePacket(b).verify(TIMEOUT);
    }
}
