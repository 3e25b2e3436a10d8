package io.sallyport.config;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/**
 * Finds the known name an operator most likely meant, for "did you mean" hints: a typo
 * ({@code lisen}), a different separator ({@code max-sessions-per-user}), or a name that starts
 * like a known one ({@code idle_time}, {@code listen_addresses}, {@code max_session_time}).
 */
final class ClosestName {
    private static final int MAX_EDITS = 2;
    private static final int MIN_PREFIX = 4;

    private ClosestName() {}

    /** The closest of {@code known} to {@code typed}, if any is close enough to be a good guess. */
    static Optional<String> among(String typed, Collection<String> known) {
        String t = normalise(typed);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int d = editDistance(t, normalise(candidate));
            // Two edits turn any short word into any other; only suggest when most of it survives.
            boolean plausible = d == 0 || (d <= MAX_EDITS && d <= t.length() / 2);
            if (plausible && d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        if (best != null) {
            return Optional.of(best);
        }
        // No close spelling: look for a shared start instead (a shortened or extended name). The
        // longest shared start wins; among equals, the fewest edits.
        int bestShared = 0;
        for (String candidate : known) {
            String c = normalise(candidate);
            int shared = commonPrefixLength(t, c);
            boolean related = shared >= MIN_PREFIX
                    && (shared == t.length() || shared == c.length() || shared * 10 >= t.length() * 6);
            if (related && (shared > bestShared
                    || (shared == bestShared && editDistance(t, c) < editDistance(t, normalise(best))))) {
                best = candidate;
                bestShared = shared;
            }
        }
        return Optional.ofNullable(best);
    }

    /** {@code " (did you mean 'x'?)"}, or the empty string when nothing is close. */
    static String hint(String typed, Collection<String> known) {
        return among(typed, known).map(k -> " (did you mean '" + k + "'?)").orElse("");
    }

    private static int commonPrefixLength(String a, String b) {
        int n = Math.min(a.length(), b.length());
        int i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return i;
    }

    private static String normalise(String s) {
        return s.toLowerCase(Locale.ROOT).replace('-', '_');
    }

    /** Levenshtein distance: insertions, deletions and substitutions each cost one. */
    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
