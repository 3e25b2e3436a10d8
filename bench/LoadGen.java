/*
 * Load generator of the jump-server benchmark: many SSH sessions from ONE process, with MINA's client.
 * Run by bench/jumpbench.py as a single-file program (Java 17 source launcher, no build step):
 *
 *   java -cp target/sallyport.jar bench/LoadGen.java hold N  [options]
 *   java -cp target/sallyport.jar bench/LoadGen.java rate    [options]
 *
 * hold N   opens N sessions, each with one direct-tcpip channel to --target (the idle port), prints
 *          "ready N" when all are open, then holds them until stdin closes or a signal arrives.
 * rate     --clients C workers for --seconds S; each iteration is one complete connection: TCP
 *          connect, key exchange, publickey auth, direct-tcpip open to --target (the hello port),
 *          read "ok\n", close. Prints one JSON line: count, errors, elapsed, latencies (ms).
 *
 * Options: --server HOST:PORT  --user NAME  --key FILE (the user's private key, OpenSSH format)
 *          --host-key FILE.pub (the only server key accepted)  --target HOST:PORT
 *          --cipher NAME (default aes128-gcm@openssh.com)  --kex NAME,NAME,... (the client's
 *          offer, in order; default sntrup761x25519-sha512@openssh.com, what the stock ssh
 *          negotiates with both servers)  --parallel P (hold: sessions being opened at once)
 *          --sources K (spread connections over local addresses 127.0.0.1..127.0.0.K)
 * Every line on stderr is a diagnostic; stdout carries "ready N" / "kex ..." / the JSON.
 */

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.sshd.client.ClientBuilder;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.kex.BuiltinDHFactories;
import org.apache.sshd.common.kex.KexProposalOption;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.apache.sshd.core.CoreModuleProperties;

public class LoadGen {
    static final Duration STEP = Duration.ofSeconds(60);

    final Map<String, String> opt;
    final SshClient client;
    final String user;
    final InetSocketAddress server;
    final SshdSocketAddress target;
    final int sources;
    final AtomicInteger next = new AtomicInteger();
    final AtomicReference<String> kex = new AtomicReference<>();

    LoadGen(Map<String, String> opt) throws Exception {
        this.opt = opt;
        user = opt.getOrDefault("user", "bench");
        server = hostPort(need(opt, "server"));
        InetSocketAddress t = hostPort(need(opt, "target"));
        target = new SshdSocketAddress(t.getHostString(), t.getPort());
        sources = Integer.parseInt(opt.getOrDefault("sources", "1"));

        Path keyFile = Path.of(need(opt, "key"));
        List<KeyPair> keys = new ArrayList<>();
        try (InputStream in = Files.newInputStream(keyFile)) {
            SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(keyFile.toString()), in, null)
                    .forEach(keys::add);
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("no key pair in " + keyFile);
        }
        String hostLine = Files.readString(Path.of(need(opt, "host-key"))).trim();
        PublicKey hostKey = PublicKeyEntry.parsePublicKeyEntry(hostLine).resolvePublicKey(null, null, null);

