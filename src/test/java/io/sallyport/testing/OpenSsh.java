package io.sallyport.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Drives the real OpenSSH client with a generated {@code ssh_config} ({@code ssh -F}).
 *
 * <p>Everything a connection needs belongs in a {@link Host} block, not in command-line {@code -o}/{@code -i}:
 * with {@code -J} the jump connection is a second {@code ssh} that is only handed {@code -F}, so the bastion's
 * user, key and known_hosts must come from the file. The file is hermetic: no agent, no
 * {@code ~/.ssh/known_hosts}, no {@code /etc/ssh/ssh_known_hosts}, no prompts.
 *
 * <pre>{@code
 * OpenSsh ssh = OpenSsh.config()
 *     .host(OpenSsh.host("bastion").hostName("127.0.0.1").port(bastionPort).user("alice")
 *         .identityFile(aliceKey).userKnownHostsFile(knownHosts))
 *     .host(OpenSsh.host("target").hostName(subnet.targetAddress()).port(sshd.port())
 *         .user(TargetSshd.currentUser()).identityFile(targetKey).userKnownHostsFile(knownHosts)
 *         .proxyJump("bastion"))
 *     .writeTo(dir.resolve("ssh_config"));
 * OpenSsh.Result r = ssh.run(List.of("target", "echo", "hello"), null, Duration.ofSeconds(30));
 * }</pre>
 */
public final class OpenSsh {

    private static final Duration KEYGEN_TIMEOUT = Duration.ofSeconds(60);

    private final Path configFile;

    /** Uses an existing config file (e.g. one written by {@link ConfigBuilder#writeTo}). */
    public OpenSsh(Path configFile) {
        this.configFile = configFile.toAbsolutePath();
    }

    public Path configFile() {
        return configFile;
    }

    // ---------------------------------------------------------------- prerequisites

    /** Aborts the calling test when ssh or ssh-keygen are missing (fails instead when CI=true). */
    public static void requireClient() {
        List<String> missing = new ArrayList<>();
        for (String tool : List.of("ssh", "ssh-keygen")) {
            if (Exec.which(tool).isEmpty()) {
                missing.add(tool);
            }
        }
        if (!missing.isEmpty()) {
            Exec.missingPrerequisite("OpenSSH client tools not installed: " + String.join(", ", missing)
                    + " (apt-get install openssh-client)");
        }
    }

    static Path tool(String name) {
        return Exec.which(name).orElseGet(() -> {
            requireClient();
            throw new IllegalStateException(name + " not found");
        });
    }

    // ---------------------------------------------------------------- keys

    /** Generates an ed25519 key without passphrase; returns the private key path ({@code .pub} beside it). */
    public static Path keygen(Path dir, String name) {
        return keygen(dir, name, "ed25519", 0);
    }

    /** {@code type} is ed25519 (also when null), ecdsa or rsa, at ssh-keygen's default size. */
    public static Path keygen(Path dir, String name, String type) {
        return keygen(dir, name, type, 0);
    }

