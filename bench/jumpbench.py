"""sallyport against OpenSSH's sshd as a jump host, side by side; rewrites docs/BENCHMARKS.md.

Run through bench/run (which builds the jar). Needs root (a network namespace for the private
target), iproute2, OpenSSH (ssh, sshd, ssh-keygen), Python 3 (standard library only) and a JDK 17
(bench/LoadGen.java, the load generator, runs on the jar with the source launcher).
Traffic goes only to loopback and to the namespace this script creates.
"""
import argparse
import datetime
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SOURCE_PORT, HELLO_PORT, IDLE_PORT = 5001, 5002, 5003
CIPHERS = ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"]
# The client's own choice (no -c): what an engineer with a stock ssh_config gets.
CLIENT_DEFAULT = None
MIB = 1 << 20
# The load generator's key exchange, offered alone so both servers negotiate it. Not the stock
# ssh's sntrup761x25519-sha512@openssh.com: MINA's client does sntrup761 in Java, at about 100 ms
# of CPU per connection (key generation), several times what either server spends, so the client
# would bound the rate again; curve25519 costs the client about 10 ms. An idle session's memory
# does not depend on it. --loadgen-kex changes it.
LOADGEN_KEX = "curve25519-sha256"
# Every idle tunnel is two sockets in the server (client side, target side); what the JVM opens
# for itself (jars, epoll, the listener, logs) stays well under this.
SERVER_OWN_FILES = 200


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


# --- the private subnet ---------------------------------------------------------------------------

class Subnet:
    """A network namespace joined to this one by a veth pair on a free 10.a.b.0/24, no default route."""

    def __init__(self):
        self.ns = f"spbench-{os.getpid()}"
        self.host_if, peer_if = f"spb{os.getpid()}h", f"spb{os.getpid()}t"
        routes = run(["ip", "-4", "route", "show", "table", "all"])
        for _ in range(200):
            a, b = random.randint(100, 254), random.randint(0, 255)
            if f"10.{a}.{b}." not in routes and f"10.{a}.0.0/16" not in routes:
                break
        self.host_addr, self.target = f"10.{a}.{b}.1", f"10.{a}.{b}.2"
        run(["ip", "netns", "add", self.ns])
        run(["ip", "link", "add", self.host_if, "type", "veth", "peer", "name", peer_if, "netns", self.ns])
        run(["ip", "addr", "add", self.host_addr + "/24", "dev", self.host_if])
        run(["ip", "link", "set", self.host_if, "up"])
        run(["ip", "-n", self.ns, "link", "set", "lo", "up"])
        run(["ip", "-n", self.ns, "addr", "add", self.target + "/24", "dev", peer_if])
        run(["ip", "-n", self.ns, "link", "set", peer_if, "up"])

    def close(self):
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)
        for pid in subprocess.run(["ip", "netns", "pids", self.ns], capture_output=True, text=True).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


# --- the two servers ------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def await_banner(port, timeout, proc=None):
    """Seconds until something on 127.0.0.1:port sends an SSH banner line."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(64).startswith(b"SSH-"):
                    return time.monotonic() - start
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"nothing answered with an SSH banner on 127.0.0.1:{port} within {timeout}s")


class Servers:
    def __init__(self, work, subnet, jar, java_opts):
        self.work, self.subnet, self.jar, self.java_opts = work, subnet, jar, java_opts
        self.host_key = os.path.join(work, "ssh_host_ed25519_key")
        self.user_key = os.path.join(work, "id_ed25519")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.host_key])
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.user_key])
        user_pub = open(self.user_key + ".pub").read().strip()
        host_pub = open(self.host_key + ".pub").read().split()
        self.ports = {"sallyport": free_port(), "openssh": free_port()}
        t = subnet.target
        self.sallyport_cfg = os.path.join(work, "sallyport.yaml")
        with open(self.sallyport_cfg, "w") as f:
            f.write(f"""listen: ["127.0.0.1:{self.ports['sallyport']}"]
host_keys: ["{self.host_key}"]
identity:
  local:
    users:
      bench:
        roles: [bench]
        keys: ["{user_pub}"]
policy:
  roles:
    bench:
      allow: ["{t}:{SOURCE_PORT}-{IDLE_PORT}"]
  max_sessions_per_user: 10000
limits:
  max_unauthenticated: 1000
audit:
  file: "{work}/audit.jsonl"
""")
        auth_keys = os.path.join(work, "authorized_keys")
        with open(auth_keys, "w") as f:
            f.write(user_pub + "\n")
        # sshd reads it as the logged-in user after dropping privileges
        os.chmod(work, 0o755)
        os.chmod(auth_keys, 0o644)
        self.sshd_cfg = os.path.join(work, "sshd_config")
        # An equivalent jump host: local forwarding to the one target only, no shell, no TTY,
        # keys only. MaxStartups raised like sallyport's max_unauthenticated so neither throttles.
        with open(self.sshd_cfg, "w") as f:
            f.write(f"""Port {self.ports['openssh']}
