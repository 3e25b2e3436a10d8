package io.sallyport.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Smoke test of the fixtures themselves, without sallyport in the path. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PrivateSubnetIT {

    @TempDir
    Path tmp;

    @Test
    void echoServerInSubnetAnswersFromRootNamespace() throws Exception {
        try (PrivateSubnet subnet = PrivateSubnet.create();
             EchoServer.Handle echo = EchoServer.startIn(subnet, 7777)) {
            assertThat(echo.address()).isEqualTo(subnet.targetAddress());
            assertThat(echo.port()).isEqualTo(7777);

            byte[] payload = new byte[256 * 1024];
            ThreadLocalRandom.current().nextBytes(payload);
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<byte[]>> replies = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    replies.add(pool.submit(() -> roundTrip(echo.address(), echo.port(), payload)));
                }
                for (Future<byte[]> f : replies) {
                    assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(payload);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** Writes everything, half-closes, and reads until the server closes its side in turn. */
    private static byte[] roundTrip(String host, int port, byte[] payload) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 5000);
            s.setSoTimeout(20_000);
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(payload);
                    out.flush();
                    s.shutdownOutput();
                } catch (Exception ignored) {
                    // The read side reports the failure.
                }
            });
            writer.start();
            InputStream in = s.getInputStream();
            byte[] got = in.readAllBytes();
            writer.join(5000);
            return got;
        }
    }

    @Test
    void sshDirectlyToTargetSshd() throws Exception {
        OpenSsh.requireClient();
        try (PrivateSubnet subnet = PrivateSubnet.create()) {
            Path clientKey = OpenSsh.keygen(tmp, "client");
            Path authorizedKeys = tmp.resolve("authorized_keys");
            OpenSsh.appendLine(authorizedKeys, OpenSsh.publicKeyLine(clientKey));

            try (TargetSshd sshd = TargetSshd.start(subnet, 2222, authorizedKeys, tmp.resolve("sshd"))) {
                Path knownHosts = OpenSsh.addKnownHost(tmp.resolve("known_hosts"), sshd.address(), sshd.port(),
                        sshd.hostPublicKey());
                OpenSsh ssh = OpenSsh.config()
                        .host(OpenSsh.host("target").hostName(sshd.address()).port(sshd.port())
                                .user(TargetSshd.currentUser()).identityFile(clientKey)
                                .userKnownHostsFile(knownHosts))
                        .writeTo(tmp.resolve("ssh_config"));

                OpenSsh.Result r = ssh.run(List.of("target", "echo", "hello"), Duration.ofSeconds(30));
                assertThat(r.succeeded()).as("%s\nsshd log:\n%s", r, sshd.log()).isTrue();
                assertThat(r.stdoutText()).isEqualTo("hello\n");

                // Stdin reaches the remote command and the session ends when it hits EOF.
                byte[] data = "line one\nline two\n".getBytes(StandardCharsets.UTF_8);
                OpenSsh.Result cat = ssh.run(List.of("target", "cat"), data, Duration.ofSeconds(30));
                assertThat(cat.succeeded()).as("%s", cat).isTrue();
                assertThat(cat.stdout()).isEqualTo(data);

                // A key the target does not know is refused, not prompted for.
                Path strangerKey = OpenSsh.keygen(tmp, "stranger", "ecdsa");
                OpenSsh stranger = OpenSsh.config()
                        .host(OpenSsh.host("target").hostName(sshd.address()).port(sshd.port())
                                .user(TargetSshd.currentUser()).identityFile(strangerKey)
                                .userKnownHostsFile(knownHosts))
                        .writeTo(tmp.resolve("ssh_config_stranger"));
                OpenSsh.Result denied = stranger.run(List.of("target", "true"), Duration.ofSeconds(30));
                assertThat(denied.timedOut()).isFalse();
                assertThat(denied.exitCode()).as("%s", denied).isEqualTo(255);
                assertThat(denied.stderr()).contains("Permission denied");

                // The timeout really kills ssh.
                OpenSsh.Result slow = ssh.run(List.of("target", "sleep", "30"), Duration.ofSeconds(2));
                assertThat(slow.timedOut()).as("%s", slow).isTrue();
                assertThat(slow.elapsed()).isLessThan(Duration.ofSeconds(10));
            }
        }
    }

    @Test
    void closeRemovesNamespaceAndProcesses() throws Exception {
        PrivateSubnet subnet = PrivateSubnet.create();
        EchoServer.Handle echo = EchoServer.startIn(subnet, 0);
        ProcessHandle echoProcess = echo.process().toHandle();
        Path workDir = subnet.workDir();
        subnet.close();
        subnet.close(); // idempotent

        assertThat(echoProcess.isAlive()).isFalse();
        assertThat(workDir).doesNotExist();
        if (subnet.isLoopbackFallback()) {
            return;
        }
        Exec.Output list = Exec.run(List.of("ip", "netns", "list"), Duration.ofSeconds(10));
        assertThat(list.ok()).as(list.text()).isTrue();
        assertThat(list.text().lines().map(l -> l.split("\\s+")[0])).doesNotContain(subnet.namespace());
        assertThat(Files.exists(Path.of("/sys/class/net", subnet.hostInterface()))).isFalse();
    }
}
