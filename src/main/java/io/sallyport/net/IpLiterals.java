package io.sallyport.net;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;

/**
 * Recognises IP address literals in every spelling a resolver would accept, without ever touching
 * DNS, and normalises them to one canonical address.
 *
 * <p>Threat: the C library's {@code inet_aton} (and so {@code getaddrinfo}) accepts {@code 2852039166},
 * {@code 0xa9fea9fe}, {@code 0251.0376.0251.0376} and {@code 169.254.43518} as 169.254.169.254. A deny
 * list that compares strings, or only parses dotted quads, lets those through to the metadata
 * service. Every target string goes through {@link #parse} first, so policy sees the real address.
 */
public final class IpLiterals {
    private IpLiterals() {}

    /**
     * Parses {@code text} as an IP literal: IPv4 in any {@code inet_aton} form, or IPv6 with or
     * without brackets. IPv4-mapped IPv6 addresses ({@code ::ffff:a.b.c.d}) come back as the IPv4
     * address they carry. Zone ids ({@code fe80::1%eth0}) are refused as not-a-literal.
     *
     * @return the address, or empty when {@code text} is not an IP literal (so: a host name)
     */
    public static Optional<InetAddress> parse(String text) {
        if (text == null || text.isEmpty()) {
            return Optional.empty();
        }
        String s = text;
        if (s.startsWith("[") && s.endsWith("]")) {
            s = s.substring(1, s.length() - 1);
        }
        if (s.indexOf(':') >= 0) {
            return parseIpv6(s);
        }
        return parseIpv4(s).map(IpLiterals::ipv4);
    }

    /** True when {@code text} is any spelling of an IP literal. */
    public static boolean isLiteral(String text) {
        return parse(text).isPresent();
    }

    /**
     * Returns the canonical form of an address: IPv4-mapped IPv6 becomes IPv4. Java already does
     * this for literals it parses; this guards addresses that come from elsewhere (a resolver).
     */
    public static InetAddress canonical(InetAddress address) {
        if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            boolean mapped = true;
            for (int i = 0; i < 10; i++) {
                mapped &= b[i] == 0;
            }
            mapped &= (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
            if (mapped) {
                return ipv4(((b[12] & 0xffL) << 24) | ((b[13] & 0xffL) << 16) | ((b[14] & 0xffL) << 8) | (b[15] & 0xffL));
            }
        }
        return address;
    }

    /**
     * The address as text without any host name attached, IPv6 in its RFC 5952 form (the one
     * operators write): {@code 10.0.0.1}, {@code fd00:ec2::254}.
     */
    public static String format(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address.getHostAddress();
        }
        byte[] b = address.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        // The longest run of two or more zero groups (the first, on a tie) becomes "::".
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; i++) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = Math.max(i, j);
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }

    private static Optional<InetAddress> parseIpv6(String s) {
        if (s.indexOf('%') >= 0) {
            return Optional.empty();
        }
        // The JDK reads text as a literal only when it starts with a hex digit or ':'; anything else
        // (".:", ".1:2") it looks up in DNS, so a client could make the bastion resolve such names.
        if (Character.digit(s.charAt(0), 16) < 0 && s.charAt(0) != ':') {
            return Optional.empty();
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
            if (!ok) {
                return Optional.empty();
            }
        }
        try {
            // A string with ':', only hex digits, ':' and '.', and a hex digit or ':' first is parsed
            // as a literal by the JDK, never looked up in DNS.
            return Optional.of(canonical(InetAddress.getByName(s)));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    /** IPv4 in the forms inet_aton accepts: a, a.b, a.b.c, a.b.c.d; each part decimal, 0x-hex or 0-octal. */
    static Optional<Long> parseIpv4(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length < 1 || parts.length > 4) {
            return Optional.empty();
        }
        long[] values = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            Optional<Long> v = parseNumber(parts[i]);
            if (v.isEmpty()) {
                return Optional.empty();
            }
            values[i] = v.get();
        }
        long result = 0;
        for (int i = 0; i < values.length - 1; i++) {
            if (values[i] > 0xff) {
                return Optional.empty();
            }
            result |= values[i] << (24 - 8 * i);
        }
        long last = values[values.length - 1];
        int lastBits = 8 * (4 - (values.length - 1));
        if (last >= (1L << lastBits)) {
            return Optional.empty();
        }
        return Optional.of(result | last);
    }

    private static Optional<Long> parseNumber(String part) {
        if (part.isEmpty()) {
            return Optional.empty();
        }
        String p = part.toLowerCase(Locale.ROOT);
        int radix = 10;
        if (p.startsWith("0x")) {
            radix = 16;
            p = p.substring(2);
            if (p.isEmpty()) {
                return Optional.of(0L); // inet_aton takes a bare "0x" as zero
            }
        } else if (p.length() > 1 && p.charAt(0) == '0') {
            radix = 8;
            p = p.substring(1);
        }
        for (int i = 0; i < p.length(); i++) {
            // ASCII only: Character.digit also takes other scripts' digits ("١٦٩" is 169), which no
            // resolver reads as an address, so such a name must not be decided as one.
            if (p.charAt(i) > 0x7f || Character.digit(p.charAt(i), radix) < 0) {
                return Optional.empty();
            }
        }
        // inet_aton ignores leading zeros however many there are ("0x00000000a9fea9fe").
        String digits = p.replaceFirst("^0+(?=.)", "");
        if (digits.length() > 11) {
            return Optional.empty(); // more than 32 bits in any radix
        }
        return Optional.of(Long.parseLong(digits, radix));
    }

    static InetAddress ipv4(long value) {
        byte[] b = {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
        try {
            return Inet4Address.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // four bytes are always a valid address
        }
    }
}