    /** {@code bits <= 0} means ssh-keygen's default (rsa 3072, ecdsa 256). */
    public static Path keygen(Path dir, String name, String type, int bits) {
        if (type == null || type.isBlank()) {
            type = "ed25519";
        }
        try {
            Files.createDirectories(dir);
            Path key = dir.resolve(name).toAbsolutePath();
            // ssh-keygen asks before overwriting, and with no terminal that question hangs or fails.
            Files.deleteIfExists(key);
            Files.deleteIfExists(pub(key));
            List<String> cmd = new ArrayList<>(List.of(tool("ssh-keygen").toString(), "-q",
                    "-t", type.toLowerCase(Locale.ROOT), "-N", "", "-C", name + "@sallyport-test", "-f", key.toString()));
            if (bits > 0) {
                cmd.add("-b");
                cmd.add(Integer.toString(bits));
            }
            Exec.Output out = Exec.run(cmd, KEYGEN_TIMEOUT);
            if (!out.ok() || !Files.exists(key) || !Files.exists(pub(key))) {
                throw new IllegalStateException("key generation failed: " + out.describe(cmd));
            }
            return key;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The {@code type base64 comment} line of a private key's public half (from {@code .pub}, else derived). */
    public static String publicKeyLine(Path privateKey) {
        Path pub = pub(privateKey);
        try {
            if (Files.exists(pub)) {
                return Files.readString(pub, StandardCharsets.UTF_8).strip();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = List.of(tool("ssh-keygen").toString(), "-y", "-f", privateKey.toString());
        Exec.Output out = Exec.run(cmd, KEYGEN_TIMEOUT);
        if (!out.ok()) {
            throw new IllegalStateException(out.describe(cmd));
        }
        return out.text().strip();
    }

    private static Path pub(Path privateKey) {
        return privateKey.resolveSibling(privateKey.getFileName() + ".pub");
    }

    // ---------------------------------------------------------------- known_hosts

    /**
     * A known_hosts line. OpenSSH looks up {@code host} alone for port 22 and {@code [host]:port} otherwise,
     * so a bracketed entry for port 22 would never match. The key's comment is dropped.
     */
    public static String knownHostsLine(String host, int port, String publicKeyLine) {
        String[] f = publicKeyLine.strip().split("\\s+");
        if (f.length < 2) {
            throw new IllegalArgumentException("not a public key line: " + publicKeyLine);
        }
        String pattern = port == 22 ? host : "[" + host + "]:" + port;
        return pattern + " " + f[0] + " " + f[1];
    }

    /** Appends a known_hosts entry (creating the file); returns the file for chaining into a Host block. */
    public static Path addKnownHost(Path knownHostsFile, String host, int port, String publicKeyLine) {
        appendLine(knownHostsFile, knownHostsLine(host, port, publicKeyLine));
        return knownHostsFile;
    }

    /** Appends a line to a file such as authorized_keys or known_hosts, creating it and its directory. */
    public static void appendLine(Path file, String line) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, line.strip() + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- ssh_config

    public static ConfigBuilder config() {
        return new ConfigBuilder();
    }

    public static Host host(String alias) {
        return new Host(alias);
    }

    /** One {@code Host} block. Unset options fall through to the hermetic {@code Host *} defaults. */
    public static final class Host {
        private final String alias;
        private String hostName;
        private Integer port;
        private String user;
        private Path identityFile;
        private Path userKnownHostsFile;
        private String strictHostKeyChecking = "yes";
        private String proxyJump;
        private String logLevel;
        private int connectTimeoutSeconds = 10;
        private final Map<String, String> extra = new LinkedHashMap<>();

        private Host(String alias) {
            if (alias == null || alias.isBlank() || alias.matches(".*[\\s*?!,].*")) {
                throw new IllegalArgumentException("bad Host alias: " + alias);
            }
            this.alias = alias;
        }

        public Host hostName(String v) {
            this.hostName = v;
            return this;
        }

        public Host port(int v) {
            this.port = v;
            return this;
        }

        public Host user(String v) {
            this.user = v;
            return this;
        }

        public Host identityFile(Path v) {
            this.identityFile = v;
            return this;
        }

        public Host userKnownHostsFile(Path v) {
            this.userKnownHostsFile = v;
            return this;
        }

        /** yes (default), no, or accept-new. */
        public Host strictHostKeyChecking(String v) {
            this.strictHostKeyChecking = v;
            return this;
        }

        /** Another alias of this config (or {@code user@host:port}); null for a direct connection. */
        public Host proxyJump(String v) {
            this.proxyJump = v;
            return this;
        }

        /** QUIET, FATAL, ERROR, INFO, VERBOSE, DEBUG1..3; null keeps ssh's default. */
        public Host logLevel(String v) {
            this.logLevel = v;
            return this;
        }

        public Host connectTimeout(int seconds) {
            this.connectTimeoutSeconds = seconds;
            return this;
        }

        /** Any other ssh_config option; it wins over the fixture's value for the same keyword. */
        public Host option(String keyword, String value) {
            extra.put(keyword, value);
            return this;
        }

        public String alias() {
            return alias;
        }

        String render() {
            // ssh_config keeps the first value it sees for a keyword, so explicit options go first.
            StringBuilder sb = new StringBuilder("Host ").append(alias).append('\n');
            Map<String, String> opts = new LinkedHashMap<>(extra);
            putIfAbsent(opts, "HostName", hostName);
            putIfAbsent(opts, "Port", port == null ? null : port.toString());
            putIfAbsent(opts, "User", user);
            putIfAbsent(opts, "IdentityFile", identityFile == null ? null : pathValue(identityFile));
            putIfAbsent(opts, "IdentitiesOnly", "yes");
            putIfAbsent(opts, "UserKnownHostsFile",
                    userKnownHostsFile == null ? null : pathValue(userKnownHostsFile));
            putIfAbsent(opts, "StrictHostKeyChecking", strictHostKeyChecking);
            putIfAbsent(opts, "BatchMode", "yes");
            putIfAbsent(opts, "ConnectTimeout", Integer.toString(connectTimeoutSeconds));
            putIfAbsent(opts, "ProxyJump", proxyJump);
            putIfAbsent(opts, "LogLevel", logLevel);
            opts.forEach((k, v) -> sb.append("  ").append(k).append(' ').append(quote(v)).append('\n'));
            return sb.toString();
        }

        private static void putIfAbsent(Map<String, String> opts, String key, String value) {
            if (value == null) {
                return;
            }
            for (String k : opts.keySet()) {
                if (k.equalsIgnoreCase(key)) {
                    return;
                }
            }
            opts.put(key, value);
        }
    }

    /** Builder for the whole file: the Host blocks in order, then hermetic defaults under {@code Host *}. */
    public static final class ConfigBuilder {
        private final List<Host> hosts = new ArrayList<>();
        private String logLevel;

        private ConfigBuilder() {
        }

        public ConfigBuilder host(Host host) {
            hosts.add(host);
            return this;
        }

        /** LogLevel for every host that does not set its own. */
        public ConfigBuilder logLevel(String level) {
            this.logLevel = level;
            return this;
        }

        public String render() {
            StringBuilder sb = new StringBuilder("# generated by io.sallyport.testing.OpenSsh\n");
            for (Host h : hosts) {
                sb.append(h.render()).append('\n');
            }
            sb.append("Host *\n");
            List<String> defaults = new ArrayList<>(List.of(
                    "BatchMode yes",
                    "ConnectTimeout 10",
                    "IdentitiesOnly yes",
                    // Never offer a developer's agent keys: a test must see exactly the key it configured.
                    "IdentityAgent none",
                    "AddKeysToAgent no",
                    "ForwardAgent no",
                    "ForwardX11 no",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "GSSAPIAuthentication no",
                    "HostbasedAuthentication no",
                    // Never read or write the developer's known_hosts.
                    "UserKnownHostsFile /dev/null",
                    "GlobalKnownHostsFile /dev/null",
                    "StrictHostKeyChecking yes",
                    "UpdateHostKeys no",
                    "HashKnownHosts no",
                    "CheckHostIP no",
                    "VerifyHostKeyDNS no",
                    "ControlMaster no",
                    "ControlPath none",
                    "ServerAliveInterval 0"));
            if (logLevel != null) {
                defaults.add("LogLevel " + logLevel);
            }
            defaults.forEach(d -> sb.append("  ").append(d).append('\n'));
            return sb.toString();
        }

        /** Writes the file (mode 600) and returns a client bound to it. */
        public OpenSsh writeTo(Path file) {
            try {
                Path parent = file.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                Files.writeString(file, render(), StandardCharsets.UTF_8);
                try {
                    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
                } catch (UnsupportedOperationException ignored) {
                    // Non-POSIX file system; ssh does not check -F files anyway.
                }
                return new OpenSsh(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** ssh_config expands %-tokens in path options, so a literal % must be doubled. */
    private static String pathValue(Path p) {
        return p.toAbsolutePath().toString().replace("%", "%%");
    }

    private static String quote(String v) {
        if (v.contains("\"") || v.contains("\n")) {
            throw new IllegalArgumentException("ssh_config value cannot contain quotes or newlines: " + v);
        }
        return v.isEmpty() || v.matches(".*\\s.*") ? "\"" + v + "\"" : v;
    }

    // ---------------------------------------------------------------- running ssh

    /** Outcome of one {@code ssh} run. {@code exitCode} is -1 when it had to be killed at the timeout. */
    public record Result(int exitCode, byte[] stdout, String stderr, boolean timedOut, Duration elapsed) {
        public String stdoutText() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        public boolean succeeded() {
            return !timedOut && exitCode == 0;
        }

        @Override
        public String toString() {
            String out = stdoutText();
            if (out.length() > 2000) {
                out = out.substring(0, 2000) + "...(" + stdout.length + " bytes)";
            }
            return "ssh " + (timedOut ? "TIMED OUT" : "exit " + exitCode) + " after " + elapsed.toMillis() + " ms"
                    + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + stderr;
        }
    }

    /** The full argv for {@code ssh -F <config> args...}, for callers that need to manage the process. */
    public List<String> command(List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(tool("ssh").toString(), "-F", configFile.toString()));
        cmd.addAll(args);
        return cmd;
    }

    public Result run(List<String> args, Duration timeout) {
        return run(args, null, timeout);
    }

    /**
     * Runs {@code ssh -F <config> args...}, feeding {@code stdin} (null: none, EOF at once) and killing the
     * whole process tree (including a {@code -J} child ssh) at {@code timeout}.
     */
    public Result run(List<String> args, byte[] stdin, Duration timeout) {
        return run(args, stdin, Map.of(), timeout);
    }

    /**
     * As {@link #run(List, byte[], Duration)}, with {@code extraEnv} added to ssh's environment (and so
     * to a {@code -J} child ssh and its security key helper).
     */
    public Result run(List<String> args, byte[] stdin, Map<String, String> extraEnv, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(command(args));
        Map<String, String> env = pb.environment();
        // A developer's agent or askpass helper must not change what authenticates or prompt anyone.
        env.remove("SSH_AUTH_SOCK");
        env.remove("SSH_ASKPASS");
        env.remove("SSH_ASKPASS_REQUIRE");
        env.remove("DISPLAY");
        env.putAll(extraEnv);
        long start = System.nanoTime();
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start ssh", e);
        }
        StreamDrain out = new StreamDrain(p.getInputStream(), "ssh-stdout");
        StreamDrain err = new StreamDrain(p.getErrorStream(), "ssh-stderr");
        // A separate writer: ssh may not read stdin before its output pipe fills, which would deadlock us.
        Thread writer = new Thread(() -> {
            try (OutputStream os = p.getOutputStream()) {
                if (stdin != null) {
                    os.write(stdin);
                }
            } catch (IOException ignored) {
                // ssh exited or closed stdin early; its exit code tells the story.
            }
        }, "ssh-stdin");
        writer.setDaemon(true);
        writer.start();
        boolean finished;
        try {
            finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            finished = false;
        }
        if (!finished) {
            Exec.destroyTrees(List.of(p.toHandle()), Duration.ofMillis(500));
        }
        byte[] stdout = out.await(Duration.ofSeconds(5));
        String stderr = new String(err.await(Duration.ofSeconds(5)), StandardCharsets.UTF_8);
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        return new Result(finished ? p.exitValue() : -1, stdout, stderr, !finished, elapsed);
    }
}
