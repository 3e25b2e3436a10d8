package io.sallyport.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sallyport.config.Config;
import io.sallyport.identity.Identity;
import io.sallyport.net.IpLiterals;
import io.sallyport.policy.Decision;
import io.sallyport.ssh.LiveSessions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The admin socket's wire format (docs/operations.md): one request, a JSON object on one line of
 * at most {@link #MAX_REQUEST_BYTES}; one response, a JSON object on one line.
 *
 * <pre>
 * {"command":"sessions"}
 * {"command":"kill","ids":["3f9c0a1b2c3d4e5f"]}
 * {"command":"kill","user":"alice"}
 * {"command":"reload"}
 * {"command":"explain","user":"alice","target":"10.0.3.17:22","from":"203.0.113.9"}
 * {"command":"ssh-config","user":"alice"}
 * </pre>
 *
 * {@code explain}'s {@code target} is {@code HOST:PORT} as a client would send it ({@code [v6]:PORT}
 * for an IPv6 literal), its {@code from} (optional) an IP address; its answer is an
 * {@link Explanation}.
 *
 * Requests come from a local user in the admin group, but are still parsed as untrusted input:
 * unknown fields and commands are refused, and every string is bounded.
 */
public final class AdminProtocol {
    /** A kill of {@link #MAX_IDS} ids is about 2 KiB; 16 KiB leaves room and bounds memory per connection. */
    public static final int MAX_REQUEST_BYTES = 16 * 1024;
    /** Bounds the work of one request; more ids than this is a mistake, not a use. */
    public static final int MAX_IDS = 100;
    /** Longer than any IAM (64), local or certificate principal name we accept. */
    public static final int MAX_USER_CHARS = 256;
    /** A DNS name is at most 253 characters; with brackets, a colon and a port, 300 covers any target. */
    public static final int MAX_TARGET_CHARS = 300;
    /** The longest IPv6 spelling is 45 characters. */
    public static final int MAX_FROM_CHARS = 64;
    private static final Pattern SESSION_ID = Pattern.compile("[0-9a-f]{1,64}");
    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");
    /** Strict: a second JSON value after the first, or a key given twice, is not one clear request. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private AdminProtocol() {}

    /** A request the server understood. */
    public sealed interface Request {
        String command();

        /** The arguments as the audit event lists them. */
        List<String> args();

        record Sessions() implements Request {
            public String command() { return "sessions"; }
            public List<String> args() { return List.of(); }
        }

        record KillIds(List<String> ids) implements Request {
            public KillIds {
                ids = List.copyOf(ids);
            }
            public String command() { return "kill"; }
            public List<String> args() { return ids; }
        }

        record KillUser(String user) implements Request {
            public String command() { return "kill"; }
            public List<String> args() { return List.of("--user", user); }
        }

        /** Re-read the config file the server started with. */
        record Reload() implements Request {
            public String command() { return "reload"; }
            public List<String> args() { return List.of(); }
        }

        /**
         * @param target the host as the client would send it (brackets of an IPv6 literal removed), and the port
         * @param from   the client address, an IP literal in its canonical spelling
         */
        record Explain(String user, Config.HostPort target, Optional<String> from) implements Request {
            public String command() { return "explain"; }

            public List<String> args() {
                List<String> a = new ArrayList<>(List.of("--user", user, "--target", target.toString()));
                from.ifPresent(f -> a.addAll(List.of("--from", f)));
                return List.copyOf(a);
            }
        }

        /** Who {@code user} is to the running server now (IAM users included), for {@code sallyport ssh-config}. */
        record SshConfig(String user) implements Request {
            public String command() { return "ssh-config"; }
            public List<String> args() { return List.of("--user", user); }
        }
    }

    /** A request that cannot be carried out; {@code command} is what it asked for, if anything. */
    public static final class BadRequest extends Exception {
        private final String command;

        public BadRequest(String command, String message) {
            super(message, null, false, false);
            this.command = command;
        }

        public String command() {
            return command;
        }
    }

    // ---- requests ------------------------------------------------------------------------------

    public static String encode(Request request) {
        ObjectNode o = JSON.createObjectNode();
        o.put("command", request.command());
        if (request instanceof Request.KillIds k) {
            ArrayNode ids = o.putArray("ids");
            k.ids().forEach(ids::add);
        } else if (request instanceof Request.KillUser u) {
            o.put("user", u.user());
        } else if (request instanceof Request.Explain e) {
            o.put("user", e.user());
            o.put("target", e.target().toString());
            e.from().ifPresent(f -> o.put("from", f));
        } else if (request instanceof Request.SshConfig c) {
            o.put("user", c.user());
        }
        return o.toString();
    }

