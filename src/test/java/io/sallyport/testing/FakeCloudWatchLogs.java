package io.sallyport.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;

/**
 * A CloudWatch Logs endpoint for tests, speaking the service's wire protocol (AWS JSON 1.1:
 * {@code POST /}, {@code X-Amz-Target: Logs_20140328.<Operation>}, JSON errors with
 * {@code __type}) to the real AWS SDK client. It keeps what it accepted, and enforces the
 * PutLogEvents rules a real service enforces: the group and stream must exist; at most 10,000
 * events and 1,048,576 bytes (message UTF-8 bytes + 26 per event); chronological order; a span of
 * at most 24 hours among the events it would keep (each of these fails the whole call with
 * {@code InvalidParameterException}); events more than 2 hours ahead of its clock, more than 14
 * days behind it, or older than the group's retention ({@link #retentionDays}) are refused one by
 * one in {@code rejectedLogEventsInfo} ({@code tooNewLogEventStartIndex},
 * {@code tooOldLogEventEndIndex}, {@code expiredLogEventEndIndex}), as the service documents.
 *
 * <p>Faults, for the outage tests: {@link #throttleNext}, {@link #failNext} (5xx), {@link #stallNext}
 * (answer late, after accepting or not), {@link #goAway} / {@link #comeBack} (nothing listening).
 */
public final class FakeCloudWatchLogs implements AutoCloseable {
    public static final int MAX_EVENTS = 10_000;
    public static final int MAX_BYTES = 1_048_576;
    public static final int EVENT_OVERHEAD = 26;
    private static final long DAY = 24L * 3600 * 1000;
    private static final long TOO_NEW_MILLIS = 2 * 3600 * 1000;
    private static final long TOO_OLD_MILLIS = 14 * DAY;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An event as CloudWatch stored it. */
    public record Event(String group, String stream, long timestamp, String message) {
        public String id() {
            try {
                return JSON.readTree(message).path("id").asText();
            } catch (IOException e) {
                return "";
            }
        }
    }

    /** One PutLogEvents call as received, with how it was answered. */
    public record PutCall(String stream, int events, int status, String error) {}

    private enum FaultKind { THROTTLE, FAIL, STALL_ACCEPT, STALL_REFUSE }

    private record Fault(FaultKind kind, int status, Duration delay) {}

    private final int port;
    private final Clock clock;
    private HttpServer server;
    private ExecutorService executor;
    private final Map<String, Map<String, List<Event>>> groups = new LinkedHashMap<>();
    private final Map<String, Integer> retention = new LinkedHashMap<>();
    private final List<Event> accepted = new ArrayList<>();
    private final List<PutCall> calls = new ArrayList<>();
    private final Deque<Fault> faults = new ArrayDeque<>();
    private Predicate<String> invalidMessage = m -> false;
    private volatile Duration latency = Duration.ZERO;

    private FakeCloudWatchLogs(int port, Clock clock) throws IOException {
        this.clock = clock;
        this.server = bind(port);
        this.port = server.getAddress().getPort();
    }

    /** Listens on 127.0.0.1 on a free port. */
    public static FakeCloudWatchLogs start() throws IOException {
        return start(Clock.systemUTC());
    }

    /** With the service's clock: what "too new" and "too old" are measured against. */
    public static FakeCloudWatchLogs start(Clock clock) throws IOException {
        return new FakeCloudWatchLogs(0, clock);
    }

