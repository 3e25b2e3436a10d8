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
     * @return the address, or empty when {@code text} is not an IP literal: then it may reach DNS
     *         only if {@link HostName#normalise} accepts it as a host name
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

    /**
     * IPv6 text (RFC 4291 section 2.2: eight groups, one {@code ::}, an optional dotted quad at the
     * end), parsed here rather than by {@link InetAddress#getByName}: the JDK sends a string that
     * does not start with a hex digit or {@code ':'} (such as {@code .a:b}) to the system resolver,
     * and nothing that is not a host name may reach DNS.
     */
    private static Optional<InetAddress> parseIpv6(String s) {
        // The longest form: ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255
        if (s.length() > 45) {
            return Optional.empty();
        }
        int gap = s.indexOf("::");
        if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) {
            return Optional.empty();
        }
        String head = gap < 0 ? s : s.substring(0, gap);
        String tail = gap < 0 ? "" : s.substring(gap + 2);
        String[] headParts = head.isEmpty() ? new String[0] : head.split(":", -1);
        String[] tailParts = tail.isEmpty() ? new String[0] : tail.split(":", -1);
        int[] headGroups = groups(headParts, gap < 0);
        int[] tailGroups = groups(tailParts, true);
        if (headGroups == null || tailGroups == null) {
            return Optional.empty();
        }
        int count = headGroups.length + tailGroups.length;
        if (gap < 0 ? count != 8 : count > 7) {
            return Optional.empty();
        }
        byte[] b = new byte[16];
        for (int i = 0; i < headGroups.length; i++) {
            b[2 * i] = (byte) (headGroups[i] >>> 8);
            b[2 * i + 1] = (byte) headGroups[i];
        }
        for (int i = 0; i < tailGroups.length; i++) {
            int at = 8 - tailGroups.length + i;
            b[2 * at] = (byte) (tailGroups[i] >>> 8);
            b[2 * at + 1] = (byte) tailGroups[i];
        }
        try {
            return Optional.of(canonical(InetAddress.getByAddress(b)));
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // sixteen bytes are always a valid address
        }
    }

    /**
     * 16-bit groups of 1-4 hex digits; the last part may be a dotted quad (two groups) when
     * {@code quadAllowed}. Null when any part is not a group.
     */
    private static int[] groups(String[] parts, boolean quadAllowed) {
        java.util.List<Integer> out = new java.util.ArrayList<>();
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (p.indexOf('.') >= 0) {
                if (!quadAllowed || i != parts.length - 1) {
                    return null;
                }
                long v = dottedQuad(p);
                if (v < 0) {
                    return null;
                }
                out.add((int) (v >>> 16));
                out.add((int) (v & 0xffff));
                continue;
            }
            if (p.isEmpty() || p.length() > 4) {
                return null;
            }
            int g = 0;
            for (int j = 0; j < p.length(); j++) {
                int d = asciiDigit(p.charAt(j), 16);
                if (d < 0) {
                    return null;
                }
                g = g * 16 + d;
            }
            out.add(g);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Strict {@code a.b.c.d}, decimal 0-255 without leading zeros (as inet_pton takes it inside IPv6); -1 if not. */
    private static long dottedQuad(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return -1;
        }
        long v = 0;
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || (p.length() > 1 && p.charAt(0) == '0')) {
                return -1;
            }
            int n = 0;
            for (int j = 0; j < p.length(); j++) {
                int d = asciiDigit(p.charAt(j), 10);
                if (d < 0) {
                    return -1;
                }
                n = n * 10 + d;
            }
            if (n > 255) {
                return -1;
            }
            v = (v << 8) | n;
        }
        return v;
    }

    /**
     * The value of an ASCII digit in {@code radix} (up to 16), or -1. Not {@link Character#digit}:
     * it takes fullwidth and other Unicode digits, and fullwidth "10.0.3.17" is no address a client
     * may send.
     */
    private static int asciiDigit(char c, int radix) {
        int d;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            return -1;
        }
        return d < radix ? d : -1;
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
            if (asciiDigit(p.charAt(i), radix) < 0) {
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
