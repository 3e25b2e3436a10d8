package io.sallyport.net;

/**
 * Hostile strings (user names, host names from the client, IAM tag values, text from a config
 * file) made safe to show.
 *
 * <p>Threat: a control character in a name forges a log line ({@code \n}), or drives the
 * operator's terminal (an {@code ESC [} or C1 {@code CSI} sequence that rewrites the screen, sets
 * the window title or hides text); a bidirectional override makes text read differently from what
 * it is.
 */
public final class Printable {
    private static final int MAX = 128;

    private Printable() {}

    /**
     * For audit fields and log lines: printable ASCII is kept, every other character becomes
     * {@code ?}, and the result is cut at 128 characters (marked {@code ...}).
     */
    public static String of(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX));
        for (int i = 0; i < s.length() && b.length() < MAX; i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        if (s.length() > MAX) {
            b.append("...");
        }
        return b.toString();
    }

    /**
     * For a reason that must show what a client really sent: printable ASCII is kept, every other
     * character is written as a backslash, {@code u} and four hex digits, and the result is cut at
     * 128 characters (marked {@code ...}). Pure ASCII, so safe in any log line or audit field.
     */
    public static String escapedAscii(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX) + 8);
        int i = 0;
        for (; i < s.length() && b.length() < MAX; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f) {
                b.append(c);
            } else {
                b.append(String.format("\\u%04x", (int) c));
            }
        }
        if (i < s.length()) {
            b.append("...");
        }
        return b.toString();
    }

    /**
     * For text printed to a terminal or a log line in full (config problems, {@code explain}):
     * every control character (C0, DEL, C1), format character (bidirectional overrides, zero-width
     * characters), line or paragraph separator, unassigned or private-use code point and lone
     * surrogate is written as a Java-style escape: {@code \n}, {@code \r}, {@code \t}, else a
     * backslash, {@code u} and four hex digits (ESC shows as backslash-u001b). Everything else,
     * printable non-ASCII letters included, is kept. Never shortens.
     */
    public static String forTerminal(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (isSafe(c, s, i)) {
                b.append(c);
                if (Character.isHighSurrogate(c)) {
                    b.append(s.charAt(++i));
                }
                continue;
            }
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> b.append(String.format("\\u%04x", (int) c));
            }
        }
        return b.toString();
    }

    /** True when the character at {@code i} may go to a terminal as it is; a valid surrogate pair counts as one. */
    private static boolean isSafe(char c, String s, int i) {
        if (c >= 0x20 && c < 0x7f) {
            return true;
        }
        if (Character.isHighSurrogate(c)) {
            if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                return false;
            }
            return isSafeType(Character.getType(s.codePointAt(i)));
        }
        if (Character.isLowSurrogate(c)) {
            // A low surrogate reached here on its own: its high half would have consumed it.
            return false;
        }
        return isSafeType(Character.getType(c));
    }

    private static boolean isSafeType(int type) {
        return type != Character.CONTROL && type != Character.FORMAT && type != Character.LINE_SEPARATOR
                && type != Character.PARAGRAPH_SEPARATOR && type != Character.UNASSIGNED
                && type != Character.PRIVATE_USE && type != Character.SURROGATE;
    }
}
