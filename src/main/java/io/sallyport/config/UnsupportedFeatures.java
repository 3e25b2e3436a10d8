package io.sallyport.config;

import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Settings this version of sallyport accepts in the file format but cannot honour yet. Each is
 * refused as a problem rather than ignored: a bastion that silently skips the audit shipper or
 * the PROXY header check is worse than one that does not start (fail closed).
 *
 * <p>This is the one list to shrink as features land; nothing else in the loader knows about it.
 */
final class UnsupportedFeatures {

    private record Feature(List<String> keyPath, Predicate<YamlNode> inUse, String what) {}

    private static final List<Feature> NOT_YET = List.of(
            new Feature(List.of("proxy_protocol", "enabled"), UnsupportedFeatures::isTrue,
                    "the PROXY protocol"));

    private UnsupportedFeatures() {}

    static void report(YamlNode root, ProblemList problems) {
        for (Feature f : NOT_YET) {
            find(root, f.keyPath()).filter(e -> f.inUse().test(e.value())).ifPresent(e -> problems.add(
                    e.line(), String.join(".", f.keyPath()),
                    f.what() + " is not supported by this version of sallyport yet"));
        }
    }

    private static Optional<YamlNode.Entry> find(YamlNode root, List<String> keyPath) {
        YamlNode node = root;
        Optional<YamlNode.Entry> entry = Optional.empty();
        for (String key : keyPath) {
            if (!(node instanceof YamlNode.Mapping m)) {
                return Optional.empty();
            }
            entry = m.get(key);
            if (entry.isEmpty()) {
                return Optional.empty();
            }
            node = entry.get().value();
        }
        return entry;
    }

    private static boolean isTrue(YamlNode node) {
        return node instanceof YamlNode.Scalar s && s.kind() == YamlNode.Kind.BOOLEAN && Boolean.parseBoolean(s.text());
    }
}
