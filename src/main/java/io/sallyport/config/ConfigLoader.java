package io.sallyport.config;

import io.sallyport.net.Cidr;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads {@code sallyport.yaml} into a validated {@link Config}, or refuses it with every problem
 * in the file. Unknown keys, wrong types, bad values and settings this version cannot honour are
 * all problems; a key left out takes its default, but a bad value never quietly does.
 *
 * <p>Never prints, never exits: the caller decides how to show a {@link ConfigException}.
 */
public final class ConfigLoader {
    static final Config.HostPort DEFAULT_LISTEN = new Config.HostPort("0.0.0.0", 22);
    static final Path DEFAULT_HOST_KEY = Path.of("/var/lib/sallyport/ssh_host_ed25519_key");
    static final Config.HostPort DEFAULT_METRICS_LISTEN = new Config.HostPort("127.0.0.1", 9810);

    /**
     * The largest config file read: 1 MiB. A full config with a hundred local users (one key line
     * each, ~100 bytes) and a few hundred rules is under 50 KiB, so this leaves twenty times that,
     * while a mistaken path to a log or a device is refused in one line instead of filling the heap.
     */
    public static final int MAX_CONFIG_BYTES = 1 << 20;

    private ConfigLoader() {}

    /**
     * Reads and validates the file at {@code file}; relative paths inside it are resolved against
     * its directory.
     *
     * @param checks further validations whose problems are reported together with the loader's
     * @throws ConfigException when anything in the file is wrong; it lists every problem
     * @throws IOException     when the file cannot be read at all
     */
    public static Config load(Path file, ConfigCheck... checks) throws ConfigException, IOException {
        byte[] bytes = readBounded(file);
        ProblemList problems = new ProblemList(file.toString());
        String text = decodeUtf8(bytes, problems);
        problems.throwIfAny();
        return parse(text, file, checks);
    }

    /** Where the admin socket is when the config does not say. */
    public static final Path DEFAULT_ADMIN_SOCKET = Path.of("/run/sallyport/admin.sock");

    /**
     * The config's {@code admin.socket}, read leniently: only that key, whatever else the file
     * holds. The admin commands need nothing more from the file, and {@code sallyport reload} must
     * reach the server precisely when the file was just edited into a config with problems (the
     * server then reports them all). The default when the key is absent or unreadable.
     *
     * @throws IOException when the file cannot be read at all
     */
    public static Path adminSocket(Path file) throws IOException {
        ProblemList ignored = new ProblemList(file.toString());
        String text = decodeUtf8(readBounded(file), ignored);
        Optional<YamlNode> root = YamlTreeBuilder.build(text, ignored);
        if (root.isPresent() && root.get() instanceof YamlNode.Mapping top
                && top.get("admin").map(YamlNode.Entry::value).orElse(null) instanceof YamlNode.Mapping admin
                && admin.get("socket").map(YamlNode.Entry::value).orElse(null) instanceof YamlNode.Scalar socket
                && !socket.isNull()) {
            try {
                return PathResolver.besideConfig(file).resolve(socket.text());
            } catch (RuntimeException e) {
                return DEFAULT_ADMIN_SOCKET;
            }
        }
        return DEFAULT_ADMIN_SOCKET;
    }

