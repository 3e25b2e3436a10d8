package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.audit.AuditEvent;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.HostTool;
import io.sallyport.testing.LoopbackEcho;
import io.sallyport.testing.OpenSsh;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CloudWatch shipping off, the audit file on a disk that fills up (a small tmpfs): new logins are
 * refused with the reason while the file cannot be written, the events wait, and once there is
 * room again they are written, in order, and logins are allowed again. Mounting needs root.
 */
class AuditFileDiskFullIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void fullDiskRefusesNewSessionsWithTheReasonAndTheyResumeWhenSpaceReturns() throws Exception {
        OpenSsh.requireClient();
        HostTool.requireRoot("mount -t tmpfs (a small disk to fill)");
        HostTool mount = HostTool.require("mount", "mount");
        HostTool umount = HostTool.require("umount", "mount");
        Path disk = Files.createDirectory(dir.resolve("log"));
        HostTool.Result mounted = mount.run("-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", disk.toString());
        assertThat(mounted.exitCode()).as(mounted.toString()).isZero();
        Path aliceKey = OpenSsh.keygen(dir, "alice");
        Path bobKey = OpenSsh.keygen(dir, "bob");
        Path file = disk.resolve("audit.jsonl");
        try (LoopbackEcho echo = new LoopbackEcho();
             BastionFixture bastion = BastionFixture.start(Files.createDirectory(dir.resolve("b")), String.join("\n",
                     "identity:",
                     "  local:",
                     "    users:",
                     "      alice: {roles: [ops], keys: [\"" + OpenSsh.publicKeyLine(aliceKey) + "\"]}",
                     "      bob: {roles: [ops], keys: [\"" + OpenSsh.publicKeyLine(bobKey) + "\"]}",
                     "policy:",
                     "  roles:",
                     "    ops:",
                     "      allow: [\"" + echo.address() + "/32:" + echo.port() + "\"]",
                     "  unsafe_allow_loopback: true",
                     "audit:",
                     "  file: " + file,
                     "  cloudwatch:",
                     "    enabled: false",
                     ""), TargetResolver.system())) {
            OpenSsh ssh = ssh(bastion, aliceKey, bobKey);
            tunnel(ssh, echo, "alice");
            assertThat(bastion.auditor().refusal()).isEmpty();

            // The disk fills up (another writer on the same volume), then the next events do not fit.
            Path filler = disk.resolve("filler");
            fill(filler);
            int extra = 0;
            while (bastion.auditor().refusal().isEmpty()) {
                bastion.auditor().emit(new AuditEvent.ForwardClose("filler-" + extra, "carol", 1,
                        new AuditEvent.TargetRef("10.0.0.1", 22, Optional.of("10.0.0.1")), 1, 1, 1));
                extra++;
                assertThat(extra).as("the audit file hits the full disk").isLessThan(1000);
            }
            assertThat(bastion.auditor().refusal().orElseThrow())
                    .startsWith("audit file " + file + " cannot be written (")
                    .contains("No space left on device");

            OpenSsh.Result refused = ssh.run(List.of("-W", echo.address() + ":" + echo.port(), "bob"), new byte[0], TIMEOUT);
            assertThat(refused.exitCode()).as(refused.toString()).isNotZero();
            assertThat(refused.stderr()).contains("Permission denied");
            JsonNode reject = bastion.audit().await("auth.reject", e -> e.path("user").asText().equals("bob"));
            assertThat(reject.path("reason").asText()).startsWith("audit file " + file + " cannot be written (")
                    .contains("No space left on device", "new sessions are refused");

            // Room again: what waited is written, in order, and logins are allowed again.
            Files.delete(filler);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (bastion.auditor().refusal().isPresent()) {
                assertThat(System.nanoTime() < deadline).as("writes resume within %s", TIMEOUT).isTrue();
                Thread.sleep(50);
            }
            tunnel(ssh, echo, "bob");
            bastion.audit().await("session.close", e -> e.path("user").asText().equals("bob"));
            List<String> recorded = bastion.audit().all().stream().map(e -> e.path("id").asText()).toList();
            deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (idsIn(file).size() < recorded.size() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(idsIn(file)).as("the audit file has every event, once, in order: no gap")
                    .containsExactlyElementsOf(recorded);
        } finally {
            HostTool.Result r = umount.run(disk.toString());
            if (!r.ok()) {
                r = umount.run("-l", disk.toString()); // still busy: detach it anyway, leave no mount behind
            }
            assertThat(r.exitCode()).as(r.toString()).isZero();
        }
    }

    private static void fill(Path filler) throws IOException {
        byte[] chunk = new byte[4096];
        try (OutputStream out = Files.newOutputStream(filler)) {
            for (int i = 0; i < 1024; i++) {
                out.write(chunk);
                out.flush();
            }
            throw new AssertionError("a 256 KiB tmpfs took 4 MiB");
        } catch (IOException full) {
            assertThat(full.getMessage()).contains("No space left on device");
        }
    }

    private static List<String> idsIn(Path file) throws IOException {
        List<String> ids = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            ids.add(JSON.readTree(line).path("id").asText());
        }
        return ids;
    }

    private static OpenSsh ssh(BastionFixture bastion, Path aliceKey, Path bobKey) throws Exception {
        Path work = bastion.configFile().getParent();
        Path knownHosts = work.resolve("known_hosts");
        OpenSsh.addKnownHost(knownHosts, "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        return OpenSsh.config()
                .host(OpenSsh.host("alice").hostName("127.0.0.1").port(bastion.port()).user("alice")
                        .identityFile(aliceKey).userKnownHostsFile(knownHosts))
                .host(OpenSsh.host("bob").hostName("127.0.0.1").port(bastion.port()).user("bob")
                        .identityFile(bobKey).userKnownHostsFile(knownHosts))
                .writeTo(work.resolve("ssh_config"));
    }

    private static void tunnel(OpenSsh ssh, LoopbackEcho echo, String who) {
        byte[] payload = ("hello from " + who + "\n").getBytes(StandardCharsets.UTF_8);
        OpenSsh.Result r = ssh.run(List.of("-W", echo.address() + ":" + echo.port(), who), payload, TIMEOUT);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdoutText()).isEqualTo("hello from " + who + "\n");
    }
}
