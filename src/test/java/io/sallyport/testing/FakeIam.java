package io.sallyport.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake IAM that speaks IAM's Query protocol to the real AWS SDK: form-encoded POSTs with
 * {@code Action=...&Version=2010-05-08}, SigV4-signed; XML answers in IAM's namespace with
 * {@code IsTruncated}/{@code Marker} paging; errors as XML {@code ErrorResponse} with IAM's codes
 * and HTTP statuses ({@code Throttling} 400, {@code NoSuchEntity} 404, {@code ServiceFailure} 500).
 *
 * <p>It serves the three read calls sallyport makes — {@code GetAccountAuthorizationDetails},
 * {@code ListSSHPublicKeys}, {@code GetSSHPublicKey} — from a directory the test edits directly
 * (the way an admin edits IAM), counts every call, and misbehaves on demand: throttling, 5xx, slow
 * answers, a failure on page N, shorter pages than asked for, or being down altogether.
 *
 * <pre>{@code
 * FakeIam iam = FakeIam.start();
 * iam.user("alice", "/").tag("sallyport:allow", "true").uploadKey(rsaLine);
 * iam.inject(FakeIam.Fault.serverError("GetAccountAuthorizationDetails").onPage(3).times(1));
 * }</pre>
 */
public final class FakeIam implements AutoCloseable {
    public static final String ACCOUNT = "123456789012";
    private static final String NS = "https://iam.amazonaws.com/doc/2010-05-08/";
    private static final int DEFAULT_MAX_ITEMS = 100;

    private final HttpServer server;
    private final ExecutorService executor;
    private final Map<String, User> users = new LinkedHashMap<>();
    private final List<Fault> faults = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final List<String> callLog = new CopyOnWriteArrayList<>();
    private final AtomicInteger failed = new AtomicInteger();
    private volatile int maxPageSize = 1000;
    private volatile boolean down;
    private volatile RateLimit rateLimit;
    private final List<TimedCall> timedCalls = new CopyOnWriteArrayList<>();

