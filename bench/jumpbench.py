"""sallyport against OpenSSH's sshd as a jump host, side by side; rewrites docs/BENCHMARKS.md.

Run through bench/run (which builds the jar). Needs root (a network namespace for the private
target), iproute2, OpenSSH (ssh, sshd, ssh-keygen) and Python 3 (standard library only).
Traffic goes only to loopback and to the namespace this script creates.
"""
import argparse
import datetime
import os
import platform
import random
import re
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

    def command(self, name):
        if name == "sallyport":
            return ["java", *self.java_opts, "-jar", self.jar, "run", "-c", self.sallyport_cfg]
        return ["/usr/sbin/sshd", "-D", "-e", "-f", self.sshd_cfg]

    def start(self, name):
        """Starts one server; returns seconds from exec to its first SSH banner."""
        logf = open(os.path.join(self.work, name + ".log"), "a")
        p = subprocess.Popen(self.command(name), stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
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
            p.wait(10)
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


def idle_memory(servers, name, tunnels, settle):
    """(baseline KiB, KiB with `tunnels` idle tunnels, process count) for one freshly started server."""
    servers.start(name)
    try:
        one_connection(servers, name, CIPHERS[0])  # first use loads what any session needs
        time.sleep(settle)
        root = servers.procs[name].pid
        base = pss_kib(server_pids(root))
        clients = []
        try:
            for i in range(tunnels):
                clients.append(servers.ssh(name, CIPHERS[0], IDLE_PORT, stdin=subprocess.PIPE,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                if i % 10 == 9:
                    time.sleep(0.2)  # stay under both servers' unauthenticated-connection limits
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and established(servers.subnet) < tunnels:
                time.sleep(0.2)
            held = established(servers.subnet)
            if held < tunnels:
                raise RuntimeError(f"{name}: only {held} of {tunnels} idle tunnels reached the target")
            time.sleep(settle)
            pids = server_pids(root)
            return base, pss_kib(pids), len(pids)
        finally:
            for c in clients:
                c.kill()
            for c in clients:
                c.wait()
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


def machine():
    cpu = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1))
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    ssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    flags = open("/proc/cpuinfo").read()
    return [
        f"- CPUs: {os.cpu_count()} × {cpu} (AES-NI: {'yes' if ' aes ' in flags else 'no'})",
        f"- memory: {mem_kib / MIB:.1f} GiB",
        f"- kernel: {platform.release()}",
        f"- Java: {java[0] if java else '?'} ({java[1] if len(java) > 1 else ''})",
        f"- OpenSSH (client and sshd): {ssh}",
    ]


def write_report(path, args, r):
    L = ["# Benchmarks: sallyport against OpenSSH as a jump host", "",
         "<!-- Written by bench/run; edit bench/jumpbench.py (and bench/notes.md) instead. -->", "",
         f"Run on {r['date']} with", "", "```sh", r["command"], "```", "",
         "## Machine", ""] + machine() + ["",
         "## Setup", "",
         "Both servers run on the same machine at the same time, on 127.0.0.1, with the same ed25519 host key",
         "and the same user key; the client is the stock OpenSSH `ssh` on the same machine, forcing the cipher",
         "with `-c` (both negotiate the same key exchange, sntrup761x25519-sha512, and host key, ssh-ed25519; without",
         "`-c` both get the client's first choice, chacha20-poly1305@openssh.com). The target",
         "is a small Python service (`bench/target.py`) in a network namespace behind a veth pair, a private",
         "10.x.y.2 address both servers reach the same way.",
         "",
         f"- **sallyport**: `{' '.join(['java', *args.java_opts])} -jar target/sallyport.jar run -c sallyport.yaml`, "
         "default `crypto: modern`, audit events to a file.",
         "- **OpenSSH**: `sshd -D -e` with `AllowTcpForwarding local`, `PermitOpen` the target's three ports,",
         "  `ForceCommand /bin/false`, `PermitTTY no`, `PasswordAuthentication no`, `UsePAM no`, `MaxStartups 1000`,",
         "  log to a file (see `Servers` in `bench/jumpbench.py`); the client logs in as an unprivileged user",
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
        L += ["## 2. Connection rate", "",
              f"{args.clients} parallel client loops for {args.rate_seconds} s, each iteration one complete "
              f"`ssh -c {CIPHERS[0]} -W target:{HELLO_PORT}` (TCP connect, key exchange, publickey auth, channel open, "
              "2 bytes, close; the `ssh` process start is included on both sides); "
              f"{len(v['sallyport']['rate'])} runs each; p50 and p99 are per run, over "
              f"{int(min(v['sallyport']['n'] + v['openssh']['n']))} to {int(max(v['sallyport']['n'] + v['openssh']['n']))} "
              "connections each.", "",
              "| | sallyport | OpenSSH | ratio |", "| --- | --- | --- | --- |",
              f"| connections/s | {spread(v['sallyport']['rate'])} | {spread(v['openssh']['rate'])} | "
              f"**{ratio(v['sallyport']['rate'], v['openssh']['rate'])}** |",
              f"| p50 latency, ms | {spread(v['sallyport']['p50'], '{:.0f}')} | {spread(v['openssh']['p50'], '{:.0f}')} | "
              f"{ratio(v['sallyport']['p50'], v['openssh']['p50'])} |",
              f"| p99 latency, ms | {spread(v['sallyport']['p99'], '{:.0f}')} | {spread(v['openssh']['p99'], '{:.0f}')} | "
              f"{ratio(v['sallyport']['p99'], v['openssh']['p99'])} |",
              f"| server CPU per connection, ms | {spread(v['sallyport']['cpu'])} | {spread(v['openssh']['cpu'])} | "
              f"**{ratio(v['sallyport']['cpu'], v['openssh']['cpu'])}** |", "",
              "Server CPU is user + system time of the server's processes (for sshd including the per-connection",
              "children it reaped) over the run, divided by the connections it served: the cost of a connection",
              "independent of how much CPU the `ssh` clients took from the same two cores.", ""]
        v = r["single"]
        L += [f"One client alone (sequential, {len(v['sallyport'])} connections each), ms: sallyport "
              f"{spread(v['sallyport'], '{:.0f}')}, OpenSSH {spread(v['openssh'], '{:.0f}')}, "
              f"ratio {ratio(v['sallyport'], v['openssh'])}.", ""]
    if "memory" in r:
        v = r["memory"]
        L += ["## 3. Memory per idle tunnel", "",
              f"{args.tunnels} concurrent `ssh -W target:{IDLE_PORT}` tunnels held idle; proportional set size "
              "(`Pss` of `/proc/PID/smaps_rollup`) summed over the server process and all its descendants "
              "(sshd forks two processes per connection), after one warm-up connection and "
              f"{args.settle} s of settling, without forcing a GC. Per tunnel = (PSS with tunnels − PSS "
              f"before) / {args.tunnels}; {len(v['sallyport']['per'])} runs each, each on a freshly started server.", "",
              "| | sallyport | OpenSSH | ratio |", "| --- | --- | --- | --- |",
              f"| PSS before, MiB | {spread(v['sallyport']['base'])} | {spread(v['openssh']['base'])} | |",
              f"| PSS with {args.tunnels} tunnels, MiB | {spread(v['sallyport']['total'])} | {spread(v['openssh']['total'])} | |",
              f"| per idle tunnel, KiB | {spread(v['sallyport']['per'], '{:.0f}')} | {spread(v['openssh']['per'], '{:.0f}')} | "
              f"**{ratio(v['sallyport']['per'], v['openssh']['per'])}** |",
              f"| server processes | {v['sallyport']['procs']} | {v['openssh']['procs']} | |", "",
              "1,000 concurrent tunnels on both, and 10,000 on sallyport alone, need a load generator that holds",
              "many sessions from one process (one `ssh` process per tunnel, as used here, does not scale to that); that",
              "is the next step of issue 7.", ""]
    if "startup" in r:
        v = r["startup"]
        L += ["## 4. Start-up", "",
              "Time from `exec` of the server to its first SSH banner on the listening port; "
              f"{len(v['sallyport'])} starts each.", "",
              "| | sallyport | OpenSSH | ratio |", "| --- | --- | --- | --- |",
              f"| start to banner, ms | {spread(v['sallyport'], '{:.0f}')} | {spread(v['openssh'], '{:.0f}')} | "
              f"{ratio(v['sallyport'], v['openssh'])} |", ""]
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
    ap.add_argument("--tunnels", type=int, default=100, help="concurrent idle tunnels (default 100)")
    ap.add_argument("--settle", type=float, default=3, help="seconds to let memory settle (default 3)")
    ap.add_argument("--only", default="throughput,rate,memory,startup",
                    help="comma list of measurements (default all: throughput,rate,memory,startup)")
    ap.add_argument("--java-opts", default="", help='extra JVM options for sallyport, space-separated; write --java-opts="-Xmx1g ..." (with =)')
    ap.add_argument("--check", action="store_true",
                    help="smoke test: start both servers, push one small transfer through each, write nothing")
    args = ap.parse_args()
    args.java_opts = args.java_opts.split()
    only = set(args.only.split(","))
    if os.geteuid() != 0:
        sys.exit("bench: needs root (it creates a network namespace for the private target)")
    for tool in ("ip", "ssh", "ssh-keygen", "java", "/usr/sbin/sshd"):
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} not found (apt-get install iproute2 openssh-client openssh-server)")

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
        servers.stop_all()
        if "memory" in only:
            r["memory"] = {n: {"base": [], "total": [], "per": [], "procs": 0} for n in ("sallyport", "openssh")}
            for i in range(args.runs):
                for name in ("sallyport", "openssh"):
                    base, total, procs = idle_memory(servers, name, args.tunnels, args.settle)
                    v = r["memory"][name]
                    v["base"].append(base / 1024)
                    v["total"].append(total / 1024)
                    v["per"].append((total - base) / args.tunnels)
                    v["procs"] = procs
                    log(f"memory run {i + 1} {name}: {base / 1024:.0f} → {total / 1024:.0f} MiB "
                        f"({v['per'][-1]:.0f} KiB per tunnel, {procs} processes)")
        if "startup" in only:
            r["startup"] = {"sallyport": [], "openssh": []}
            for i in range(max(5, args.runs)):
                for name in ("sallyport", "openssh"):
                    r["startup"][name].append(servers.start(name) * 1000)
                    servers.stop(name)
            log(f"startup: sallyport {r['startup']['sallyport']}, openssh {r['startup']['openssh']} ms")
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
