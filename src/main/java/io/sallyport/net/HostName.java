package io.sallyport.net;

import java.util.Optional;

/**
 * The one gate between a client's target string and DNS: only a syntactically valid host name
 * (RFC 1123 letters-digits-hyphen labels, 1-63 characters each, 253 in all) is ever looked up.
 *
 * <p>Threat: the system resolver is generous. {@code getaddrinfo} turns odd numeric spellings into
 * addresses, the JDK hands strings such as {@code .a:b} to it, and a resolver library or search
 * domain may do anything with a name that carries spaces, control bytes or non-ASCII letters. A
 * client chooses the target string, so everything that is not a plain host name is refused before
 * resolution.
 */
public final class HostName {
    private static final int MAX_LENGTH = 253;
    private static final int MAX_LABEL = 63;

    private HostName() {}

    /**
     * The name in its one spelling: ASCII lower case, without a trailing dot. Empty when
     * {@code text} is not a host name: not ASCII (an IDN must come as punycode, {@code xn--...};
     * nothing here folds U+212A, the Kelvin sign, into {@code k}), an empty or over-long label, a character
     * other than letters, digits, {@code -} and {@code .}, a label that starts or ends with
     * {@code -}, or a last label of digits only (that is an IPv4 spelling, which {@link IpLiterals}
     * has already refused).
     */
    public static Optional<String> normalise(String text) {
        if (text == null) {
            return Optional.empty();
        }
        String n = text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
        if (n.isEmpty() || n.length() > MAX_LENGTH) {
            return Optional.empty();
        }
        StringBuilder out = new StringBuilder(n.length());
        int labelStart = 0;
        boolean labelAllDigits = true;
        for (int i = 0; i <= n.length(); i++) {
            char c = i < n.length() ? n.charAt(i) : '.';
            if (c == '.') {
                int length = i - labelStart;
                if (length == 0 || length > MAX_LABEL || n.charAt(labelStart) == '-' || n.charAt(i - 1) == '-') {
                    return Optional.empty();
                }
                if (i == n.length() && labelAllDigits) {
                    return Optional.empty();
                }
                if (i < n.length()) {
                    out.append('.');
                }
                labelStart = i + 1;
                labelAllDigits = true;
                continue;
            }
            if (c >= 'A' && c <= 'Z') {
                c = (char) (c + ('a' - 'A'));
            }
            boolean digit = c >= '0' && c <= '9';
            if (!digit && !(c >= 'a' && c <= 'z') && c != '-') {
                return Optional.empty();
            }
            labelAllDigits &= digit;
            out.append(c);
        }
        return Optional.of(out.toString());
    }

    /** True when every character is printable ASCII (no space, no control character). */
    public static boolean isPrintableAscii(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                return false;
            }
        }
        return true;
    }
}