    public static Request parse(String line) throws BadRequest {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new BadRequest("?", "not a JSON object");
        }
        if (node == null || !node.isObject()) {
            throw new BadRequest("?", "not a JSON object");
        }
        JsonNode c = node.get("command");
        if (c == null || !c.isTextual()) {
            throw new BadRequest("?", "no \"command\"");
        }
        String command = c.asText();
        switch (command) {
            case "sessions" -> {
                onlyFields(node, command, List.of("command"));
                return new Request.Sessions();
            }
            case "reload" -> {
                onlyFields(node, command, List.of("command"));
                return new Request.Reload();
            }
            case "kill" -> {
                onlyFields(node, command, List.of("command", "ids", "user"));
                JsonNode ids = node.get("ids");
                JsonNode user = node.get("user");
                if ((ids == null) == (user == null)) {
                    throw new BadRequest(command, "kill takes either \"ids\" or \"user\"");
                }
                return user != null ? new Request.KillUser(userName(command, user)) : new Request.KillIds(sessionIds(ids));
            }
            case "explain" -> {
                onlyFields(node, command, List.of("command", "user", "target", "from"));
                JsonNode user = node.get("user");
                JsonNode target = node.get("target");
                JsonNode from = node.get("from");
                if (user == null || target == null) {
                    throw new BadRequest(command, "explain takes \"user\" and \"target\"");
                }
                return new Request.Explain(userName(command, user), target(target),
                        from == null ? Optional.empty() : Optional.of(from(from)));
            }
            case "ssh-config" -> {
                onlyFields(node, command, List.of("command", "user"));
                JsonNode user = node.get("user");
                if (user == null) {
                    throw new BadRequest(command, "ssh-config takes \"user\"");
                }
                return new Request.SshConfig(userName(command, user));
            }
            default -> throw new BadRequest(printable(command), "unknown command \"" + printable(command)
                    + "\" (known: sessions, kill, reload, explain, ssh-config)");
        }
    }

    private static void onlyFields(JsonNode node, String command, List<String> allowed) throws BadRequest {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw new BadRequest(command, "unknown field \"" + printable(f) + "\" for " + command);
            }
        }
    }

    private static List<String> sessionIds(JsonNode ids) throws BadRequest {
        if (!ids.isArray() || ids.isEmpty()) {
            throw new BadRequest("kill", "\"ids\" must be a non-empty list of session ids");
        }
        if (ids.size() > MAX_IDS) {
            throw new BadRequest("kill", "at most " + MAX_IDS + " session ids at once");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode id : ids) {
            if (!id.isTextual() || !SESSION_ID.matcher(id.asText()).matches()) {
                throw new BadRequest("kill", "not a session id: " + printable(id.asText(id.toString())));
            }
            out.add(id.asText());
        }
        return out;
    }

    private static String userName(String command, JsonNode user) throws BadRequest {
        if (!user.isTextual() || user.asText().isEmpty() || user.asText().length() > MAX_USER_CHARS) {
            throw new BadRequest(command, "\"user\" must be a user name of 1 to " + MAX_USER_CHARS + " characters");
        }
        return user.asText();
    }

    private static Config.HostPort target(JsonNode target) throws BadRequest {
        Optional<Config.HostPort> hp = target.isTextual() && target.asText().length() <= MAX_TARGET_CHARS
                ? hostPort(target.asText()) : Optional.empty();
        return hp.orElseThrow(() -> new BadRequest("explain", "\"target\" must be HOST:PORT of at most "
                + MAX_TARGET_CHARS + " characters, e.g. 10.0.3.17:22 or [fd00::5]:22"));
    }

    private static String from(JsonNode from) throws BadRequest {
        Optional<java.net.InetAddress> ip = from.isTextual() && from.asText().length() <= MAX_FROM_CHARS
                ? IpLiterals.parse(from.asText()) : Optional.empty();
        return IpLiterals.format(ip.orElseThrow(() -> new BadRequest("explain", "\"from\" must be an IP address")));
    }

    /**
     * {@code HOST:PORT} as a client names a target, {@code [v6]:PORT} for an IPv6 literal (the
     * brackets are dropped from the host); empty when it has no host or no port of 1 to 5 digits.
     * The host itself is judged by the policy, as the server judges what a client sends.
     */
    public static Optional<Config.HostPort> hostPort(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || !PORT.matcher(text.substring(colon + 1)).matches()) {
            return Optional.empty();
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return host.isEmpty() ? Optional.empty() : Optional.of(new Config.HostPort(host, Integer.parseInt(text.substring(colon + 1))));
    }

    /** Outside text in a message or audit field: control characters escaped, bounded. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 80; i++) {
            char ch = s.charAt(i);
            b.append(ch < 0x20 || ch == 0x7f || (ch >= 0x80 && ch < 0xa0) ? String.format("\\u%04x", (int) ch) : ch);
        }
        return s.length() > 80 ? b + "..." : b.toString();
    }

    // ---- responses -----------------------------------------------------------------------------

    public static String error(String message) {
        ObjectNode o = JSON.createObjectNode();
        o.put("ok", false);
        o.put("error", message);
        return o.toString();
    }

    public static String sessions(List<LiveSessions.Session> sessions) {
        ObjectNode o = JSON.createObjectNode();
        o.put("ok", true);
        ArrayNode list = o.putArray("sessions");
        sessions.forEach(s -> list.add(session(s)));
        return o.toString();
    }

    public static String killed(List<LiveSessions.Session> ended, List<String> unknown) {
        ObjectNode o = JSON.createObjectNode();
        o.put("ok", true);
        ArrayNode list = o.putArray("ended");
        ended.forEach(s -> list.add(session(s)));
        ArrayNode u = o.putArray("unknown");
        unknown.forEach(u::add);
        return o.toString();
    }

    /**
     * {@code explain}'s answer: the question, the identity (absent when no source knows the user),
     * {@code decision} {@code allow} with {@code role}, {@code rule} and {@code ip}, or {@code deny}
     * with {@code reason} (and {@code ip} when an address was refused), and {@code notes}.
     */
    public static String explained(Explanation x) {
        ObjectNode o = JSON.createObjectNode();
        o.put("ok", true);
        AdminProtocol.Request.Explain q = x.question();
        o.put("user", q.user());
        ObjectNode target = o.putObject("target");
        target.put("host", q.target().host());
        target.put("port", q.target().port());
        q.from().ifPresent(f -> o.put("from", f));
        x.identity().ifPresent(i -> putIdentity(o, i));
        if (x.decision() instanceof Decision.Allow allow) {
            o.put("decision", "allow");
            o.put("role", allow.role());
            o.put("rule", allow.rule());
            o.put("ip", IpLiterals.format(allow.address()));
        } else {
            Decision.Deny deny = (Decision.Deny) x.decision();
            o.put("decision", "deny");
            o.put("reason", deny.reason());
            deny.address().ifPresent(a -> o.put("ip", IpLiterals.format(a)));
        }
        ArrayNode notes = o.putArray("notes");
        x.notes().forEach(notes::add);
        return o.toString();
    }

    /** An identity as {@code explain} and {@code ssh-config} answer it. */
    private static void putIdentity(ObjectNode o, Identity i) {
        ObjectNode id = o.putObject("identity");
        id.put("user", i.user());
        id.put("source", i.source());
        ArrayNode roles = id.putArray("roles");
        i.roles().forEach(roles::add);
        i.iamArn().ifPresent(arn -> id.put("iam_arn", arn));
    }

    /**
     * {@code ssh-config}'s answer: the identity a plain-key login as the user would have now (absent
     * when no source knows the user), and {@code refused} when such a login would be refused whatever
     * the key (IAM data too old, a user IAM does not allow).
     */
    public static String identified(String user, Optional<Identity> identity, Optional<String> refused) {
        ObjectNode o = JSON.createObjectNode();
        o.put("ok", true);
        o.put("user", user);
        identity.ifPresent(i -> putIdentity(o, i));
        refused.ifPresent(r -> o.put("refused", r));
        return o.toString();
    }

    /** An answer's identity read back ({@link #identified}, {@link #explained}): empty when the server knows no such user. */
    public static Optional<Identity> identity(JsonNode o) throws IOException {
        if (!o.has("identity")) {
            return Optional.empty();
        }
        JsonNode id = o.get("identity");
        return Optional.of(new Identity(text(id, "user"), texts(id, "roles"), text(id, "source"),
                id.has("iam_arn") ? Optional.of(text(id, "iam_arn")) : Optional.empty()));
    }

    /** {@link #identified}'s {@code refused}, when a login as the user would be refused now. */
    public static Optional<String> refused(JsonNode o) throws IOException {
        return o.has("refused") ? Optional.of(text(o, "refused")) : Optional.empty();
    }

    /** Reads {@link #explained}'s answer back (the CLI's side); a field missing or malformed is an error. */
    public static Explanation explanation(JsonNode o) throws IOException {
        Request.Explain q = new Request.Explain(text(o, "user"),
                new Config.HostPort(text(o.path("target"), "host"), number(o.path("target"), "port")),
                o.has("from") ? Optional.of(text(o, "from")) : Optional.empty());
        Optional<Identity> identity = identity(o);
        Optional<java.net.InetAddress> ip = o.has("ip") ? Optional.of(IpLiterals.parse(text(o, "ip"))
                .orElseThrow(() -> new IOException("the server's explain answer has an \"ip\" that is not an IP address")))
                : Optional.empty();
        Decision decision = switch (text(o, "decision")) {
            case "allow" -> new Decision.Allow(text(o, "role"), text(o, "rule"),
                    ip.orElseThrow(() -> new IOException("the server's explain answer allows without an \"ip\"")));
            case "deny" -> new Decision.Deny(text(o, "reason"), ip);
            default -> throw new IOException("the server's explain answer has no decision allow or deny");
        };
        return new Explanation(q, identity, decision, texts(o, "notes"));
    }

    private static String text(JsonNode o, String field) throws IOException {
        JsonNode v = o.get(field);
        if (v == null || !v.isTextual()) {
            throw new IOException("the server's answer has no text \"" + field + "\"");
        }
        return v.asText();
    }

    private static int number(JsonNode o, String field) throws IOException {
        JsonNode v = o.get(field);
        if (v == null || !v.canConvertToInt()) {
            throw new IOException("the server's answer has no number \"" + field + "\"");
        }
        return v.asInt();
    }

    private static List<String> texts(JsonNode o, String field) throws IOException {
        JsonNode v = o.get(field);
        if (v == null || !v.isArray()) {
            throw new IOException("the server's answer has no list \"" + field + "\"");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode t : v) {
            if (!t.isTextual()) {
                throw new IOException("the server's answer has a \"" + field + "\" that is not a list of text");
            }
            out.add(t.asText());
        }
        return out;
    }

    public static String reloaded(ReloadResult r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("ok", true);
        o.put("applied", r.applied());
        o.put("config", r.file());
        r.digest().ifPresent(d -> o.put("digest", d));
        ArrayNode restart = o.putArray("restart_needed");
        r.restartNeeded().forEach(restart::add);
        ArrayNode problems = o.putArray("problems");
        r.problems().forEach(problems::add);
        o.put("sessions_ended", r.sessionsEnded());
        o.put("tunnels_closed", r.tunnelsClosed());
        return o.toString();
    }

    private static ObjectNode session(LiveSessions.Session s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", s.id());
        s.user().ifPresent(u -> o.put("user", u));
        ObjectNode client = o.putObject("client");
        client.put("ip", s.clientIp());
        client.put("port", s.clientPort());
        if (s.authMethod().isPresent()) {
            ObjectNode auth = o.putObject("auth");
            auth.put("method", s.authMethod().get());
            s.authSource().ifPresent(v -> auth.put("source", v));
            ArrayNode roles = auth.putArray("roles");
            s.roles().forEach(roles::add);
        }
        o.put("started", DateTimeFormatter.ISO_INSTANT.format(s.started().truncatedTo(ChronoUnit.MILLIS)));
        ArrayNode tunnels = o.putArray("tunnels");
        for (LiveSessions.Tunnel t : s.tunnels()) {
            ObjectNode tn = tunnels.addObject();
            tn.put("channel", t.channel());
            ObjectNode target = tn.putObject("target");
            target.put("host", t.host());
            target.put("port", t.port());
            t.ip().ifPresent(ip -> target.put("ip", ip));
            tn.put("bytes_up", t.bytesUp());
            tn.put("bytes_down", t.bytesDown());
        }
        o.put("bytes_up", s.bytesUp());
        o.put("bytes_down", s.bytesDown());
        return o;
    }

    /** Reads a response line (from the server) into a tree; {@code ok:false} becomes an exception. */
    public static JsonNode response(String line) throws IOException {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IOException("the server sent something that is not JSON");
        }
        if (node == null || !node.isObject()) {
            throw new IOException("the server sent something that is not a JSON object");
        }
        if (!node.path("ok").asBoolean(false)) {
            throw new IOException("the server refused: " + node.path("error").asText("no reason given"));
        }
        return node;
    }

    // ---- framing -------------------------------------------------------------------------------

    /** A line longer than the limit, or one that is not UTF-8. */
    public static final class BadLine extends IOException {
        public BadLine(String message) {
            super(message, null);
        }
    }

    /**
     * Reads one line of at most {@code max} bytes (the newline not counted) from a blocking
     * channel. One message per connection each way, so whatever follows the newline is dropped.
     *
     * @return the line, or empty when the peer closed before sending a whole line
     * @throws BadLine when the line is longer than {@code max} or not UTF-8
     */
    public static Optional<String> readLine(ReadableByteChannel in, int max) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(8192);
        boolean complete = false;
        while (!complete) {
            buf.clear();
            int n = in.read(buf);
            if (n < 0) {
                return Optional.empty();
            }
            int end = 0;
            while (end < n && buf.get(end) != '\n') {
                end++;
            }
            complete = end < n;
            if (line.size() + end > max) {
                throw new BadLine("line longer than " + max + " bytes");
            }
            line.write(buf.array(), 0, end);
        }
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(line.toByteArray())).toString());
        } catch (CharacterCodingException e) {
            throw new BadLine("line is not UTF-8");
        }
    }
}
