package io.sallyport.cli;

import io.sallyport.audit.Auditor;
import io.sallyport.config.Config;
import io.sallyport.identity.SshPublicKey;
import io.sallyport.net.TargetResolver;
import io.sallyport.ssh.BastionServer;
import io.sallyport.ssh.DemoTarget;
import io.sallyport.ssh.HostKeyStore;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Zero-setup local mode: a bastion on 127.0.0.1, a demo SSH target on 127.0.0.3 and an echo
 * service on 127.0.0.2 (distinct addresses, because OpenSSH refuses {@code -J} to the host it jumps
 * through), a generated host key and user key, audit events on the terminal, and the exact
 * commands to paste. Everything lives in one fresh directory; nothing in /etc, no root, no AWS.
 */
@Command(name = "demo", description = "Start a local bastion with demo targets and print ready-to-paste ssh commands.")
final class DemoCommand implements Callable<Integer> {
    static final String TARGET_HOST = "127.0.0.3";
    static final int TARGET_PORT = 2200;
    static final String ECHO_HOST = "127.0.0.2";
    static final int ECHO_PORT = 7777;

    @Option(names = "--port", defaultValue = "2222", description = "Bastion port on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--dir", paramLabel = "DIR", description = "Working directory, recreated on each start (default: a directory under the system temp dir).")
    Path dir;

    @Override
    public Integer call() throws Exception {
        Path work = dir != null ? dir : Path.of(System.getProperty("java.io.tmpdir"), "sallyport-demo-" + System.getProperty("user.name"));
        // ssh -J hands "-F PATH" to the jump connection through a shell, unquoted: a path with
        // spaces or shell characters would make every printed command fail.
        if (!work.toAbsolutePath().toString().matches("[A-Za-z0-9_/.:@%+=,-]+")) {
            throw new Main.UsageException("--dir " + work + ": use a path without spaces or shell characters"
                    + " (ssh -J passes the config path to the jump connection unquoted)");
        }
        recreate(work);

        Path userKey = work.resolve("demo_user_ed25519");
        HostKeyStore.generateKeyFile(userKey, "demo@sallyport");
        String userPub = Files.readString(userKey.resolveSibling("demo_user_ed25519.pub")).trim();
        Path targetHostKey = work.resolve("demo_target_host_key");
        KeyPair targetKey = HostKeyStore.generateKeyFile(targetHostKey, "sallyport demo target");

        Path configFile = work.resolve("sallyport.yaml");
        Files.writeString(configFile, config(work, userPub), StandardCharsets.UTF_8);
        Config config = ServerAssembly.load(configFile);
        ServerAssembly.Validated validated = ServerAssembly.validate(config, TargetResolver.system());

        PrintStream out = System.out;
        Auditor auditor = ServerAssembly.auditor(config, out, List.of());
        BastionServer server = ServerAssembly.server(validated, auditor);
        java.util.concurrent.CountDownLatch stopped = RunCommand.stopOnSignal(server, auditor);
        try {
            server.start();
        } catch (BindException e) {
            throw new IOException("127.0.0.1:" + port + " is in use; pick another with --port");
        }
        EchoService echo;
        DemoTarget target;
        try {
            echo = new EchoService(new InetSocketAddress(InetAddress.getByName(ECHO_HOST), ECHO_PORT));
            target = DemoTarget.start(new InetSocketAddress(InetAddress.getByName(TARGET_HOST), TARGET_PORT), targetKey,
                    SshPublicKey.parseLine(userPub));
        } catch (BindException e) {
            server.stop("startup failed");
            throw new IOException("cannot bind the demo targets on " + ECHO_HOST + ":" + ECHO_PORT + " and " + TARGET_HOST + ":"
                    + TARGET_PORT + " (" + e.getMessage() + "); on Linux all of 127.0.0.0/8 is loopback, elsewhere add the aliases");
        }

        String bastionHostKey = Files.readString(config.hostKeys().get(0).resolveSibling(config.hostKeys().get(0).getFileName() + ".pub")).trim();
        String targetPub = Files.readString(targetHostKey.resolveSibling("demo_target_host_key.pub")).trim();
        Files.writeString(work.resolve("known_hosts"),
                "[127.0.0.1]:" + port + " " + firstTwoFields(bastionHostKey) + "\n"
                        + "[" + TARGET_HOST + "]:" + TARGET_PORT + " " + firstTwoFields(targetPub) + "\n");
        Path sshConfig = work.resolve("ssh_config");
        Files.writeString(sshConfig, sshConfig(work, userKey));

        out.println(banner(sshConfig));
        out.flush();
        stopped.await();
        echo.close();
        target.close();
        return Main.OK;
    }

