package io.sallyport.config;

import java.util.Map;

/** Parses a value that must be one of a few fixed words ({@code crypto}, {@code on_spool_full}). */
final class Choices {
    private Choices() {}

    /** @param byName the accepted spellings, in the order to list them in messages */
    static <T> MappingReader.ScalarParser<T> among(Map<String, T> byName) {
        return text -> {
            T value = byName.get(text);
            if (value == null) {
                throw new IllegalArgumentException("'" + text + "' is not one of " + String.join(", ", byName.keySet())
                        + ClosestName.hint(text, byName.keySet()));
            }
            return value;
        };
    }
}