    private HttpServer bind(int p) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), p), 64);
        executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-cloudwatch");
            t.setDaemon(true);
            return t;
        });
        s.setExecutor(executor);
        s.createContext("/", this::handle);
        s.start();
        return s;
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    // ---- faults ---------------------------------------------------------------------------------

    /** The next {@code n} PutLogEvents calls get {@code ThrottlingException} (HTTP 400), as CloudWatch's rate limit does. */
    public synchronized void throttleNext(int n) {
        for (int i = 0; i < n; i++) {
            faults.add(new Fault(FaultKind.THROTTLE, 400, Duration.ZERO));
        }
    }

    /** The next {@code n} PutLogEvents calls fail with {@code status} (500: InternalFailure, 503: ServiceUnavailableException). */
    public synchronized void failNext(int n, int status) {
        for (int i = 0; i < n; i++) {
            faults.add(new Fault(FaultKind.FAIL, status, Duration.ZERO));
        }
    }

    /**
     * The next {@code n} PutLogEvents calls are answered only after {@code delay}. With
     * {@code acceptFirst} the events are stored before the wait, as when a service commits and
     * then its answer is lost: a client that timed out will send them again.
     */
    public synchronized void stallNext(int n, Duration delay, boolean acceptFirst) {
        for (int i = 0; i < n; i++) {
            faults.add(new Fault(acceptFirst ? FaultKind.STALL_ACCEPT : FaultKind.STALL_REFUSE, 200, delay));
        }
    }

    /** Every accepted PutLogEvents call takes this long (a slow but healthy service). */
    public void latency(Duration d) {
        latency = d;
    }

    /** Messages matching this make the whole call fail with {@code InvalidParameterException}. */
    public synchronized void invalidWhen(Predicate<String> message) {
        invalidMessage = message;
    }

    /** Stops listening: connections are refused until {@link #comeBack}. */
    public synchronized void goAway() {
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
            server = null;
        }
    }

    /** Listens again on the same port, with everything accepted so far still there. */
    public synchronized void comeBack() throws IOException {
        if (server == null) {
            server = bind(port);
        }
    }

    public synchronized void createGroup(String group) {
        groups.computeIfAbsent(group, g -> new LinkedHashMap<>());
    }

    /** PutRetentionPolicy: events older than this are refused as expired. */
    public synchronized void retentionDays(String group, int days) {
        retention.put(group, days);
    }

    // ---- what it holds --------------------------------------------------------------------------

    /** Every accepted event, in the order calls were accepted (a re-sent event appears again). */
    public synchronized List<Event> events() {
        return List.copyOf(accepted);
    }

    public synchronized List<Event> events(String group, String stream) {
        return List.copyOf(groups.getOrDefault(group, Map.of()).getOrDefault(stream, List.of()));
    }

    /** Event ids in first-accepted order, duplicates removed. */
    public synchronized List<String> distinctIds() {
        Set<String> ids = new LinkedHashSet<>();
        for (Event e : accepted) {
            ids.add(e.id());
        }
        return List.copyOf(ids);
    }

    public synchronized Set<String> groups() {
        return Set.copyOf(groups.keySet());
    }

    public synchronized Set<String> streams(String group) {
        return Set.copyOf(groups.getOrDefault(group, Map.of()).keySet());
    }

    public synchronized List<PutCall> putCalls() {
        return List.copyOf(calls);
    }

    /** Waits until every id in {@code ids} was accepted; false at the timeout. */
    public boolean awaitIds(java.util.Collection<String> ids, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (distinctIds().containsAll(ids)) {
                return true;
            }
            Thread.sleep(50);
        }
        return distinctIds().containsAll(ids);
    }

    // ---- protocol -------------------------------------------------------------------------------

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            String target = ex.getRequestHeaders().getFirst("X-Amz-Target");
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            String type = ex.getRequestHeaders().getFirst("Content-Type");
            if (!"POST".equals(ex.getRequestMethod()) || target == null || !target.startsWith("Logs_20140328.")) {
                error(ex, 400, "UnknownOperationException", "expected POST with X-Amz-Target: Logs_20140328.*");
                return;
            }
            if (type == null || !type.startsWith("application/x-amz-json-1.1")) {
                error(ex, 400, "SerializationException", "Content-Type must be application/x-amz-json-1.1");
                return;
            }
            if (auth == null || !auth.startsWith("AWS4-HMAC-SHA256 Credential=")) {
                error(ex, 400, "MissingAuthenticationTokenException", "Request is missing Authentication Token");
                return;
            }
            JsonNode req = JSON.readTree(body);
            String op = target.substring("Logs_20140328.".length());
            switch (op) {
                case "CreateLogGroup" -> createLogGroup(ex, req);
                case "CreateLogStream" -> createLogStream(ex, req);
                case "PutLogEvents" -> putLogEvents(ex, req);
                default -> error(ex, 400, "UnknownOperationException", "operation " + op + " is not faked");
            }
        } catch (IOException | RuntimeException e) {
            // The client went away (a stalled call it gave up on): nothing to answer.
        }
    }

    private void createLogGroup(HttpExchange ex, JsonNode req) throws IOException {
        String group = req.path("logGroupName").asText();
        synchronized (this) {
            if (groups.containsKey(group)) {
                error(ex, 400, "ResourceAlreadyExistsException", "The specified log group already exists");
                return;
            }
            groups.put(group, new LinkedHashMap<>());
        }
        ok(ex, JSON.createObjectNode());
    }

    private void createLogStream(HttpExchange ex, JsonNode req) throws IOException {
        String group = req.path("logGroupName").asText();
        String stream = req.path("logStreamName").asText();
        synchronized (this) {
            Map<String, List<Event>> g = groups.get(group);
            if (g == null) {
                error(ex, 400, "ResourceNotFoundException", "The specified log group does not exist.");
                return;
            }
            if (g.containsKey(stream)) {
                error(ex, 400, "ResourceAlreadyExistsException", "The specified log stream already exists");
                return;
            }
            if (stream.isEmpty() || stream.contains(":") || stream.contains("*")) {
                error(ex, 400, "InvalidParameterException", "invalid log stream name");
                return;
            }
            g.put(stream, new ArrayList<>());
        }
        ok(ex, JSON.createObjectNode());
    }

    private void putLogEvents(HttpExchange ex, JsonNode req) throws IOException {
        String group = req.path("logGroupName").asText();
        String stream = req.path("logStreamName").asText();
        JsonNode events = req.path("logEvents");
        Fault fault;
        synchronized (this) {
            // Faults hit calls that reach a stream; a missing one is answered at once.
            Map<String, List<Event>> g = groups.get(group);
            fault = g != null && g.containsKey(stream) ? faults.poll() : null;
        }
        if (fault != null && fault.kind() == FaultKind.THROTTLE) {
            record(stream, events.size(), 400, "ThrottlingException");
            error(ex, 400, "ThrottlingException", "Rate exceeded");
            return;
        }
        if (fault != null && fault.kind() == FaultKind.FAIL) {
            String t = fault.status() == 503 ? "ServiceUnavailableException" : "InternalFailure";
            record(stream, events.size(), fault.status(), t);
            error(ex, fault.status(), t, "The server failed to process the request");
            return;
        }
        if (fault != null && fault.kind() == FaultKind.STALL_REFUSE) {
            sleep(fault.delay());
            record(stream, events.size(), 503, "ServiceUnavailableException (after stall)");
            error(ex, 503, "ServiceUnavailableException", "The server failed to process the request");
            return;
        }
        String problem;
        ObjectNode answer = JSON.createObjectNode();
        synchronized (this) {
            problem = validate(group, stream, events);
            if (problem == null) {
                accept(group, stream, events, answer);
            }
        }
        if (problem != null) {
            String t = problem.startsWith("The specified") ? "ResourceNotFoundException" : "InvalidParameterException";
            record(stream, events.size(), 400, t + ": " + problem);
            error(ex, 400, t, problem);
            return;
        }
        record(stream, events.size(), 200, null);
        if (fault != null && fault.kind() == FaultKind.STALL_ACCEPT) {
            sleep(fault.delay());
        } else if (!latency.isZero()) {
            sleep(latency);
        }
        ok(ex, answer);
    }

    /** Under the lock: the reasons a real service fails the whole call. */
    private String validate(String group, String stream, JsonNode events) {
        Map<String, List<Event>> g = groups.get(group);
        if (g == null) {
            return "The specified log group does not exist.";
        }
        if (!g.containsKey(stream)) {
            return "The specified log stream does not exist.";
        }
        if (!events.isArray() || events.isEmpty()) {
            return "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1";
        }
        if (events.size() > MAX_EVENTS) {
            return "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000";
        }
        long bytes = 0;
        long prev = Long.MIN_VALUE;
        long firstKept = Long.MAX_VALUE;
        long lastKept = Long.MIN_VALUE;
        long now = clock.millis();
        for (JsonNode e : events) {
            String message = e.path("message").asText();
            int size = message.getBytes(StandardCharsets.UTF_8).length;
            if (size + EVENT_OVERHEAD > 262_144) {
                return "Log event too large: " + size + " bytes exceeds limit of 262144";
            }
            bytes += size + EVENT_OVERHEAD;
            long ts = e.path("timestamp").asLong();
            if (ts < prev) {
                return "Log events in a single PutLogEvents request must be in chronological order.";
            }
            prev = ts;
            if (rejection(group, ts, now) == null) {
                firstKept = Math.min(firstKept, ts);
                lastKept = Math.max(lastKept, ts);
            }
            if (invalidMessage.test(message)) {
                return "Invalid log event (fault injected)";
            }
        }
        if (bytes > MAX_BYTES) {
            return "Upload too large: " + bytes + " bytes exceeds limit of " + MAX_BYTES;
        }
        // "For valid events (within 14 days in the past to 2 hours in future), the time span in a
        // single batch cannot exceed 24 hours."
        if (lastKept != Long.MIN_VALUE && lastKept - firstKept > DAY) {
            return "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.";
        }
        return null;
    }

    private enum Rejection { TOO_OLD, EXPIRED, TOO_NEW }

    /** Under the lock: why the service would refuse an event of this timestamp on its own, or null. */
    private Rejection rejection(String group, long ts, long now) {
        if (ts > now + TOO_NEW_MILLIS) {
            return Rejection.TOO_NEW;
        }
        if (ts < now - TOO_OLD_MILLIS) {
            return Rejection.TOO_OLD;
        }
        Integer days = retention.get(group);
        if (days != null && ts < now - days * DAY) {
            return Rejection.EXPIRED;
        }
        return null;
    }

    /** Under the lock: stores the events CloudWatch would keep and fills {@code rejectedLogEventsInfo}. */
    private void accept(String group, String stream, JsonNode events, ObjectNode answer) {
        long now = clock.millis();
        int tooOldEnd = 0;
        int expiredEnd = 0;
        int tooNewStart = -1;
        List<Event> target = groups.get(group).get(stream);
        for (int i = 0; i < events.size(); i++) {
            JsonNode e = events.get(i);
            long ts = e.path("timestamp").asLong();
            Rejection why = rejection(group, ts, now);
            if (why == Rejection.TOO_OLD) {
                tooOldEnd = i + 1;
                continue;
            }
            if (why == Rejection.EXPIRED) {
                expiredEnd = i + 1;
                continue;
            }
            if (why == Rejection.TOO_NEW) {
                if (tooNewStart < 0) {
                    tooNewStart = i;
                }
                continue;
            }
            Event stored = new Event(group, stream, ts, e.path("message").asText());
            target.add(stored);
            accepted.add(stored);
        }
        answer.put("nextSequenceToken", UUID.randomUUID().toString().replace("-", ""));
        if (tooOldEnd > 0 || expiredEnd > 0 || tooNewStart >= 0) {
            ObjectNode info = answer.putObject("rejectedLogEventsInfo");
            if (tooOldEnd > 0) {
                info.put("tooOldLogEventEndIndex", tooOldEnd);
            }
            if (expiredEnd > 0) {
                info.put("expiredLogEventEndIndex", expiredEnd);
            }
            if (tooNewStart >= 0) {
                info.put("tooNewLogEventStartIndex", tooNewStart);
            }
        }
    }

    private synchronized void record(String stream, int events, int status, String error) {
        calls.add(new PutCall(stream, events, status, error));
    }

    private static void ok(HttpExchange ex, JsonNode body) throws IOException {
        send(ex, 200, JSON.writeValueAsBytes(body));
    }

    private static void error(HttpExchange ex, int status, String type, String message) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("__type", type);
        n.put("message", message);
        send(ex, status, JSON.writeValueAsBytes(n));
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.1");
        ex.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        goAway();
    }
}
