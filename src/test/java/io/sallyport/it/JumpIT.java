package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.EchoServer;
import io.sallyport.testing.OpenSsh;
import io.sallyport.testing.PrivateSubnet;
import io.sallyport.testing.TargetSshd;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The central promise, end to end: the stock OpenSSH client jumps through sallyport to a private
 * subnet (a network namespace with a real {@code sshd} and an echo service), cannot go anywhere
 * else or do anything else, and every step is audited.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JumpIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int ECHO_PORT = 7777;
    private static final int SSHD_PORT = 2222;

    @TempDir
    static Path dir;

    PrivateSubnet subnet;
    EchoServer.Handle echo;
    TargetSshd sshd;
    BastionFixture bastion;
    OpenSsh ssh;
    Path aliceKey;
    final AtomicInteger rebindCalls = new AtomicInteger();

    @BeforeAll
    void startWorld() throws Exception {
        OpenSsh.requireClient();
        subnet = PrivateSubnet.create();
        String target = subnet.targetAddress();
        echo = EchoServer.startIn(subnet, ECHO_PORT);

        aliceKey = OpenSsh.keygen(dir, "alice");
        Path strangerKey = OpenSsh.keygen(dir, "stranger");
        Path authorized = dir.resolve("authorized_keys");
        Files.writeString(authorized, OpenSsh.publicKeyLine(aliceKey) + "\n");
        if (TargetSshd.available() || "true".equals(System.getenv("CI"))) {
            sshd = TargetSshd.start(subnet, SSHD_PORT, authorized, Files.createDirectories(dir.resolve("sshd")));
        } else {
            System.err.println("JumpIT: sshd is not installed; the ssh -J test is skipped (install openssh-server)");
        }

        TargetResolver resolver = name -> switch (name) {
            case "echo.internal.test" -> List.of(InetAddress.getByName(target));
            case "meta.internal.test" -> List.of(InetAddress.getByName("169.254.169.254"));
            case "mixed.internal.test" -> List.of(InetAddress.getByName(target), InetAddress.getByName("169.254.169.254"));
            case "public.internal.test" -> List.of(InetAddress.getByName("192.0.2.10"));
            // Rebinding: the first answer is the private target, every later one the metadata service.
            case "rebind.internal.test" -> List.of(InetAddress.getByName(
                    rebindCalls.getAndIncrement() == 0 ? target : "169.254.169.254"));
            default -> throw new java.net.UnknownHostException(name);
        };
        String yaml = String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [ops]",
                "        keys: [\"" + OpenSsh.publicKeyLine(aliceKey) + "\"]",
                "      nobody:",
                "        roles: []",
                "        keys: [\"" + OpenSsh.publicKeyLine(strangerKey) + "\"]",
                "policy:",
                "  roles:",
                "    ops:",
                "      allow:",
                "        - \"" + target + "/32:" + SSHD_PORT + "," + ECHO_PORT + "\"",
                "        - \"*.internal.test:" + ECHO_PORT + "\"",
                // A rule that covers the metadata service: the built-in deny list must still win.
                "        - \"169.254.0.0/16:80\"",
                "  unsafe_allow_loopback: " + subnet.isLoopbackFallback(),
                "limits:",
                "  max_auth_attempts: 50",
                "");
        bastion = BastionFixture.start(Files.createDirectories(dir.resolve("bastion")), yaml, resolver);

        Path knownHosts = dir.resolve("known_hosts");
        OpenSsh.addKnownHost(knownHosts, "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        if (sshd != null) {
            OpenSsh.addKnownHost(knownHosts, target, SSHD_PORT, sshd.hostPublicKey());
        }
        ssh = OpenSsh.config()
                .host(OpenSsh.host("bastion").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .host(OpenSsh.host("nobody-bastion").hostName("127.0.0.1").port(bastion.port()).user("nobody")
                        .identityFile(strangerKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .host(OpenSsh.host("stranger-as-alice").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(strangerKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .host(OpenSsh.host("target").hostName(target).port(SSHD_PORT).user(TargetSshd.currentUser())
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .writeTo(dir.resolve("ssh_config"));
    }

    @AfterAll
    void stopWorld() {
        for (AutoCloseable c : new AutoCloseable[] {bastion, sshd, echo, subnet}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                System.err.println("cleanup: " + e);
            }
        }
    }

    @Test
    void jumpThroughBastionToRealSshdTarget() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(sshd != null, "sshd is not installed");
        int mark = bastion.audit().size();
        OpenSsh.Result r = ssh.run(List.of("-J", "bastion", "target", "echo", "through-the-sallyport"), TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdoutText()).contains("through-the-sallyport");
        // Other tests' sessions may still be closing: find this one by its tunnel to sshd.
        JsonNode tunnel = bastion.audit().await("forward.open",
                e -> e.path("target").path("port").asInt() == SSHD_PORT && bastion.audit().since(mark).contains(e));
        bastion.audit().await("session.close", e -> e.path("session").equals(tunnel.path("session")));
        List<JsonNode> session = bastion.audit().ofSession(tunnel.path("session").asText());
        assertThat(session).extracting(e -> e.path("event").asText())
                .containsExactly("session.open", "auth.accept", "forward.open", "forward.close", "session.close");
        JsonNode accept = session.get(1);
        assertThat(accept.path("user").asText()).isEqualTo("alice");
        assertThat(accept.path("auth").path("method").asText()).isEqualTo("publickey");
        assertThat(accept.path("auth").path("source").asText()).isEqualTo("local");
        assertThat(accept.path("auth").path("key_type").asText()).isEqualTo("ssh-ed25519");
        assertThat(accept.path("auth").path("key_fp").asText()).startsWith("SHA256:");
        JsonNode open = session.get(2);
        assertThat(open.path("target").path("ip").asText()).isEqualTo(subnet.targetAddress());
        assertThat(open.path("target").path("port").asInt()).isEqualTo(SSHD_PORT);
        assertThat(open.path("rule").asText()).isEqualTo(subnet.targetAddress() + "/32:" + SSHD_PORT + "," + ECHO_PORT);
        JsonNode fclose = session.get(3);
        assertThat(fclose.path("bytes_up").asLong()).isPositive();
        assertThat(fclose.path("bytes_down").asLong()).isPositive();
        JsonNode sclose = session.get(4);
        assertThat(sclose.path("bytes_up").asLong()).isEqualTo(fclose.path("bytes_up").asLong());
        assertThat(sclose.path("bytes_down").asLong()).isEqualTo(fclose.path("bytes_down").asLong());
        assertThat(sclose.path("client").path("ip").asText()).isEqualTo("127.0.0.1");
    }

    @Test
    void wTunnelToEchoTargetCarriesBytesAndCountsThemExactly() throws Exception {
        byte[] payload = new byte[300_000];
        new Random(7).nextBytes(payload);
        OpenSsh.Result r = ssh.run(List.of("-W", subnet.targetAddress() + ":" + ECHO_PORT, "bastion"), payload, TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).isEqualTo(payload);
        JsonNode close = bastion.audit().await("forward.close",
                e -> e.path("target").path("port").asInt() == ECHO_PORT && e.path("bytes_up").asLong() == payload.length);
        assertThat(close.path("bytes_down").asLong()).isEqualTo(payload.length);
        assertThat(close.path("duration_ms").asLong()).isNotNegative();
        assertThat(close.path("user").asText()).isEqualTo("alice");
    }

    @ParameterizedTest
    @ValueSource(strings = {"chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr"})
    void wTunnelCarriesMegabytesIntactWithEachCipher(String cipher) throws Exception {
        // Several MiB: thousands of packets in each direction, both directions of the cipher.
        byte[] payload = new byte[6 * 1024 * 1024 + 13];
        new Random(cipher.hashCode()).nextBytes(payload);
        OpenSsh.Result r = ssh.run(List.of("-v", "-c", cipher, "-W", subnet.targetAddress() + ":" + ECHO_PORT, "bastion"),
                payload, TIMEOUT);

        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stderr()).contains("kex: client->server cipher: " + cipher, "kex: server->client cipher: " + cipher);
        assertThat(r.stdout().length).isEqualTo(payload.length);
        assertThat(r.stdout()).isEqualTo(payload);
    }

    @Test
    void targetOutsideTheRulesIsRefused() throws Exception {
        OpenSsh.Result r = ssh.run(List.of("-W", subnet.targetAddress() + ":9999", "bastion"), new byte[0], TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("administratively prohibited");
        JsonNode reject = bastion.audit().await("forward.reject", e -> e.path("target").path("port").asInt() == 9999);
        assertThat(reject.path("reason").asText()).contains("no rule");
        assertThat(reject.path("user").asText()).isEqualTo("alice");
    }

    @ParameterizedTest
    @ValueSource(strings = {"169.254.169.254", "2852039166", "0xa9fea9fe", "169.254.43518", "0251.0376.0251.0376"})
    void metadataServiceIsRefusedInEverySpellingEvenWhenARuleCoversIt(String spelling) throws Exception {
        OpenSsh.Result r = ssh.run(List.of("-W", spelling + ":80", "bastion"), new byte[0], TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("administratively prohibited");
        JsonNode reject = bastion.audit().await("forward.reject", e -> e.path("target").path("host").asText().equals(spelling));
        assertThat(reject.path("reason").asText()).contains("169.254.169.254").contains("metadata");
        assertThat(reject.path("target").path("ip").asText()).isEqualTo("169.254.169.254");
    }

    @Test
    void nameThatResolvesToADeniedAddressIsRefused() throws Exception {
        OpenSsh.Result r = ssh.run(List.of("-W", "meta.internal.test:" + ECHO_PORT, "bastion"), new byte[0], TIMEOUT);
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        JsonNode reject = bastion.audit().await("forward.reject", e -> e.path("target").path("host").asText().equals("meta.internal.test"));
        assertThat(reject.path("reason").asText()).contains("resolves to 169.254.169.254");

        OpenSsh.Result mixed = ssh.run(List.of("-W", "mixed.internal.test:" + ECHO_PORT, "bastion"), new byte[0], TIMEOUT);
        assertThat(mixed.exitCode()).as(mixed.toString()).isNotZero();
        bastion.audit().await("forward.reject", e -> e.path("target").path("host").asText().equals("mixed.internal.test"));

        OpenSsh.Result pub = ssh.run(List.of("-W", "public.internal.test:" + ECHO_PORT, "bastion"), new byte[0], TIMEOUT);
        assertThat(pub.exitCode()).as(pub.toString()).isNotZero();
        JsonNode outside = bastion.audit().await("forward.reject", e -> e.path("target").path("host").asText().equals("public.internal.test"));
        assertThat(outside.path("reason").asText()).contains("private_networks");
    }

    @Test
    void allowedNameConnectsToTheAddressThatWasCheckedEvenIfDnsChangesItsAnswer() throws Exception {
        byte[] payload = "rebinding gets nothing\n".getBytes();
        OpenSsh.Result r = ssh.run(List.of("-W", "rebind.internal.test:" + ECHO_PORT, "bastion"), payload, TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).isEqualTo(payload);
        assertThat(rebindCalls.get()).as("the name is resolved exactly once").isEqualTo(1);
        JsonNode open = bastion.audit().await("forward.open", e -> e.path("target").path("host").asText().equals("rebind.internal.test"));
        assertThat(open.path("target").path("ip").asText()).isEqualTo(subnet.targetAddress());
        assertThat(open.path("rule").asText()).isEqualTo("*.internal.test:" + ECHO_PORT);
    }

    @Test
    void theBastionsOwnAddressOnThePrivateSubnetIsRefused() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(subnet.isLoopbackFallback(), "needs a namespace subnet");
        // The rule covers the whole subnet, including the bastion's own address on it.
        OpenSsh.Result r = ssh.run(List.of("-W", subnet.hostAddress() + ":" + ECHO_PORT, "bastion"), new byte[0], TIMEOUT);
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        JsonNode reject = bastion.audit().await("forward.reject", e -> e.path("target").path("host").asText().equals(subnet.hostAddress()));
        assertThat(reject.path("reason").asText()).contains("bastion itself");
    }

    @Test
    void shellIsRefused() throws Exception {
        OpenSsh.Result r = ssh.run(List.of("bastion"), new byte[0], TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("shell request failed");
        JsonNode reject = bastion.audit().await("request.reject", e -> e.path("request").asText().equals("shell"));
        assertThat(reject.path("user").asText()).isEqualTo("alice");
    }

    @Test
    void execIsRefused() throws Exception {
        OpenSsh.Result r = ssh.run(List.of("bastion", "cat", "/etc/passwd"), new byte[0], TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stdoutText()).doesNotContain("root:");
        assertThat(r.stderr()).contains("exec request failed");
        bastion.audit().await("request.reject", e -> e.path("request").asText().equals("exec"));
    }

    @Test
    void subsystemIsRefused() throws Exception {
        OpenSsh.Result r = ssh.run(List.of("-s", "bastion", "sftp"), new byte[0], TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        JsonNode reject = bastion.audit().await("request.reject", e -> e.path("request").asText().equals("subsystem"));
        assertThat(reject.path("reason").asText()).contains("sftp");
    }

    @Test
    void remoteForwardingIsRefused() throws Exception {
        OpenSsh.Result r = ssh.run(List.of("-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:9", "bastion"),
                new byte[0], TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("remote port forwarding failed");
        bastion.audit().await("request.reject", e -> e.path("request").asText().equals("tcpip-forward"));
    }

    @Test
    void agentForwardingIsRefused() throws Exception {
        // The client asks for agent forwarding only when it has an agent to forward: run a real one.
        Path sock = dir.resolve("agent.sock");
        Process agent = new ProcessBuilder("ssh-agent", "-D", "-a", sock.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!Files.exists(sock) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            OpenSsh.Result r = ssh.run(List.of("-o", "IdentityAgent=" + sock, "-o", "ForwardAgent=yes", "bastion", "true"), new byte[0], TIMEOUT);

            assertThat(r.exitCode()).as(r.toString()).isNotZero();
            bastion.audit().await("request.reject", e -> e.path("request").asText().equals("agent"));
        } finally {
            agent.destroy();
        }
    }

    @Test
    void unknownKeyIsRejectedWithTheReasonAudited() throws Exception {
        OpenSsh.Result r = ssh.run(List.of("-W", subnet.targetAddress() + ":" + ECHO_PORT, "stranger-as-alice"), new byte[0], TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        // publickey is the only method the server offers.
        assertThat(r.stderr()).contains("Permission denied (publickey)");
        JsonNode reject = bastion.audit().await("auth.reject", e -> e.path("reason").asText().contains("is not one of alice's keys"));
        assertThat(reject.path("user").asText()).isEqualTo("alice");
        assertThat(reject.path("auth").path("key_fp").asText()).startsWith("SHA256:");
        JsonNode close = bastion.audit().await("session.close", e -> e.path("session").equals(reject.path("session")));
        assertThat(close.path("reason").asText()).isEqualTo("not authenticated");
        assertThat(close.has("user")).isFalse();
    }

    @Test
    void userWithoutRolesCanLogInButOpensNothing() throws Exception {
        OpenSsh.Result r = ssh.run(List.of("-W", subnet.targetAddress() + ":" + ECHO_PORT, "nobody-bastion"), new byte[0], TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        JsonNode reject = bastion.audit().await("forward.reject", e -> e.path("user").asText().equals("nobody"));
        assertThat(reject.path("reason").asText()).contains("no rule of role(s) (none)");
    }
}
