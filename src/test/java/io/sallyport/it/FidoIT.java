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
import io.sallyport.testing.SoftwareSecurityKey;
import io.sallyport.testing.SoftwareSecurityKey.KeyType;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * FIDO keys and a role's {@code require}, end to end without a device: keys enrolled by stock
 * {@code ssh-keygen -t ed25519-sk} and {@code -t ecdsa-sk} through a software security key
 * provider, logins by stock {@code ssh} through the same provider, signing with the flags each test
 * chooses (user presence 0x01, user verification 0x04). What is judged is what the signature
 * verified at login says, and the audit trail says why a role was dropped or a login refused.
 *
 * <p>alice has three roles: {@code touch} ({@code require: [fido]}), {@code pin}
 * ({@code require: [fido-verified]}) and {@code plain} (no condition), each allowing its own echo
 * service. bob has only {@code pin}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FidoIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int NO_FLAGS = 0x00;
    private static final int PRESENT = SoftwareSecurityKey.USER_PRESENT;
    private static final int VERIFIED = SoftwareSecurityKey.USER_VERIFIED;
    private static final String UNTOUCHED = "the FIDO signature does not assert user presence (the security key was not touched)";

    @TempDir
    static Path dir;

    LoopbackEcho touchEcho;
    LoopbackEcho pinEcho;
    LoopbackEcho plainEcho;
    BastionFixture bastion;
    OpenSsh ssh;
    Path provider;
    final Map<String, Path> keys = new LinkedHashMap<>();

    @BeforeAll
    void start() throws Exception {
        OpenSsh.requireClient();
        provider = SoftwareSecurityKey.provider();
        for (String user : List.of("alice", "bob")) {
            for (KeyType type : KeyType.values()) {
                keys.put(alias(user, type), SoftwareSecurityKey.enrol(dir, user + "_" + type.keygenName().replace('-', '_'), type));
            }
        }
        keys.put("alice-plain", OpenSsh.keygen(dir, "alice_ed25519"));
        touchEcho = new LoopbackEcho();
        pinEcho = new LoopbackEcho();
        plainEcho = new LoopbackEcho();
        bastion = BastionFixture.start(Files.createDirectory(dir.resolve("bastion")), String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [touch, pin, plain]",
                "        keys:",
                "          - \"" + OpenSsh.publicKeyLine(keys.get("alice-ed25519-sk")) + "\"",
                "          - \"" + OpenSsh.publicKeyLine(keys.get("alice-ecdsa-sk")) + "\"",
                "          - \"" + OpenSsh.publicKeyLine(keys.get("alice-plain")) + "\"",
                "      bob:",
                "        roles: [pin]",
                "        keys:",
                "          - \"" + OpenSsh.publicKeyLine(keys.get("bob-ed25519-sk")) + "\"",
                "          - \"" + OpenSsh.publicKeyLine(keys.get("bob-ecdsa-sk")) + "\"",
                "policy:",
                "  roles:",
                "    touch:",
                "      allow: [\"" + target(touchEcho) + "\"]",
                "      require: [fido]",
                "    pin:",
                "      allow: [\"" + target(pinEcho) + "\"]",
                "      require: [fido-verified]",
                "    plain:",
                "      allow: [\"" + target(plainEcho) + "\"]",
                "  unsafe_allow_loopback: true",
                "limits:",
                "  max_auth_attempts: 100",
                ""), TargetResolver.system());
        Path knownHosts = OpenSsh.addKnownHost(dir.resolve("known_hosts"), "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        OpenSsh.ConfigBuilder config = OpenSsh.config();
        keys.forEach((alias, key) -> config.host(OpenSsh.host(alias).hostName("127.0.0.1").port(bastion.port())
                .user(alias.substring(0, alias.indexOf('-'))).identityFile(key).userKnownHostsFile(knownHosts)
                .option("SecurityKeyProvider", provider.toString())));
        ssh = config.writeTo(dir.resolve("ssh_config"));
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {bastion, touchEcho, pinEcho, plainEcho}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private static String alias(String user, KeyType type) {
        return user + "-" + type.keygenName();
    }

    private static String target(LoopbackEcho echo) {
        return echo.address() + ":" + echo.port();
    }

    /** {@code ssh -W} to {@code echo} as the Host block {@code alias}, the security key signing with {@code flags}. */
    private OpenSsh.Result tunnel(String alias, LoopbackEcho echo, int flags) {
        return ssh.run(List.of("-W", target(echo), alias), "ping\n".getBytes(StandardCharsets.UTF_8),
                SoftwareSecurityKey.flags(flags), TIMEOUT);
    }

    private static void assertEchoed(OpenSsh.Result r) {
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdoutText()).as(r.toString()).isEqualTo("ping\n");
    }

    /** The one login event of the ssh run that started after {@code mark}. */
    private JsonNode login(String event, int mark) throws InterruptedException {
        JsonNode e = bastion.audit().await(event, x -> bastion.audit().since(mark).contains(x));
        bastion.audit().await("session.close", x -> x.path("session").equals(e.path("session")));
        assertThat(bastion.audit().since(mark).stream()
                .filter(x -> x.path("event").asText().startsWith("auth.")).map(x -> x.path("event").asText()))
                .as("one login decision for the one key").containsExactly(event);
        return e;
    }

    private static List<String> roles(JsonNode loginEvent) {
        List<String> out = new ArrayList<>();
        loginEvent.path("auth").path("roles").forEach(n -> out.add(n.asText()));
        return out;
    }

    private static Map<String, String> dropped(JsonNode loginEvent) {
        Map<String, String> out = new LinkedHashMap<>();
        loginEvent.path("auth").path("roles_dropped").forEach(n -> out.put(n.path("role").asText(), n.path("reason").asText()));
        return out;
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void touchedFidoKeyKeepsTheFidoRoleAndDropsTheVerifiedOneWithTheReason(KeyType type) throws Exception {
        int mark = bastion.audit().size();
        assertEchoed(tunnel(alias("alice", type), touchEcho, PRESENT));

        JsonNode accept = login("auth.accept", mark);
        assertThat(accept.path("auth").path("key_type").asText()).isEqualTo(type.sshName());
        assertThat(roles(accept)).containsExactly("touch", "plain");
        assertThat(dropped(accept)).containsExactly(
                Map.entry("pin", "require fido-verified: no user verification on this login's signature"));
        JsonNode open = bastion.audit().await("forward.open", e -> e.path("session").equals(accept.path("session")));
        assertThat(open.path("rule").asText()).isEqualTo(target(touchEcho));

        // The same key, touched but without the PIN: the verified role's target stays shut.
        int again = bastion.audit().size();
        OpenSsh.Result refused = tunnel(alias("alice", type), pinEcho, PRESENT);
        assertThat(refused.exitCode()).as(refused.toString()).isNotZero();
        assertThat(refused.stderr()).contains("administratively prohibited");
        JsonNode second = login("auth.accept", again);
        JsonNode reject = bastion.audit().await("forward.reject", e -> e.path("session").equals(second.path("session")));
        assertThat(reject.path("reason").asText()).isEqualTo("no rule of role(s) touch,plain allows " + target(pinEcho));
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void verifiedFidoKeyKeepsBothFidoRoles(KeyType type) throws Exception {
        int mark = bastion.audit().size();
        assertEchoed(tunnel(alias("alice", type), pinEcho, PRESENT | VERIFIED));

        JsonNode accept = login("auth.accept", mark);
        assertThat(roles(accept)).containsExactly("touch", "pin", "plain");
        assertThat(accept.path("auth").has("roles_dropped")).isFalse();
        JsonNode open = bastion.audit().await("forward.open", e -> e.path("session").equals(accept.path("session")));
        assertThat(open.path("rule").asText()).isEqualTo(target(pinEcho));
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void fidoSignatureWithoutUserPresenceIsRefusedEvenWithUserVerification(KeyType type) throws Exception {
        for (int flags : new int[] {NO_FLAGS, VERIFIED}) {
            int mark = bastion.audit().size();
            OpenSsh.Result r = tunnel(alias("alice", type), plainEcho, flags);

            assertThat(r.exitCode()).as(r.toString()).isNotZero();
            assertThat(r.stderr()).contains("Permission denied");
            JsonNode reject = login("auth.reject", mark);
            assertThat(reject.path("auth").path("key_type").asText()).isEqualTo(type.sshName());
            assertThat(reject.path("reason").asText()).as("flags 0x%02x", flags).isEqualTo(UNTOUCHED);
        }
    }

    @Test
    void plainKeyDropsBothFidoRolesAndKeepsTheRest() throws Exception {
        int mark = bastion.audit().size();
        assertEchoed(tunnel("alice-plain", plainEcho, PRESENT | VERIFIED));

        JsonNode accept = login("auth.accept", mark);
        assertThat(accept.path("auth").path("key_type").asText()).isEqualTo("ssh-ed25519");
        assertThat(roles(accept)).containsExactly("plain");
        assertThat(dropped(accept)).containsExactly(
                Map.entry("touch", "require fido: not a FIDO key"),
                Map.entry("pin", "require fido-verified: not a FIDO key"));

        int again = bastion.audit().size();
        OpenSsh.Result refused = tunnel("alice-plain", touchEcho, PRESENT | VERIFIED);
        assertThat(refused.stderr()).as(refused.toString()).contains("administratively prohibited");
        JsonNode second = login("auth.accept", again);
        JsonNode reject = bastion.audit().await("forward.reject", e -> e.path("session").equals(second.path("session")));
        assertThat(reject.path("reason").asText()).isEqualTo("no rule of role(s) plain allows " + target(touchEcho));
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void loginWhoseOnlyRoleNeedsThePinIsRefusedWithoutItAndAcceptedWithIt(KeyType type) throws Exception {
        int mark = bastion.audit().size();
        OpenSsh.Result r = tunnel(alias("bob", type), pinEcho, PRESENT);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("Permission denied");
        JsonNode reject = login("auth.reject", mark);
        assertThat(reject.path("user").asText()).isEqualTo("bob");
        assertThat(reject.path("reason").asText()).isEqualTo(
                "no role left for this login: pin (require fido-verified: no user verification on this login's signature)");
        assertThat(dropped(reject)).containsOnlyKeys("pin");

        int again = bastion.audit().size();
        assertEchoed(tunnel(alias("bob", type), pinEcho, PRESENT | VERIFIED));
        JsonNode accept = login("auth.accept", again);
        assertThat(roles(accept)).containsExactly("pin");
    }

    /** A running {@code ssh -W} whose tunnel echoed one line: the tunnel is open until it is closed. */
    private record Tunnel(Process process) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** {@code ssh -W echo host}, the security key signing with {@code flags}, echoing one line, left open. */
    private static Tunnel openTunnel(OpenSsh ssh, String host, LoopbackEcho echo, int flags) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(ssh.command(List.of("-W", target(echo), host)))
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(SoftwareSecurityKey.flags(flags));
        Tunnel t = new Tunnel(pb.start());
        OutputStream in = t.process().getOutputStream();
        InputStream out = t.process().getInputStream();
        in.write("ping\n".getBytes(StandardCharsets.US_ASCII));
        in.flush();
        byte[] echoed = new byte[5];
        int n = 0;
        while (n < echoed.length) {
            int r = out.read(echoed, n, echoed.length - n);
            if (r < 0) {
                t.close();
                throw new AssertionError("ssh -W " + target(echo) + " ended before the echo came back");
            }
            n += r;
        }
        assertThat(new String(echoed, StandardCharsets.US_ASCII)).isEqualTo("ping\n");
        return t;
    }

    /**
     * The flags a login's signature carried are kept with the session: a reload that makes a role
     * require the PIN takes it from the live session whose key was only touched, and leaves it to
     * the one whose key was given the PIN, without asking either for a new signature.
     */
    @ParameterizedTest
    @EnumSource(KeyType.class)
    void reloadRequiringThePinWithdrawsTheRoleFromATouchOnlyLoginAndKeepsItForAVerifiedOne(KeyType type) throws Exception {
        String opsRole = "    ops:\n      allow: [\"" + target(pinEcho) + "\"]\n";
        String yaml = String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [ops, plain]",
                "        keys: [\"" + OpenSsh.publicKeyLine(keys.get(alias("alice", type))) + "\"]",
                "policy:",
                "  unsafe_allow_loopback: true",
                "  roles:",
                opsRole + "    plain:",
                "      allow: [\"" + target(plainEcho) + "\"]",
                "");
        try (BastionFixture b = BastionFixture.start(Files.createDirectory(dir.resolve("reload-" + type)), yaml,
                TargetResolver.system())) {
            Path knownHosts = OpenSsh.addKnownHost(b.configFile().resolveSibling("known_hosts"), "127.0.0.1", b.port(),
                    b.hostKeyLine());
            OpenSsh client = OpenSsh.config().host(OpenSsh.host("alice").hostName("127.0.0.1").port(b.port()).user("alice")
                    .identityFile(keys.get(alias("alice", type))).userKnownHostsFile(knownHosts)
                    .option("SecurityKeyProvider", provider.toString())).writeTo(b.configFile().resolveSibling("ssh_config"));
            try (Tunnel touched = openTunnel(client, "alice", pinEcho, PRESENT)) {
                String touchedSession = b.audit().await("forward.open", e -> true).path("session").asText();
                try (Tunnel verified = openTunnel(client, "alice", pinEcho, PRESENT | VERIFIED)) {
                    String verifiedSession = b.audit().await("forward.open",
                            e -> !e.path("session").asText().equals(touchedSession)).path("session").asText();

                    Files.writeString(b.configFile(), Files.readString(b.configFile())
                            .replace(opsRole, opsRole + "      require: [fido-verified]\n"));
                    Config next = ConfigLoader.load(b.configFile());
                    ServerAssembly.Validated v = ServerAssembly.validate(next, TargetResolver.system());
                    b.server().apply(new Rules(next, v.logins(), v.policy()), v.revoked(), () -> { });

                    JsonNode closed = b.audit().await("forward.close", e -> e.path("session").asText().equals(touchedSession));
                    assertThat(closed.path("reason").asText()).isEqualTo("role withdrawn");
                    // Still holding plain, the touched session goes on; the verified one keeps its tunnel.
                    assertThat(b.audit().ofSession(touchedSession))
                            .noneMatch(e -> e.path("event").asText().equals("session.terminate"));
                    assertThat(b.audit().ofSession(verifiedSession))
                            .noneMatch(e -> e.path("event").asText().equals("forward.close"));
                    assertThat(verified.process().isAlive()).isTrue();
                }
            }
        }
    }
}
