package io.sallyport.it;

import com.fasterxml.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sallyport.net.TargetResolver;
import io.sallyport.testing.EchoServer;
import io.sallyport.testing.OpenSsh;
import io.sallyport.testing.PrivateSubnet;
import io.sallyport.testing.TestCa;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code host_certificate}: a client whose {@code known_hosts} holds nothing but one
 * {@code @cert-authority} line for the host CA connects with {@code StrictHostKeyChecking=yes},
 * which is how a fleet of bastions is trusted without listing each host key.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostCertificateIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int ECHO_PORT = 7777;

    @TempDir
    static Path dir;

    PrivateSubnet subnet;
    EchoServer.Handle echo;
    TestCa hostCa;
    Path userKey;
    final AtomicInteger counter = new AtomicInteger();

    @BeforeAll
    void startWorld() {
        OpenSsh.requireClient();
        subnet = PrivateSubnet.create();
        echo = EchoServer.startIn(subnet, ECHO_PORT);
        hostCa = TestCa.create(dir, "host-ca");
        userKey = OpenSsh.keygen(dir, "alice");
    }

    @AfterAll
    void stopWorld() {
        for (AutoCloseable c : new AutoCloseable[] {echo, subnet}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                System.err.println("cleanup: " + e);
            }
        }
    }

    /** A work dir with a host key made by ssh-keygen (the fixture loads it) and its certificate from {@code ca}. */
    private Path hostWithCertificate(TestCa ca, TestCa.Cert cert) {
        Path work = dir.resolve("b" + counter.incrementAndGet());
        Path hostKey = OpenSsh.keygen(work, "host_key");
        ca.sign(hostKey, cert);
        return work;
    }

    private String yaml(Path work) {
        return String.join("\n",
                "host_certificate: \"" + work.resolve("host_key-cert.pub") + "\"",
                "identity:",
                "  local:",
                "    users:",
                "      alice: {roles: [ops], keys: [\"" + OpenSsh.publicKeyLine(userKey) + "\"]}",
                "policy:",
                "  roles:",
                "    ops: {allow: [\"" + subnet.targetAddress() + "/32:" + ECHO_PORT + "\"]}",
                "  unsafe_allow_loopback: " + subnet.isLoopbackFallback(),
                "");
    }

    /** known_hosts with only {@code @cert-authority [127.0.0.1]:PORT <ca key>}. */
    private OpenSsh clientTrusting(TestCa ca, BastionFixture bastion, Path work) {
        Path knownHosts = work.resolve("known_hosts_ca");
        OpenSsh.appendLine(knownHosts, "@cert-authority " + OpenSsh.knownHostsLine("127.0.0.1", bastion.port(), ca.publicKeyLine()));
        return OpenSsh.config()
                .host(OpenSsh.host("bastion").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(userKey).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                .writeTo(work.resolve("ssh_config"));
    }

    @Test
    void clientWithOnlyTheHostCaInKnownHostsConnectsWithStrictChecking() throws Exception {
        Path work = hostWithCertificate(hostCa, TestCa.host("bastion-1").principals("127.0.0.1", "bastion.corp")
                .validity("-5m:+30d").serial(1));
        try (BastionFixture bastion = BastionFixture.start(work, yaml(work), TargetResolver.system())) {
            OpenSsh ssh = clientTrusting(hostCa, bastion, work);
            byte[] payload = "trusted by certificate\n".getBytes(StandardCharsets.US_ASCII);

            OpenSsh.Result r = ssh.run(List.of("-v", "-W", subnet.targetAddress() + ":" + ECHO_PORT, "bastion"), payload, TIMEOUT);

            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.stdout()).isEqualTo(payload);
            assertThat(r.stderr()).contains("Server host certificate: ssh-ed25519-cert-v01@openssh.com")
                    .contains("ID \"bastion-1\"")
                    .containsPattern("is known and matches the ED25519-CERT host certificate");
        }
    }

    @Test
    void clientTrustingAnotherCaRefusesTheBastion() throws Exception {
        Path work = hostWithCertificate(hostCa, TestCa.host("bastion-2").principals("127.0.0.1").validity("-5m:+30d"));
        TestCa other = TestCa.create(work, "other-ca");
        try (BastionFixture bastion = BastionFixture.start(work, yaml(work), TargetResolver.system())) {
            OpenSsh.Result r = clientTrusting(other, bastion, work)
                    .run(List.of("-W", subnet.targetAddress() + ":" + ECHO_PORT, "bastion"), new byte[0], TIMEOUT);

            assertThat(r.exitCode()).as(r.toString()).isNotZero();
            assertThat(r.stderr()).contains("Host key verification failed");
        }
    }

    @Test
    void serverOffersTheCertificateAlgorithmBesideThePlainKey() throws Exception {
        Path work = hostWithCertificate(hostCa, TestCa.host("bastion-3").principals("127.0.0.1").validity("-5m:+30d"));
        try (BastionFixture bastion = BastionFixture.start(work, yaml(work), TargetResolver.system())) {
            OpenSsh.Result r = clientTrusting(hostCa, bastion, work)
                    .run(List.of("-vvv", "-W", subnet.targetAddress() + ":" + ECHO_PORT, "bastion"), "x".getBytes(), TIMEOUT);

            Map<String, List<String>> offered = AlgorithmsIT.serverProposal(r.stderr());
            assertThat(offered.get("host key algorithms")).as(r.stderr())
                    .containsExactlyInAnyOrder("ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519");
        }
    }

    @Test
    void renewedHostCertificateIsServedWithoutARestart() throws Exception {
        Path work = hostWithCertificate(hostCa, TestCa.host("first").principals("127.0.0.1").validity("-5m:+1d").serial(1));
        try (BastionFixture bastion = BastionFixture.start(work, yaml(work), TargetResolver.system())) {
            OpenSsh ssh = clientTrusting(hostCa, bastion, work);
            // Renew as an operator would: sign again beside the key, then move the result into place.
            Path renewDir = Files.createDirectories(work.resolve("renew"));
            Files.copy(work.resolve("host_key.pub"), renewDir.resolve("host_key.pub"));
            hostCa.sign(renewDir.resolve("host_key"), TestCa.host("second").principals("127.0.0.1").validity("-5m:+1d").serial(2));
            Files.move(renewDir.resolve("host_key-cert.pub"), work.resolve("host_key-cert.pub"),
                    StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

            String seen = "";
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!seen.contains("ID \"second\"") && System.nanoTime() < deadline) {
                OpenSsh.Result r = ssh.run(List.of("-v", "-W", subnet.targetAddress() + ":" + ECHO_PORT, "bastion"), "x".getBytes(), TIMEOUT);
                assertThat(r.exitCode()).as(r.toString()).isZero();
                seen = r.stderr();
                Thread.sleep(200);
            }
            assertThat(seen).contains("ID \"second\"");
            JsonNode served = bastion.audit().await("config.reload", e -> e.path("trigger").asText().equals("host certificate"));
            assertThat(served.path("result").asText()).isEqualTo("applied");
            assertThat(served.path("config").asText()).isEqualTo(work.resolve("host_key-cert.pub").toString());

            // A broken renewal keeps the served certificate, and says so in the audit trail.
            Files.writeString(work.resolve("host_key-cert.pub"), "ssh-ed25519-cert-v01@openssh.com AAAAnot-base64\n");
            JsonNode kept = bastion.audit().await("config.reload", e -> e.path("trigger").asText().equals("host certificate")
                    && e.path("result").asText().equals("refused"));
            assertThat(kept.path("reason").asText()).endsWith("the previous certificate is still served");
            OpenSsh.Result still = ssh.run(List.of("-v", "-W", subnet.targetAddress() + ":" + ECHO_PORT, "bastion"), "x".getBytes(), TIMEOUT);
            assertThat(still.exitCode()).as(still.toString()).isZero();
            assertThat(still.stderr()).contains("ID \"second\"");
        }
    }

    @Test
    void certificateForAnotherKeyOrAUserCertificateStopsTheStart() {
        Path wrongKey = hostWithCertificate(hostCa, TestCa.host("wrong").principals("127.0.0.1"));
        Path otherKey = OpenSsh.keygen(wrongKey.resolve("other"), "other");
        hostCa.sign(otherKey, TestCa.host("other").principals("127.0.0.1"));
        String yaml = yaml(wrongKey).replace(wrongKey.resolve("host_key-cert.pub").toString(),
                otherKey.resolveSibling("other-cert.pub").toString());
        assertThatThrownBy(() -> BastionFixture.start(wrongKey, yaml, TargetResolver.system()))
                .hasMessageContaining("which is none of host_keys");

        Path userCert = hostWithCertificate(hostCa, TestCa.user("not-a-host").principals("alice"));
        assertThatThrownBy(() -> BastionFixture.start(userCert, yaml(userCert), TargetResolver.system()))
                .hasMessageContaining("a user certificate; sign the host key with ssh-keygen -h");
    }
}
