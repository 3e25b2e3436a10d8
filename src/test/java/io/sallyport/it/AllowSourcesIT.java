package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.cli.ServerAssembly;
import io.sallyport.config.Config;
import io.sallyport.config.ConfigLoader;
import io.sallyport.net.TargetResolver;
import io.sallyport.ssh.Rules;
import io.sallyport.testing.LoopbackEcho;
import io.sallyport.testing.OpenSsh;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code limits.allow_sources} with the stock client: a connection from an allowed address logs in
 * and tunnels; one from elsewhere is closed before key exchange, and a burst of them is one audit
 * line, not one per connection. Loopback holds the whole of 127.0.0.0/8, so {@code ssh -b} picks
 * the source address.
 */
class AllowSourcesIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;
    static Path aliceKey;

    @BeforeAll
    static void keys() {
        OpenSsh.requireClient();
        aliceKey = OpenSsh.keygen(dir, "alice");
    }

    private static String yaml(int echoPort, String allowSources) {
        return String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [ops]",
                "        keys: [\"" + OpenSsh.publicKeyLine(aliceKey) + "\"]",
                "policy:",
                "  unsafe_allow_loopback: true",
                "  roles:",
                "    ops:",
                "      allow: [\"127.0.0.2:" + echoPort + "\"]",
                "limits:",
                "  allow_sources: " + allowSources,
                "");
    }

    private static OpenSsh ssh(BastionFixture bastion, Path work) throws Exception {
        Path knownHosts = OpenSsh.addKnownHost(work.resolve("known_hosts"), "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        return OpenSsh.config()
                .host(OpenSsh.host("alice").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .writeTo(work.resolve("ssh_config"));
    }

    /** {@code ssh -b FROM -W target alice}: the echo of one line through the tunnel. */
    private static void echoThroughTunnel(OpenSsh ssh, String from, String target) throws Exception {
        Process p = new ProcessBuilder(ssh.command(List.of("-b", from, "-W", target, "alice")))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            OutputStream in = p.getOutputStream();
            InputStream out = p.getInputStream();
            in.write("ping\n".getBytes(StandardCharsets.US_ASCII));
            in.flush();
            byte[] echoed = out.readNBytes(5);
            assertThat(new String(echoed, StandardCharsets.US_ASCII)).as("echo through the tunnel").isEqualTo("ping\n");
        } finally {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** This JVM's open file descriptors: the bastion runs in it. */
    private static long openFileDescriptors() throws java.io.IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /**
     * ssh saw no identification string: the connection ended while it waited for one. Closed with
     * the client's own identification unread, the kernel answers with a reset, which ssh reports
     * as such; a close that wins the race reads as "Connection closed by remote host".
     */
    private static void assertClosedBeforeKeyExchange(OpenSsh.Result r) {
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(255);
        assertThat(r.stderr()).as(r.toString()).contains("kex_exchange_identification")
                .containsAnyOf("Connection reset by peer", "Connection closed by remote host")
                .doesNotContain("Permission denied");
    }

    @Test
    void allowedSourceTunnelsAndOtherSourceIsClosedBeforeKeyExchangeAuditedOnce() throws Exception {
        Path work = Files.createDirectories(dir.resolve("scan"));
        List<JsonNode> refusals;
        try (LoopbackEcho echo = new LoopbackEcho()) {
            BastionFixture bastion = BastionFixture.start(work, yaml(echo.port(), "[127.0.0.5/32]"), TargetResolver.system());
            try {
                OpenSsh ssh = ssh(bastion, work);
                echoThroughTunnel(ssh, "127.0.0.5", "127.0.0.2:" + echo.port());
                JsonNode accept = bastion.audit().await("auth.accept", e -> true);
                assertThat(accept.path("client").path("ip").asText()).isEqualTo("127.0.0.5");

                long fdsBefore = openFileDescriptors();
                for (int i = 0; i < 20; i++) {
                    OpenSsh.Result r = ssh.run(List.of("-b", "127.0.0.6", "-N", "alice"), TIMEOUT);
                    assertClosedBeforeKeyExchange(r);
                }
                JsonNode refused = bastion.audit().await("connection.refuse", e -> true);
                assertThat(refused.path("client").path("ip").asText()).isEqualTo("127.0.0.6");
                assertThat(refused.path("source").asText()).isEqualTo("127.0.0.6");
                assertThat(refused.path("reason").asText()).isEqualTo("allow_sources");
                assertThat(refused.path("count").asLong()).isEqualTo(1);
                assertThat(refused.has("session")).isFalse();
                assertThat(bastion.audit().named("connection.refuse")).as(bastion.audit().dump()).hasSize(1);
                // each refused socket was closed, none left behind for the garbage collector
                assertThat(openFileDescriptors()).isLessThan(fdsBefore + 10);
                assertThat(bastion.audit().named("session.open")).as("no session for a refused source")
                        .allMatch(e -> e.path("client").path("ip").asText().equals("127.0.0.5"));
            } finally {
                bastion.close();
            }
            // The 19 counted after the first are reported before the server stops: the counts add up.
            refusals = bastion.audit().named("connection.refuse");
            List<JsonNode> all = bastion.audit().all();
            assertThat(all.get(all.size() - 1).path("event").asText()).isEqualTo("server.stop");
        }
        assertThat(refusals).hasSize(2);
        assertThat(refusals.get(1).path("count").asLong()).isEqualTo(19);
    }

    @Test
    void reloadAppliesANewAllowSourcesToNewAndLiveConnections() throws Exception {
        Path work = Files.createDirectories(dir.resolve("reload"));
        try (LoopbackEcho echo = new LoopbackEcho();
             BastionFixture bastion = BastionFixture.start(work, yaml(echo.port(), "[127.0.0.5/32]"), TargetResolver.system())) {
            OpenSsh ssh = ssh(bastion, work);
            Process live = new ProcessBuilder(ssh.command(List.of("-b", "127.0.0.5", "-N", "alice")))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                JsonNode accept = bastion.audit().await("auth.accept", e -> true);

                Files.writeString(bastion.configFile(), Files.readString(bastion.configFile())
                        .replace("allow_sources: [127.0.0.5/32]", "allow_sources: [127.0.0.6/32]"));
                Config next = ConfigLoader.load(bastion.configFile());
                ServerAssembly.Validated v = ServerAssembly.validate(next, TargetResolver.system());
                bastion.server().apply(new Rules(next, v.logins(), v.policy()), Optional.empty(), () -> {});

                JsonNode ended = bastion.audit().await("session.terminate", e -> e.path("session").equals(accept.path("session")));
                assertThat(ended.path("reason").asText()).isEqualTo("allow_sources");
                assertThat(live.waitFor(20, TimeUnit.SECONDS)).as("the live session from 127.0.0.5 ended").isTrue();

                OpenSsh.Result refused = ssh.run(List.of("-b", "127.0.0.5", "-N", "alice"), TIMEOUT);
                assertClosedBeforeKeyExchange(refused);
                bastion.audit().await("connection.refuse", e -> e.path("client").path("ip").asText().equals("127.0.0.5"));
                echoThroughTunnel(ssh, "127.0.0.6", "127.0.0.2:" + echo.port());
            } finally {
                live.destroy();
                live.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
