package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.CloudWatchShipper;
import io.sallyport.audit.Spool;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.FakeCloudWatchLogs;
import io.sallyport.testing.LoopbackEcho;
import io.sallyport.testing.OpenSsh;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit pipeline of a real server, driven by the stock OpenSSH client, shipping to a fake
 * CloudWatch Logs through the real AWS SDK: an outage and throttling under traffic lose nothing
 * and the backlog drains in order; a full spool refuses new logins, with the reason, while a
 * live tunnel carries on.
 */
class AuditShippingIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final CloudWatchShipper.Tuning FAST = new CloudWatchShipper.Tuning(Duration.ofMillis(50),
            Duration.ofMillis(50), Duration.ofMillis(400), Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(5));
    private static final AtomicInteger COUNTER = new AtomicInteger();

    @TempDir
    static Path dir;
    static Path aliceKey;
    static Path bobKey;
    static LoopbackEcho echo;

    @BeforeAll
    static void world() throws Exception {
        OpenSsh.requireClient();
        aliceKey = OpenSsh.keygen(dir, "alice");
        bobKey = OpenSsh.keygen(dir, "bob");
        echo = new LoopbackEcho();
        // The SDK's default credentials chain, as in production; system properties are its first link.
        System.setProperty("aws.accessKeyId", "AKIDTESTTESTTEST");
        System.setProperty("aws.secretAccessKey", "test-secret");
        // Hermetic: no instance metadata service (the region is configured, the instance is the host name).
        System.setProperty("aws.disableEc2Metadata", "true");
    }

    @AfterAll
    static void done() throws Exception {
        echo.close();
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
        System.clearProperty("aws.disableEc2Metadata");
    }

    private static BastionFixture bastion(FakeCloudWatchLogs cloudwatch, String spoolMax) throws Exception {
        Path work = Files.createDirectories(dir.resolve("b" + COUNTER.incrementAndGet()));
        String yaml = String.join("\n",
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [ops]",
                "        keys: [\"" + OpenSsh.publicKeyLine(aliceKey) + "\"]",
                "      bob:",
                "        roles: [ops]",
                "        keys: [\"" + OpenSsh.publicKeyLine(bobKey) + "\"]",
                "policy:",
                "  roles:",
                "    ops:",
                "      allow: [\"" + echo.address() + "/32:" + echo.port() + "\"]",
                "  unsafe_allow_loopback: true",
                "audit:",
                "  spool_dir: " + work.resolve("spool"),
                "  spool_max_bytes: " + spoolMax,
                "  cloudwatch:",
                "    enabled: true",
                "    endpoint: " + cloudwatch.endpoint(),
                "    region: eu-west-1",
                "    log_group: /sallyport/it",
                "    log_stream: \"{hostname}\"",
                "");
        return BastionFixture.start(work, yaml, TargetResolver.system(), FAST);
    }

    private static OpenSsh ssh(BastionFixture bastion) {
        Path work = bastion.configFile().getParent();
        Path knownHosts = work.resolve("known_hosts");
        try {
            OpenSsh.addKnownHost(knownHosts, "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return OpenSsh.config()
                .host(OpenSsh.host("alice").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts))
                .host(OpenSsh.host("bob").hostName("127.0.0.1").port(bastion.port()).user("bob")
                        .identityFile(bobKey).userKnownHostsFile(knownHosts))
                .writeTo(work.resolve("ssh_config"));
    }

    /** One short jump session: {@code ssh -W} to the echo target, some bytes through it. */
    private static void tunnelSession(OpenSsh ssh, String who) {
        byte[] payload = ("hello from " + who + "\n").getBytes(StandardCharsets.UTF_8);
        OpenSsh.Result r = ssh.run(List.of("-W", echo.address() + ":" + echo.port(), who), payload, TIMEOUT);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdoutText()).isEqualTo("hello from " + who + "\n");
    }

    private static List<String> recordedIds(BastionFixture bastion) {
        return bastion.audit().all().stream().map(e -> e.path("id").asText()).toList();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as(what + " within " + TIMEOUT).isTrue();
            Thread.sleep(25);
        }
    }

    @Test
    void cloudWatchOutageAndThrottlingUnderTrafficLoseNothingAndTheBacklogDrainsInOrder() throws Exception {
        try (FakeCloudWatchLogs cloudwatch = FakeCloudWatchLogs.start();
             BastionFixture bastion = bastion(cloudwatch, "64MiB")) {
            OpenSsh ssh = ssh(bastion);
            CloudWatchShipper shipper = bastion.auditor().shipper().orElseThrow();
            Spool spool = bastion.auditor().spool().orElseThrow();
            for (int i = 0; i < 2; i++) {
                tunnelSession(ssh, "alice");
            }
            await("the first sessions reach CloudWatch", () -> cloudwatch.distinctIds().containsAll(recordedIds(bastion)));

            // CloudWatch goes away; logins and tunnels carry on, their events pile up in the spool.
            cloudwatch.goAway();
            for (int i = 0; i < 6; i++) {
                tunnelSession(ssh, i % 2 == 0 ? "alice" : "bob");
            }
            await("the shipper notices", () -> shipper.stats().failedAttempts() >= 2);
            Spool.Status during = spool.status();
            assertThat(during.unshippedEvents()).isGreaterThanOrEqualTo(5 * 5);
            assertThat(during.oldestUnshipped()).isPresent();
            assertThat(bastion.auditor().refusal()).isEmpty();

            // It comes back throttling, then takes everything.
            cloudwatch.throttleNext(4);
            cloudwatch.comeBack();
            tunnelSession(ssh, "bob");
            await("every session closed", () -> bastion.audit().named("session.close").size() == 9);
            List<String> expected = recordedIds(bastion);
            assertThat(cloudwatch.awaitIds(expected, TIMEOUT)).as("backlog drained; calls: %s", cloudwatch.putCalls()).isTrue();
            await("spool empty", () -> spool.status().unshippedEvents() == 0);

            List<String> shipped = cloudwatch.distinctIds();
            assertThat(shipped).as("in the order they were emitted").containsExactlyElementsOf(expected);
            assertThat(cloudwatch.events()).as("throttled calls were not accepted, so nothing twice").hasSize(shipped.size());
            assertThat(shipper.stats().throttled()).isEqualTo(4);
            assertThat(cloudwatch.streams("/sallyport/it")).as("one stream for this instance").hasSize(1);
        }
    }

    @Test
    void fullSpoolRefusesNewLoginsWithTheReasonWhileALiveTunnelCarriesOn() throws Exception {
        try (FakeCloudWatchLogs cloudwatch = FakeCloudWatchLogs.start();
             BastionFixture bastion = bastion(cloudwatch, "64KiB")) {
            OpenSsh ssh = ssh(bastion);
            cloudwatch.goAway(); // nothing drains the spool
            Process live = new ProcessBuilder(ssh.command(List.of("-W", echo.address() + ":" + echo.port(), "alice")))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try {
                OutputStream toTarget = live.getOutputStream();
                BufferedReader fromTarget = new BufferedReader(new InputStreamReader(live.getInputStream(), StandardCharsets.UTF_8));
                toTarget.write("ping 1\n".getBytes(StandardCharsets.UTF_8));
                toTarget.flush();
                assertThat(fromTarget.readLine()).isEqualTo("ping 1");
                JsonNode aliceOpen = bastion.audit().await("forward.open", e -> e.path("user").asText().equals("alice"));

                // Other sessions' traffic fills the spool (emitted directly, to keep the test short).
                int filler = 0;
                while (bastion.auditor().refusal().isEmpty()) {
                    bastion.auditor().emit(new AuditEvent.ForwardClose("filler-" + filler, "carol", filler,
                            new AuditEvent.TargetRef("10.0.0.1", 22, Optional.of("10.0.0.1")), 1, 1, 1));
                    filler++;
                    assertThat(filler).as("the spool fills").isLessThan(10_000);
                }

                OpenSsh.Result refused = ssh.run(List.of("-W", echo.address() + ":" + echo.port(), "bob"), new byte[0], TIMEOUT);

                assertThat(refused.exitCode()).as(refused.toString()).isNotZero();
                assertThat(refused.stderr()).contains("Permission denied");
                JsonNode reject = bastion.audit().await("auth.reject", e -> e.path("user").asText().equals("bob"));
                assertThat(reject.path("reason").asText()).startsWith("audit spool full:")
                        .contains("on_spool_full: refuse_new_sessions");
                assertThat(bastion.audit().named("auth.accept")).extracting(e -> e.path("user").asText()).containsOnly("alice");

                // The live tunnel still works, and its events still reach the spool (its reserve).
                toTarget.write("ping 2\n".getBytes(StandardCharsets.UTF_8));
                toTarget.flush();
                assertThat(fromTarget.readLine()).isEqualTo("ping 2");
                toTarget.close();
                assertThat(live.waitFor(20, TimeUnit.SECONDS)).isTrue();
                JsonNode close = bastion.audit().await("forward.close", e -> e.path("session").equals(aliceOpen.path("session")));
                assertThat(close.path("bytes_up").asLong()).isEqualTo(14);
                bastion.audit().await("session.close", e -> e.path("session").equals(aliceOpen.path("session")));
                assertThat(bastion.auditor().spool().orElseThrow().status().discardedEvents()).isZero();
            } finally {
                live.destroy();
            }

            // CloudWatch back: the backlog drains and logins are allowed again.
            cloudwatch.comeBack();
            await("the spool drains below its limit", () -> bastion.auditor().refusal().isEmpty());
            tunnelSession(ssh, "bob");
            List<String> expected = new ArrayList<>(recordedIds(bastion));
            assertThat(cloudwatch.awaitIds(expected, TIMEOUT)).isTrue();
        }
    }
}
