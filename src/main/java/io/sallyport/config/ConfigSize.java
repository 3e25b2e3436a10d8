package io.sallyport.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one size syntax of the config file: a whole number and a binary unit, {@code 64KiB},
 * {@code 512MiB}, {@code 1GiB}. No bare numbers (bytes or megabytes?) and no decimal units
 * ({@code GB} would be off by 7% from what {@code df -h} shows).
 */
final class ConfigSize {
    private static final Pattern SYNTAX = Pattern.compile("([0-9]{1,9})(KiB|MiB|GiB|TiB)");
    private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB"};

    private ConfigSize() {}

    /** @throws IllegalArgumentException with a message fit for the operator */
    static long parse(String text) {
        Matcher m = SYNTAX.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size (use e.g. 64MiB, 1GiB, with a unit of KiB, MiB, GiB or TiB)");
        }
        long amount = Long.parseLong(m.group(1));
        int shift = switch (m.group(2)) {
            case "KiB" -> 10;
            case "MiB" -> 20;
            case "GiB" -> 30;
            default -> 40;
        };
        if (amount == 0 || Long.numberOfLeadingZeros(amount) <= shift) {
            throw new IllegalArgumentException("'" + text + "' is not a usable size");
        }
        return amount << shift;
    }

    /** A parser that also checks bounds, naming them in the config's own spelling. */
    static MappingReader.ScalarParser<Long> between(long min, long max) {
        return text -> {
            long v = parse(text);
            if (v < min || v > max) {
                throw new IllegalArgumentException("must be between " + format(min) + " and " + format(max) + ", got " + text);
            }
            return v;
        };
    }

    /** The largest unit that divides {@code bytes} exactly: {@code 1GiB} rather than {@code 1024MiB}. */
    static String format(long bytes) {
        for (int i = UNITS.length - 1; i >= 0; i--) {
            long unit = 1L << (10 * (i + 1));
            if (bytes >= unit && bytes % unit == 0) {
                return bytes / unit + UNITS[i];
            }
        }
        return bytes + " bytes";
    }
}
