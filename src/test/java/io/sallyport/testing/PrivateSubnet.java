package io.sallyport.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A private network that the bastion can reach but that is not the bastion's loopback, so tests
 * exercise the real "forward to a private host" path (and allowlist checks against real addresses).
 *
 * <p>As root with iproute2 it is a network namespace joined to the root namespace by a veth pair on
 * a random {@code 10.a.b.0/24}: {@link #hostAddress()} ({@code .1}) is the bastion's end,
 * {@link #targetAddress()} ({@code .2}) the private host. The namespace has no default route, so
 * nothing started in it can reach anything but the bastion's end of the link.
 *
 * <p>Elsewhere it falls back to loopback: targets listen on 127.0.0.2 and the server under test must be
 * configured with {@code unsafe_allow_loopback}. With {@code CI=true} the fallback is refused, so CI
 * cannot silently test less than intended. {@code -Dsallyport.test.netns=false} forces the fallback
 * locally, to exercise that path.
 *
 * <p>Everything started through {@link #start} is killed on {@link #close()}, and a JVM shutdown hook
 * closes whatever a crashed test left open. Namespaces left behind by a JVM that was killed outright
 * are removed the next time a subnet is created.
 */
public final class PrivateSubnet implements AutoCloseable {

    public static final String LOOPBACK_TARGET = "127.0.0.2";
    public static final String LOOPBACK_HOST = "127.0.0.1";

    private static final Duration IP_TIMEOUT = Duration.ofSeconds(10);
    private static final Pattern OUR_NETNS = Pattern.compile("sp-(\\d+)-(\\d+)");
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Set<PrivateSubnet> OPEN = ConcurrentHashMap.newKeySet();
    /** Namespace names this JVM owns, including ones still being set up, so reaping never takes them. */
    private static final Set<String> OWNED = ConcurrentHashMap.newKeySet();
    private static final Object CREATE_LOCK = new Object();
    private static boolean reaped;
    private static boolean workDirsReaped;
    private static boolean fallbackAnnounced;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (PrivateSubnet s : List.copyOf(OPEN)) {
                s.close();
            }
        }, "PrivateSubnet-cleanup"));
    }

    private final String netns; // null in loopback fallback
    private final Path ip;
    private final String hostInterface;
    private final String hostAddress;
    private final String targetAddress;
    private final int prefixLength;
    private final String fallbackReason;
    private final Path workDir;
    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private boolean closed;

    private PrivateSubnet(String netns, Path ip, String hostInterface, String hostAddress, String targetAddress,
            int prefixLength, String fallbackReason, Path workDir) {
        this.netns = netns;
        this.ip = ip;
        this.hostInterface = hostInterface;
        this.hostAddress = hostAddress;
        this.targetAddress = targetAddress;
        this.prefixLength = prefixLength;
        this.fallbackReason = fallbackReason;
        this.workDir = workDir;
    }

    public static PrivateSubnet create() {
        reapStaleWorkDirs();
        Path workDir;
        try {
            // The pid in the name lets a later run recognise and delete dirs of a JVM that was killed.
            workDir = Files.createTempDirectory("sallyport-subnet-" + ProcessHandle.current().pid() + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String why = unavailableReason();
        if (why == null) {
            try {
                return createNamespace(Exec.which("ip").orElseThrow(), workDir);
            } catch (RuntimeException e) {
                why = "setting one up failed: " + e.getMessage();
            }
        }
        if (Exec.isCi()) {
            Exec.deleteRecursively(workDir);
            throw new IllegalStateException("PrivateSubnet: CI=true requires a network namespace, but namespaces are unavailable ("
                    + why + ")"
                    + ". Run the tests as root on Linux with iproute2 installed (apt-get install iproute2)"
                    + " and the CAP_SYS_ADMIN and CAP_NET_ADMIN capabilities.");
        }
        synchronized (CREATE_LOCK) {
            if (!fallbackAnnounced) {
                fallbackAnnounced = true;
                System.err.println("PrivateSubnet: network namespaces unavailable (" + why + "); targets run on "
                        + LOOPBACK_TARGET + " instead, so the server must be configured with unsafe_allow_loopback");
            }
        }
        PrivateSubnet s = new PrivateSubnet(null, null, null, LOOPBACK_HOST, LOOPBACK_TARGET, 32, why, workDir);
        OPEN.add(s);
        return s;
    }

    /** Null when a namespace looks possible; otherwise a human-readable reason. */
    private static String unavailableReason() {
        if ("false".equalsIgnoreCase(System.getProperty("sallyport.test.netns"))) {
            return "disabled by -Dsallyport.test.netns=false";
        }
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            return "not Linux";
        }
        if (!Exec.isRoot()) {
            return "not running as root (user " + System.getProperty("user.name") + ")";
        }
        if (Exec.which("ip").isEmpty()) {
            return "the 'ip' command (iproute2) is not installed";
        }
        return null;
    }

    private static PrivateSubnet createNamespace(Path ip, Path workDir) {
        synchronized (CREATE_LOCK) {
            if (!reaped) {
                reaped = true;
                reapStale(ip);
            }
            long pid = ProcessHandle.current().pid();
            String name = null;
            int n = -1;
            for (int attempt = 0; attempt < 20 && name == null; attempt++) {
                n = COUNTER.getAndIncrement();
                String candidate = "sp-" + pid + "-" + n;
                OWNED.add(candidate);
                Exec.Output out = ipCmd(ip, "netns", "add", candidate);
                if (out.ok()) {
                    name = candidate;
                } else {
                    OWNED.remove(candidate);
                    if (!out.text().contains("File exists")) {
                        throw new IllegalStateException("ip netns add failed: " + out.text().strip());
                    }
                }
            }
            if (name == null) {
                throw new IllegalStateException("could not find a free namespace name");
            }
            // IFNAMSIZ is 16 including the NUL; a 7-digit pid plus the counter still fits.
            String hostIf = shortName("sp" + pid + "h" + n);
            String peerIf = shortName("sp" + pid + "t" + n);
            try {
                int[] ab = pickSubnet(ip);
                String base = "10." + ab[0] + "." + ab[1] + ".";
                String hostAddr = base + "1";
                String targetAddr = base + "2";
                // Creating the peer directly inside the namespace means it never appears in the root one.
                must(ip, "link", "add", hostIf, "type", "veth", "peer", "name", peerIf, "netns", name);
                // Host daemons (IPv6 autoconf, mDNS) have no business on this link; best effort only.
                writeQuietly(Path.of("/proc/sys/net/ipv6/conf", hostIf, "disable_ipv6"), "1");
                must(ip, "addr", "add", hostAddr + "/24", "dev", hostIf);
                must(ip, "link", "set", hostIf, "up");
                must(ip, "-n", name, "link", "set", "lo", "up");
                must(ip, "-n", name, "addr", "add", targetAddr + "/24", "dev", peerIf);
                must(ip, "-n", name, "link", "set", peerIf, "up");
                PrivateSubnet s = new PrivateSubnet(name, ip, hostIf, hostAddr, targetAddr, 24, null, workDir);
                OPEN.add(s);
                try {
                    s.verifyReachable();
                } catch (RuntimeException e) {
                    s.close();
                    throw e;
                }
                return s;
            } catch (RuntimeException e) {
                ipCmd(ip, "link", "del", hostIf);
                removeNamespace(ip, name);
                OWNED.remove(name);
                throw e;
            }
        }
    }

    /**
     * Nothing listens in a fresh namespace, so a connection attempt that is actively refused (RST)
     * proves routing and ARP over the veth work, without needing ping or a server.
     */
    private void verifyReachable() {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                Exec.tcpAccepts(targetAddress, 9, Duration.ofMillis(300));
                return;
            } catch (SocketTimeoutException e) {
                last = e;
            } catch (IOException e) {
                last = e;
                Exec.sleep(20);
            }
        }
        throw new IllegalStateException(targetAddress + " is not reachable over the veth pair: " + last);
    }

    private static void reapStaleWorkDirs() {
        synchronized (CREATE_LOCK) {
            if (workDirsReaped) {
                return;
            }
            workDirsReaped = true;
        }
        Pattern ours = Pattern.compile("sallyport-subnet-(\\d+)-\\d+");
        try (var dirs = Files.newDirectoryStream(Path.of(System.getProperty("java.io.tmpdir")), "sallyport-subnet-*")) {
            for (Path d : dirs) {
                Matcher m = ours.matcher(d.getFileName().toString());
                if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
                    Exec.deleteRecursively(d);
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // Only tidiness.
        }
    }

    /** Removes namespaces of ours whose JVM died without running its shutdown hook (kill -9, OOM killer). */
    private static void reapStale(Path ip) {
        Exec.Output list = ipCmd(ip, "netns", "list");
        if (!list.ok()) {
            return;
        }
        long self = ProcessHandle.current().pid();
        for (String line : list.text().split("\n")) {
            String name = line.trim().split("\\s+")[0];
            Matcher m = OUR_NETNS.matcher(name);
            if (!m.matches()) {
                continue;
            }
            long owner = Long.parseLong(m.group(1));
            boolean ownerAlive = owner == self
                    ? OWNED.contains(name)
                    : ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false);
            if (!ownerAlive) {
                removeNamespace(ip, name);
            }
        }
    }

    private static int[] pickSubnet(Path ip) {
        Exec.Output routes = ipCmd(ip, "-4", "route", "show", "table", "all");
        List<long[]> taken = new ArrayList<>();
        Pattern dst = Pattern.compile("^(?:(?:local|broadcast|unicast|unreachable|blackhole|prohibit|throw|anycast"
                + "|multicast|nat)\\s+)?(\\d+\\.\\d+\\.\\d+\\.\\d+)(?:/(\\d+))?\\b");
        for (String line : routes.text().split("\n")) {
            Matcher m = dst.matcher(line.trim());
            if (m.find()) {
                int len = m.group(2) == null ? 32 : Integer.parseInt(m.group(2));
                // Very short prefixes (VPN 0/1 + 128/1 tricks) overlap everything; a /24 inside is still usable.
                if (len >= 8) {
                    taken.add(new long[] {toLong(m.group(1)), len});
                }
            }
        }
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        for (int i = 0; i < 200; i++) {
            // High second octets: private networks tend to be numbered from 10.0 upwards.
            int a = rnd.nextInt(100, 255);
            int b = rnd.nextInt(0, 256);
            long net = toLong("10." + a + "." + b + ".0");
            boolean clash = false;
            for (long[] t : taken) {
                int common = (int) Math.min(24, t[1]);
                long mask = common == 0 ? 0 : (0xFFFFFFFFL << (32 - common)) & 0xFFFFFFFFL;
                if ((net & mask) == (t[0] & mask)) {
                    clash = true;
                    break;
                }
            }
            if (!clash) {
                return new int[] {a, b};
            }
        }
        throw new IllegalStateException("no free 10.x.y.0/24 subnet found");
    }

    private static long toLong(String dotted) {
        long v = 0;
        for (String part : dotted.split("\\.")) {
            v = (v << 8) | Integer.parseInt(part);
        }
        return v;
    }

    private static String shortName(String s) {
        return s.length() <= 15 ? s : "sp" + Integer.toHexString(s.hashCode());
    }

    /** Whether this subnet is the 127.0.0.2 fallback (server needs {@code unsafe_allow_loopback}). */
    public boolean isLoopbackFallback() {
        return netns == null;
    }

    /** Why namespaces were not used, or null when they were. */
    public String fallbackReason() {
        return fallbackReason;
    }

    /** The bastion's own address on this subnet (root-namespace end of the veth), or 127.0.0.1. */
    public String hostAddress() {
        return hostAddress;
    }

    /** The private host's address (inside the namespace), or 127.0.0.2. */
    public String targetAddress() {
        return targetAddress;
    }

    /** The subnet in CIDR form, e.g. {@code 10.123.45.0/24}, or {@code 127.0.0.2/32} in fallback. */
    public String cidr() {
        if (netns == null) {
            return targetAddress + "/32";
        }
        return targetAddress.substring(0, targetAddress.lastIndexOf('.')) + ".0/" + prefixLength;
    }

    /** Namespace name, or null in fallback. */
    public String namespace() {
        return netns;
    }

    /** Root-namespace veth interface name, or null in fallback. */
    public String hostInterface() {
        return hostInterface;
    }

    /** Scratch directory for logs of processes started here; deleted on close. */
    public Path workDir() {
        return workDir;
    }

    /** The command line that runs {@code command} inside the subnet, for callers that need their own pipes. */
    public List<String> commandFor(List<String> command) {
        Objects.requireNonNull(command, "command");
        if (command.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        if (netns == null) {
            return List.copyOf(command);
        }
        List<String> full = new ArrayList<>(List.of(ip.toString(), "netns", "exec", netns));
        full.addAll(command);
        return full;
    }

    /**
     * Starts {@code command} inside the subnet with stdout and stderr appended to {@code logFile}.
     * {@code ip netns exec} execs the command, so the returned process is the command itself.
     * Stdin stays an open pipe held by this JVM; a child may watch it to exit when the JVM dies.
     */
    public synchronized Process start(List<String> command, Path logFile) {
        ensureOpen();
        Objects.requireNonNull(logFile, "logFile");
        try {
            Path parent = logFile.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Process p = new ProcessBuilder(commandFor(command))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    /** Polls until something accepts TCP connections on {@code targetAddress():port}. */
    public void awaitListening(int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (Exec.tcpAccepts(targetAddress, port, Duration.ofMillis(300))) {
                    return;
                }
            } catch (IOException e) {
                last = e;
            }
            Exec.sleep(20);
        }
        throw new IllegalStateException("nothing listens on " + targetAddress + ":" + port + " after " + timeout
                + (last == null ? "" : " (last error: " + last + ")"));
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("subnet already closed");
        }
    }

    /** Kills everything started here and in the namespace, then deletes the namespace (and so the veth). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            List<ProcessHandle> handles = new ArrayList<>();
            for (Process p : processes) {
                handles.add(p.toHandle());
            }
            Exec.destroyTrees(handles, Duration.ofSeconds(2));
            if (netns != null) {
                ipCmd(ip, "link", "del", hostInterface);
                removeNamespace(ip, netns);
                OWNED.remove(netns);
            }
        } finally {
            OPEN.remove(this);
            Exec.deleteRecursively(workDir);
        }
    }

    /**
     * Processes that entered the namespace some other way (a test's own {@code ip netns exec}, a
     * daemon's re-parented child) would keep it alive after the name is gone, so kill them first.
     */
    private static void removeNamespace(Path ip, String name) {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < deadline) {
            Exec.Output pids = ipCmd(ip, "netns", "pids", name);
            List<ProcessHandle> inside = new ArrayList<>();
            if (pids.ok()) {
                for (String tok : pids.text().split("\\s+")) {
                    if (tok.matches("\\d+")) {
                        ProcessHandle.of(Long.parseLong(tok)).ifPresent(inside::add);
                    }
                }
            }
            if (inside.isEmpty()) {
                break;
            }
            inside.forEach(ProcessHandle::destroyForcibly);
            Exec.sleep(20);
        }
        for (int i = 0; i < 5; i++) {
            Exec.Output del = ipCmd(ip, "netns", "del", name);
            if (del.ok() || !Files.exists(Path.of("/run/netns", name))) {
                return;
            }
            Exec.sleep(50);
        }
        System.err.println("PrivateSubnet: could not delete network namespace " + name
                + "; remove it with: ip netns del " + name);
    }

    private static void must(Path ip, String... args) {
        Exec.Output out = ipCmd(ip, args);
        if (!out.ok()) {
            List<String> cmd = new ArrayList<>(List.of(ip.toString()));
            Collections.addAll(cmd, args);
            throw new IllegalStateException(out.describe(cmd));
        }
    }

    private static Exec.Output ipCmd(Path ip, String... args) {
        List<String> cmd = new ArrayList<>(List.of(ip.toString()));
        Collections.addAll(cmd, args);
        return Exec.run(cmd, IP_TIMEOUT);
    }

    private static void writeQuietly(Path file, String value) {
        try {
            Files.writeString(file, value, StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException ignored) {
            // Optional hardening only.
        }
    }

    @Override
    public String toString() {
        return netns == null
                ? "PrivateSubnet[loopback " + targetAddress + "]"
                : "PrivateSubnet[" + netns + " " + hostAddress + " <-> " + targetAddress + "]";
    }
}