ListenAddress 127.0.0.1
HostKey {self.host_key}
PidFile {work}/sshd.pid
AuthorizedKeysFile {auth_keys}
StrictModes no
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
AllowTcpForwarding local
PermitOpen {t}:{SOURCE_PORT} {t}:{HELLO_PORT} {t}:{IDLE_PORT}
AllowAgentForwarding no
AllowStreamLocalForwarding no
X11Forwarding no
PermitTunnel no
PermitTTY no
ForceCommand /bin/false
GatewayPorts no
MaxStartups 1000
MaxSessions 10
ClientAliveInterval 0
LoginGraceTime 300
LogLevel INFO
""")
        run(["/usr/sbin/sshd", "-t", "-f", self.sshd_cfg])
        os.makedirs("/run/sshd", exist_ok=True)
        self.ssh_cfg = os.path.join(work, "ssh_config")
        with open(os.path.join(work, "known_hosts"), "w") as f:
            for port in self.ports.values():
                f.write(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
        with open(self.ssh_cfg, "w") as f:
            # An unprivileged login on sshd, as in production: sshd then runs two processes per
            # connection (the privileged monitor and the user's), where a root login runs one.
            for name, user in (("sallyport", "bench"), ("openssh", "nobody")):
                f.write(f"""Host {name}
  HostName 127.0.0.1
  Port {self.ports[name]}
  User {user}
  IdentityFile {self.user_key}
  IdentitiesOnly yes
  UserKnownHostsFile {work}/known_hosts
  StrictHostKeyChecking yes
  UpdateHostKeys no
  BatchMode yes
  ControlMaster no
  ControlPath none
  LogLevel ERROR
""")
        self.procs = {}
        self.java_home = None
        self.cds = False

    def command(self, name):
        if name == "sallyport":
            # The product launcher, so the JVM runs with the flags sallyport ships with
            # (SALLYPORT_JAVA_OPTS, from --java-opts, come after them and win).
            return [os.path.join(ROOT, "packaging", "sallyport"), "run", "-c", self.sallyport_cfg]
        return ["/usr/sbin/sshd", "-D", "-e", "-f", self.sshd_cfg]

    def environment(self, name):
        env = dict(os.environ)
        if name == "sallyport":
            home = os.path.join(self.work, "home")
            os.makedirs(home, exist_ok=True)
            link = os.path.join(home, "sallyport.jar")
            if not os.path.lexists(link):
                os.symlink(os.path.abspath(self.jar), link)
            env["SALLYPORT_HOME"] = home
            env["SALLYPORT_JAVA_OPTS"] = " ".join(self.java_opts)
            if self.java_home:
                env["JAVA_HOME"] = self.java_home
            if self.cds:
                # the launcher's opt-in class-data archive, kept in the work dir
                env["SALLYPORT_CDS"] = "on"
                env["SALLYPORT_STATE"] = os.path.join(self.work, "state")
                os.makedirs(env["SALLYPORT_STATE"], exist_ok=True)
        return env

    def start(self, name):
        """Starts one server; returns seconds from exec to its first SSH banner."""
        logf = open(os.path.join(self.work, name + ".log"), "a")
        p = subprocess.Popen(self.command(name), stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=self.environment(name))
        self.procs[name] = p
        return await_banner(self.ports[name], 60, p)

    def stop(self, name):
        p = self.procs.pop(name, None)
        if p is None:
            return
        # sshd's per-connection children outlive the listener on SIGTERM: end them by pid too
        children = [pid for pid in server_pids(p.pid) if pid != p.pid]
        p.terminate()
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)

    def ssh(self, name, cipher, port, **kw):
        """`ssh -W` to the target through one server; cipher None leaves the choice to the client's defaults."""
        forced = [] if cipher is None else ["-c", cipher]
        return subprocess.Popen(["ssh", "-F", self.ssh_cfg, *forced, "-W", f"{self.subnet.target}:{port}", name],
                                **kw)

    def cpu_seconds(self, name):
        """CPU time of the server so far: its own, its reaped children's (sshd), and its live descendants'."""
        root = self.procs[name].pid
        total = 0
        for pid in server_pids(root):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # fields[11:15] are utime, stime, cutime, cstime in clock ticks; the children's times
            # are counted once, at the root (a live descendant's reaped children are sshd's own)
            total += sum(int(x) for x in (fields[11:15] if pid == root else fields[11:13]))
        return total / os.sysconf("SC_CLK_TCK")


# --- measurements ---------------------------------------------------------------------------------

