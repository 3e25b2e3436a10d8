package io.sallyport.net;

/** Hostile strings (user names, host names from the client) made safe to put in logs and audit. */
public final class Printable {
    private static final int MAX = 128;

    private Printable() {}

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
}