    /**
     * Reads at most {@link #MAX_CONFIG_BYTES}. Threat: {@code -c /dev/zero} (or a log file named by
     * mistake) made the old {@code readAllBytes} run the JVM out of memory with a stack trace, and
     * a FIFO with no writer blocked forever in {@code open}. Only a regular file is read (symbolic
     * links followed); anything else is refused before it is opened.
     *
     * @throws IOException with a one-line message (no file name: the caller adds it)
     */
    static byte[] readBounded(Path file) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        if (attributes.isDirectory()) {
            throw new IOException("it is a directory");
        }
        if (!attributes.isRegularFile()) {
            throw new IOException("not a regular file (a device, FIFO or socket); write the config to a file");
        }
        if (attributes.size() > MAX_CONFIG_BYTES) {
            throw new IOException(tooLarge(attributes.size() + " bytes"));
        }
        try (InputStream in = Files.newInputStream(file)) {
            // The file may have grown since the size was read: never take more than the limit.
            byte[] bytes = in.readNBytes(MAX_CONFIG_BYTES + 1);
            if (bytes.length > MAX_CONFIG_BYTES) {
                throw new IOException(tooLarge("more than " + MAX_CONFIG_BYTES + " bytes"));
            }
            return bytes;
        }
    }

    private static String tooLarge(String size) {
        return "it is " + size + ", over the " + ConfigSize.format(MAX_CONFIG_BYTES) + " a config file may be"
                + " (a config with hundreds of users and rules is a few dozen KiB)";
    }

    /**
     * Validates YAML text as if it had been read from {@code source}, which names the file in
     * problems and anchors relative paths. An empty text is a valid config with every default.
     *
     * @throws ConfigException when anything in the text is wrong; it lists every problem
     */
    public static Config parse(String yamlText, Path source, ConfigCheck... checks) throws ConfigException {
        ProblemList problems = new ProblemList(source.toString());
        // Not YAML: there is no tree to check, and guessing at one would only add noise.
        YamlNode root = YamlTreeBuilder.build(yamlText, problems)
                .orElseThrow(() -> new ConfigException(problems.inFileOrder()));
        MappingReader top = MappingReader.root(root, problems);
        Config config = read(top, source, PathResolver.besideConfig(source));
        top.finish();
        UnsupportedFeatures.report(root, problems);
        for (ConfigCheck check : checks) {
            List<ConfigProblem> found = new java.util.ArrayList<>();
            check.check(config, found);
            found.forEach(problems::add);
        }
        problems.throwIfAny();
        return config.withWarnings(problems.warnings());
    }

    private static Config read(MappingReader top, Path source, PathResolver paths) {
        // Policy first: identity checks that every role it names is defined there.
        Config.Policy policy = PolicyReader.read(top.section("policy"));
        MappingReader admin = top.section("admin");
        return new Config(
                source,
                listen(top),
                hostKeys(top, paths),
                top.optionalScalar("host_certificate", paths::resolve),
                top.scalar("crypto", Config.CryptoProfile.MODERN, Choices.among(cryptoProfiles())),
                proxyProtocol(top.section("proxy_protocol")),
                IdentityReader.read(top.section("identity"), policy.roles().keySet(), paths),
                policy,
                limits(top.section("limits")),
                AuditReader.read(top.section("audit"), paths),
                new Config.Admin(
                        admin.scalar("socket", DEFAULT_ADMIN_SOCKET, paths::resolve),
                        metricsListen(admin)),
                List.of());
    }

    private static List<Config.HostPort> listen(MappingReader top) {
        Optional<List<Config.Located<Config.HostPort>>> written = top.list("listen", ListenAddress::parse);
        if (written.isEmpty()) {
            return List.of(DEFAULT_LISTEN);
        }
        List<Config.Located<Config.HostPort>> addresses = written.get();
        top.entry("listen").filter(e -> isWrittenEmpty(e.value())).ifPresent(e -> top.problems()
                .add(e.line(), top.pathOf("listen"), "needs at least one address to listen on (e.g. [\"0.0.0.0:22\"])"));
        Map<Config.HostPort, Integer> firstLines = new HashMap<>();
        for (Config.Located<Config.HostPort> a : addresses) {
            Integer first = firstLines.putIfAbsent(a.value(), a.line());
            if (first != null) {
                top.problems().add(a.line(), a.keyPath(), "'" + a.value() + "' is already listed at line " + first);
            }
        }
        return addresses.stream().map(Config.Located::value).distinct().toList();
    }

    private static List<Path> hostKeys(MappingReader top, PathResolver paths) {
        List<Path> keys = top.listOr("host_keys", List.of(DEFAULT_HOST_KEY), paths::resolve);
        top.entry("host_keys").filter(e -> isWrittenEmpty(e.value())).ifPresent(e -> top.problems()
                .add(e.line(), top.pathOf("host_keys"), "needs at least one host key path (it is generated when missing)"));
        return keys;
    }

    /**
     * {@code []} or nothing at all. A list whose items were all bad, or a value that is not a
     * list, already has its own problems; "needs at least one" would only repeat them.
     */
    private static boolean isWrittenEmpty(YamlNode node) {
        return (node instanceof YamlNode.Sequence seq && seq.items().isEmpty())
                || (node instanceof YamlNode.Scalar s && s.isNull());
    }

    private static Map<String, Config.CryptoProfile> cryptoProfiles() {
        Map<String, Config.CryptoProfile> byName = new LinkedHashMap<>();
        for (Config.CryptoProfile p : Config.CryptoProfile.values()) {
            byName.put(p.configName(), p);
        }
        return byName;
    }

    private static Config.ProxyProtocol proxyProtocol(MappingReader proxy) {
        boolean enabled = proxy.bool("enabled", false);
        List<String> trusted = proxy.listOr("trusted_sources", List.of(), text -> {
            Cidr.parse(text);
            return text;
        });
        if (enabled && trusted.isEmpty()) {
            proxy.problems().add(proxy.entry("enabled").map(YamlNode.Entry::line).orElse(proxy.line()),
                    proxy.pathOf("trusted_sources"), "the PROXY protocol needs at least one trusted_sources CIDR"
                            + " (the load balancer's addresses); otherwise every connection is refused");
        }
        return new Config.ProxyProtocol(enabled, trusted);
    }

    private static Config.Limits limits(MappingReader limits) {
        return new Config.Limits(
                limits.integer("max_unauthenticated", 100, 1, 100_000),
                limits.integer("max_unauthenticated_per_source", 10, 1, 100_000),
                limits.scalar("login_grace_time", Duration.ofSeconds(30), ConfigDuration::parse),
                limits.integer("max_auth_attempts", 6, 1, 100),
                limits.scalar("auth_failure_penalty", Duration.ofSeconds(30), ConfigDuration::parse),
                limits.scalar("noauth_penalty", Duration.ofSeconds(10), ConfigDuration::parse),
                limits.listOr("penalty_exempt", List.of(), PolicyReader::cidr),
                limits.integer("max_tunnels_per_session", 64, 1, 10_000),
                limits.integer("max_tunnels_per_user", 256, 1, 100_000),
                limits.scalar("resolve_timeout", Duration.ofSeconds(2), ConfigDuration::parse),
                limits.scalar("memory_high_water", 85, ConfigPercent.between(10, 99)),
                limits.listOr("allow_sources", List.of(), PolicyReader::cidr));
    }

    /** Absent means the default address; an explicit {@code null} turns the metrics endpoint off. */
    private static Optional<Config.HostPort> metricsListen(MappingReader admin) {
        if (admin.entry("metrics_listen").isEmpty()) {
            return Optional.of(DEFAULT_METRICS_LISTEN);
        }
        return admin.optionalScalar("metrics_listen", ListenAddress::parse);
    }

    /**
     * Decodes strictly: a stray Latin-1 byte in a config is a mistake to point at, not a
     * replacement character to carry into a rule or a path.
     */
    private static String decodeUtf8(byte[] bytes, ProblemList problems) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            int line = 1;
            for (int i = 0; i < in.position(); i++) {
                if (bytes[i] == '\n') {
                    line++;
                }
            }
            problems.add(line, ConfigProblem.YAML_SYNTAX, "the file is not valid UTF-8 (byte " + (in.position() + 1) + ")");
            return "";
        }
        decoder.flush(out);
        return out.flip().toString();
    }
}