def throughput(servers, name, cipher, size):
    """MiB/s of one `ssh -W` tunnel carrying `size` bytes from the target to the client."""
    start = time.monotonic()
    p = servers.ssh(name, cipher, SOURCE_PORT, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE)
    _, err = p.communicate(timeout=600)
    elapsed = time.monotonic() - start
    if p.returncode != 0:
        raise RuntimeError(f"{name} {cipher}: ssh exited {p.returncode}: {err.decode(errors='replace').strip()}")
    return size / MIB / elapsed


def check_transfer(servers, name, size):
    """Proves a tunnel delivers every byte before any timing is trusted (the timed runs discard them)."""
    p = servers.ssh(name, CIPHERS[0], SOURCE_PORT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=120)
    if p.returncode != 0 or len(out) != size:
        raise RuntimeError(f"{name}: tunnel delivered {len(out)} of {size} bytes (exit {p.returncode}): "
                           f"{err.decode(errors='replace').strip()}")


def one_connection(servers, name, cipher):
    start = time.monotonic()
    p = servers.ssh(name, cipher, HELLO_PORT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=60)
    if p.returncode != 0 or out != b"ok\n":
        raise RuntimeError(f"{name}: connection failed (exit {p.returncode}, got {out!r}): "
                           f"{err.decode(errors='replace').strip()}")
    return time.monotonic() - start


