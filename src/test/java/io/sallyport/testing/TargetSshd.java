package io.sallyport.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A real OpenSSH {@code sshd} acting as a private target host inside a {@link PrivateSubnet}.
 *
 * <p>Public-key only, with the given authorized_keys file for every user, and no forwarding of its own,
 * so anything reaching a target through it proves the bastion did the forwarding. When run as root any
 * local user can log in (use {@link #currentUser()}); when not root, sshd can only authenticate the user
 * it runs as.
 */
public final class TargetSshd implements AutoCloseable {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(10);

    private final String address;
    private final int port;
    private final Process process;
    private final Path workDir;
    private final Path logFile;
    private final String hostPublicKey;

    private TargetSshd(String address, int port, Process process, Path workDir, Path logFile, String hostPublicKey) {
        this.address = address;
        this.port = port;
        this.process = process;
        this.workDir = workDir;
        this.logFile = logFile;
        this.hostPublicKey = hostPublicKey;
    }

    /** Whether an sshd binary (and ssh-keygen for its host key) is installed. */
    public static boolean available() {
        return sshdBinary().isPresent() && Exec.which("ssh-keygen").isPresent();
    }

    private static Optional<Path> sshdBinary() {
        Path usual = Path.of("/usr/sbin/sshd");
        if (Files.isExecutable(usual)) {
            return Optional.of(usual);
        }
        return Exec.which("sshd");
    }

    /** The login name the JVM runs as, which this sshd can always authenticate. */
    public static String currentUser() {
        return System.getProperty("user.name");
    }

    /**
     * Starts sshd on {@code subnet.targetAddress():port} and waits for its SSH banner.
     * Aborts the test if sshd is not installed (fails instead when CI=true).
     */
    public static TargetSshd start(PrivateSubnet subnet, int port, Path authorizedKeysFile, Path workDir) {
        if (!available()) {
            Exec.missingPrerequisite("sshd is not installed (apt-get install openssh-server), so tests that need a "
                    + "real SSH target cannot run");
        }
        // sshd re-executes itself via argv[0] and refuses to start unless that is an absolute path.
        Path sshd = sshdBinary().orElseThrow().toAbsolutePath();
        String address = subnet.targetAddress();
        try {
            workDir = workDir.toAbsolutePath();
            Files.createDirectories(workDir);
            Path hostKey = workDir.resolve("ssh_host_ed25519_key");
            if (!Files.exists(hostKey)) {
                OpenSsh.keygen(workDir, hostKey.getFileName().toString(), "ed25519");
            }
            String hostPub = OpenSsh.publicKeyLine(hostKey);
            if (Exec.isRoot()) {
                ensurePrivsepDir();
            }
            try {
                if (Exec.tcpAccepts(address, port, Duration.ofMillis(500))) {
                    // Otherwise the banner check below could be answered by a leftover sshd, not ours.
                    throw new IllegalStateException(address + ":" + port + " is already in use");
                }
            } catch (IOException ignored) {
                // Not refused yet not accepted (e.g. timeout): leave the verdict to sshd's own bind.
            }

            Path config = workDir.resolve("sshd_config");
            Path logFile = workDir.resolve("sshd.log");
            String cfg = renderConfig(address, port, hostKey, authorizedKeysFile.toAbsolutePath(), workDir, true);
            Files.writeString(config, cfg, StandardCharsets.UTF_8);
            Exec.Output test = Exec.run(List.of(sshd.toString(), "-t", "-f", config.toString()), Duration.ofSeconds(10));
            if (!test.ok() && test.text().contains("PerSourcePenalties")) {
                // Only OpenSSH >= 9.8 knows the option, and older versions reject unknown keywords.
                cfg = renderConfig(address, port, hostKey, authorizedKeysFile.toAbsolutePath(), workDir, false);
                Files.writeString(config, cfg, StandardCharsets.UTF_8);
                test = Exec.run(List.of(sshd.toString(), "-t", "-f", config.toString()), Duration.ofSeconds(10));
            }
            if (!test.ok()) {
                throw new IllegalStateException("sshd rejected its config: " + test.text().strip() + "\n" + cfg);
            }

            Process p = subnet.start(List.of(sshd.toString(), "-D", "-e", "-f", config.toString()), logFile);
            TargetSshd t = new TargetSshd(address, port, p, workDir, logFile, hostPub);
            try {
                t.awaitBanner();
            } catch (RuntimeException e) {
                t.close();
                throw e;
            }
            return t;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String renderConfig(String address, int port, Path hostKey, Path authorizedKeys, Path workDir,
            boolean disablePenalties) {
        StringBuilder sb = new StringBuilder();
        sb.append("# generated by io.sallyport.testing.TargetSshd\n");
        sb.append("ListenAddress ").append(address).append(':').append(port).append('\n');
        sb.append("HostKey ").append(path(hostKey)).append('\n');
        sb.append("AuthorizedKeysFile ").append(path(authorizedKeys)).append('\n');
        sb.append("PubkeyAuthentication yes\n");
        sb.append("PasswordAuthentication no\n");
        sb.append("KbdInteractiveAuthentication no\n");
        sb.append("UsePAM no\n");
        // Temp dirs and CI checkouts rarely have the ownership and modes sshd's StrictModes demands.
        sb.append("StrictModes no\n");
        sb.append("PermitRootLogin prohibit-password\n");
        sb.append("PidFile ").append(path(workDir.resolve("sshd.pid"))).append('\n');
        sb.append("LogLevel VERBOSE\n");
        sb.append("AllowTcpForwarding no\n");
        sb.append("AllowAgentForwarding no\n");
        sb.append("AllowStreamLocalForwarding no\n");
        sb.append("X11Forwarding no\n");
        sb.append("PermitTunnel no\n");
        sb.append("PrintMotd no\n");
        sb.append("PrintLastLog no\n");
        sb.append("UseDNS no\n");
        // Tests open many connections at once from one address (the bastion); don't let sshd drop them.
        sb.append("MaxStartups 100:30:200\n");
        sb.append("MaxSessions 50\n");
        if (disablePenalties) {
            // Newer sshd penalises an address after failed or aborted connections; the bastion is one
            // address for all tests, and negative tests fail logins on purpose.
            sb.append("PerSourcePenalties no\n");
        }
        return sb.toString();
    }

    /** sshd expands %-tokens in these paths; quote in case the temp dir contains spaces. */
    private static String path(Path p) {
        String s = p.toAbsolutePath().toString().replace("%", "%%");
        return s.matches(".*\\s.*") ? "\"" + s + "\"" : s;
    }

    /** Privilege separation chroot; root's sshd refuses to start without it and no init created it. */
    private static void ensurePrivsepDir() throws IOException {
        Path dir = Path.of("/run/sshd");
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    private void awaitBanner() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        String last = "no attempt";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("sshd exited with " + process.exitValue() + " before listening on "
                        + address + ":" + port + ". sshd log:\n" + log());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(address, port), 500);
                s.setSoTimeout(2000);
                String banner = readLine(s.getInputStream());
                if (banner.startsWith("SSH-2.0-")) {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("a banner came from " + address + ":" + port
                                + " but our sshd is dead; is another server on that port? sshd log:\n" + log());
                    }
                    return;
                }
                last = "unexpected banner '" + banner + "'";
            } catch (IOException e) {
                last = e.toString();
            }
            Exec.sleep(25);
        }
        throw new IllegalStateException("sshd did not answer with an SSH-2.0- banner on " + address + ":" + port
                + " within " + READY_TIMEOUT + " (" + last + "). sshd log:\n" + log());
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while (sb.length() < 255 && (c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }

    public String address() {
        return address;
    }

    public int port() {
        return port;
    }

    /** Host public key line ({@code ssh-ed25519 AAAA... comment}). */
    public String hostPublicKey() {
        return hostPublicKey;
    }

    /** The known_hosts line for this server as reached at {@link #address()}:{@link #port()}. */
    public String knownHostsLine() {
        return OpenSsh.knownHostsLine(address, port, hostPublicKey);
    }

    public Path workDir() {
        return workDir;
    }

    public Path logFile() {
        return logFile;
    }

    /** The sshd log so far (bounded), for assertion messages. */
    public String log() {
        return Exec.tail(logFile, 20_000);
    }

    public Process process() {
        return process;
    }

    /** Stops sshd and its per-connection children. */
    @Override
    public void close() {
        Exec.destroyTrees(List.of(process.toHandle()), Duration.ofSeconds(2));
    }

    @Override
    public String toString() {
        return "TargetSshd[" + address + ":" + port + "]";
    }
}