    private String config(Path work, String userPub) {
        return String.join("\n",
                "# Written by `sallyport demo`; recreated on every start.",
                "listen: [\"127.0.0.1:" + port + "\"]",
                "host_keys: [\"" + work.resolve("ssh_host_ed25519_key") + "\"]",
                "identity:",
                "  local:",
                "    users:",
                "      demo:",
                "        roles: [demo]",
                "        keys: [\"" + userPub + "\"]",
                "policy:",
                "  roles:",
                "    demo:",
                "      allow: [\"" + TARGET_HOST + ":" + TARGET_PORT + "\", \"" + ECHO_HOST + ":" + ECHO_PORT + "\"]",
                "  unsafe_allow_loopback: true   # demo only: its targets live on loopback",
                "audit:",
                "  stdout: true",
                "  file: \"" + work.resolve("audit.jsonl") + "\"",
                "");
    }

    private String sshConfig(Path work, Path userKey) {
        String common = "  IdentityFile " + userKey + "\n"
                + "  IdentitiesOnly yes\n"
                + "  UserKnownHostsFile " + work.resolve("known_hosts") + "\n"
                + "  StrictHostKeyChecking yes\n";
        return "# Written by `sallyport demo`. ssh -J reads the jump host's settings from -F, not from -o/-i.\n"
                + "Host sallyport-demo\n  HostName 127.0.0.1\n  Port " + port + "\n  User demo\n" + common
                + "\nHost demo-target\n  HostName " + TARGET_HOST + "\n  Port " + TARGET_PORT + "\n  User demo\n" + common;
    }

    private String banner(Path sshConfig) {
        String f = "ssh -F " + sshConfig;
        return String.join("\n",
                "",
                "sallyport demo is running: bastion on 127.0.0.1:" + port + ", audit events below and in " + sshConfig.resolveSibling("audit.jsonl"),
                "",
                "From another terminal:",
                "",
                "  # jump through the bastion to the demo SSH target (" + TARGET_HOST + ":" + TARGET_PORT + ")",
                "  " + f + " -J sallyport-demo demo-target",
                "",
                "  # a raw tunnel to the echo service (" + ECHO_HOST + ":" + ECHO_PORT + "): type a line, see it echoed; Ctrl-D ends",
                "  " + f + " -W " + ECHO_HOST + ":" + ECHO_PORT + " sallyport-demo",
                "",
                "  # refused: the cloud metadata address is denied whatever the rules say",
                "  " + f + " -W 169.254.169.254:80 sallyport-demo",
                "",
                "  # refused: a jump server gives no shell",
                "  " + f + " sallyport-demo",
                "",
                "Ctrl-C stops the demo.",
                "");
    }

    private static String firstTwoFields(String line) {
        String[] f = line.split("\\s+");
        return f[0] + " " + f[1];
    }

    /** Only a directory an earlier demo made (it holds the marker file) is ever deleted. */
    private static void recreate(Path work) throws IOException {
        Path marker = work.resolve(".sallyport-demo");
        if (Files.exists(work)) {
            boolean empty;
            try (Stream<Path> list = Files.list(work)) {
                empty = list.findAny().isEmpty();
            }
            if (!empty && !Files.exists(marker)) {
                throw new IOException(work + " exists and was not made by sallyport demo; choose another --dir");
            }
            try (Stream<Path> walk = Files.walk(work)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(work, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.createFile(marker);
    }
}
