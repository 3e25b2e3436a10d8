package io.sallyport.cli;

import io.sallyport.policy.AllowRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns an allow rule into OpenSSH {@code Host} patterns ({@code ssh_config(5)}: {@code *} any run
 * of characters, {@code ?} any one), exactly or not at all: a pattern never matches a host name or
 * address the rule does not allow. Where no short list of patterns says the same, the rule has
 * none, and {@code ssh-config} lists it as a comment with {@code ssh -J} usage.
 *
 * <ul>
 *   <li>IPv4 blocks on octet boundaries: {@code 10.0.0.0/16} is {@code 10.0.*}; {@code /32} is the
 *       address. Other prefixes become the octet-aligned blocks they hold, when there are at most
 *       {@link #MAX_PATTERNS} of them ({@code 172.16.0.0/12} is {@code 172.16.*} … {@code 172.31.*}).
 *       Any text these match that the bastion reads as an address (its parser takes every
 *       {@code inet_aton} spelling) is in the block: each fixed octet is followed by a dot, so it is
 *       a whole leading part, and a leading part is always the top octet. Text that is not an
 *       address ({@code 10.0.example.com}) is a name, judged by the name rules.</li>
 *   <li>A name glob without {@code ?} is its own pattern: the rule's {@code *} spans labels as
 *       OpenSSH's does. OpenSSH's {@code ?} also matches a dot, the rule's does not, so a glob
 *       with {@code ?} has no pattern. Nor has a glob whose fixed characters are all hex digits,
 *       dots or {@code x} ({@code *.cafe}): it could match the text of an address, which a name
 *       rule never allows.</li>
 *   <li>IPv6 blocks have none: an address has many spellings, and OpenSSH matches the text
 *       typed.</li>
 * </ul>
 *
 * A string OpenSSH's {@code *} takes that is neither a host name nor an address ({@code a_b.corp})
 * is refused by the bastion whatever the pattern.
 */
final class HostPatterns {
    /** Sixteen covers the usual 172.16.0.0/12 and a /20 of /24s; more would make a line nobody reads. */
    static final int MAX_PATTERNS = 16;

    private HostPatterns() {}

    /** The patterns that together match exactly what the rule allows, or empty when none do. */
    static Optional<List<String>> of(AllowRule rule) {
        if (rule instanceof AllowRule.NameRule name) {
            return ofGlob(name.glob());
        }
        return ofBlock(((AllowRule.AddressRule) rule).block().toString());
    }

    static Optional<List<String>> ofGlob(String glob) {
        if (glob.indexOf('?') >= 0 || glob.isEmpty()) {
            return Optional.empty();
        }
        boolean couldBeAddress = true;
        for (char c : glob.toCharArray()) {
            if (c != '*' && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f') && c != '.' && c != 'x') {
                couldBeAddress = false;
            }
        }
        return couldBeAddress ? Optional.empty() : Optional.of(List.of(glob));
    }

    /** @param cidr as {@code Cidr#toString} writes it: {@code a.b.c.d/n}, or IPv6 */
    static Optional<List<String>> ofBlock(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0 || cidr.indexOf(':') >= 0) {
            return Optional.empty();
        }
        String[] parts = cidr.substring(0, slash).split("\\.");
        int prefix = Integer.parseInt(cidr.substring(slash + 1));
        if (parts.length != 4 || prefix < 8) {
            return Optional.empty();
        }
        long network = 0;
        for (String p : parts) {
            network = (network << 8) | Integer.parseInt(p);
        }
        // The smallest octet-aligned prefix at or below the rule's: each block of that size is one pattern.
        int aligned = ((prefix + 7) / 8) * 8;
        long count = 1L << (aligned - prefix);
        if (count > MAX_PATTERNS) {
            return Optional.empty();
        }
        List<String> patterns = new ArrayList<>();
        long step = 1L << (32 - aligned);
        for (long i = 0; i < count; i++) {
            patterns.add(pattern(network + i * step, aligned));
        }
        return Optional.of(patterns);
    }

    private static String pattern(long address, int octets8) {
        int fixed = octets8 / 8;
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < fixed; i++) {
            if (i > 0) {
                s.append('.');
            }
            s.append((address >> (24 - 8 * i)) & 0xff);
        }
        return fixed == 4 ? s.toString() : s.append(".*").toString();
    }

    /** OpenSSH's {@code match_pattern}: {@code *} any run, {@code ?} any one character; for tests and the bastion's own name. */
    static boolean sshMatches(String pattern, String text) {
        int p = 0;
        int t = 0;
        int star = -1;
        int starFrom = 0;
        while (t < text.length()) {
            if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                starFrom = t;
            } else if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == text.charAt(t))) {
                p++;
                t++;
            } else if (star >= 0) {
                p = star + 1;
                t = ++starFrom;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }
}
