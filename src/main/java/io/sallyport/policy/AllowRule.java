package io.sallyport.policy;

import io.sallyport.net.Cidr;
import io.sallyport.net.HostName;
import io.sallyport.net.PortSet;
import java.net.InetAddress;
import java.util.Locale;

/**
 * One {@code allow} entry of a role, as written: {@code CIDR:PORTS}, {@code IP:PORTS} or
 * {@code NAME-GLOB:PORTS}. IPv6 blocks may be bracketed: {@code [fd00::/8]:22}.
 *
 * <p>Address rules match addresses (a literal target, or the address a name resolved to). Name
 * globs match names only, never an address literal: {@code *:22} does not open every IP.
 */
public sealed interface AllowRule {

    /** The rule exactly as the operator wrote it; what audit events and {@code explain} print. */
    String text();

    PortSet ports();

    record AddressRule(String text, Cidr block, PortSet ports) implements AllowRule {
        public boolean matches(InetAddress address, int port) {
            return ports.contains(port) && block.contains(address);
        }
    }

    record NameRule(String text, String glob, PortSet ports) implements AllowRule {
        public boolean matches(String normalisedName, int port) {
            return ports.contains(port) && globMatches(glob, normalisedName);
        }
    }

    /** @throws IllegalArgumentException with a message fit for the operator */
    static AllowRule parse(String text) {
        String s = text.trim();
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("'" + text + "' is not HOST:PORTS (e.g. 10.0.0.0/16:22, *.internal.corp:22,2222)");
        }
        String host = s.substring(0, colon);
        PortSet ports = PortSet.parse(s.substring(colon + 1));
        boolean looksLikeAddress = host.indexOf(':') >= 0 || host.indexOf('/') >= 0 || host.startsWith("[")
                || host.matches("[0-9.]+");
        if (looksLikeAddress) {
            return new AddressRule(s, Cidr.parse(host), ports);
        }
        if (!HostName.isPrintableAscii(host)) {
            // Checked before lower-casing: Locale.ROOT folds U+212A (Kelvin sign) into 'k'.
            throw new IllegalArgumentException("'" + host + "' is not a host name pattern (ASCII letters, digits, '-', '.', '*', '?';"
                    + " an IDN is written as punycode, xn--...)");
        }
        String glob = host.toLowerCase(Locale.ROOT);
        if (glob.endsWith(".")) {
            glob = glob.substring(0, glob.length() - 1);
        }
        if (!glob.matches("[a-z0-9*?]([a-z0-9*?.-]*[a-z0-9*?])?")) {
            throw new IllegalArgumentException("'" + host + "' is not a host name pattern (letters, digits, '-', '.', '*', '?')");
        }
        if (glob.matches("[*?.]*")) {
            throw new IllegalArgumentException("'" + host + "' would match every host name; name the domain (e.g. *.internal.corp)");
        }
        return new NameRule(s, glob, ports);
    }

    /**
     * Whether {@code name} matches {@code glob}: {@code *} is any run of letters, digits, '-' and
     * '.' (so it spans labels), {@code ?} one letter, digit or '-'; everything else matches itself.
     *
     * <p>Threat: the name comes from the client. A regular expression with one {@code [a-z0-9.-]*}
     * per star backtracks polynomially, to the power of the number of stars: against
     * {@code *-*-*-*-*.x}, a 251-character name took 10 s of CPU per request. This matcher
     * remembers only the last star, so it runs in O(glob × name) steps whatever the glob.
     */
    static boolean globMatches(String glob, String name) {
        for (int i = 0; i < name.length(); i++) {
            // No glob character matches anything else ('_', say), so a star may take any character that is left.
            if (!isLabelChar(name.charAt(i)) && name.charAt(i) != '.') {
                return false;
            }
        }
        int g = 0;
        int n = 0;
        int star = -1;
        int starFrom = 0;
        while (n < name.length()) {
            char c = name.charAt(n);
            if (g < glob.length() && glob.charAt(g) == '*') {
                star = g++;
                starFrom = n;
            } else if (g < glob.length() && (glob.charAt(g) == '?' ? isLabelChar(c) : glob.charAt(g) == c)) {
                g++;
                n++;
            } else if (star >= 0) {
                // Let the last star take one more character, and match the rest of the glob after it again.
                g = star + 1;
                n = ++starFrom;
            } else {
                return false;
            }
        }
        while (g < glob.length() && glob.charAt(g) == '*') {
            g++;
        }
        return g == glob.length();
    }

    private static boolean isLabelChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    }
}
