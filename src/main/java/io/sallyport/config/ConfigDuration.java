package io.sallyport.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one duration syntax of the config file: a whole number and a unit, {@code 90s}, {@code 15m},
 * {@code 12h}, {@code 7d}. No fractions, no combinations, no bare numbers: a bare {@code 30} could be
 * seconds or minutes, and guessing wrong on an idle timeout is a security bug.
 */
final class ConfigDuration {
    private static final Pattern SYNTAX = Pattern.compile("([0-9]{1,9})([smhd])");

    private ConfigDuration() {}

    /** @throws IllegalArgumentException with a message fit for the operator */
    static Duration parse(String text) {
        Matcher m = SYNTAX.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration (use e.g. 90s, 15m, 12h, 7d)");
        }
        long amount = Long.parseLong(m.group(1));
        if (amount == 0) {
            throw new IllegalArgumentException("'" + text + "' is not a positive duration (use e.g. 90s, 15m, 12h, 7d)");
        }
        return switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
    }

    /** The shortest config spelling of {@code d}: {@code 15m} rather than {@code 900s}. */
    static String format(Duration d) {
        long seconds = d.getSeconds();
        if (seconds != 0 && seconds % 86_400 == 0) {
            return seconds / 86_400 + "d";
        }
        if (seconds != 0 && seconds % 3_600 == 0) {
            return seconds / 3_600 + "h";
        }
        if (seconds != 0 && seconds % 60 == 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }
}
