package io.sallyport.config;

import java.math.BigInteger;
import java.util.List;
import java.util.Optional;

/**
 * A parsed YAML value that remembers the line it was written on. Jackson's own tree
 * ({@code JsonNode}) drops locations, and every problem must name its line, so the loader keeps
 * this small tree of its own.
 */
sealed interface YamlNode {

    /** 1-based line where the value starts (for block collections: their first entry). */
    int line();

    /** How the node is named in "expected X, got Y" messages. */
    String describe();

    /** What YAML made of a plain scalar; quoted scalars are always {@link Kind#STRING}. */
    enum Kind { STRING, INTEGER, FLOAT, BOOLEAN, NULL }

    /**
     * @param text    the scalar as written (for numbers and booleans: their spelling in the file)
     * @param integer the value of an {@link Kind#INTEGER}, already freed of YAML spellings such as
     *                {@code 1_000}; empty for other kinds
     */
    record Scalar(Kind kind, String text, Optional<BigInteger> integer, int line) implements YamlNode {
        boolean isNull() {
            return kind == Kind.NULL;
        }

        @Override
        public String describe() {
            return isNull() ? "nothing" : "'" + text + "'";
        }
    }

    record Sequence(List<YamlNode> items, int line) implements YamlNode {
        @Override
        public String describe() {
            return "a list";
        }
    }

    /** Entries in file order; keys are unique (the tree builder reports and drops repeats). */
    record Mapping(List<Entry> entries, int line) implements YamlNode {
        @Override
        public String describe() {
            return "a mapping";
        }

        Optional<Entry> get(String key) {
            return entries.stream().filter(e -> e.key().equals(key)).findFirst();
        }
    }

    /**
     * Stands in for a value the tree builder has already reported as unusable (an alias), so
     * that list indices stay true and readers skip it without piling a second problem on it.
     */
    record Refused(int line) implements YamlNode {
        @Override
        public String describe() {
            return "an unusable value";
        }
    }

    /** One {@code key: value} pair; {@code line} is the key's line. */
    record Entry(String key, int line, YamlNode value) {}
}
