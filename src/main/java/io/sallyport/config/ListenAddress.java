package io.sallyport.config;

import io.sallyport.net.IpLiterals;
import java.net.Inet6Address;
import java.util.regex.Pattern;

/**
 * Parses the {@code host:port} of a socket the server binds: {@code 0.0.0.0:22},
 * {@code [::]:22}, {@code 127.0.0.1:9810}.
 *
 * <p>The host must be an IP literal in its usual spelling. A name would be looked up at start and
 * could bind somewhere else than the operator meant (or, for {@code localhost}, on whichever of
 * 127.0.0.1 and ::1 the resolver prefers); an odd IPv4 spelling such as {@code 0x7f.1} hides what
 * is exposed.
 */
final class ListenAddress {
    private static final Pattern DOTTED_QUAD = Pattern.compile(
            "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    private static final String EXAMPLE = "(e.g. 0.0.0.0:22, [::]:22)";

    private ListenAddress() {}

    /** @throws IllegalArgumentException with a message fit for the operator */
    static Config.HostPort parse(String text) {
        String s = text.trim();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("'" + text + "' is not HOST:PORT " + EXAMPLE);
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
            if (!IpLiterals.parse(host).map(a -> a instanceof Inet6Address).orElse(false)) {
                throw new IllegalArgumentException("'" + host + "' in '" + text + "' is not an IPv6 address");
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("'" + text + "' is not HOST:PORT " + EXAMPLE);
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw new IllegalArgumentException("'" + text + "': put an IPv6 address in brackets, e.g. [" + host + "]:" + port);
            }
            if (!DOTTED_QUAD.matcher(host).matches()) {
                throw new IllegalArgumentException("'" + host + "' in '" + text
                        + "' is not an IP address; listen on an address, not a name " + EXAMPLE);
            }
        }
        return new Config.HostPort(host, parsePort(port, text));
    }

    private static int parsePort(String port, String text) {
        if (!port.matches("[0-9]{1,5}")) {
            throw new IllegalArgumentException("'" + port + "' in '" + text + "' is not a port number (1-65535)");
        }
        int value = Integer.parseInt(port);
        if (value < 1 || value > 65_535) {
            throw new IllegalArgumentException("port " + value + " in '" + text + "' is out of range 1-65535");
        }
        return value;
    }
}
