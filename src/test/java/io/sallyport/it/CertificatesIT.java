package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.EchoServer;
import io.sallyport.testing.OpenSsh;
import io.sallyport.testing.PrivateSubnet;
import io.sallyport.testing.TargetSshd;
import io.sallyport.testing.TestCa;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * OpenSSH user certificates end to end: certificates and KRLs made by the real {@code ssh-keygen},
 * presented by the real {@code ssh} (as the jump host of {@code ssh -J}, or with {@code ssh -W}),
 * accepted or refused by the bastion, and every refusal's reason in its {@code auth.reject} event.
 *
 * <p>Each test signs its own key with its own key id, and finds its events by that id.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CertificatesIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int ECHO_PORT = 7777;
    private static final int SSHD_PORT = 2222;
    private static final int ADMIN_ONLY_PORT = 9999;

    @TempDir
    static Path dir;

    PrivateSubnet subnet;
    EchoServer.Handle echo;
    TargetSshd sshd;
    TestCa corp;
    TestCa rogue;
    TestCa rsaCa;
    TestCa ecdsaCa;
    Path krl;
    Path revokedKey;
    BastionFixture bastion;
    Path knownHosts;
    Path targetKey;
    final AtomicInteger counter = new AtomicInteger();

    @BeforeAll
    void startWorld() throws Exception {
        OpenSsh.requireClient();
        subnet = PrivateSubnet.create();
        echo = EchoServer.startIn(subnet, ECHO_PORT);
        corp = TestCa.create(dir, "corp-ca");
        rogue = TestCa.create(dir, "rogue-ca");
        rsaCa = TestCa.create(dir, "rsa-ca", "rsa");
        ecdsaCa = TestCa.create(dir, "ecdsa-ca", "ecdsa");

        targetKey = OpenSsh.keygen(dir, "target-login");
        Path authorized = dir.resolve("authorized_keys");
        Files.writeString(authorized, OpenSsh.publicKeyLine(targetKey) + "\n");
        if (TargetSshd.available() || "true".equals(System.getenv("CI"))) {
            sshd = TargetSshd.start(subnet, SSHD_PORT, authorized, Files.createDirectories(dir.resolve("sshd")));
        } else {
            System.err.println("CertificatesIT: sshd is not installed; the ssh -J test is skipped (install openssh-server)");
        }

        // The KRL an operator would write: serials, a range, a key id, for corp-ca; one whole key.
        krl = dir.resolve("revoked.krl");
        corp.revoke(krl, false, "serial: 1001", "serial: 5000-5999", "id: revoked-id");
        revokedKey = OpenSsh.keygen(dir, "stolen-laptop");
        TestCa.revokeKeys(krl, true, "key: " + OpenSsh.publicKeyLine(revokedKey));

        String target = subnet.targetAddress();
        String yaml = String.join("\n",
                "identity:",
                "  certificates:",
                "    max_validity: 24h",
                "    clock_skew: 1s",
                "    revoked: \"" + krl + "\"",
                "    authorities:",
                "      - name: corp-ca",
                "        public_key: \"" + corp.publicKeyLine() + "\"",
                "        grantable_roles: [ops, db]",
                "      - {name: rsa-ca, public_key: \"" + rsaCa.publicKeyLine() + "\", grantable_roles: [ops]}",
                "      - {name: ecdsa-ca, public_key: \"" + ecdsaCa.publicKeyLine() + "\", grantable_roles: [ops]}",
                "policy:",
                "  roles:",
                "    ops:",
                "      allow: [\"" + target + "/32:" + ECHO_PORT + "," + SSHD_PORT + "\"]",
                "    db:",
                "      allow: [\"" + target + "/32:5432\"]",
                "    admin:",
                "      allow: [\"" + target + "/32:" + ADMIN_ONLY_PORT + "\"]",
                "  unsafe_allow_loopback: " + subnet.isLoopbackFallback(),
                "limits:",
                "  max_auth_attempts: 100",
                "");
        bastion = BastionFixture.start(Files.createDirectories(dir.resolve("bastion")), yaml, TargetResolver.system());
        knownHosts = dir.resolve("known_hosts");
        OpenSsh.addKnownHost(knownHosts, "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        if (sshd != null) {
            OpenSsh.addKnownHost(knownHosts, target, SSHD_PORT, sshd.hostPublicKey());
        }
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

    // ---------------------------------------------------------------- helpers

    /** A fresh key signed by {@code ca} as described, and an ssh_config whose host {@code alias} logs in with it. */
    private OpenSsh client(String alias, TestCa ca, TestCa.Cert cert, String user) {
        return client(bastion, alias, ca, cert, user);
    }

    private OpenSsh client(BastionFixture to, String alias, TestCa ca, TestCa.Cert cert, String user) {
        Path key = OpenSsh.keygen(dir.resolve("keys-" + counter.incrementAndGet()), alias);
        return client(to, alias, key, ca.sign(key, cert), user);
    }

    /** The certificate signature algorithms the client may use for its key type, and nothing else. */
    private static String certificateAlgorithms(Path key) {
        String type = OpenSsh.publicKeyLine(key).split("\\s+")[0];
        return switch (type) {
            case "ssh-rsa" -> "rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com";
            default -> type + "-cert-v01@openssh.com";
        };
    }

    private OpenSsh client(String alias, Path key, Path certFile, String user) {
        return client(bastion, alias, key, certFile, user);
    }

    /** ssh finds the certificate as {@code <key>-cert.pub} beside the key, where ssh-keygen wrote it. */
    private OpenSsh client(BastionFixture to, String alias, Path key, Path certFile, String user) {
        assertThat(certFile).isEqualTo(key.resolveSibling(key.getFileName() + "-cert.pub"));
        if (to != bastion) {
            OpenSsh.addKnownHost(knownHosts, "127.0.0.1", to.port(), uncheckedHostKeyLine(to));
        }
        OpenSsh.ConfigBuilder config = OpenSsh.config()
                .host(OpenSsh.host(alias).hostName("127.0.0.1").port(to.port()).user(user)
                        .identityFile(key).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes")
                        .option("IdentitiesOnly", "yes")
                        // Offer the certificate only: no fallback to the plain key muddles the audit.
                        .option("PubkeyAcceptedAlgorithms", certificateAlgorithms(key)));
        if (sshd != null) {
            config.host(OpenSsh.host("target").hostName(subnet.targetAddress()).port(SSHD_PORT)
                    .user(TargetSshd.currentUser()).identityFile(targetKey).userKnownHostsFile(knownHosts)
                    .strictHostKeyChecking("yes").proxyJump(alias));
        }
        return config.writeTo(key.resolveSibling("ssh_config"));
    }

    private static String uncheckedHostKeyLine(BastionFixture b) {
        try {
            return b.hostKeyLine();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code ssh -W} to the echo target with stdin left open; returns once bytes went through. */
    private Process openTunnel(OpenSsh ssh, String alias) throws Exception {
        Process p = new ProcessBuilder(ssh.command(List.of("-W", subnet.targetAddress() + ":" + ECHO_PORT, alias)))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        OutputStream in = p.getOutputStream();
        InputStream out = p.getInputStream();
        in.write("ping\n".getBytes(StandardCharsets.US_ASCII));
        in.flush();
        byte[] echoed = new byte[5];
        int n = 0;
        while (n < echoed.length) {
            int r = out.read(echoed, n, echoed.length - n);
            assertThat(r).as("echo through the tunnel").isPositive();
            n += r;
        }
        assertThat(new String(echoed, StandardCharsets.US_ASCII)).isEqualTo("ping\n");
        return p;
    }

    private OpenSsh.Result tunnelToEcho(OpenSsh ssh, String alias, byte[] payload) {
        return ssh.run(List.of("-W", subnet.targetAddress() + ":" + ECHO_PORT, alias), payload, TIMEOUT);
    }

    /** Asserts the login was refused and returns its {@code auth.reject} event. */
    private JsonNode refused(TestCa ca, TestCa.Cert cert, String keyId, String user) throws Exception {
        String alias = "c" + counter.incrementAndGet();
        OpenSsh ssh = client(alias, ca, cert, user);
        OpenSsh.Result r = sshd != null
                ? ssh.run(List.of("-J", alias, "target", "true"), new byte[0], TIMEOUT)
                : tunnelToEcho(ssh, alias, new byte[0]);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("Permission denied");
        JsonNode reject = bastion.audit().await("auth.reject", e -> e.path("auth").path("cert_key_id").asText().equals(keyId));
        assertThat(reject.path("auth").path("method").asText()).isEqualTo("certificate");
        assertThat(reject.path("auth").path("key_type").asText()).isEqualTo("ssh-ed25519-cert-v01@openssh.com");
        assertThat(reject.path("user").asText()).isEqualTo(user);
        assertThat(bastion.audit().named("auth.accept"))
                .noneMatch(e -> e.path("auth").path("cert_key_id").asText().equals(keyId));
        return reject;
    }

    private static TestCa.Cert valid(String keyId) {
        return TestCa.user(keyId).principals("alice").validity("-5m:+1h").serial(7)
                .option("extension:roles@sallyport=ops");
    }

    // ---------------------------------------------------------------- accepted

    @Test
    void certificateFromTrustedCaIsAcceptedForSshJ() throws Exception {
        Assumptions.assumeTrue(sshd != null, "sshd is not installed");
        OpenSsh ssh = client("jump-ok", corp, TestCa.user("alice-jump").principals("alice", "alice-admin")
                .validity("-5m:+1h").serial("18446744073709551615").option("extension:roles@sallyport=ops"), "alice");

        OpenSsh.Result r = ssh.run(List.of("-J", "jump-ok", "target", "echo", "certified"), TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdoutText()).contains("certified");
        JsonNode accept = bastion.audit().await("auth.accept", e -> e.path("auth").path("cert_key_id").asText().equals("alice-jump"));
        assertThat(accept.path("user").asText()).isEqualTo("alice");
        JsonNode auth = accept.path("auth");
        assertThat(auth.path("method").asText()).isEqualTo("certificate");
        assertThat(auth.path("source").asText()).isEqualTo("ca");
        assertThat(auth.path("ca").asText()).isEqualTo("corp-ca");
        // Serials are unsigned 64-bit: the largest one survives intact.
        assertThat(auth.path("cert_serial").asText()).isEqualTo("18446744073709551615");
        assertThat(auth.path("key_type").asText()).isEqualTo("ssh-ed25519-cert-v01@openssh.com");
        assertThat(auth.path("key_fp").asText()).startsWith("SHA256:");
        assertThat(auth.path("roles")).extracting(JsonNode::asText).containsExactly("ops");
        JsonNode open = bastion.audit().await("forward.open", e -> e.path("session").equals(accept.path("session")));
        assertThat(open.path("target").path("port").asInt()).isEqualTo(SSHD_PORT);
    }

    @Test
    void rolesComeFromTheExtensionLimitedToWhatTheCaMayGrant() throws Exception {
        // The certificate asks for ops and admin; corp-ca may grant ops and db only.
        OpenSsh ssh = client("roles", corp, TestCa.user("alice-roles").principals("alice").validity("-5m:+1h")
                .option("extension:roles@sallyport=admin,ops,nosuchrole"), "alice");
        byte[] payload = "roles\n".getBytes(StandardCharsets.US_ASCII);

        OpenSsh.Result allowed = tunnelToEcho(ssh, "roles", payload);
        OpenSsh.Result adminOnly = ssh.run(List.of("-W", subnet.targetAddress() + ":" + ADMIN_ONLY_PORT, "roles"),
                new byte[0], TIMEOUT);

        assertThat(allowed.exitCode()).as(allowed.toString()).isZero();
        assertThat(allowed.stdout()).isEqualTo(payload);
        assertThat(adminOnly.exitCode()).as(adminOnly.toString()).isNotZero();
        assertThat(adminOnly.stderr()).contains("administratively prohibited");
        List<JsonNode> accepts = new ArrayList<>(bastion.audit().named("auth.accept").stream()
                .filter(e -> e.path("auth").path("cert_key_id").asText().equals("alice-roles")).toList());
        assertThat(accepts).hasSize(2).allSatisfy(a ->
                assertThat(a.path("auth").path("roles")).extracting(JsonNode::asText).containsExactly("ops"));
        JsonNode reject = bastion.audit().await("forward.reject", e -> e.path("target").path("port").asInt() == ADMIN_ONLY_PORT);
        assertThat(reject.path("reason").asText()).contains("no rule");
    }

    @ParameterizedTest(name = "{0} key, {1} CA")
    @CsvSource({"ecdsa, ed25519", "rsa, rsa", "ed25519, ecdsa"})
    void certificatesOfEveryKeyAndCaTypeAreAccepted(String keyType, String caType) throws Exception {
        TestCa ca = switch (caType) {
            case "rsa" -> rsaCa;
            case "ecdsa" -> ecdsaCa;
            default -> corp;
        };
        String alias = "kt-" + keyType;
        String keyId = "types-" + keyType + "-" + caType;
        Path key = OpenSsh.keygen(dir.resolve("keys-" + counter.incrementAndGet()), alias, keyType);
        OpenSsh ssh = client(alias, key, ca.sign(key, valid(keyId)), "alice");
        byte[] payload = keyId.getBytes(StandardCharsets.US_ASCII);

        OpenSsh.Result r = tunnelToEcho(ssh, alias, payload);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).isEqualTo(payload);
        JsonNode accept = bastion.audit().await("auth.accept", e -> e.path("auth").path("cert_key_id").asText().equals(keyId));
        assertThat(accept.path("auth").path("key_type").asText()).endsWith("-cert-v01@openssh.com");
        assertThat(accept.path("auth").path("ca").asText()).isEqualTo(caType.equals("ed25519") ? "corp-ca" : caType + "-ca");
    }

    // ---------------------------------------------------------------- refused

    @Test
    void expiredCertificateIsRefused() throws Exception {
        JsonNode reject = refused(corp, valid("expired").validity("-2h:-1h"), "expired", "alice");
        assertThat(reject.path("reason").asText()).startsWith("certificate expired at");
        assertThat(reject.path("auth").path("cert_serial").asText()).isEqualTo("7");
        assertThat(reject.path("auth").path("ca").asText()).isEqualTo("corp-ca");
    }

    @Test
    void notYetValidCertificateIsRefused() throws Exception {
        JsonNode reject = refused(corp, valid("future").validity("+1h:+2h"), "future", "alice");
        assertThat(reject.path("reason").asText()).startsWith("certificate is not valid yet");
    }

    @Test
    void certificateValidForLongerThanMaxValidityIsRefused() throws Exception {
        JsonNode reject = refused(corp, valid("too-long").validity("-5m:+2d"), "too-long", "alice");
        assertThat(reject.path("reason").asText()).contains("longer than identity.certificates.max_validity 24h");
    }

    @Test
    void certificateWithoutValidityLimitIsRefused() throws Exception {
        JsonNode reject = refused(corp, TestCa.user("forever").principals("alice").option("extension:roles@sallyport=ops"),
                "forever", "alice");
        assertThat(reject.path("reason").asText()).contains("valid forever");
    }

    @Test
    void certificateForAnotherPrincipalIsRefused() throws Exception {
        JsonNode reject = refused(corp, TestCa.user("bob-only").principals("bob").validity("-5m:+1h")
                .option("extension:roles@sallyport=ops"), "bob-only", "alice");
        assertThat(reject.path("reason").asText()).isEqualTo("user 'alice' is not among the certificate's principals (bob)");
    }

    @Test
    void certificateWithoutPrincipalsIsRefused() throws Exception {
        JsonNode reject = refused(corp, TestCa.user("no-principals").validity("-5m:+1h")
                .option("extension:roles@sallyport=ops"), "no-principals", "alice");
        assertThat(reject.path("reason").asText()).startsWith("certificate has no principals");
    }

    @Test
    void certificateFromUntrustedCaIsRefused() throws Exception {
        JsonNode reject = refused(rogue, valid("rogue"), "rogue", "alice");
        assertThat(reject.path("reason").asText()).startsWith("certificate signed by an untrusted CA (ssh-ed25519 SHA256:");
        assertThat(reject.path("auth").has("ca")).isFalse();
    }

    @Test
    void sha1CaSignatureIsRefused() throws Exception {
        JsonNode reject = refused(rsaCa, valid("sha1-signed").signatureAlgorithm("ssh-rsa"), "sha1-signed", "alice");
        assertThat(reject.path("reason").asText()).startsWith("the CA signed the certificate with ssh-rsa (SHA-1)");
    }

    @Test
    void sourceAddressThatExcludesTheClientIsRefused() throws Exception {
        JsonNode reject = refused(corp, valid("elsewhere").option("source-address=192.0.2.0/24,10.99.0.0/16"), "elsewhere", "alice");
        assertThat(reject.path("reason").asText())
                .isEqualTo("certificate source-address 192.0.2.0/24,10.99.0.0/16 does not allow the client address 127.0.0.1");
    }

    @Test
    void sourceAddressThatIncludesTheClientIsAccepted() throws Exception {
        OpenSsh ssh = client("here", corp, valid("here").option("source-address=127.0.0.0/8"), "alice");
        OpenSsh.Result r = tunnelToEcho(ssh, "here", "x".getBytes(StandardCharsets.US_ASCII));

        assertThat(r.exitCode()).as(r.toString()).isZero();
        bastion.audit().await("auth.accept", e -> e.path("auth").path("cert_key_id").asText().equals("here"));
    }

    @Test
    void forceCommandMakesTheCertificateUnusable() throws Exception {
        JsonNode reject = refused(corp, valid("forced").option("force-command=/usr/bin/true"), "forced", "alice");
        assertThat(reject.path("reason").asText()).contains("force-command");
    }

    @Test
    void certificateWithoutPermitPortForwardingIsRefused() throws Exception {
        JsonNode reject = refused(corp, valid("no-forwarding").option("clear").option("permit-pty"), "no-forwarding", "alice");
        assertThat(reject.path("reason").asText()).contains("permit-port-forwarding");
    }

    @Test
    void serialRevokedInTheKrlIsRefused() throws Exception {
        JsonNode reject = refused(corp, valid("revoked-serial").serial(1001), "revoked-serial", "alice");
        assertThat(reject.path("reason").asText()).isEqualTo("revoked: serial 1001 is revoked for this CA");
        JsonNode inRange = refused(corp, valid("revoked-range").serial(5500), "revoked-range", "alice");
        assertThat(inRange.path("reason").asText()).isEqualTo("revoked: serial 5500 (range 5000-5999) is revoked for this CA");
    }

    @Test
    void keyIdRevokedInTheKrlIsRefused() throws Exception {
        JsonNode reject = refused(corp, valid("revoked-id").serial(3), "revoked-id", "alice");
        assertThat(reject.path("reason").asText()).isEqualTo("revoked: key id \"revoked-id\" is revoked for this CA");
    }

    @Test
    void certificateForAKeyRevokedInTheKrlIsRefused() throws Exception {
        Path cert = corp.sign(revokedKey, valid("stolen"));
        OpenSsh ssh = client("stolen", revokedKey, cert, "alice");
        OpenSsh.Result r = tunnelToEcho(ssh, "stolen", new byte[0]);

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        JsonNode reject = bastion.audit().await("auth.reject", e -> e.path("auth").path("cert_key_id").asText().equals("stolen"));
        assertThat(reject.path("reason").asText()).startsWith("revoked: the certified key SHA256:").endsWith(" is revoked");
    }

    // ---------------------------------------------------------------- expiry

    @Test
    void tunnelOpenedWithACertificateIsCutWhenTheCertificateExpires() throws Exception {
        Instant signed = Instant.now();
        OpenSsh ssh = client("short", corp, valid("short-lived").validity("-5m:+5s"), "alice");
        Process p = openTunnel(ssh, "short");
        try {
            // stdin stays open: only the certificate's expiry can end this tunnel.
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("ssh ended by the bastion").isTrue();
            JsonNode accept = bastion.audit().await("auth.accept", e -> e.path("auth").path("cert_key_id").asText().equals("short-lived"));
            JsonNode terminate = bastion.audit().await("session.terminate", e -> e.path("session").equals(accept.path("session")));
            assertThat(terminate.path("reason").asText()).isEqualTo("cert_expired");
            assertThat(Instant.parse(terminate.path("ts").asText())).isAfterOrEqualTo(signed.plusSeconds(4));
            JsonNode fclose = bastion.audit().await("forward.close", e -> e.path("session").equals(accept.path("session")));
            assertThat(fclose.path("bytes_up").asLong()).isEqualTo(5);
            JsonNode close = bastion.audit().await("session.close", e -> e.path("session").equals(accept.path("session")));
            assertThat(close.path("reason").asText()).isEqualTo("cert_expired");
        } finally {
            p.destroyForcibly();
        }
    }

    // ---------------------------------------------------------------- revocation list changes

    @Test
    void changedKrlEndsLiveSessionsItRevokesAndABadKrlKeepsThePreviousOne() throws Exception {
        Path work = Files.createDirectories(dir.resolve("reload"));
        Path changing = corp.revoke(work.resolve("revoked.krl"), false, "serial: 1");
        String yaml = String.join("\n",
                "identity:",
                "  certificates:",
                "    clock_skew: 1s",
                "    revoked: \"" + changing + "\"",
                "    authorities:",
                "      - {name: corp-ca, public_key: \"" + corp.publicKeyLine() + "\", grantable_roles: [ops]}",
                "policy:",
                "  roles:",
                "    ops: {allow: [\"" + subnet.targetAddress() + "/32:" + ECHO_PORT + "\"]}",
                "  unsafe_allow_loopback: " + subnet.isLoopbackFallback(),
                "limits:",
                "  max_auth_attempts: 100",
                "");
        try (BastionFixture b = BastionFixture.start(work, yaml, TargetResolver.system())) {
            OpenSsh live = client(b, "live", corp, valid("live").serial(77), "alice");
            Process p = openTunnel(live, "live");
            try {
                corp.revoke(changing, true, "serial: 77");

                // Picked up by the poll, without a reload: the live session ends.
                assertThat(p.waitFor(15, TimeUnit.SECONDS)).as("tunnel ended by the revocation").isTrue();
                JsonNode accept = b.audit().await("auth.accept", e -> e.path("auth").path("cert_key_id").asText().equals("live"));
                JsonNode terminate = b.audit().await("session.terminate", e -> e.path("session").equals(accept.path("session")));
                assertThat(terminate.path("reason").asText()).isEqualTo("revoked");
            } finally {
                p.destroyForcibly();
            }

            JsonNode applied = b.audit().await("config.reload", e -> e.path("trigger").asText().equals("revocation file"));
            assertThat(applied.path("result").asText()).isEqualTo("applied");
            assertThat(applied.path("config").asText()).isEqualTo(changing.toString());

            // A half-written KRL: the poll audits why it was refused, and serial 77 stays revoked.
            Files.write(changing, java.util.Arrays.copyOf(Files.readAllBytes(changing), 40));
            JsonNode refusedReload = b.audit().await("config.reload", e -> e.path("trigger").asText().equals("revocation file")
                    && e.path("result").asText().equals("refused"));
            assertThat(refusedReload.path("reason").asText()).contains("malformed KRL").endsWith("the previous list stays in force");
            OpenSsh again = client(b, "again", corp, valid("again").serial(77), "alice");
            OpenSsh.Result refused = again.run(List.of("-W", subnet.targetAddress() + ":" + ECHO_PORT, "again"), new byte[0], TIMEOUT);
            assertThat(refused.exitCode()).as(refused.toString()).isNotZero();
            JsonNode reject = b.audit().await("auth.reject", e -> e.path("auth").path("cert_key_id").asText().equals("again"));
            assertThat(reject.path("reason").asText()).isEqualTo("revoked: serial 77 is revoked for this CA");
            OpenSsh other = client(b, "other", corp, valid("other").serial(78), "alice");
            OpenSsh.Result ok = other.run(List.of("-W", subnet.targetAddress() + ":" + ECHO_PORT, "other"), "x".getBytes(), TIMEOUT);
            assertThat(ok.exitCode()).as(ok.toString()).isZero();
        }
    }
}
