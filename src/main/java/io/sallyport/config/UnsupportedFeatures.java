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

    /** Empty: every feature the format names is built. Add a {@link Feature} here for the next one. */
    private static final List<Feature> NOT_YET = List.of();

    private UnsupportedFeatures() {}

    static void report(YamlNode root, ProblemList problems) {
        for (Feature f : NOT_YET) {
            find(root, f.keyPath(), "").stream().filter(e -> f.inUse().test(e.entry().value())).forEach(e -> problems.add(
                    e.entry().line(), e.path(), f.what() + " is not supported by this version of sallyport yet"));
        }
    }

    private record Found(YamlNode.Entry entry, String path) {}

    /** The entries at {@code keyPath} below {@code node}; {@code *} stands for every key of a mapping. */
    private static List<Found> find(YamlNode node, List<String> keyPath, String prefix) {
        if (!(node instanceof YamlNode.Mapping m) || keyPath.isEmpty()) {
            return List.of();
        }
        String key = keyPath.get(0);
        List<YamlNode.Entry> here = key.equals("*") ? m.entries() : m.get(key).map(List::of).orElse(List.of());
        List<Found> out = new java.util.ArrayList<>();
        for (YamlNode.Entry e : here) {
            String path = prefix.isEmpty() ? e.key() : prefix + "." + e.key();
            if (keyPath.size() == 1) {
                out.add(new Found(e, path));
            } else {
                out.addAll(find(e.value(), keyPath.subList(1, keyPath.size()), path));
            }
        }
        return out;
    }


    private static boolean isTrue(YamlNode node) {
        return node instanceof YamlNode.Scalar s && s.kind() == YamlNode.Kind.BOOLEAN && Boolean.parseBoolean(s.text());
    }
}
