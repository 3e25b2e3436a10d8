package io.sallyport.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A whole percentage, written with its sign: {@code 85%}. A bare {@code 85} or {@code 0.85} is refused as ambiguous. */
final class ConfigPercent {
    private static final Pattern SYNTAX = Pattern.compile("([0-9]{1,3})%");

    private ConfigPercent() {}

    /** A parser of {@code N%} with {@code min <= N <= max}; its messages are fit for the operator. */
    static MappingReader.ScalarParser<Integer> between(int min, int max) {
        return text -> {
            Matcher m = SYNTAX.matcher(text.trim());
            if (!m.matches()) {
                throw new IllegalArgumentException("'" + text + "' is not a percentage (write e.g. 85%)");
            }
            int v = Integer.parseInt(m.group(1));
            if (v < min || v > max) {
                throw new IllegalArgumentException("must be between " + min + "% and " + max + "%, got " + text);
            }
            return v;
        };
    }
}