def connection_rate(servers, name, cipher, clients, seconds):
    """Connections/s and latencies (s) of `clients` parallel loops of complete `ssh -W` round trips."""
    latencies, errors = [], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop():
        while time.monotonic() < deadline:
            try:
                t = one_connection(servers, name, cipher)
                with lock:
                    latencies.append(t)
            except Exception as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(str(e))
                return

    start = time.monotonic()
    threads = [threading.Thread(target=loop) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    if errors:
        raise RuntimeError(f"{name}: {len(errors)} connection(s) failed, first: {errors[0]}")
    return len(latencies) / elapsed, latencies


def server_pids(root_pid):
    """The server process and all its descendants (sshd forks two processes per connection)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def pss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class LoadGen:
    """bench/LoadGen.java: many SSH sessions from one JVM, with MINA's client (from the sallyport jar)."""

    def __init__(self, servers, kex):
        self.servers, self.kex = servers, kex
        self.source = os.path.join(HERE, "LoadGen.java")

    def command(self, name, mode, *args):
        s = self.servers
        user = "bench" if name == "sallyport" else "nobody"
        # Small stacks and a heap sized for 10,000 sessions; the client's memory is not measured.
        return ["java", "-Xss256k", "-Xms1g", "-Xmx4g", "-XX:+UseParallelGC", "-cp", s.jar, self.source, mode, *args,
                "--server", f"127.0.0.1:{s.ports[name]}", "--user", user, "--key", s.user_key,
                "--host-key", s.host_key + ".pub", "--cipher", CIPHERS[0], "--kex", self.kex]

    def hold(self, name, tunnels):
        """Starts a load generator holding `tunnels` idle tunnels; returns (process, negotiated kex)."""
        p = subprocess.Popen(self.command(name, "hold", str(tunnels), "--target", f"{self.servers.subnet.target}:{IDLE_PORT}",
                                          "--parallel", "16", "--sources", "8"),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        kex = None
        for line in p.stdout:
            if line.startswith("kex "):
                kex = line[4:].strip()
            elif line.startswith("ready "):
                return p, kex
            elif line.startswith("failed"):
                break
        p.kill()
        _, err = p.communicate()
        raise RuntimeError(f"{name}: load generator could not open {tunnels} tunnels: {line.strip()} {err[-2000:]}")

    def rate(self, name, clients, seconds):
        """Runs one timed connection-rate run; calls back before and after for the server's CPU."""
        p = subprocess.Popen(self.command(name, "rate", "--target", f"{self.servers.subnet.target}:{HELLO_PORT}",
                                          "--clients", str(clients), "--seconds", str(seconds), "--warmup", "3",
                                          "--sources", "8"),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        if line.strip() != "warm":
            p.kill()
            raise RuntimeError(f"{name}: load generator failed warming up: {line} {p.communicate()[1][-2000:]}")
        cpu = self.servers.cpu_seconds(name)
        p.stdin.write("go\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=seconds + 120)
        if p.returncode != 0:
            raise RuntimeError(f"{name}: load generator exited {p.returncode}: {err[-2000:]}")
        r = json.loads(out)
        if r["errors"]:
            raise RuntimeError(f"{name}: {r['errors']} connection(s) failed, first: {r.get('first_error')}")
        time.sleep(0.5)  # let sshd reap its last children, so their CPU time is counted
        r["cpu"] = self.servers.cpu_seconds(name) - cpu
        return r


def idle_memory(servers, loadgen, name, tunnels, settle, histogram=None):
    """(baseline KiB, KiB with `tunnels` idle tunnels, process count, kex) for one freshly started server."""
    servers.start(name)
    try:
        one_connection(servers, name, CIPHERS[0])  # first use loads what any session needs
        time.sleep(settle)
        root = servers.procs[name].pid
        base = pss_kib(server_pids(root))
        start = time.monotonic()
        p, kex = loadgen.hold(name, tunnels)
        try:
            opened = time.monotonic() - start
            held = established(servers.subnet)
            if held < tunnels:
                raise RuntimeError(f"{name}: only {held} of {tunnels} idle tunnels reached the target")
            time.sleep(settle)
            pids = server_pids(root)
            total = pss_kib(pids)
            log(f"  {name}: {tunnels} tunnels opened in {opened:.1f} s ({kex})")
            if histogram is not None and name == "sallyport":
                # after the PSS reading: the histogram forces a full collection
                with open(histogram, "w") as f:
                    f.write(subprocess.run(["jcmd", str(root), "GC.class_histogram"], capture_output=True,
                                           text=True).stdout)
                log(f"  heap histogram at {tunnels} tunnels: {histogram}")
            return base, total, len(pids), kex
        finally:
            p.stdin.close()
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    finally:
        servers.stop(name)


def established(subnet):
    """Connections the target holds on the idle port, counted inside the namespace."""
    out = subprocess.run(["ip", "netns", "exec", subnet.ns, "ss", "-Htn", "state", "established",
                          f"( sport = :{IDLE_PORT} )"], capture_output=True, text=True).stdout
    return len([l for l in out.splitlines() if l.strip()])


# --- report ---------------------------------------------------------------------------------------

def spread(values, fmt="{:.1f}"):
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def ratio(a, b):
    return f"{statistics.median(a) / statistics.median(b):.2f}×"


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def negotiated(by_server):
    """'`kex cipher` with both' or each server's, from {server: "kex cipher"}."""
    if not by_server:
        return "?"
    if len(set(by_server.values())) == 1:
        return f"`{next(iter(by_server.values()))}` with " + ("both" if len(by_server) > 1 else "sallyport")
    return ", ".join(f"`{v}` with {k}" for k, v in by_server.items())


def machine(java_home=None):
    cpu = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1))
    java_bin = os.path.join(java_home, "bin", "java") if java_home else "java"
    java = subprocess.run([java_bin, "-version"], capture_output=True, text=True).stderr.splitlines()
    ssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    flags = open("/proc/cpuinfo").read()
    return [
        f"- CPUs: {os.cpu_count()} × {cpu} (AES-NI: {'yes' if ' aes ' in flags else 'no'})",
        f"- memory: {mem_kib / MIB:.1f} GiB",
        f"- kernel: {platform.release()}",
        f"- Java, for sallyport{' (' + java_home + ')' if java_home else ''}: {java[0] if java else '?'} "
        f"({java[1] if len(java) > 1 else ''})",
        f"- OpenSSH (client and sshd): {ssh}",
    ]


def rate_table(v):
    """The connection-rate rows shared by sections 2a and 2b: rate, p50, p99, server CPU per connection."""
    s, o = v["sallyport"], v["openssh"]
    return ["| | sallyport | OpenSSH | ratio |", "| --- | --- | --- | --- |",
            f"| connections/s | {spread(s['rate'])} | {spread(o['rate'])} | **{ratio(s['rate'], o['rate'])}** |",
            f"| p50 latency, ms | {spread(s['p50'], '{:.0f}')} | {spread(o['p50'], '{:.0f}')} | {ratio(s['p50'], o['p50'])} |",
            f"| p99 latency, ms | {spread(s['p99'], '{:.0f}')} | {spread(o['p99'], '{:.0f}')} | {ratio(s['p99'], o['p99'])} |",
            f"| server CPU per connection, ms | {spread(s['cpu'])} | {spread(o['cpu'])} | **{ratio(s['cpu'], o['cpu'])}** |"]


def write_report(path, args, r):
    L = ["# Benchmarks: sallyport against OpenSSH as a jump host", "",
         "<!-- Written by bench/run; edit bench/jumpbench.py (and bench/notes.md) instead. -->", "",
         f"Run on {r['date']} with", "", "```sh", r["command"], "```", "",
         "## Machine", ""] + machine(args.java_home) + ["",
         "## Setup", "",
         "Both servers run on the same machine at the same time, on 127.0.0.1, with the same ed25519 host key",
         "and the same user key. The client is the stock OpenSSH `ssh` on the same machine in sections 1 and 2a",
         "(and for each server's warm-up connection), forcing the cipher with `-c` (both negotiate the same key",
         "exchange, sntrup761x25519-sha512, and host key, ssh-ed25519; without `-c` both get the client's first",
         "choice, chacha20-poly1305@openssh.com), and the load generator `bench/LoadGen.java` in 2b and 3 (its",
         "cipher and key exchange are given there). The target",
         "is a small Python service (`bench/target.py`) in a network namespace behind a veth pair, a private",
         "10.x.y.2 address both servers reach the same way.",
         "",
         "- **sallyport**: the product launcher, `packaging/sallyport run -c sallyport.yaml` (`SALLYPORT_HOME` "
         "holding target/sallyport.jar), so the JVM runs with the flags sallyport ships with"
         + (f", plus `SALLYPORT_JAVA_OPTS=\"{' '.join(args.java_opts)}\"`" if args.java_opts else "")
         + "; default `crypto: modern`, audit events to a file.",
         "- **OpenSSH**: `sshd -D -e` with `AllowTcpForwarding local`, `PermitOpen` the target's three ports,",
         "  `ForceCommand /bin/false`, `PermitTTY no`, `PasswordAuthentication no`, `UsePAM no`, `MaxStartups 1000`,",
         "  `LoginGraceTime 300`, log to a file (see `Servers` in `bench/jumpbench.py`); the client logs in as an unprivileged user",
         "  (`nobody`), so each connection has sshd's privileged monitor and the user's process, as in production.",
         "",
         "Every figure is the **median (min–max)** of the repeated runs; a ratio is median sallyport /",
         "median OpenSSH (higher is better for throughput and rate, lower for latency, memory and start-up).",
         "Client and servers share the machine's CPUs, so these are relative numbers, not capacity planning.",
         ""]
    if "throughput" in r:
        n = len(next(iter(r["throughput"].values()))["sallyport"])
        L += ["## 1. Forwarded throughput, one tunnel", "",
              f"`ssh -W target:{SOURCE_PORT}` receiving {args.size_mib} MiB from the target, timed from `ssh` start to "
              f"exit (handshake included); {n} runs each, interleaved, after one discarded warm-up run per cipher "
              "(sallyport's data path is JIT-compiled during the first transfers). MiB/s:", "",
              "| cipher | sallyport | OpenSSH | ratio |", "| --- | --- | --- | --- |"]
        for c, v in r["throughput"].items():
            c = c or "client's choice (no `-c`)"
            L.append(f"| {c} | {spread(v['sallyport'])} | {spread(v['openssh'])} | **{ratio(v['sallyport'], v['openssh'])}** |")
        L.append("")
    if "rate" in r:
        v = r["rate"]
        L += ["## 2. Connection rate", "", "### 2a. Connection rate, one `ssh` process per connection", "",
              f"{args.clients} parallel client loops for {args.rate_seconds} s, each iteration one complete "
              f"`ssh -c {CIPHERS[0]} -W target:{HELLO_PORT}` (TCP connect, key exchange, publickey auth, channel open, "
              "2 bytes, close; the `ssh` process start is included on both sides); "
              f"{len(v['sallyport']['rate'])} runs each; p50 and p99 are per run, over "
              f"{int(min(v['sallyport']['n'] + v['openssh']['n']))} to {int(max(v['sallyport']['n'] + v['openssh']['n']))} "
              "connections each.", "",
              *rate_table(v), "",
              "Server CPU is user + system time of the server's processes (for sshd including the per-connection",
              "children it reaped) over the run, divided by the connections it served: the cost of a connection",
              "independent of how much CPU the `ssh` clients took from the same two cores.", ""]
        v = r["single"]
        L += [f"One client alone (sequential, {len(v['sallyport'])} connections each), ms: sallyport "
              f"{spread(v['sallyport'], '{:.0f}')}, OpenSSH {spread(v['openssh'], '{:.0f}')}, "
              f"ratio {ratio(v['sallyport'], v['openssh'])}.", ""]
    if "loadrate" in r:
        v = r["loadrate"]
        ns = v["sallyport"]["n"] + v["openssh"]["n"]
        L += ["### 2b. Connection rate, one load-generator process", "",
              f"The same round trip from {args.load_clients} parallel connections of one client process, "
              "`bench/LoadGen.java` (MINA's `SshClient`, one NIO2 thread pool, "
              f"`{CIPHERS[0]}` forced, key exchange `{args.loadgen_kex}` offered alone; "
              f"negotiated: {negotiated(r.get('loadgen_kex'))}), for {args.rate_seconds} s after 3 s of warm-up in the same "
              "process; one process per run. Each iteration: TCP connect, key exchange, publickey auth, "
              f"`direct-tcpip` open to target:{HELLO_PORT}, read `ok\\n`, close. "
              f"{len(v['sallyport']['rate'])} runs each, {int(min(ns))} to {int(max(ns))} connections per run.", "",
              *rate_table(v), "",
              "This is the server-bound comparison: one client JVM makes a connection for a fraction of the CPU",
              "an `ssh` process start and handshake costs (about 10 ms with curve25519, measured outside the suite),",
              "so most of the two cores go to the server under test. Not sntrup761, which the stock `ssh` negotiates:",
              "MINA's client does it in Java at about 100 ms of CPU per connection, and would bound the rate again",
              "(`--loadgen-kex` changes it). The client still shares the cores, so connections/s is the rate of server",
              "and client together; server CPU per connection is the cost of the server alone.", ""]
    if "memory" in r:
        m = r["memory"]
        L += ["## 3. Memory per idle tunnel", "",
              "Idle tunnels held by one load-generator process (`bench/LoadGen.java hold N`: N sessions, each with one "
              f"`direct-tcpip` channel to target:{IDLE_PORT}; cipher and key exchange as in 2b, negotiated: "
              f"{negotiated(r.get('hold_kex'))}); proportional "
              "set size (`Pss` of `/proc/PID/smaps_rollup`) summed over the server process and all its descendants "
              "(sshd forks two processes per connection), after one warm-up connection and "
              f"{args.settle} s of settling, without forcing a GC. Per tunnel = (PSS with tunnels − PSS before) / N; "
              "each run on a freshly started server, sallyport with the launcher's JVM flags.", ""]
        for tunnels, v in m.items():
            both = "openssh" in v
            runs = len(v["sallyport"]["per"])
            if both:
                L += [f"**{tunnels:,} tunnels**, {runs} runs each:", "",
                      "| | sallyport | OpenSSH | ratio |", "| --- | --- | --- | --- |",
                      f"| PSS before, MiB | {spread(v['sallyport']['base'])} | {spread(v['openssh']['base'])} | |",
                      f"| PSS with {tunnels:,} tunnels, MiB | {spread(v['sallyport']['total'])} | "
                      f"{spread(v['openssh']['total'])} | {ratio(v['sallyport']['total'], v['openssh']['total'])} |",
                      f"| per idle tunnel, KiB | {spread(v['sallyport']['per'], '{:.0f}')} | "
                      f"{spread(v['openssh']['per'], '{:.0f}')} | **{ratio(v['sallyport']['per'], v['openssh']['per'])}** |",
                      f"| server processes | {v['sallyport']['procs']} | {v['openssh']['procs']} | |", ""]
            else:
                want = args.solo_requested
                per = statistics.median(v["sallyport"]["per"])
                at_want = [t + (want - tunnels) * per / 1024 for t in v["sallyport"]["total"]]
                L += [f"**{tunnels:,} tunnels, sallyport alone**, {runs} runs:", "",
                      "| | sallyport |", "| --- | --- |",
                      f"| PSS before, MiB | {spread(v['sallyport']['base'])} |",
                      f"| PSS with {tunnels:,} tunnels, MiB | {spread(v['sallyport']['total'])} |",
                      f"| per idle tunnel, KiB | {spread(v['sallyport']['per'], '{:.0f}')} |"]
                if want != tunnels:
                    L += [f"| PSS at {want:,} tunnels, extrapolated, MiB | {spread(at_want)} |"]
                L += [f"| {want:,} tunnels within 2 GiB | **{'yes' if max(at_want) <= 2048 else 'no'}** "
                      f"({max(at_want) / 2048:.0%} of 2 GiB in the largest run) |", ""]
                if want != tunnels:
                    L += [f"This machine's open-file limit is {args.nofile} per process (hard limit; raising it needs "
                          "`CAP_SYS_RESOURCE`, which this machine's root lacks), and each tunnel is two sockets in the "
                          f"server, so one server process holds at most {tunnels:,} here; the {want:,}-tunnel figure "
                          f"adds {want - tunnels} × the measured per-tunnel PSS. On a bastion, systemd's `LimitNOFILE` "
                          "sets it: `systemd/sallyport.service` has `LimitNOFILE=65536`.", ""]
    if "startup" in r:
        v = r["startup"]
        L += ["## 4. Start-up", "",
              "Time from `exec` of the server to its first SSH banner on the listening port; "
              f"{len(v['sallyport'])} starts each.", "",
              "| | sallyport | OpenSSH | ratio |", "| --- | --- | --- | --- |",
              f"| start to banner, ms | {spread(v['sallyport'], '{:.0f}')} | {spread(v['openssh'], '{:.0f}')} | "
              f"{ratio(v['sallyport'], v['openssh'])} |"]
        if v.get("cds"):
            L += [f"| start to banner with `SALLYPORT_CDS=on`, ms | {spread(v['cds'], '{:.0f}')} | "
                  f"{spread(v['openssh'], '{:.0f}')} | {ratio(v['cds'], v['openssh'])} |", "",
                  "`SALLYPORT_CDS=on` is the launcher's opt-in class-data archive (off by default, see "
                  "docs/packaging.md): the two starts that write and check it are left out."]
        L += [""]
    notes = os.path.join(HERE, "notes.md")
    if os.path.exists(notes):
        L += [open(notes).read().rstrip(), ""]
    with open(path, "w") as f:
        f.write("\n".join(L))


# --- main -----------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jar", default=os.path.join(ROOT, "target", "sallyport.jar"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "BENCHMARKS.md"))
    ap.add_argument("--runs", type=int, default=5, help="repetitions of each measurement (default 5)")
    ap.add_argument("--size-mib", type=int, default=1024, help="bytes per throughput run, MiB (default 1024)")
    ap.add_argument("--clients", type=int, default=8, help="parallel clients for the connection rate (default 8)")
    ap.add_argument("--rate-seconds", type=int, default=10, help="length of one connection-rate run (default 10)")
    ap.add_argument("--load-clients", type=int, default=16,
                    help="parallel connections of the load generator's connection rate (default 16)")
    ap.add_argument("--loadgen-kex", default=LOADGEN_KEX,
                    help=f"key exchange(s) the load generator offers, comma list (default {LOADGEN_KEX})")
    ap.add_argument("--tunnels", default="100,1000",
                    help="concurrent idle tunnels held on both servers, comma list (default 100,1000)")
    ap.add_argument("--memory-runs", type=int, default=3, help="repetitions of each memory count on both (default 3)")
    ap.add_argument("--solo-tunnels", type=int, default=10000,
                    help="idle tunnels held on sallyport alone, 0 for none (default 10000)")
    ap.add_argument("--solo-runs", type=int, default=2, help="repetitions of the sallyport-alone count (default 2)")
    ap.add_argument("--histogram", default=None,
                    help="write sallyport's heap histogram (jcmd GC.class_histogram) at the solo count to this file")
    ap.add_argument("--settle", type=float, default=3, help="seconds to let memory settle (default 3)")
    ap.add_argument("--only", default="throughput,rate,memory,startup",
                    help="comma list of measurements (default all: throughput,rate,memory,startup)")
    ap.add_argument("--java-home", default=None,
                    help="the Java runtime for sallyport (JAVA_HOME for its launcher); default: java on PATH")
    ap.add_argument("--java-opts", default="", help='extra JVM options for sallyport, space-separated; write --java-opts="-Xmx1g ..." (with =)')
    ap.add_argument("--check", action="store_true",
                    help="smoke test: start both servers, push one small transfer through each, write nothing")
    args = ap.parse_args()
    args.java_opts = args.java_opts.split()
    args.tunnels = [int(x) for x in args.tunnels.split(",") if x]
    only = set(args.only.split(","))
    if os.geteuid() != 0:
        sys.exit("bench: needs root (it creates a network namespace for the private target)")
    for tool in ("ip", "ssh", "ssh-keygen", "java", "/usr/sbin/sshd"):
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} not found (apt-get install iproute2 openssh-client openssh-server)")

    # Open files: the soft limit up to the hard one, inherited by everything started here. Raising
    # the hard limit needs CAP_SYS_RESOURCE; without it, the hard limit caps the tunnels one server
    # process can hold at (limit - SERVER_OWN_FILES) / 2.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 20, 1 << 20))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    args.solo_requested = args.solo_tunnels
    if args.solo_tunnels * 2 + SERVER_OWN_FILES > nofile:
        args.solo_tunnels = (nofile - SERVER_OWN_FILES) // 2 // 100 * 100
        log(f"open-file limit {nofile} (hard): sallyport alone holds {args.solo_tunnels} tunnels, not "
            f"{args.solo_requested}; the report extrapolates to {args.solo_requested}")
    args.nofile = nofile
    work = tempfile.mkdtemp(prefix="sallyport-bench-")
    subnet = Subnet()
    size = (8 if args.check else args.size_mib) * MIB
    target = subprocess.Popen(["ip", "netns", "exec", subnet.ns, sys.executable, os.path.join(HERE, "target.py"),
                               subnet.target, str(size)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    servers = None
    r = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
         "command": " ".join(["bench/run", *sys.argv[1:]])}
    try:
        if target.stdout.readline().strip() != b"ready":
            raise RuntimeError("the target service did not start")
        servers = Servers(work, subnet, args.jar, args.java_opts)
        servers.java_home = args.java_home
        loadgen = LoadGen(servers, args.loadgen_kex)
        log(f"target {subnet.target} in namespace {subnet.ns}; work dir {work}")
        for name in ("sallyport", "openssh"):
            servers.start(name)
            check_transfer(servers, name, size)
            one_connection(servers, name, CIPHERS[0])
        if args.check:
            log("check: both servers forward correctly")
            return
        if "throughput" in only:
            r["throughput"] = {}
            for c in CIPHERS + [CLIENT_DEFAULT]:
                v = r["throughput"][c] = {"sallyport": [], "openssh": []}
                for name in ("sallyport", "openssh"):
                    throughput(servers, name, c, size)  # warm-up, discarded: a bastion runs for days
                for i in range(args.runs):
                    for name in ("sallyport", "openssh"):
                        v[name].append(throughput(servers, name, c, size))
                    log(f"throughput {c or 'default'} run {i + 1}: sallyport {v['sallyport'][-1]:.0f}, "
                        f"openssh {v['openssh'][-1]:.0f} MiB/s")
        if "rate" in only:
            r["rate"] = {n: {"rate": [], "p50": [], "p99": [], "cpu": [], "n": []} for n in ("sallyport", "openssh")}
            r["single"] = {"sallyport": [], "openssh": []}
            for name in ("sallyport", "openssh"):
                for _ in range(20):
                    r["single"][name].append(one_connection(servers, name, CIPHERS[0]) * 1000)
            for i in range(args.runs):
                for name in ("sallyport", "openssh"):
                    cpu = servers.cpu_seconds(name)
                    rate, lat = connection_rate(servers, name, CIPHERS[0], args.clients, args.rate_seconds)
                    time.sleep(0.5)  # let sshd reap its last children, so their CPU time is counted
                    v = r["rate"][name]
                    v["cpu"].append((servers.cpu_seconds(name) - cpu) * 1000 / (rate * args.rate_seconds))
                    v["rate"].append(rate)
                    v["n"].append(len(lat))
                    v["p50"].append(pct(lat, 50) * 1000)
                    v["p99"].append(pct(lat, 99) * 1000)
                    log(f"rate run {i + 1} {name}: {rate:.1f}/s cpu {v['cpu'][-1]:.1f} ms/conn p50 {v['p50'][-1]:.0f} ms p99 {v['p99'][-1]:.0f} ms")
            r["loadrate"] = {n: {"rate": [], "p50": [], "p99": [], "cpu": [], "n": []} for n in ("sallyport", "openssh")}
            for i in range(args.runs):
                for name in ("sallyport", "openssh"):
                    g = loadgen.rate(name, args.load_clients, args.rate_seconds)
                    lat = [float(x) for x in g["latencies_ms"]]
                    v = r["loadrate"][name]
                    v["rate"].append(g["count"] / g["elapsed"])
                    v["cpu"].append(g["cpu"] * 1000 / g["count"])
                    v["n"].append(g["count"])
                    v["p50"].append(pct(lat, 50))
                    v["p99"].append(pct(lat, 99))
                    r.setdefault("loadgen_kex", {})[name] = g["kex"]
                    log(f"load-generator rate run {i + 1} {name}: {v['rate'][-1]:.1f}/s cpu {v['cpu'][-1]:.1f} ms/conn "
                        f"p50 {v['p50'][-1]:.0f} ms p99 {v['p99'][-1]:.0f} ms ({g['kex']})")
        servers.stop_all()
        if "memory" in only:
            r["memory"] = {}
            counts = [(t, ("sallyport", "openssh"), args.memory_runs) for t in args.tunnels]
            if args.solo_tunnels:
                counts.append((args.solo_tunnels, ("sallyport",), args.solo_runs))
            for tunnels, names, runs in counts:
                m = r["memory"][tunnels] = {n: {"base": [], "total": [], "per": [], "procs": 0} for n in names}
                for i in range(runs):
                    for name in names:
                        hist = args.histogram if tunnels == args.solo_tunnels and i == runs - 1 else None
                        base, total, procs, kex = idle_memory(servers, loadgen, name, tunnels, args.settle, hist)
                        v = m[name]
                        v["base"].append(base / 1024)
                        v["total"].append(total / 1024)
                        v["per"].append((total - base) / tunnels)
                        v["procs"] = procs
                        r.setdefault("hold_kex", {})[name] = kex
                        log(f"memory {tunnels} run {i + 1} {name}: {base / 1024:.0f} → {total / 1024:.0f} MiB "
                            f"({v['per'][-1]:.0f} KiB per tunnel, {procs} processes)")
        if "startup" in only:
            r["startup"] = {"sallyport": [], "openssh": []}
            for i in range(max(5, args.runs)):
                for name in ("sallyport", "openssh"):
                    r["startup"][name].append(servers.start(name) * 1000)
                    servers.stop(name)
            log(f"startup: sallyport {r['startup']['sallyport']}, openssh {r['startup']['openssh']} ms")
            # The launcher's opt-in class-data archive (SALLYPORT_CDS=on): the first start writes it
            # at exit, the second checks and keeps it; both left out.
            servers.cds = True
            for _ in range(2):
                servers.start("sallyport")
                servers.stop("sallyport")
            r["startup"]["cds"] = []
            for i in range(max(5, args.runs)):
                r["startup"]["cds"].append(servers.start("sallyport") * 1000)
                servers.stop("sallyport")
            servers.cds = False
            log(f"startup with SALLYPORT_CDS=on: {r['startup']['cds']} ms")
        write_report(args.out, args, r)
        log(f"wrote {args.out}")
    finally:
        if servers is not None:
            servers.stop_all()
        target.kill()
        subnet.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
