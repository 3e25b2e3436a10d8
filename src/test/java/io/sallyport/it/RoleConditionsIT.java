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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A role's {@code from}, with the stock OpenSSH client logging in from two loopback addresses
 * ({@code BindAddress}): the bastion listens on 127.0.0.1, the office is 127.0.0.5, elsewhere is
 * 127.0.0.6, and the targets are echo services on 127.0.0.2. What the login kept and dropped is
 * read from {@code auth.accept}; what that means is read from the tunnels that open or not.
 */
class RoleConditionsIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String OFFICE = "127.0.0.5";
    private static final String ELSEWHERE = "127.0.0.6";
    private static final AtomicInteger COUNTER = new AtomicInteger();

    @TempDir
    static Path dir;
    static Path aliceKey;

    @BeforeAll
    static void setUp() {
        OpenSsh.requireClient();
        aliceKey = OpenSsh.keygen(dir, "alice");
    }

    /** alice holds {@code roles}; the policy's roles are {@code roleDefinitions}, indented under policy.roles. */
    private static String config(String roles, String roleDefinitions) {
        return String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [" + roles + "]",
                "        keys: [\"" + OpenSsh.publicKeyLine(aliceKey) + "\"]",
                "policy:",
                "  unsafe_allow_loopback: true",
                "  roles:",
                roleDefinitions,
                "");
    }

    private static BastionFixture bastion(String yaml) throws Exception {
        Path work = Files.createDirectories(dir.resolve("b" + COUNTER.incrementAndGet()));
        return BastionFixture.start(work, yaml, TargetResolver.system());
    }

    /** An ssh_config whose host {@code alice} is the bastion, reached from {@code source}. */
    private static OpenSsh ssh(BastionFixture bastion, String source) throws Exception {
        Path work = bastion.configFile().getParent();
        Path knownHosts = OpenSsh.addKnownHost(work.resolve("known_hosts"), "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        return OpenSsh.config()
                .host(OpenSsh.host("alice").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes")
                        .option("BindAddress", source))
                .writeTo(work.resolve("ssh_config_" + source));
    }

    /** A running {@code ssh -W} whose tunnel echoed one line: the tunnel is open until it is closed. */
    private record Tunnel(Process process) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** {@code ssh -W target alice}, echoing one line through the tunnel, left open. */
    private static Tunnel openTunnel(OpenSsh ssh, String target) throws Exception {
        Process p = new ProcessBuilder(ssh.command(List.of("-W", target, "alice")))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Tunnel t = new Tunnel(p);
        OutputStream in = p.getOutputStream();
        InputStream out = p.getInputStream();
        in.write("ping\n".getBytes(StandardCharsets.US_ASCII));
        in.flush();
        byte[] echoed = new byte[5];
        int n = 0;
        while (n < echoed.length) {
            int r = out.read(echoed, n, echoed.length - n);
            if (r < 0) {
                t.close();
                throw new AssertionError("ssh -W " + target + " ended before the echo came back (exit " + p.exitValue() + ")");
            }
            n += r;
        }
        assertThat(new String(echoed, StandardCharsets.US_ASCII)).isEqualTo("ping\n");
        return t;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static JsonNode acceptFrom(BastionFixture b, String ip) throws InterruptedException {
        return b.audit().await("auth.accept", e -> e.path("client").path("ip").asText().equals(ip));
    }

    @Test
    void roleWithFromIsKeptFromTheOfficeAndDroppedFromElsewhereWithTheReason() throws Exception {
        try (LoopbackEcho officeTarget = new LoopbackEcho();
             LoopbackEcho anyTarget = new LoopbackEcho();
             BastionFixture b = bastion(config("office, anywhere",
                     "    office:\n      allow: [\"127.0.0.2:" + officeTarget.port() + "\"]\n      from: [" + OFFICE + "/32]\n"
                             + "    anywhere:\n      allow: [\"127.0.0.2:" + anyTarget.port() + "\"]"))) {
            String officeEcho = "127.0.0.2:" + officeTarget.port();
            String anyEcho = "127.0.0.2:" + anyTarget.port();

            // From the office: both roles, nothing dropped, the office target opens.
            try (Tunnel t = openTunnel(ssh(b, OFFICE), officeEcho)) {
                JsonNode accept = acceptFrom(b, OFFICE);
                assertThat(texts(accept.path("auth").path("roles"))).containsExactly("office", "anywhere");
                assertThat(accept.path("auth").has("roles_dropped")).isFalse();
                JsonNode open = b.audit().await("forward.open", e -> e.path("session").asText().equals(accept.path("session").asText()));
                assertThat(open.path("rule").asText()).isEqualTo(officeEcho);
            }

            // From elsewhere: office is dropped with its reason; its target is refused, the other opens.
            OpenSsh elsewhere = ssh(b, ELSEWHERE);
            OpenSsh.Result refused = elsewhere.run(List.of("-W", officeEcho, "alice"), new byte[0], TIMEOUT);
            assertThat(refused.succeeded()).isFalse();
            assertThat(refused.stderr()).contains("administratively prohibited");
            JsonNode accept = acceptFrom(b, ELSEWHERE);
            assertThat(texts(accept.path("auth").path("roles"))).containsExactly("anywhere");
            JsonNode dropped = accept.path("auth").path("roles_dropped");
            assertThat(dropped).hasSize(1);
            assertThat(dropped.get(0).path("role").asText()).isEqualTo("office");
            assertThat(dropped.get(0).path("reason").asText()).isEqualTo("from: " + ELSEWHERE + " is not in " + OFFICE + "/32");
            String session = accept.path("session").asText();
            JsonNode reject = b.audit().await("forward.reject", e -> e.path("session").asText().equals(session));
            assertThat(reject.path("reason").asText()).isEqualTo("no rule of role(s) anywhere allows " + officeEcho);

            try (Tunnel t = openTunnel(elsewhere, anyEcho)) {
                JsonNode second = b.audit().await("auth.accept", e -> e.path("client").path("ip").asText().equals(ELSEWHERE)
                        && !e.path("session").asText().equals(session));
                JsonNode open = b.audit().await("forward.open", e -> e.path("session").asText().equals(second.path("session").asText()));
                assertThat(open.path("rule").asText()).isEqualTo(anyEcho);
            }
        }
    }

    @Test
    void requireFidoDropsTheRoleForAPlainKeyAndTheLoginKeepsTheRest() throws Exception {
        try (LoopbackEcho prodTarget = new LoopbackEcho();
             LoopbackEcho devTarget = new LoopbackEcho();
             BastionFixture b = bastion(config("prod, dev",
                     "    prod:\n      allow: [\"127.0.0.2:" + prodTarget.port() + "\"]\n      require: [fido]\n"
                             + "    dev:\n      allow: [\"127.0.0.2:" + devTarget.port() + "\"]"))) {
            OpenSsh ssh = ssh(b, OFFICE);

            assertThat(ssh.run(List.of("-W", "127.0.0.2:" + prodTarget.port(), "alice"), new byte[0], TIMEOUT).succeeded()).isFalse();
            JsonNode accept = acceptFrom(b, OFFICE);
            assertThat(texts(accept.path("auth").path("roles"))).containsExactly("dev");
            JsonNode dropped = accept.path("auth").path("roles_dropped").get(0);
            assertThat(dropped.path("role").asText()).isEqualTo("prod");
            assertThat(dropped.path("reason").asText()).isEqualTo("require fido: not a FIDO key");
            try (Tunnel t = openTunnel(ssh, "127.0.0.2:" + devTarget.port())) {
                assertThat(t.process().isAlive()).isTrue();
            }
        }
    }

    @Test
    void loginLeftWithNoRoleThatAllowsAnythingIsRefusedWithEveryReason() throws Exception {
        try (LoopbackEcho target = new LoopbackEcho();
             BastionFixture b = bastion(config("office",
                     "    office:\n      allow: [\"127.0.0.2:" + target.port() + "\"]\n      from: [" + OFFICE + "/32]"))) {
            OpenSsh.Result r = ssh(b, ELSEWHERE).run(List.of("-W", "127.0.0.2:" + target.port(), "alice"), new byte[0], TIMEOUT);

            assertThat(r.succeeded()).isFalse();
            assertThat(r.stderr()).contains("Permission denied (publickey)");
            JsonNode reject = b.audit().await("auth.reject", e -> e.path("user").asText().equals("alice"));
            assertThat(reject.path("reason").asText())
                    .isEqualTo("no role left for this login: office (from: " + ELSEWHERE + " is not in " + OFFICE + "/32)");
            assertThat(reject.path("auth").path("roles_dropped").get(0).path("role").asText()).isEqualTo("office");
            assertThat(b.audit().named("auth.accept")).isEmpty();
            // A refused login is not mistaken for a key that never signed.
            JsonNode close = b.audit().await("session.close", e -> e.path("session").asText().equals(reject.path("session").asText()));
            assertThat(b.audit().ofSession(close.path("session").asText()).stream().filter(e -> e.path("event").asText().equals("auth.reject")))
                    .hasSize(1);
        }
    }

    @Test
    void reloadAddingFromToARoleClosesTheTunnelsOfSessionsFromElsewhereAsRoleWithdrawn() throws Exception {
        try (LoopbackEcho officeTarget = new LoopbackEcho();
             LoopbackEcho anyTarget = new LoopbackEcho()) {
            String officeRules = "    office:\n      allow: [\"127.0.0.2:" + officeTarget.port() + "\"]\n";
            String anyRules = "    anywhere:\n      allow: [\"127.0.0.2:" + anyTarget.port() + "\"]";
            try (BastionFixture b = bastion(config("office, anywhere", officeRules + anyRules))) {
                String officeEcho = "127.0.0.2:" + officeTarget.port();
                try (Tunnel fromOffice = openTunnel(ssh(b, OFFICE), officeEcho);
                     Tunnel fromElsewhere = openTunnel(ssh(b, ELSEWHERE), officeEcho)) {
                    String officeSession = acceptFrom(b, OFFICE).path("session").asText();
                    String elsewhereSession = acceptFrom(b, ELSEWHERE).path("session").asText();

                    // The operator limits the office role to the office, and reloads.
                    String yaml = Files.readString(b.configFile()).replace(
                            officeRules, officeRules + "      from: [" + OFFICE + "/32]\n");
                    Files.writeString(b.configFile(), yaml);
                    Config next = ConfigLoader.load(b.configFile());
                    ServerAssembly.Validated v = ServerAssembly.validate(next, TargetResolver.system());
                    b.server().apply(new Rules(next, v.logins(), v.policy()), v.revoked(), () -> { });

                    JsonNode closed = b.audit().await("forward.close", e -> e.path("session").asText().equals(elsewhereSession));
                    assertThat(closed.path("reason").asText()).isEqualTo("role withdrawn");
                    // From elsewhere, a new login no longer holds the role.
                    assertThat(ssh(b, ELSEWHERE).run(List.of("-W", officeEcho, "alice"), new byte[0], TIMEOUT).succeeded()).isFalse();
                    JsonNode relogin = b.audit().await("auth.accept", e -> e.path("client").path("ip").asText().equals(ELSEWHERE)
                            && !e.path("session").asText().equals(elsewhereSession));
                    assertThat(texts(relogin.path("auth").path("roles"))).containsExactly("anywhere");
                    // The session keeps its other role, so it is not ended; the office's tunnel is untouched.
                    assertThat(b.audit().ofSession(elsewhereSession)).noneMatch(e -> e.path("event").asText().equals("session.terminate"));
                    assertThat(b.audit().ofSession(officeSession)).noneMatch(e -> e.path("event").asText().equals("forward.close"));
                    assertThat(fromOffice.process().isAlive()).isTrue();
                }
            }
        }
    }
}
