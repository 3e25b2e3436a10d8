package io.sallyport.policy;

import io.sallyport.net.Cidr;
import io.sallyport.net.PortSet;
import java.net.InetAddress;
import java.util.Locale;
import java.util.regex.Pattern;

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

    record NameRule(String text, String glob, Pattern pattern, PortSet ports) implements AllowRule {
        public boolean matches(String normalisedName, int port) {
            return ports.contains(port) && pattern.matcher(normalisedName).matches();
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
        if (!host.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
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
        return new NameRule(s, glob, globToRegex(glob), ports);
    }

    private static Pattern globToRegex(String glob) {
        StringBuilder re = new StringBuilder();
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> re.append("[a-z0-9.-]*");
                case '?' -> re.append("[a-z0-9-]");
                case '.' -> re.append("\\.");
                default -> re.append(c);
            }
        }
        return Pattern.compile(re.toString());
    }
}
