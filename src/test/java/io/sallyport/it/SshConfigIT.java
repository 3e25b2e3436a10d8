package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.admin.AdminSocket;
import io.sallyport.cli.ServerAssembly;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.FakeIam;
import io.sallyport.testing.EchoServer;
import io.sallyport.testing.OpenSsh;
import io.sallyport.testing.PrivateSubnet;
import io.sallyport.testing.TargetSshd;
import io.sallyport.testing.TestCa;
import java.nio.charset.StandardCharsets;
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

/**
 * {@code sallyport ssh-config} from the packaged CLI: the block it prints, written to a file as an
 * engineer pastes it, works with stock OpenSSH. The private target resolves to {@code ProxyJump
 * bastion}; {@code ssh -W} through the bastion alias carries bytes to the echo target with
 * {@code StrictHostKeyChecking yes} and no known_hosts but the printed lines (host key, or the
 * {@code @cert-authority} line when a host certificate is served); {@code ssh target} jumps to a
 * real sshd by the printed {@code Host} pattern alone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshConfigIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int ECHO_PORT = 7;
    private static final int SSHD_PORT = 22;

    @TempDir
    static Path dir;
    PrivateSubnet subnet;
    EchoServer.Handle echo;
    TargetSshd sshd;
    Path aliceKey;
    final AtomicInteger counter = new AtomicInteger();

    @BeforeAll
    void startWorld() throws Exception {
        OpenSsh.requireClient();
        subnet = PrivateSubnet.create();
        echo = EchoServer.startIn(subnet, ECHO_PORT);
        aliceKey = OpenSsh.keygen(dir, "alice");
        Path authorized = dir.resolve("authorized_keys");
        Files.writeString(authorized, OpenSsh.publicKeyLine(aliceKey) + "\n");
        if (TargetSshd.available() || "true".equals(System.getenv("CI"))) {
            sshd = TargetSshd.start(subnet, SSHD_PORT, authorized, Files.createDirectories(dir.resolve("sshd")));
        } else {
            System.err.println("SshConfigIT: sshd is not installed; the jump to a real sshd is skipped (install openssh-server)");
        }
    }

    @AfterAll
    void stopWorld() {
        for (AutoCloseable c : new AutoCloseable[] {sshd, echo, subnet}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                System.err.println("cleanup: " + e);
            }
        }
    }

    /** The two parts of the output: the ssh_config block, and the lines after the known_hosts header. */
    private record Output(String sshConfig, List<String> knownHosts) {
        static Output split(String printed) {
            String header = "# --- append to ~/.ssh/known_hosts ---\n";
            int at = printed.indexOf(header);
            assertThat(at).as(printed).isPositive();
            return new Output(printed.substring(0, at), printed.substring(at + header.length()).lines().toList());
        }
    }

    private String yaml(String extra, Path work) {
        return yaml(extra, work, "");
    }

    /** @param iam lines under {@code identity:} (the IAM source), or nothing */
    private String yaml(String extra, Path work, String iam) {
        return String.join("\n",
                extra,
                "admin:",
                "  socket: \"" + work.resolve("admin.sock") + "\"",
                "identity:",
                iam,
                "  local:",
                "    users:",
                "      alice: {roles: [ops], keys: [\"" + OpenSsh.publicKeyLine(aliceKey) + "\"]}",
                "policy:",
                "  roles:",
                "    ops: {allow: [\"" + subnet.cidr() + ":" + SSHD_PORT + "," + ECHO_PORT + "\", \"*.internal.test:22\"]}",
                "  unsafe_allow_loopback: " + subnet.isLoopbackFallback(),
                "");
    }

    /**
     * The printed block as an engineer's {@code ~/.ssh/config}, then what the test itself needs (the
     * key, a known_hosts of the printed lines and the target's, batch mode) under {@code Host *},
     * which OpenSSH reads after the printed values.
     */
    private OpenSsh pasted(Path work, ChildProcess.Finished printed) throws Exception {
        return pasted(work, printed, aliceKey);
    }

    private OpenSsh pasted(Path work, ChildProcess.Finished printed, Path key) throws Exception {
        Output out = Output.split(printed.stdout());
        Path knownHosts = work.resolve("known_hosts");
        Files.writeString(knownHosts, String.join("\n", out.knownHosts()) + "\n");
        if (sshd != null) {
            OpenSsh.addKnownHost(knownHosts, subnet.targetAddress(), SSHD_PORT, sshd.hostPublicKey());
        }
        Path file = work.resolve("ssh_config");
        Files.writeString(file, out.sshConfig() + "\n"
                + "Host *\n"
                + "  IdentityFile " + key + "\n"
                + "  IdentitiesOnly yes\n"
                + "  IdentityAgent none\n"
                + "  BatchMode yes\n"
                + "  ConnectTimeout 10\n"
                + "  UserKnownHostsFile " + knownHosts + "\n"
                + "  GlobalKnownHostsFile /dev/null\n"
                + "  StrictHostKeyChecking yes\n"
                + "  UpdateHostKeys no\n"
                + "  CheckHostIP no\n"
                + "  ControlMaster no\n"
                + "  ControlPath none\n", StandardCharsets.UTF_8);
        return new OpenSsh(file);
    }

    private static ChildProcess.Finished sshConfig(String... args) {
        ChildProcess.Finished r = SallyportJar.run(args);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stderr()).as(r.toString()).isEmpty();
        return r;
    }

    /** What {@code ssh -G HOST} resolves, as {@code keyword value} lines. */
    private static List<String> resolved(OpenSsh ssh, String host) {
        OpenSsh.Result r = ssh.run(List.of("-G", host), TIMEOUT);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r.stdoutText().lines().toList();
    }

    private void reachesTheTargetsThroughTheBastion(OpenSsh ssh, int bastionPort) {
        assertThat(resolved(ssh, subnet.targetAddress())).contains("proxyjump bastion");
        assertThat(resolved(ssh, "db.internal.test")).contains("proxyjump bastion");
        assertThat(resolved(ssh, "db.internal.test.evil.example")).doesNotContain("proxyjump bastion");
        assertThat(resolved(ssh, "bastion")).contains("hostname 127.0.0.1", "port " + bastionPort, "user alice")
                .doesNotContain("proxyjump bastion");

        byte[] payload = new byte[50_000];
        new Random(3).nextBytes(payload);
        OpenSsh.Result w = ssh.run(List.of("-W", subnet.targetAddress() + ":" + ECHO_PORT, "bastion"), payload, TIMEOUT);
        assertThat(w.exitCode()).as(w.toString()).isZero();
        assertThat(w.stdout()).isEqualTo(payload);

        if (sshd != null) {
            // Nothing but the printed Host pattern sends this through the bastion.
            OpenSsh.Result jump = ssh.run(List.of("-l", TargetSshd.currentUser(), subnet.targetAddress(), "echo", "pasted-and-working"),
                    TIMEOUT);
            assertThat(jump.exitCode()).as(jump.toString()).isZero();
            assertThat(jump.stdoutText()).contains("pasted-and-working");
        }
    }

    @Test
    void thePrintedBlockWithTheHostKeyLineReachesTheEchoTargetAndSshdWithStockOpenSsh() throws Exception {
        Path work = Files.createDirectories(dir.resolve("plain" + counter.incrementAndGet()));
        try (BastionFixture bastion = BastionFixture.start(work, yaml("", work), TargetResolver.system())) {
            ChildProcess.Finished printed = sshConfig("ssh-config", "-c", bastion.configFile().toString(), "--user", "alice",
                    "--bastion", "127.0.0.1:" + bastion.port());
            SallyportJar.assertNoStackTrace(printed);
            assertThat(Output.split(printed.stdout()).knownHosts())
                    .containsExactly("[127.0.0.1]:" + bastion.port() + " " + bastion.hostKeyLine());

            reachesTheTargetsThroughTheBastion(pasted(work, printed), bastion.port());
        }
    }

    @Test
    void withAHostCertificateTheCertAuthorityLineAloneLetsOpenSshTrustTheBastion() throws Exception {
        Path work = Files.createDirectories(dir.resolve("cert" + counter.incrementAndGet()));
        TestCa hostCa = TestCa.create(work, "host-ca");
        hostCa.sign(OpenSsh.keygen(work, "host_key"), TestCa.host("bastion").principals("127.0.0.1").validity("-5m:+1d"));
        String cert = "host_certificate: \"" + work.resolve("host_key-cert.pub") + "\"";
        try (BastionFixture bastion = BastionFixture.start(work, yaml(cert, work), TargetResolver.system())) {
            // No --bastion: the fixture listens on 127.0.0.1:PORT, which names one host.
            ChildProcess.Finished printed = sshConfig("ssh-config", "-c", bastion.configFile().toString(), "--user", "alice");
            String[] ca = hostCa.publicKeyLine().split("\\s+");
            assertThat(Output.split(printed.stdout()).knownHosts())
                    .containsExactly("@cert-authority [127.0.0.1]:" + bastion.port() + " " + ca[0] + " " + ca[1]);

            reachesTheTargetsThroughTheBastion(pasted(work, printed), bastion.port());
        }
    }

    @Test
    void withARunningServerAnIamUsersBlockHasTheRolesTheirGroupsGiveAndWorks() throws Exception {
        try (FakeIam iam = FakeIam.start()) {
            Path ginaKey = OpenSsh.keygen(dir, "gina");
            iam.user("Gina", "/engineering/").join("bastion-users").join("ops-group")
                    .tag("sallyport:ssh-key", OpenSsh.publicKeyLine(ginaKey));
            Path work = Files.createDirectories(dir.resolve("live" + counter.incrementAndGet()));
            String iamLines = String.join("\n",
                    "  iam:",
                    "    enabled: true",
                    "    endpoint: \"" + iam.endpoint() + "\"",
                    "    path_prefix: /engineering/",
                    "    allow_groups: [bastion-users]",
                    "    group_roles: {ops-group: [ops]}");
            try (BastionFixture bastion = BastionFixture.start(work, yaml("", work, iamLines), TargetResolver.system());
                 AdminSocket admin = ServerAssembly.adminSocket(ServerAssembly.load(bastion.configFile()), bastion.server(),
                         bastion.auditor())) {
                ChildProcess.Finished printed = sshConfig("ssh-config", "-c", bastion.configFile().toString(), "--user", "gina");
                assertThat(printed.stdout()).contains("# roles from the running server on " + work.resolve("admin.sock")
                        + ": iam (arn:aws:iam::123456789012:user/engineering/Gina)", "    User gina\n", "# role ops\n");
                assertThat(bastion.audit().named("admin.command")).anySatisfy(e -> {
                    assertThat(e.path("command").asText()).isEqualTo("ssh-config");
                    assertThat(e.path("args").toString()).isEqualTo("[\"--user\",\"gina\"]");
                });

                // The block works for her as for a local user: her key, the printed lines.
                Path file = Files.createDirectories(work.resolve("gina"));
                OpenSsh ssh = pasted(file, printed, ginaKey);
                byte[] payload = "through the pasted block".getBytes(StandardCharsets.UTF_8);
                OpenSsh.Result w = ssh.run(List.of("-W", subnet.targetAddress() + ":" + ECHO_PORT, "bastion"), payload, TIMEOUT);
                assertThat(w.exitCode()).as(w.toString()).isZero();
                assertThat(w.stdout()).isEqualTo(payload);

                ChildProcess.Finished stranger = SallyportJar.run("ssh-config", "-c", bastion.configFile().toString(), "--user", "nobody");
                assertThat(stranger.exitCode()).as(stranger.toString()).isEqualTo(1);
                assertThat(stranger.stderrLines()).containsExactly("sallyport: the running server (on " + work.resolve("admin.sock")
                        + ") knows no user 'nobody'");
            }
        }
    }

    @Test
    void anUnknownUserIsExitOneWithOneLine() throws Exception {
        Path work = Files.createDirectories(dir.resolve("unknown" + counter.incrementAndGet()));
        Path config = work.resolve("sallyport.yaml");
        Files.writeString(config, "listen: [\"127.0.0.1:2222\"]\nhost_keys: [\"" + work.resolve("host_key") + "\"]\n" + yaml("", work));
        ChildProcess.Finished r = SallyportJar.run("ssh-config", "-c", config.toString(), "--user", "mallory");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.stdout()).isEmpty();
        assertThat(r.stderrLines()).containsExactly("sallyport: no user 'mallory' in identity.local of " + config
                + " and no running server answered on " + work.resolve("admin.sock"));

        ChildProcess.Finished noUser = SallyportJar.run("ssh-config", "-c", config.toString());
        assertThat(noUser.exitCode()).as(noUser.toString()).isEqualTo(2);
        SallyportJar.assertNoStackTrace(noUser);
    }
}