    static {
        // The JDK server writes response headers and body separately; without TCP_NODELAY the body
        // waits for the client's delayed ACK, 40 ms a call. Read once, when the first server starts.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    private FakeIam() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-iam");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    public static FakeIam start() {
        useTestCredentials();
        try {
            return new FakeIam();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Credentials for the SDK's default chain, which reads these system properties first; and no
     * instance metadata lookups: a test must never send a packet to 169.254.169.254.
     */
    public static void useTestCredentials() {
        System.setProperty("aws.accessKeyId", "AKIAFAKEIAMTEST00000");
        System.setProperty("aws.secretAccessKey", "fake-secret-for-tests-only");
        System.setProperty("aws.disableEc2Metadata", "true");
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    // ---- the directory, edited by tests as an admin edits IAM ---------------------------------

    /** The user {@code name} (created under {@code path} if new). */
    public synchronized User user(String name, String path) {
        return users.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new User(name, path));
    }

    public User user(String name) {
        return user(name, "/");
    }

    public synchronized void deleteUser(String name) {
        users.remove(name.toLowerCase(Locale.ROOT));
    }

    public synchronized int userCount() {
        return users.size();
    }

    /** An IAM user. Methods change it at once, like the IAM console; they return this for chaining. */
    public final class User {
        final String name;
        final String path;
        final String id = "AIDA" + randomId(16);
        final Instant created = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        final Map<String, String> tags = new LinkedHashMap<>();
        final Set<String> groups = new LinkedHashSet<>();
        final Map<String, Key> keys = new LinkedHashMap<>();

        User(String name, String path) {
            this.name = name;
            this.path = path;
        }

        public String arn() {
            return "arn:aws:iam::" + ACCOUNT + ":user" + path + name;
        }

        public User tag(String key, String value) {
            synchronized (FakeIam.this) {
                // Tag keys on users are case-insensitive: a new spelling replaces the old one.
                tags.keySet().removeIf(k -> k.equalsIgnoreCase(key));
                tags.put(key, value);
            }
            return this;
        }

        public User untag(String key) {
            synchronized (FakeIam.this) {
                tags.keySet().removeIf(k -> k.equalsIgnoreCase(key));
            }
            return this;
        }

        public User join(String group) {
            synchronized (FakeIam.this) {
                groups.add(group);
            }
            return this;
        }

        public User leave(String group) {
            synchronized (FakeIam.this) {
                groups.remove(group);
            }
            return this;
        }

        /** UploadSSHPublicKey: the key is Active. @return its id ({@code APKA...}) */
        public String uploadKey(String publicKeyLine) {
            return uploadKey(publicKeyLine, "Active");
        }

        public String uploadKey(String publicKeyLine, String status) {
            return uploadKey(publicKeyLine, status, Instant.now());
        }

        /**
         * UploadSSHPublicKey as it happened at {@code uploaded} (IAM's {@code UploadDate}, served to
         * the SDK as IAM writes it: ISO 8601 UTC to the second, {@code 2026-09-01T08:15:30Z}).
         */
        public String uploadKey(String publicKeyLine, String status, Instant uploaded) {
            String[] f = publicKeyLine.trim().split("\\s+");
            if (!f[0].equals("ssh-rsa")) {
                // IAM's own rule, kept here so a test cannot build a world IAM would not allow.
                throw new IllegalArgumentException("IAM's SSH public key API takes RSA keys only, not " + f[0]);
            }
            synchronized (FakeIam.this) {
                if (keys.size() >= 5) {
                    throw new IllegalStateException("IAM allows 5 SSH public keys per user");
                }
                String id = "APKA" + randomId(16);
                keys.put(id, new Key(id, f[0] + " " + f[1], status, uploaded.truncatedTo(ChronoUnit.SECONDS)));
                return id;
            }
        }

        /** UpdateSSHPublicKey: {@code Active} or {@code Inactive}; {@code Expired} is what IAM reports for an expired key. */
        public User keyStatus(String keyId, String status) {
            synchronized (FakeIam.this) {
                Key k = keys.get(keyId);
                keys.put(keyId, new Key(k.id, k.body, status, k.uploaded));
            }
            return this;
        }

        /** The ids of this user's SSH public keys, in upload order. */
        public List<String> keyIds() {
            synchronized (FakeIam.this) {
                return List.copyOf(keys.keySet());
            }
        }

        public User deleteKey(String keyId) {
            synchronized (FakeIam.this) {
                keys.remove(keyId);
            }
            return this;
        }
    }

    record Key(String id, String body, String status, Instant uploaded) {}

    // ---- misbehaviour ------------------------------------------------------------------------

    /** What goes wrong, for which calls, how often. Build with the static methods, refine with the rest. */
    public static final class Fault {
        final String action;
        final int status;
        final String code;
        final Duration delay;
        int page;
        final AtomicInteger remaining = new AtomicInteger(Integer.MAX_VALUE);

        private Fault(String action, int status, String code, Duration delay) {
            this.action = action;
            this.status = status;
            this.code = code;
            this.delay = delay;
        }

        /** {@code Throttling}, HTTP 400, as IAM answers when a quota is exceeded. {@code action} may be {@code *}. */
        public static Fault throttle(String action) {
            return new Fault(action, 400, "Throttling", Duration.ZERO);
        }

        /** {@code ServiceFailure}, HTTP 500. */
        public static Fault serverError(String action) {
            return new Fault(action, 500, "ServiceFailure", Duration.ZERO);
        }

        /** A correct answer, after {@code delay}. */
        public static Fault slow(String action, Duration delay) {
            return new Fault(action, 200, null, delay);
        }

        /** Only on page {@code n} (1-based) of a paged listing. */
        public Fault onPage(int n) {
            this.page = n;
            return this;
        }

        /** Only the next {@code n} matching calls. */
        public Fault times(int n) {
            remaining.set(n);
            return this;
        }
    }

    public void inject(Fault fault) {
        faults.add(fault);
    }

    public void clearFaults() {
        faults.clear();
    }

    /** Answer every call with HTTP 503 {@code ServiceUnavailable} (an outage) until set back. */
    public void down(boolean down) {
        this.down = down;
    }

    /**
     * An account-wide request-rate quota, as IAM enforces one (a token bucket over every call of the
     * account): beyond {@code perSecond} calls a second, after a burst of {@code burst}, calls are
     * answered {@code Throttling} (HTTP 400) until tokens refill. {@code perSecond <= 0} lifts it.
     */
    public void rateLimit(double perSecond, int burst) {
        rateLimit = perSecond <= 0 ? null : new RateLimit(perSecond, burst);
    }

    private static final class RateLimit {
        final double perSecond;
        final double burst;
        double tokens;
        long last = System.nanoTime();

        RateLimit(double perSecond, int burst) {
            this.perSecond = perSecond;
            this.burst = burst;
            this.tokens = burst;
        }

        synchronized boolean take() {
            long now = System.nanoTime();
            tokens = Math.min(burst, tokens + (now - last) / 1e9 * perSecond);
            last = now;
            if (tokens < 1) {
                return false;
            }
            tokens -= 1;
            return true;
        }
    }

    /** IAM may return fewer items than {@code MaxItems}; this caps every page at {@code n}. */
    public void maxPageSize(int n) {
        this.maxPageSize = n;
    }

    // ---- observation ---------------------------------------------------------------------------

    public int calls(String action) {
        AtomicInteger n = calls.get(action);
        return n == null ? 0 : n.get();
    }

    public int calls() {
        return calls.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    /** {@code Action UserName} of every call, in order. */
    public List<String> callLog() {
        return List.copyOf(callLog);
    }

    /**
     * One call as it arrived: {@code nanos} from {@link System#nanoTime()}, and whether the
     * {@linkplain #rateLimit rate limit} answered it {@code Throttling}.
     */
    public record TimedCall(long nanos, String action, boolean throttled) {}

    /** Every call since the last {@link #resetCalls}, in arrival order, with its time. */
    public List<TimedCall> timedCalls() {
        return List.copyOf(timedCalls);
    }

    /** Calls answered with an injected fault's error. */
    public int failedCalls() {
        return failed.get();
    }

    public void resetCalls() {
        failed.set(0);
        calls.clear();
        callLog.clear();
        timedCalls.clear();
    }

    // ---- the wire ------------------------------------------------------------------------------

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            if (!ex.getRequestMethod().equals("POST")) {
                error(ex, 400, "InvalidAction", "IAM's Query protocol uses POST here");
                return;
            }
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            if (auth == null || !auth.startsWith("AWS4-HMAC-SHA256 Credential=") || !auth.contains("/iam/aws4_request")) {
                error(ex, 403, "MissingAuthenticationToken", "Request must be signed with SigV4 for iam");
                return;
            }
            Map<String, String> p = form(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            String action = p.getOrDefault("Action", "");
            if (!"2010-05-08".equals(p.get("Version"))) {
                error(ex, 400, "InvalidParameterValue", "Version must be 2010-05-08");
                return;
            }
            calls.computeIfAbsent(action, a -> new AtomicInteger()).incrementAndGet();
            callLog.add(action + (p.containsKey("UserName") ? " " + p.get("UserName") : ""));
            if (down) {
                error(ex, 503, "ServiceUnavailable", "Service is unavailable");
                return;
            }
            RateLimit limit = rateLimit;
            boolean throttled = limit != null && !limit.take();
            timedCalls.add(new TimedCall(System.nanoTime(), action, throttled));
            if (throttled) {
                error(ex, 400, "Throttling", "Rate exceeded");
                return;
            }
            int page = action.equals("GetAccountAuthorizationDetails") ? pageOf(p.get("Marker")) : 1;
            Optional<Fault> fault = fault(action, page);
            if (fault.isPresent()) {
                Fault f = fault.get();
                if (!f.delay.isZero()) {
                    Thread.sleep(f.delay.toMillis());
                }
                if (f.code != null) {
                    failed.incrementAndGet();
                    error(ex, f.status, f.code, f.code.equals("Throttling") ? "Rate exceeded" : "Injected by FakeIam");
                    return;
                }
            }
            String body;
            synchronized (this) {
                body = switch (action) {
                    case "GetAccountAuthorizationDetails" -> accountAuthorizationDetails(p, page);
                    case "ListSSHPublicKeys" -> listSshPublicKeys(p);
                    case "GetSSHPublicKey" -> getSshPublicKey(p);
                    default -> null;
                };
            }
            if (body == null) {
                error(ex, 400, "InvalidAction", "Could not find operation " + action + " for version 2010-05-08");
                return;
            }
            send(ex, 200, body);
        } catch (ApiError e) {
            error(ex, e.status, e.code, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Optional<Fault> fault(String action, int page) {
        for (Fault f : faults) {
            if ((f.action.equals("*") || f.action.equals(action)) && (f.page == 0 || f.page == page)
                    && f.remaining.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    private static final class ApiError extends RuntimeException {
        final int status;
        final String code;

        ApiError(int status, String code, String message) {
            super(message);
            this.status = status;
            this.code = code;
        }
    }

    /** Markers are opaque to clients; here they carry the next offset and page number. */
    private static String marker(int offset, int page) {
        return Base64.getEncoder().encodeToString(("fake-iam:" + offset + ":" + page).getBytes(StandardCharsets.UTF_8));
    }

    private static int[] parseMarker(String marker) {
        try {
            String[] f = new String(Base64.getDecoder().decode(marker), StandardCharsets.UTF_8).split(":");
            return new int[] {Integer.parseInt(f[1]), Integer.parseInt(f[2])};
        } catch (RuntimeException e) {
            throw new ApiError(400, "InvalidInput", "Invalid Marker");
        }
    }

    private static int pageOf(String marker) {
        return marker == null ? 1 : parseMarker(marker)[1];
    }

    private int maxItems(Map<String, String> p) {
        int max = p.containsKey("MaxItems") ? Integer.parseInt(p.get("MaxItems")) : DEFAULT_MAX_ITEMS;
        if (max < 1 || max > 1000) {
            throw new ApiError(400, "ValidationError", "1 validation error detected: Value '" + max
                    + "' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000");
        }
        return Math.min(max, maxPageSize);
    }

    private String accountAuthorizationDetails(Map<String, String> p, int page) {
        int offset = p.containsKey("Marker") ? parseMarker(p.get("Marker"))[0] : 0;
        int max = maxItems(p);
        List<User> all = new ArrayList<>(users.values());
        all.sort(Comparator.comparing(u -> u.name.toLowerCase(Locale.ROOT)));
        boolean wantUsers = !p.containsKey("Filter.member.1") || p.entrySet().stream()
                .anyMatch(e -> e.getKey().startsWith("Filter.member.") && e.getValue().equals("User"));
        List<User> slice = wantUsers ? all.subList(Math.min(offset, all.size()), Math.min(offset + max, all.size())) : List.of();
        boolean truncated = wantUsers && offset + max < all.size();
        StringBuilder x = new StringBuilder();
        x.append("<UserDetailList>");
        for (User u : slice) {
            x.append("<member>")
                    .append(el("Path", u.path)).append(el("UserName", u.name)).append(el("UserId", u.id))
                    .append(el("Arn", u.arn())).append(el("CreateDate", u.created.toString()))
                    .append("<GroupList>");
            u.groups.forEach(g -> x.append(el("member", g)));
            x.append("</GroupList><AttachedManagedPolicies/><UserPolicyList/><Tags>");
            u.tags.forEach((k, v) -> x.append("<member>").append(el("Key", k)).append(el("Value", v)).append("</member>"));
            x.append("</Tags></member>");
        }
        x.append("</UserDetailList><GroupDetailList/><RoleDetailList/><Policies/>");
        x.append(el("IsTruncated", Boolean.toString(truncated)));
        if (truncated) {
            x.append(el("Marker", marker(offset + max, page + 1)));
        }
        return response("GetAccountAuthorizationDetails", x.toString());
    }

    private User existing(Map<String, String> p) {
        String name = p.get("UserName");
        User u = name == null ? null : users.get(name.toLowerCase(Locale.ROOT));
        if (u == null) {
            throw new ApiError(404, "NoSuchEntity", "The user with name " + name + " cannot be found.");
        }
        return u;
    }

    private String listSshPublicKeys(Map<String, String> p) {
        User u = existing(p);
        int offset = p.containsKey("Marker") ? parseMarker(p.get("Marker"))[0] : 0;
        int max = maxItems(p);
        List<Key> all = new ArrayList<>(u.keys.values());
        List<Key> slice = all.subList(Math.min(offset, all.size()), Math.min(offset + max, all.size()));
        boolean truncated = offset + max < all.size();
        StringBuilder x = new StringBuilder("<SSHPublicKeys>");
        for (Key k : slice) {
            x.append("<member>").append(el("UserName", u.name)).append(el("SSHPublicKeyId", k.id))
                    .append(el("Status", k.status)).append(el("UploadDate", k.uploaded.toString())).append("</member>");
        }
        x.append("</SSHPublicKeys>").append(el("IsTruncated", Boolean.toString(truncated)));
        if (truncated) {
            x.append(el("Marker", marker(offset + max, 0)));
        }
        return response("ListSSHPublicKeys", x.toString());
    }

    private String getSshPublicKey(Map<String, String> p) {
        User u = existing(p);
        String encoding = p.get("Encoding");
        if (!"SSH".equals(encoding) && !"PEM".equals(encoding)) {
            throw new ApiError(400, "ValidationError", "1 validation error detected: Value at 'encoding' failed to satisfy"
                    + " constraint: Member must satisfy enum value set: [SSH, PEM]");
        }
        Key k = u.keys.get(p.get("SSHPublicKeyId"));
        if (k == null) {
            throw new ApiError(404, "NoSuchEntity", "The Public Key with id " + p.get("SSHPublicKeyId") + " cannot be found.");
        }
        String body = encoding.equals("SSH") ? k.body : "-----BEGIN PUBLIC KEY-----\n(PEM not faked)\n-----END PUBLIC KEY-----";
        String x = "<SSHPublicKey>" + el("UserName", u.name) + el("SSHPublicKeyId", k.id) + el("Fingerprint", md5(k.body))
                + el("SSHPublicKeyBody", body) + el("Status", k.status) + el("UploadDate", k.uploaded.toString()) + "</SSHPublicKey>";
        return response("GetSSHPublicKey", x);
    }

    private static String response(String action, String result) {
        return "<" + action + "Response xmlns=\"" + NS + "\"><" + action + "Result>" + result + "</" + action + "Result>"
                + "<ResponseMetadata><RequestId>" + UUID.randomUUID() + "</RequestId></ResponseMetadata></" + action + "Response>";
    }

    private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
        String type = status >= 500 ? "Receiver" : "Sender";
        send(ex, status, "<ErrorResponse xmlns=\"" + NS + "\"><Error><Type>" + type + "</Type>" + el("Code", code)
                + el("Message", message) + "</Error><RequestId>" + UUID.randomUUID() + "</RequestId></ErrorResponse>");
    }

    private static void send(HttpExchange ex, int status, String xml) throws IOException {
        byte[] b = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + xml).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/xml");
        ex.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    private static Map<String, String> form(String body) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String pair : body.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            m.put(k, v);
        }
        return m;
    }

    private static String el(String name, String text) {
        return "<" + name + ">" + escape(text) + "</" + name + ">";
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** IAM's fingerprint: MD5 of the key blob, colon-separated hex. */
    private static String md5(String line) {
        try {
            byte[] blob = Base64.getDecoder().decode(line.split("\\s+")[1]);
            byte[] d = MessageDigest.getInstance("MD5").digest(blob);
            return HexFormat.ofDelimiter(":").formatHex(d);
        } catch (Exception e) {
            return "";
        }
    }

    private static String randomId(int n) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(alphabet.charAt(ThreadLocalRandom.current().nextInt(alphabet.length())));
        }
        return b.toString();
    }
}
