package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The target host of a direct-tcpip request is a string the client chooses, sent as UTF-8. OpenSSH
 * sends what it is given, so this drives MINA's client, a real peer on the wire, to send the raw
 * names: a non-ASCII name is refused as written (never folded into an allowed ASCII name), and a
 * string that is not a host name never reaches the resolver.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
class TargetHostIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    static Path dir;

    LoopbackEcho echo;
    BastionFixture bastion;
    SshClient client;
    ClientSession session;
    final List<String> lookups = new CopyOnWriteArrayList<>();

    @BeforeAll
    void start() throws Exception {
        echo = new LoopbackEcho();
        Path aliceKey = OpenSsh.keygen(dir, "alice");
        TargetResolver resolver = name -> {
            lookups.add(name);
            if (name.equals("kelvin.test")) {
                return List.of(InetAddress.getByName(echo.address()));
            }
            throw new UnknownHostException(name);
        };
        bastion = BastionFixture.start(Files.createDirectories(dir.resolve("bastion")), String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [ops]",
                "        keys: [\"" + OpenSsh.publicKeyLine(aliceKey) + "\"]",
                "policy:",
                "  roles:",
                "    ops:",
                "      allow: [\"kelvin.test:" + echo.port() + "\", \"" + echo.address() + ":" + echo.port() + "\"]",
                "  unsafe_allow_loopback: true",
                ""), resolver);

        client = SshClient.setUpDefaultClient();
        // The host key is not what this test is about; JumpIT checks it with StrictHostKeyChecking.
        client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
        client.start();
        session = client.connect("alice", "127.0.0.1", bastion.port()).verify(TIMEOUT).getSession();
        try (InputStream in = Files.newInputStream(aliceKey)) {
            session.addPublicKeyIdentity(SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName("alice"), in, null)
                    .iterator().next());
        }
        session.auth().verify(TIMEOUT);
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {session, client == null ? null : client::stop, bastion, echo}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private ChannelDirectTcpip tunnel(String host) throws Exception {
        return session.createDirectTcpipChannel(null, new SshdSocketAddress(host, echo.port()));
    }

    @Test
    void asciiNameConnects() throws Exception {
        try (ChannelDirectTcpip ch = tunnel("Kelvin.test")) {
            ch.open().verify(TIMEOUT);
            OutputStream out = ch.getInvertedIn();
            out.write("ping\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            byte[] back = ch.getInvertedOut().readNBytes(5);
            assertThat(new String(back, StandardCharsets.US_ASCII)).isEqualTo("ping\n");
        }
        bastion.audit().await("forward.open", e -> e.path("target").path("host").asText().equals("Kelvin.test"));
    }

    @Test
    void kelvinSignIsRefusedNotFoldedIntoTheAllowedName() throws Exception {
        int before = (int) lookups.stream().filter("kelvin.test"::equals).count();

        assertThatThrownBy(() -> tunnel("\u212Aelvin.test").open().verify(TIMEOUT)).hasStackTraceContaining("SshChannelOpenException");

        JsonNode reject = bastion.audit().await("forward.reject", e -> e.path("target").path("host").asText().equals("?elvin.test"));
        assertThat(reject.path("reason").asText()).isEqualTo("target host '\\u212aelvin.test' is not printable ASCII"
                + " (a name must be sent as ASCII, an IDN as punycode xn--...)");
        assertThat(reject.path("target").has("ip")).isFalse();
        assertThat(lookups.stream().filter("kelvin.test"::equals).count()).as("never resolved").isEqualTo(before);
        assertThat(bastion.audit().named("forward.open")).noneMatch(e -> e.path("target").path("host").asText().contains("?"));
    }

    @Test
    void fullwidthDigitsAreRefusedNotReadAsTheAllowedAddress() throws Exception {
        String fullwidth = "\uFF11\uFF12\uFF17.\uFF10.\uFF10.\uFF12"; // 127.0.0.2 in fullwidth digits

        assertThatThrownBy(() -> tunnel(fullwidth).open().verify(TIMEOUT)).hasStackTraceContaining("SshChannelOpenException");

        JsonNode reject = bastion.audit().await("forward.reject", e -> e.path("reason").asText().contains("\\uff11\\uff12\\uff17"));
        assertThat(reject.path("reason").asText()).contains("is not printable ASCII");
        assertThat(bastion.audit().named("forward.open")).noneMatch(e -> e.path("target").path("host").asText().contains("?"));
    }

    @Test
    void stringThatIsNotAHostNameNeverReachesTheResolver() throws Exception {
        assertThatThrownBy(() -> tunnel(".a:b").open().verify(TIMEOUT)).hasStackTraceContaining("SshChannelOpenException");

        JsonNode reject = bastion.audit().await("forward.reject", e -> e.path("target").path("host").asText().equals(".a:b"));
        assertThat(reject.path("reason").asText()).isEqualTo("'.a:b' is neither an IP address nor a valid host name");
        assertThat(lookups).doesNotContain(".a:b", "a:b");
    }
}
