package io.sallyport.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;

/** An address block: {@code 10.0.0.0/8}, {@code fc00::/7}; a plain address is a block of one. */
public final class Cidr {
    private final byte[] network;
    private final int prefix;
    private final String text;

    private Cidr(byte[] network, int prefix) {
        this.network = network;
        this.prefix = prefix;
        this.text = IpLiterals.format(toAddress(network)) + "/" + prefix;
    }

    /** Each of {@code texts}, parsed as {@link #parse} does (CIDR lists the config loader has validated). */
    public static java.util.List<Cidr> parseAll(java.util.List<String> texts) {
        return texts.stream().map(Cidr::parse).toList();
    }

    /**
     * Parses {@code ADDRESS/PREFIX} or a plain address. Host bits set below the prefix are an error:
     * {@code 10.0.3.0/16} most likely means a typo, and silently widening it would grant more than
     * the operator wrote.
     *
     * @throws IllegalArgumentException with a message fit for the operator
     */
    public static Cidr parse(String text) {
        String s = text.trim();
        if (s.startsWith("[") && s.contains("]")) {
            s = s.replace("[", "").replace("]", "");
        }
        int slash = s.indexOf('/');
        String addressPart = slash < 0 ? s : s.substring(0, slash);
        InetAddress address = strictAddress(addressPart)
                .orElseThrow(() -> new IllegalArgumentException("'" + text + "' is not an IP address or CIDR block"));
        int bits = address.getAddress().length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String p = s.substring(slash + 1);
            if (!p.matches("[0-9]{1,3}")) {
                throw new IllegalArgumentException("'" + text + "' has a bad prefix length '" + p + "'");
            }
            prefix = Integer.parseInt(p);
            if (prefix > bits) {
                throw new IllegalArgumentException("'" + text + "' has prefix /" + prefix + ", longer than " + bits + " bits");
            }
        }
        byte[] raw = address.getAddress();
        byte[] masked = mask(raw, prefix);
        if (!Arrays.equals(raw, masked)) {
            throw new IllegalArgumentException("'" + text + "' has host bits set; did you mean "
                    + IpLiterals.format(toAddress(masked)) + "/" + prefix + "?");
        }
        return new Cidr(masked, prefix);
    }

    /** Builds a block from trusted code (built-in lists); host bits are masked off. */
    public static Cidr of(InetAddress address, int prefix) {
        InetAddress a = IpLiterals.canonical(address);
        return new Cidr(mask(a.getAddress(), prefix), prefix);
    }

    /** In config files only canonical spellings are accepted: dotted quads and standard IPv6. */
    private static java.util.Optional<InetAddress> strictAddress(String s) {
        if (s.indexOf(':') < 0 && !s.matches("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}")) {
            return java.util.Optional.empty();
        }
        java.util.Optional<InetAddress> a = IpLiterals.parse(s);
        // "::ffff:10.0.0.0/104" would silently become an IPv4 block with a wrong prefix: refuse it.
        if (a.isPresent() && s.indexOf(':') >= 0 && a.get() instanceof Inet4Address) {
            return java.util.Optional.empty();
        }
        return a;
    }

    public boolean contains(InetAddress candidate) {
        byte[] c = IpLiterals.canonical(candidate).getAddress();
        if (c.length != network.length) {
            return false;
        }
        return Arrays.equals(mask(c, prefix), network);
    }

    /** True when every address of {@code other} lies in this block (an IPv4 block never holds an IPv6 one). */
    public boolean containsAll(Cidr other) {
        return other.network.length == network.length && other.prefix >= prefix
                && Arrays.equals(mask(other.network, prefix), network);
    }

    /** True when the two blocks share at least one address: then one of them holds the other. */
    public boolean overlaps(Cidr other) {
        return containsAll(other) || other.containsAll(this);
    }

    /**
     * The lowest address of this block that none of {@code cover} holds, or empty when they cover
     * it all. Blocks of the other address family are ignored. Used to prove a config claim about a
     * whole block ("every address of this rule is denied", "this rule stays inside the private
     * networks") rather than sample a few addresses.
     */
    public java.util.Optional<InetAddress> firstAddressOutside(java.util.Collection<Cidr> cover) {
        java.math.BigInteger cursor = first();
        java.math.BigInteger last = last();
        List<Cidr> sorted = new java.util.ArrayList<>();
        for (Cidr c : cover) {
            if (c.network.length == network.length) {
                sorted.add(c);
            }
        }
        sorted.sort(java.util.Comparator.comparing(Cidr::first));
        for (Cidr c : sorted) {
            if (c.first().compareTo(cursor) > 0) {
                break;
            }
            cursor = cursor.max(c.last().add(java.math.BigInteger.ONE));
            if (cursor.compareTo(last) > 0) {
                return java.util.Optional.empty();
            }
        }
        if (cursor.compareTo(last) > 0) {
            return java.util.Optional.empty();
        }
        byte[] raw = cursor.toByteArray();
        byte[] bytes = new byte[network.length];
        // toByteArray is big-endian, minimal, and may carry a sign byte: right-align it.
        int n = Math.min(raw.length, bytes.length);
        System.arraycopy(raw, raw.length - n, bytes, bytes.length - n, n);
        return java.util.Optional.of(toAddress(bytes));
    }

    private java.math.BigInteger first() {
        return new java.math.BigInteger(1, network);
    }

    private java.math.BigInteger last() {
        int bits = network.length * 8;
        return first().add(java.math.BigInteger.ONE.shiftLeft(bits - prefix)).subtract(java.math.BigInteger.ONE);
    }

    public int prefix() {
        return prefix;
    }

    public boolean isIpv4() {
        return network.length == 4;
    }

    private static byte[] mask(byte[] raw, int prefix) {
        byte[] out = raw.clone();
        for (int i = 0; i < out.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - 8 * i));
            out[i] = (byte) (out[i] & (0xff << (8 - keep)));
        }
        return out;
    }

    private static InetAddress toAddress(byte[] raw) {
        try {
            return InetAddress.getByAddress(raw);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr other && other.prefix == prefix && Arrays.equals(other.network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefix;
    }

    @Override
    public String toString() {
        return text;
    }
}
