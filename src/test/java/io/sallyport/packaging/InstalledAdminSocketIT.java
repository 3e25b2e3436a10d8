package io.sallyport.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.testing.HostTool;
import io.sallyport.testing.RpmRoot;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The admin socket as it is on a host where the RPM is installed and the service runs: the server,
 * started by the installed launcher as the unit says (its {@code User}, {@code Group},
 * {@code SupplementaryGroups}, {@code UMask}, and the {@code RuntimeDirectory} systemd makes for it),
 * with the users and groups the installed sysusers.d file declares, gives its socket mode 0660, owner
 * {@code sallyport}, group {@code sallyport-admin}; a member of that group is served and someone
 * else is refused by the kernel.
 *
 * <p>There is no systemd to start the unit, so the test does what systemd would: the installed
 * sysusers.d file goes through the real {@code systemd-sysusers} into the scratch root's passwd and
 * group files, and the server runs in a private mount namespace where those files are
 * {@code /etc/passwd} and {@code /etc/group} and a scratch directory is {@code /run}. Nothing on the
 * host changes: no user, group or file outside the scratch directories.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InstalledAdminSocketIT {
    private static final String UNIT = "/usr/lib/systemd/system/sallyport.service";
    private static final String SOCKET_NAME = "admin.sock";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Operators of the host, only in the scratch root's passwd and group files. */
    private static final String MEMBER = "ops-ann";
    private static final String OUTSIDER = "dev-bob";

    private RpmRoot root;
    private Path run;
    private Path logs;
    private Service unit;
    private Accounts accounts;
    private Process server;
    private String socket;
    private Path auditLog;
    private HostTool nsenter;
    private HostTool stat;

    @BeforeAll
    void startTheInstalledServerAsTheUnitWould() throws Exception {
        HostTool unshare = HostTool.require("unshare", "util-linux");
        nsenter = HostTool.require("nsenter", "util-linux");
        HostTool.require("setpriv", "util-linux");
        HostTool sysusers = HostTool.require("systemd-sysusers", "systemd");
        stat = HostTool.require("stat", "coreutils");
        HostTool.requireRoot("a mount namespace, and running the server and the CLI as other users,");
        root = RpmRoot.create();
        root.install(BuiltPackage.rpm());

        HostTool.Result created = sysusers.run("--root=" + root.root());
        assertThat(created.exitCode()).as(created.toString()).isZero();
        addOperators();
        accounts = Accounts.of(root);
        unit = Service.of(root.path(UNIT));
        assertThat(unit.runtimeDirectory()).as("the unit makes a directory under /run for the socket").isNotEmpty();
        socket = "/run/" + unit.runtimeDirectory() + "/" + SOCKET_NAME;

        // The service user must pass through the scratch root as through /, and /run.
        Files.setPosixFilePermissions(root.root(), PosixFilePermissions.fromString("rwxr-xr-x"));
        for (Path p = root.root().getParent(); p != null; p = p.getParent()) {
            if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                HostTool.missing(p + " is closed to other users, and the service user must pass through it to the"
                        + " scratch root (set java.io.tmpdir to a directory others may pass through, e.g. /tmp)");
            }
        }
        run = Files.createTempDirectory("sallyport-run-");
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        logs = Files.createTempDirectory("sallyport-admin-it-");

        int port = freePort();
        auditLog = root.path("/var/log/sallyport/audit.jsonl");
        // The installed config file (root:sallyport 0640) with what this test needs; admin.socket is
        // left at its default, as the shipped config leaves it.
        Files.writeString(root.path("/etc/sallyport/sallyport.yaml"), String.join("\n",
                "listen: [\"127.0.0.1:" + port + "\"]",
                "host_keys: [\"" + root.path("/var/lib/sallyport/ssh_host_ed25519_key") + "\"]",
                "audit:",
                "  file: \"" + auditLog + "\"",
                "admin:",
                "  metrics_listen: null",
                ""));

        // What systemd does for the unit: /run/RuntimeDirectory owned by User:Group with its mode,
        // then the server with the unit's credentials and umask.
        String script = String.join("\n",
                "set -eu",
                "mount --bind \"$1/etc/passwd\" /etc/passwd",
                "mount --bind \"$1/etc/group\" /etc/group",
                "mount --bind \"$2\" /run",
                "install -d -m \"$3\" -o \"$4\" -g \"$5\" \"/run/$6\"",
                "umask \"$7\"",
                "exec setpriv --reuid=\"$4\" --regid=\"$5\" $8 -- \"$1/usr/bin/sallyport\" run -c \"$1/etc/sallyport/sallyport.yaml\"");
        Set<String> groups = new LinkedHashSet<>(accounts.groupsListing(unit.user()));
        groups.addAll(unit.supplementaryGroups());
        String groupOption = groups.isEmpty() ? "--clear-groups" : "--groups=" + String.join(",", groups);
        ProcessBuilder pb = new ProcessBuilder(unshare.path().toString(), "--mount", "--propagation", "private", "--",
                "/bin/sh", "-c", script, "sh", root.root().toString(), run.toString(), unit.runtimeDirectoryMode(),
                unit.user(), unit.group(), unit.runtimeDirectory(), unit.umask(), groupOption)
                .redirectOutput(logs.resolve("server.out").toFile())
                .redirectError(logs.resolve("server.err").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(environment());
        server = pb.start();
        awaitListening(port);
    }

    @AfterAll
    void stopAndCleanUp() throws Exception {
        if (server != null && server.isAlive()) {
            server.destroy();
            if (!server.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
        for (Path dir : new Path[] {run, logs}) {
            if (dir != null) {
                deleteRecursively(dir);
            }
        }
        if (root != null) {
            root.close();
        }
    }

    @Test
    void theServerRunsAsTheUnitsUserWithItsGroups() throws Exception {
        Map<String, String> status = procStatus(server.pid());
        long uid = accounts.uid(unit.user());
        long gid = accounts.gid(unit.group());
        assertThat(status.get("Uid").split("\\s+")).as("real, effective, saved, fs uid").containsOnly(Long.toString(uid));
        assertThat(status.get("Gid").split("\\s+")).containsOnly(Long.toString(gid));
        assertThat(status.get("Groups").split("\\s+")).contains(unit.supplementaryGroups().stream()
                .map(g -> Long.toString(accounts.gid(g))).toArray(String[]::new));
        assertThat(unit.supplementaryGroups()).as("so the server may give the socket to the admin group")
                .containsExactly("sallyport-admin");
    }

    @Test
    void theAdminSocketIs0660OwnedBySallyportWithGroupSallyportAdmin() {
        assertThat(inNamespace(stat, "-c", "%F %a %U:%G", socket)).isEqualTo("socket 660 sallyport:sallyport-admin");
    }

    @Test
    void itsDirectoryIsTheUnitsRuntimeDirectorySearchableByAllWritableByTheServiceAlone() {
        assertThat(unit.runtimeDirectory()).isEqualTo("sallyport");
        assertThat(inNamespace(stat, "-c", "%n %F %a %U:%G", "/run/" + unit.runtimeDirectory()))
                .isEqualTo("/run/sallyport directory 755 sallyport:sallyport");
    }

    @Test
    void aMemberOfTheAdminGroupIsServedAndAuditedWithTheirOwnUid() throws Exception {
        HostTool.Result served = sallyportAs(MEMBER, "sessions", "--socket", socket, "--json");

        assertThat(served.exitCode()).as(served.toString()).isZero();
        assertThat(JSON.readTree(served.stdout()).path("ok").asBoolean()).as(served.toString()).isTrue();
        JsonNode event = awaitAdminCommandOf(accounts.uid(MEMBER));
        assertThat(event.path("user").asText()).isEqualTo(MEMBER);
        assertThat(event.path("command").asText()).isEqualTo("sessions");
    }

    @Test
    void aCallerOutsideTheAdminGroupIsRefusedByTheKernel() throws Exception {
        HostTool.Result refused = sallyportAs(OUTSIDER, "sessions", "--socket", socket);

        assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(1);
        assertThat(refused.stderr()).contains("permission denied on " + socket);
        assertThat(adminCommands()).as("the kernel refused it: nothing reached the server")
                .noneMatch(e -> e.path("uid").asLong() == accounts.uid(OUTSIDER));
    }

    // ------------------------------------------------------------------------------------------

    /** An operator in the admin group and a user who is not, as {@code usermod -aG} would leave them. */
    private void addOperators() throws IOException {
        Accounts before = Accounts.of(root);
        long id = Math.max(2000, before.highestId() + 1);
        Files.writeString(root.path("/etc/passwd"),
                MEMBER + ":x:" + id + ":" + id + "::/:/bin/sh\n" + OUTSIDER + ":x:" + (id + 1) + ":" + (id + 1) + "::/:/bin/sh\n",
                StandardOpenOption.APPEND);
        List<String> group = new ArrayList<>();
        for (String line : Files.readAllLines(root.path("/etc/group"))) {
            group.add(line.startsWith("sallyport-admin:") ? line + (line.endsWith(":") ? "" : ",") + MEMBER : line);
        }
        group.add(MEMBER + ":x:" + id + ":");
        group.add(OUTSIDER + ":x:" + (id + 1) + ":");
        Files.write(root.path("/etc/group"), group);
    }

    /** The installed launcher as {@code user} with that user's groups, in the server's view of the host. */
    private HostTool.Result sallyportAs(String user, String... args) {
        List<String> command = new ArrayList<>(List.of(nsenter.path().toString(), "--target", Long.toString(server.pid()),
                "--mount", "--", "setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--",
                root.path("/usr/bin/sallyport").toString()));
        command.addAll(List.of(args));
        return HostTool.exec(command, environment(), null, COMMAND_TIMEOUT);
    }

    /**
     * The installed launcher's, and no JVM performance-data files: they would be left in the host's
     * /tmp as hsperfdata_USER directories of users that exist only here (the unit's PrivateTmp=yes
     * keeps the service's in a /tmp of its own).
     */
    private Map<String, String> environment() {
        Map<String, String> env = new HashMap<>(InstalledLauncher.environment(root));
        env.put("SALLYPORT_JAVA_OPTS", "-XX:-UsePerfData");
        return env;
    }

    /** A tool run in the server's mount namespace, where the scratch root's users and /run are the host's. */
    private String inNamespace(HostTool tool, String... args) {
        List<String> command = new ArrayList<>(List.of(nsenter.path().toString(), "--target", Long.toString(server.pid()),
                "--mount", "--", tool.path().toString()));
        command.addAll(List.of(args));
        HostTool.Result r = HostTool.exec(command, Map.of(), null, COMMAND_TIMEOUT);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r.stdout().strip();
    }

    private JsonNode awaitAdminCommandOf(long uid) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            for (JsonNode e : adminCommands()) {
                if (e.path("uid").asLong() == uid) {
                    return e;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no admin.command of uid " + uid + " in " + auditLog + ":\n"
                        + (Files.exists(auditLog) ? Files.readString(auditLog) : "(no file)"));
            }
            Thread.sleep(50);
        }
    }

    private List<JsonNode> adminCommands() throws IOException {
        List<JsonNode> events = new ArrayList<>();
        if (Files.exists(auditLog)) {
            for (String line : Files.readAllLines(auditLog)) {
                if (!line.isBlank()) {
                    JsonNode e = JSON.readTree(line);
                    if (e.path("event").asText().equals("admin.command")) {
                        events.add(e);
                    }
                }
            }
        }
        return events;
    }

    private void awaitListening(int port) throws Exception {
        // run opens the admin socket before the SSH listener: once that answers, the socket is there.
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) {
                throw new AssertionError("installed sallyport exited with " + server.exitValue() + ":\n" + log());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("installed sallyport not listening on 127.0.0.1:" + port + " after " + TIMEOUT + ":\n" + log());
    }

    private String log() {
        try {
            return "--- stdout ---\n" + Files.readString(logs.resolve("server.out"))
                    + "--- stderr ---\n" + Files.readString(logs.resolve("server.err"));
        } catch (IOException e) {
            return "(no server log: " + e + ")";
        }
    }

    private static Map<String, String> procStatus(long pid) throws IOException {
        Map<String, String> fields = new HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                fields.put(line.substring(0, colon), line.substring(colon + 1).strip());
            }
        }
        return fields;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The service's credentials and runtime directory, as the installed unit declares them. */
    record Service(String user, String group, List<String> supplementaryGroups, String runtimeDirectory,
                   String runtimeDirectoryMode, String umask) {
        static Service of(Path unitFile) throws IOException {
            List<String> lines = Files.readAllLines(unitFile).stream().map(String::strip).toList();
            String user = only(lines, "User", null);
            return new Service(user, only(lines, "Group", user),
                    values(lines, "SupplementaryGroups").stream().flatMap(v -> Stream.of(v.split("\\s+")))
                            .filter(g -> !g.isEmpty()).toList(),
                    only(lines, "RuntimeDirectory", ""), only(lines, "RuntimeDirectoryMode", "0755"),
                    only(lines, "UMask", "0022"));
        }

        private static String only(List<String> lines, String key, String absent) {
            List<String> v = values(lines, key);
            assertThat(v).as("%s= in the unit", key).hasSizeLessThanOrEqualTo(1);
            if (v.isEmpty()) {
                assertThat(absent).as("%s= in the unit", key).isNotNull();
                return absent;
            }
            return v.get(0);
        }

        private static List<String> values(List<String> lines, String key) {
            return lines.stream().filter(l -> l.startsWith(key + "=")).map(l -> l.substring(key.length() + 1)).toList();
        }
    }

    /** The scratch root's passwd and group files. */
    record Accounts(Map<String, Long> uids, Map<String, Long> gids, Map<String, List<String>> members) {
        static Accounts of(RpmRoot root) throws IOException {
            Map<String, Long> uids = new HashMap<>();
            for (String line : Files.readAllLines(root.path("/etc/passwd"))) {
                String[] f = line.split(":", -1);
                uids.put(f[0], Long.parseLong(f[2]));
            }
            Map<String, Long> gids = new HashMap<>();
            Map<String, List<String>> members = new HashMap<>();
            for (String line : Files.readAllLines(root.path("/etc/group"))) {
                String[] f = line.split(":", -1);
                gids.put(f[0], Long.parseLong(f[2]));
                members.put(f[0], f[3].isEmpty() ? List.of() : List.of(f[3].split(",")));
            }
            return new Accounts(uids, gids, members);
        }

        long uid(String user) {
            assertThat(uids).as("users in the scratch root").containsKey(user);
            return uids.get(user);
        }

        long gid(String group) {
            assertThat(gids).as("groups in the scratch root").containsKey(group);
            return gids.get(group);
        }

        /** The groups that list {@code user} as a member (what initgroups gives it besides its own). */
        List<String> groupsListing(String user) {
            return members.entrySet().stream().filter(e -> e.getValue().contains(user)).map(Map.Entry::getKey).sorted().toList();
        }

        long highestId() {
            return Stream.concat(uids.values().stream(), gids.values().stream()).mapToLong(Long::longValue).max().orElse(0);
        }
    }
}
