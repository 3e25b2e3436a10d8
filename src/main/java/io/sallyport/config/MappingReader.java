package io.sallyport.config;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads one mapping of the config file ({@code identity.iam}, a user, an authority) and remembers
 * which keys were asked for. {@link #finish()} then reports every key nobody asked for as unknown,
 * with the closest known key as a hint: a misspelt {@code unsafe_allow_loopbak} must fail, not
 * quietly leave the default in place.
 *
 * <p>Typed getters never throw on bad input: they add a problem at the value's line and return
 * the fallback, so that reading goes on and every mistake in the file is reported in one run.
 */
final class MappingReader {

    /** Turns a scalar's text into a value; throws {@link IllegalArgumentException} with an operator-ready message. */
    @FunctionalInterface
    interface ScalarParser<T> {
        T parse(String text);
    }

    /** The key path of a problem about the document as a whole. */
    static final String DOCUMENT = "(document)";

    private final YamlNode.Mapping mapping;
    private final String path;
    private final ProblemList problems;
    private final Set<String> known = new LinkedHashSet<>();
    private final List<MappingReader> children = new ArrayList<>();

    private MappingReader(YamlNode.Mapping mapping, String path, ProblemList problems) {
        this.mapping = mapping;
        this.path = path;
        this.problems = problems;
    }

    /** The top level of the file; an empty document reads as an empty mapping (all defaults). */
    static MappingReader root(YamlNode root, ProblemList problems) {
        if (root instanceof YamlNode.Mapping m) {
            return new MappingReader(m, "", problems);
        }
        if (!isNullOrRefused(root)) {
            problems.add(root.line(), DOCUMENT,
                    "the file must be a mapping of settings (e.g. 'listen: [\"0.0.0.0:22\"]'), got " + root.describe());
        }
        return new MappingReader(new YamlNode.Mapping(List.of(), root.line()), "", problems);
    }

    /** Line of the mapping itself, for problems about a key that is missing from it. */
    int line() {
        return mapping.line();
    }

    ProblemList problems() {
        return problems;
    }

    String pathOf(String key) {
        return KeyPath.child(path, key);
    }

    /** Marks {@code key} as known and returns its entry when the file has it. */
    Optional<YamlNode.Entry> entry(String key) {
        known.add(key);
        return mapping.get(key);
    }

    /** A nested section; absent or empty ({@code key:} with nothing under it) reads as all defaults. */
    MappingReader section(String key) {
        return section(key, "a mapping of settings");
    }

    /** @param expected how to describe the section when it is written as something else */
    MappingReader section(String key, String expected) {
        Optional<YamlNode.Entry> e = entry(key);
        if (e.isEmpty()) {
            return register(new YamlNode.Mapping(List.of(), line()), pathOf(key));
        }
        return nested(e.get().value(), pathOf(key), expected);
    }

    /**
     * A reader for a mapping the caller reached itself (a user under {@code users}, an item of
     * {@code authorities}); its unknown keys are reported by this reader's {@link #finish()}.
     */
    MappingReader nested(YamlNode node, String nodePath, String expected) {
        if (node instanceof YamlNode.Mapping m) {
            return register(m, nodePath);
        }
        if (!isNullOrRefused(node)) {
            problems.add(node.line(), nodePath, "expected " + expected + ", got " + node.describe());
        }
        return register(new YamlNode.Mapping(List.of(), node.line()), nodePath);
    }

    private MappingReader register(YamlNode.Mapping m, String childPath) {
        MappingReader child = new MappingReader(m, childPath, problems);
        children.add(child);
        return child;
    }

    /** A single value; {@code null} is refused, since an explicit null for a required value is a mistake. */
    <T> T scalar(String key, T fallback, ScalarParser<T> parser) {
        Optional<YamlNode.Entry> e = entry(key);
        if (e.isEmpty()) {
            return fallback;
        }
        if (e.get().value() instanceof YamlNode.Scalar s && s.isNull()) {
            problems.add(e.get().line(), pathOf(key), "needs a value (leave the key out to use the default)");
            return fallback;
        }
        return convert(e.get().value(), pathOf(key), parser).orElse(fallback);
    }

    /** An optional value; absent and {@code null} both mean "none". */
    <T> Optional<T> optionalScalar(String key, ScalarParser<T> parser) {
        return optionalLocated(key, parser).map(Config.Located::value);
    }

    /** Like {@link #optionalScalar} but keeping where the value was written. */
    <T> Optional<Config.Located<T>> optionalLocated(String key, ScalarParser<T> parser) {
        Optional<YamlNode.Entry> e = entry(key);
        if (e.isEmpty() || (e.get().value() instanceof YamlNode.Scalar s && s.isNull())) {
            return Optional.empty();
        }
        YamlNode node = e.get().value();
        return convert(node, pathOf(key), parser).map(v -> new Config.Located<>(v, node.line(), pathOf(key)));
    }

    boolean bool(String key, boolean fallback) {
        Optional<YamlNode.Entry> e = entry(key);
        if (e.isEmpty()) {
            return fallback;
        }
        YamlNode node = e.get().value();
        if (node instanceof YamlNode.Scalar s && s.kind() == YamlNode.Kind.BOOLEAN) {
            return Boolean.parseBoolean(s.text());
        }
        if (node instanceof YamlNode.Refused) {
            return fallback;
        }
        problems.add(node.line(), pathOf(key), "expected true or false, got " + node.describe());
        return fallback;
    }

    int integer(String key, int fallback, int min, int max) {
        Optional<YamlNode.Entry> e = entry(key);
        if (e.isEmpty()) {
            return fallback;
        }
        YamlNode node = e.get().value();
        if (node instanceof YamlNode.Refused) {
            return fallback;
        }
        if (!(node instanceof YamlNode.Scalar s) || s.integer().isEmpty()) {
            String quoted = node instanceof YamlNode.Scalar s && s.kind() == YamlNode.Kind.STRING
                    && s.text().trim().matches("[0-9]+") ? " (a quoted string; remove the quotes)" : "";
            problems.add(node.line(), pathOf(key), "expected a whole number, got " + node.describe() + quoted);
            return fallback;
        }
        BigInteger value = s.integer().get();
        if (value.compareTo(BigInteger.valueOf(min)) < 0 || value.compareTo(BigInteger.valueOf(max)) > 0) {
            problems.add(node.line(), pathOf(key), "must be between " + min + " and " + max + ", got " + s.text());
            return fallback;
        }
        return value.intValueExact();
    }

    /**
     * A list of single values, each kept with its line and key path ({@code key[i]}). Empty when
     * the key is absent; an explicit {@code null} is an empty list. Bad items are reported and
     * left out.
     */
    <T> Optional<List<Config.Located<T>>> list(String key, ScalarParser<T> parser) {
        Optional<YamlNode.Entry> e = entry(key);
        if (e.isEmpty()) {
            return Optional.empty();
        }
        List<Config.Located<T>> out = new ArrayList<>();
        List<YamlNode> items = items(e.get(), "a list of values (e.g. [a, b])");
        for (int i = 0; i < items.size(); i++) {
            YamlNode item = items.get(i);
            String itemPath = KeyPath.item(pathOf(key), i);
            convert(item, itemPath, parser).ifPresent(v -> out.add(new Config.Located<>(v, item.line(), itemPath)));
        }
        return Optional.of(out);
    }

    /** The values of {@link #list}, or {@code fallback} when the key is absent. */
    <T> List<T> listOr(String key, List<T> fallback, ScalarParser<T> parser) {
        return list(key, parser).map(l -> l.stream().map(Config.Located::value).toList()).orElse(fallback);
    }

    /** The items of a list of mappings or other structures; absent or {@code null} is empty. */
    List<YamlNode> items(String key) {
        return entry(key).map(e -> items(e, "a list")).orElse(List.of());
    }

    /**
     * Every entry of this mapping, for mappings whose keys the operator chooses (user names, role
     * names, IAM groups). Reading an entry through {@link #section} or {@link #list} marks it known.
     */
    List<YamlNode.Entry> entries() {
        return mapping.entries();
    }

    private List<YamlNode> items(YamlNode.Entry e, String expected) {
        YamlNode node = e.value();
        if (node instanceof YamlNode.Sequence seq) {
            return seq.items();
        }
        if (!isNullOrRefused(node)) {
            String hint = node instanceof YamlNode.Scalar s ? " (write [" + s.text() + "] for a list of one)" : "";
            problems.add(node.line(), pathOf(e.key()), "expected " + expected + ", got " + node.describe() + hint);
        }
        return List.of();
    }

    private <T> Optional<T> convert(YamlNode node, String keyPath, ScalarParser<T> parser) {
        if (node instanceof YamlNode.Refused) {
            return Optional.empty();
        }
        if (!(node instanceof YamlNode.Scalar s) || s.isNull()) {
            problems.add(node.line(), keyPath, "expected a single value, got " + node.describe());
            return Optional.empty();
        }
        try {
            return Optional.of(parser.parse(s.text()));
        } catch (IllegalArgumentException ex) {
            problems.add(s.line(), keyPath, String.valueOf(ex.getMessage()));
            return Optional.empty();
        }
    }

    private static boolean isNullOrRefused(YamlNode node) {
        return node instanceof YamlNode.Refused || (node instanceof YamlNode.Scalar s && s.isNull());
    }

    /** Reports every key of this mapping, and of every mapping read through it, that nobody asked for. */
    void finish() {
        for (YamlNode.Entry e : mapping.entries()) {
            if (!known.contains(e.key())) {
                problems.add(e.line(), pathOf(e.key()), "unknown key '" + e.key() + "'" + ClosestName.hint(e.key(), known));
            }
        }
        for (MappingReader child : children) {
            child.finish();
        }
    }
}