        client = SshClient.setUpDefaultClient();
        String cipher = opt.getOrDefault("cipher", BuiltinCiphers.aes128gcm.getName());
        client.setCipherFactories(List.of(BuiltinCiphers.fromFactoryName(cipher)));
        List<BuiltinDHFactories> kexes = new ArrayList<>();
        for (String k : opt.getOrDefault("kex", BuiltinDHFactories.sntrup761x25519_openssh.getName()).split(",")) {
            BuiltinDHFactories f = BuiltinDHFactories.fromFactoryName(k);
            if (f == null || !f.isSupported()) {
                throw new IllegalArgumentException("key exchange not supported here: " + k);
            }
            kexes.add(f);
        }
        client.setKeyExchangeFactories(NamedFactory.setUpTransformedFactories(false, kexes, ClientBuilder.DH2KEX));
        // Only the bench's host key is accepted.
        client.setServerKeyVerifier((session, remote, key) -> KeyUtils.compareKeys(hostKey, key));
        client.setKeyIdentityProvider(session -> keys);
        // Held sessions are idle by design: no client-side idle or read timeouts.
        CoreModuleProperties.IDLE_TIMEOUT.set(client, Duration.ZERO);
        CoreModuleProperties.NIO2_READ_TIMEOUT.set(client, Duration.ZERO);
        CoreModuleProperties.AUTH_TIMEOUT.set(client, Duration.ofMinutes(5));
        // An idle session receives nothing; a small read buffer keeps 10,000 of them cheap here.
        CoreModuleProperties.NIO2_READ_BUFFER_SIZE.set(client, Integer.parseInt(opt.getOrDefault("read-buffer", "4096")));
        client.start();
    }

    static String need(Map<String, String> opt, String k) {
        String v = opt.get(k);
        if (v == null) {
            throw new IllegalArgumentException("missing --" + k);
        }
        return v;
    }

    static InetSocketAddress hostPort(String s) {
        int i = s.lastIndexOf(':');
        return new InetSocketAddress(s.substring(0, i), Integer.parseInt(s.substring(i + 1)));
    }

    InetSocketAddress localAddress() {
        if (sources <= 1) {
            return null;
        }
        return new InetSocketAddress("127.0.0." + (1 + Math.floorMod(next.getAndIncrement(), sources)), 0);
    }

    ClientSession session() throws IOException {
        ClientSession s = client.connect(user, server, null, localAddress()).verify(STEP).getClientSession();
        try {
            s.auth().verify(STEP);
            kex.compareAndSet(null, s.getNegotiatedKexParameter(KexProposalOption.ALGORITHMS) + " "
                    + s.getNegotiatedKexParameter(KexProposalOption.S2CENC));
            return s;
        } catch (IOException | RuntimeException e) {
            s.close(true);
            throw e;
        }
    }

    ChannelDirectTcpip tunnel(ClientSession s) throws IOException {
        ChannelDirectTcpip ch = s.createDirectTcpipChannel(new SshdSocketAddress("127.0.0.1", 0), target);
        ch.open().verify(STEP);
        return ch;
    }

    void hold(int n) throws Exception {
        int parallel = Integer.parseInt(opt.getOrDefault("parallel", "32"));
        List<ClientSession> held = java.util.Collections.synchronizedList(new ArrayList<>(n));
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        AtomicInteger todo = new AtomicInteger(n);
        CountDownLatch done = new CountDownLatch(parallel);
        long start = System.nanoTime();
        for (int w = 0; w < parallel; w++) {
            Thread t = new Thread(() -> {
                try {
                    while (errors.isEmpty() && todo.getAndDecrement() > 0) {
                        try {
                            ClientSession s = session();
                            held.add(s);
                            tunnel(s);
                            int k = held.size();
                            if (k % 1000 == 0) {
                                System.err.printf("loadgen: %d sessions open (%.1f s)%n", k, (System.nanoTime() - start) / 1e9);
                            }
                        } catch (Exception e) {
                            errors.add(e.toString());
                        }
                    }
                } finally {
                    done.countDown();
                }
            }, "opener-" + w);
            t.start();
        }
        done.await();
        if (!errors.isEmpty()) {
            System.out.println("failed " + held.size() + " " + errors.peek());
            System.out.flush();
            System.exit(1);
        }
        System.out.println("kex " + kex.get());
        System.out.println("ready " + held.size());
        System.out.flush();
        // Hold until stdin closes (or a signal ends the JVM).
        InputStream in = System.in;
        while (in.read() >= 0) {
            // keep reading
        }
        client.stop();
    }

    void rate() throws Exception {
        int clients = Integer.parseInt(opt.getOrDefault("clients", "8"));
        double seconds = Double.parseDouble(opt.getOrDefault("seconds", "10"));
        double warmup = Double.parseDouble(opt.getOrDefault("warmup", "0"));
        if (warmup > 0) {
            // JIT-compile this client's handshake first; then "warm", and the timed run starts at
            // the next line on stdin (so the caller can read the server's CPU time in between).
            loops(clients, warmup, new ConcurrentLinkedQueue<>(), new ConcurrentLinkedQueue<>());
            System.out.println("warm");
            System.out.flush();
            new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();
        }
        ConcurrentLinkedQueue<Double> lat = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        long start = System.nanoTime();
        loops(clients, seconds, lat, errors);
        double elapsed = (System.nanoTime() - start) / 1e9;
        StringBuilder sb = new StringBuilder();
        sb.append("{\"count\": ").append(lat.size()).append(", \"errors\": ").append(errors.size())
                .append(", \"elapsed\": ").append(String.format("%.3f", elapsed))
                .append(", \"kex\": \"").append(kex.get()).append('"');
        if (!errors.isEmpty()) {
            sb.append(", \"first_error\": \"").append(errors.peek().replace("\\", "\\\\").replace("\"", "'")).append('"');
        }
        sb.append(", \"latencies_ms\": [");
        String sep = "";
        for (double d : lat) {
            sb.append(sep).append(String.format("%.2f", d));
            sep = ", ";
        }
        sb.append("]}");
        System.out.println(sb);
        System.out.flush();
        client.stop();
    }

    /** `clients` workers doing complete connections back to back for `seconds`. */
    void loops(int clients, double seconds, ConcurrentLinkedQueue<Double> lat, ConcurrentLinkedQueue<String> errors)
            throws InterruptedException {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        for (int w = 0; w < clients; w++) {
            pool.execute(() -> {
                while (System.nanoTime() < deadline && errors.size() < 10) {
                    long t0 = System.nanoTime();
                    try {
                        once();
                        lat.add((System.nanoTime() - t0) / 1e6);
                    } catch (Exception e) {
                        errors.add(e.toString());
                    }
                }
            });
        }
        pool.shutdown();
        pool.awaitTermination(1, java.util.concurrent.TimeUnit.HOURS);
    }

    /** One complete connection: connect, kex, auth, direct-tcpip open, read "ok\n", close. */
    void once() throws IOException {
        try (ClientSession s = session(); ChannelDirectTcpip ch = tunnel(s)) {
            byte[] buf = new byte[16];
            int got = 0;
            InputStream in = ch.getInvertedOut();
            // Up to the newline: sshd closes the channel only after the client's EOF, and MINA's
            // piped stream ends only with the channel.
            for (int r; got < buf.length && (got == 0 || buf[got - 1] != '\n')
                    && (r = in.read(buf, got, buf.length - got)) >= 0; ) {
                got += r;
            }
            String text = new String(buf, 0, got, java.nio.charset.StandardCharsets.US_ASCII);
            if (!"ok\n".equals(text)) {
                throw new IOException("expected \"ok\\n\" from the target, got " + text.replace("\n", "\\n"));
            }
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: LoadGen hold N [--options] | LoadGen rate [--options]");
            System.exit(2);
        }
        Map<String, String> opt = new HashMap<>();
        List<String> pos = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--")) {
                String a = args[i].substring(2);
                int eq = a.indexOf('=');
                if (eq >= 0) {
                    opt.put(a.substring(0, eq), a.substring(eq + 1));
                } else {
                    opt.put(a, args[++i]);
                }
            } else {
                pos.add(args[i]);
            }
        }
        LoadGen g = new LoadGen(opt);
        switch (pos.get(0)) {
            case "hold" -> g.hold(Integer.parseInt(pos.get(1)));
            case "rate" -> g.rate();
            default -> throw new IllegalArgumentException("unknown mode " + Arrays.toString(args));
        }
        System.exit(0);
    }
}
