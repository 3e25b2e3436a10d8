package io.sallyport.proxy;

import io.sallyport.net.IpLiterals;
import io.sallyport.net.Printable;
import io.sallyport.proxy.ProxyHeader.Endpoint;
import io.sallyport.proxy.ProxyHeader.Kind;
import io.sallyport.proxy.ProxyHeaderResult.NeedMore;
import io.sallyport.proxy.ProxyHeaderResult.Parsed;
import io.sallyport.proxy.ProxyHeaderResult.Refused;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * Reads a PROXY protocol header, v1 or v2, from the first bytes of a connection (haproxy's
 * doc/proxy-protocol.txt, revision 2026/04/27).
 *
 * <p>Pure and stateless: hand it every byte the connection has sent so far, as often as more
 * arrive, and it answers {@link NeedMore}, {@link Parsed} (with how many bytes the header took) or
 * {@link Refused}. It reads only the bytes it is given, never throws for their content, and never
 * allocates by what a length field claims. {@link ProxyHeaderReader} keeps the bytes between calls
 * for a caller that receives them in chunks.
 *
 * <p>Threat: the header decides which client address policy, penalties and audit see. Only a
 * trusted proxy may send one (the caller's check), and even then a malformed header is refused
 * rather than half-read: an address read from a line with an extra space, a leading zero or a lone
 * LF would be an address the proxy did not mean.
 *
 * <p>Bounds the parser enforces; the caller enforces the time a peer may take to send them:
 * <ul>
 *   <li>v1: the line with its CRLF within {@value #MAX_V1} bytes, as the spec requires.
 *   <li>v2: 16 bytes plus a length of at most {@value #MAX_V2_LENGTH}, so at most
 *       {@value #MAX_HEADER} bytes in all (see {@link #MAX_V2_LENGTH}).
 * </ul>
 */
public final class ProxyHeaderParser {
    /** The longest v1 line the spec allows, CRLF included ({@code PROXY UNKNOWN} with two full IPv6 addresses). */
    public static final int MAX_V1 = 107;

    /**
     * The largest v2 length field accepted. The spec's own headers fit in 536 bytes (AF_UNIX
     * addresses, 216 bytes, are the largest block); an AWS NLB sends at most 36 address bytes and a
     * 26-byte VPC endpoint TLV; haproxy adds ALPN, authority (at most 255), unique id (at most 128),
     * SSL names and a CRC. A raw client certificate TLV (haproxy's {@code PP2_SUBTYPE_SSL_CLIENT_CERT})
     * may not fit and is refused: a TLS client certificate means nothing to an SSH server. The
     * total, {@value #MAX_HEADER} bytes, is nginx's limit too, and what a pre-authentication
     * connection may make the server hold before anything is known about it.
     */
    public static final int MAX_V2_LENGTH = 4096 - 16;

    /** The most bytes any header may take: {@code 16 + MAX_V2_LENGTH}. */
    public static final int MAX_HEADER = 16 + MAX_V2_LENGTH;

    /** AWS VPC endpoint ids are {@code vpce-} and 17 hex digits (22 characters); this leaves room for a longer form. */
    public static final int MAX_VPC_ENDPOINT_ID = 64;

    static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);

    static final int TYPE_CRC32C = 0x03;
    static final int TYPE_AWS = 0xEA;
    static final int SUBTYPE_AWS_VPCE_ID = 0x01;

    private ProxyHeaderParser() {}

    /** The whole array: {@code parse(bytes, 0, bytes.length)}. */
    public static ProxyHeaderResult parse(byte[] bytes) {
        return parse(bytes, 0, bytes.length);
    }

    /**
     * Parses the header at the start of {@code bytes[offset, offset + length)}: the first
     * {@code length} bytes the connection sent. Reads nothing outside that range.
     *
     * @throws IndexOutOfBoundsException only when the range is not inside the array (a caller's bug)
     */
    public static ProxyHeaderResult parse(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        if (length == 0) {
            return new NeedMore(1);
        }
        int first = bytes[offset] & 0xff;
        if (first == V1_PREFIX[0]) {
            return new V1(bytes, offset, length).parse();
        }
        if (first == V2_SIGNATURE[0]) {
            return new V2(bytes, offset, length).parse();
        }
        if (first == 'S') {
            return new Refused("no PROXY header: the connection began like an SSH greeting ('S')");
        }
        return new Refused(String.format("no PROXY header: the connection began with byte 0x%02x", first));
    }

    /** The text form: one line of printable ASCII ending in CRLF. */
    private static final class V1 {
        private final byte[] b;
        private final int off;
        private final int n;

        V1(byte[] b, int off, int n) {
            this.b = b;
            this.off = off;
            this.n = n;
        }

        ProxyHeaderResult parse() {
            for (int i = 0; i < Math.min(n, V1_PREFIX.length); i++) {
                if (b[off + i] != V1_PREFIX[i]) {
                    return new Refused("not a PROXY v1 header: it does not begin with 'PROXY '");
                }
            }
            // Find the CRLF, refusing as soon as a byte shows the line cannot be valid: the spec asks
            // for an early abort, and a lone CR or LF must never end the line.
            int end = -1;
            int scan = Math.min(n, MAX_V1);
            for (int i = 0; i < scan && end < 0; i++) {
                int c = b[off + i] & 0xff;
                if (c == '\r') {
                    if (i + 1 >= MAX_V1) {
                        return new Refused("PROXY v1 line has no CRLF within " + MAX_V1 + " bytes");
                    }
                    if (i + 1 < n) {
                        if (b[off + i + 1] != '\n') {
                            return new Refused("PROXY v1 line has a CR without LF");
                        }
                        end = i;
                    }
                } else if (c == '\n') {
                    return new Refused("PROXY v1 line has an LF without CR");
                } else if (c < 0x20 || c > 0x7e) {
                    return new Refused(String.format("PROXY v1 line has a byte that is not printable ASCII (0x%02x)", c));
                }
            }
            if (end < 0) {
                if (n >= MAX_V1) {
                    return new Refused("PROXY v1 line has no CRLF within " + MAX_V1 + " bytes");
                }
                return new NeedMore(n + 1);
            }
            String line = new String(b, off, end, StandardCharsets.US_ASCII);
            int length = end + 2;
            String rest = line.substring(V1_PREFIX.length);
            if (rest.equals("UNKNOWN") || rest.startsWith("UNKNOWN ")) {
                // The spec: "the receiver must ignore anything presented before the CRLF".
                return new Parsed(ProxyHeader.withoutAddress(1, Kind.UNKNOWN, "UNKNOWN", Optional.empty()), length);
            }
            String[] fields = rest.split(" ", -1);
            String protocol = fields[0];
            if (!protocol.equals("TCP4") && !protocol.equals("TCP6")) {
                return new Refused("PROXY v1 protocol '" + Printable.escapedAscii(cut(protocol)) + "' is not TCP4, TCP6 or UNKNOWN");
            }
            if (fields.length != 5) {
                return new Refused("PROXY v1 " + protocol + " line has " + (fields.length - 1)
                        + " fields after the protocol, not 4 separated by single spaces");
            }
            boolean v4 = protocol.equals("TCP4");
            Optional<InetAddress> source = v4 ? ipv4(fields[1]) : ipv6(fields[1]);
            if (source.isEmpty()) {
                return new Refused("PROXY v1 source address is not " + (v4 ? "a dotted quad" : "an IPv6 address"));
            }
            Optional<InetAddress> destination = v4 ? ipv4(fields[2]) : ipv6(fields[2]);
            if (destination.isEmpty()) {
                return new Refused("PROXY v1 destination address is not " + (v4 ? "a dotted quad" : "an IPv6 address"));
            }
            int sourcePort = port(fields[3]);
            if (sourcePort < 0) {
                return new Refused("PROXY v1 source port is not 0-65535 without leading zeros");
            }
            int destinationPort = port(fields[4]);
            if (destinationPort < 0) {
                return new Refused("PROXY v1 destination port is not 0-65535 without leading zeros");
            }
            return new Parsed(ProxyHeader.relayed(1, protocol, new Endpoint(source.get(), sourcePort),
                    new Endpoint(destination.get(), destinationPort), Optional.empty()), length);
        }

        private static String cut(String s) {
            return s.length() > 16 ? s.substring(0, 16) : s;
        }

        /**
         * Exactly four decimal numbers 0-255 without leading zeros, as the spec says; not the
         * {@code inet_aton} forms {@link IpLiterals#parse} accepts for targets.
         */
        static Optional<InetAddress> ipv4(String s) {
            String[] parts = s.split("\\.", -1);
            if (parts.length != 4) {
                return Optional.empty();
            }
            byte[] address = new byte[4];
            for (int i = 0; i < 4; i++) {
                int v = decimal(parts[i], 255);
                if (v < 0) {
                    return Optional.empty();
                }
                address[i] = (byte) v;
            }
            return Optional.of(byAddress(address));
        }

        /**
         * Hex groups and colons with at most one {@code ::}, 128 bits in all. A trailing dotted
         * quad ({@code ::ffff:192.0.2.1}) is accepted, as {@code inet_pton} does and as glibc's
         * {@code inet_ntop} writes a mapped address; brackets and zone ids are not.
         */
        static Optional<InetAddress> ipv6(String s) {
            if (s.indexOf(':') < 0) {
                return Optional.empty();
            }
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                boolean hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
                if (!hex && c != ':' && c != '.') {
                    return Optional.empty();
                }
            }
            return IpLiterals.parse(s);
        }

        /** Decimal 0-65535 without leading zeros; -1 if not. */
        static int port(String s) {
            return decimal(s, 65535);
        }

        private static int decimal(String s, int max) {
            if (s.isEmpty() || s.length() > 5 || (s.length() > 1 && s.charAt(0) == '0')) {
                return -1;
            }
            int v = 0;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c < '0' || c > '9') {
                    return -1;
                }
                v = v * 10 + (c - '0');
            }
            return v <= max ? v : -1;
        }
    }

    /** The binary form: signature, version and command, family and protocol, length, addresses, TLVs. */
    private static final class V2 {
        private final byte[] b;
        private final int off;
        private final int n;

        V2(byte[] b, int off, int n) {
            this.b = b;
            this.off = off;
            this.n = n;
        }

        private int u8(int at) {
            return b[off + at] & 0xff;
        }

        private int u16(int at) {
            return (u8(at) << 8) | u8(at + 1);
        }

        ProxyHeaderResult parse() {
            for (int i = 0; i < Math.min(n, V2_SIGNATURE.length); i++) {
                if (b[off + i] != V2_SIGNATURE[i]) {
                    return new Refused("not a PROXY v2 header: the 12-byte signature does not match");
                }
            }
            // The signature, byte 13 and byte 14 are each checked as soon as they arrive (the spec
            // asks for an early abort), so until then the next byte may already decide.
            if (n >= 13) {
                ProxyHeaderResult refused = checkVersionCommand();
                if (refused != null) {
                    return refused;
                }
            }
            if (n < 14) {
                return new NeedMore(n + 1);
            }
            boolean local = (u8(12) & 0x0f) == 0;
            if (!local) {
                int family = u8(13) >>> 4;
                int protocol = u8(13) & 0x0f;
                if (family > 3 || protocol > 2) {
                    return new Refused(String.format("PROXY v2 header has address family and protocol 0x%02x", u8(13)));
                }
            }
            if (n < 16) {
                return new NeedMore(16);
            }
            int length = u16(14);
            if (length > MAX_V2_LENGTH) {
                return new Refused("PROXY v2 header length " + length + " is over " + MAX_V2_LENGTH);
            }
            int total = 16 + length;
            if (n < total) {
                return new NeedMore(total);
            }
            if (local) {
                // The spec: for LOCAL "the receiver must accept this connection as valid and must use
                // the real connection endpoints and discard the protocol block including the family".
                // Nothing of the block is used, so nothing of it is read.
                return new Parsed(ProxyHeader.withoutAddress(2, Kind.LOCAL, "LOCAL", Optional.empty()), total);
            }
            int family = u8(13) >>> 4;
            int protocol = u8(13) & 0x0f;
            if (family == 0 || protocol == 0) {
                // UNSPEC: "the receiver should ignore address information"; with no family there is
                // no telling where addresses end and TLVs begin, so none of the block is read.
                return new Parsed(ProxyHeader.withoutAddress(2, Kind.UNKNOWN, "UNSPEC", Optional.empty()), total);
            }
            int addressLength = switch (family) {
                case 1 -> 12;
                case 2 -> 36;
                default -> 216;
            };
            String transport = switch (family) {
                case 1 -> protocol == 1 ? "TCP4" : "UDP4";
                case 2 -> protocol == 1 ? "TCP6" : "UDP6";
                default -> protocol == 1 ? "UNIX-STREAM" : "UNIX-DGRAM";
            };
            if (length < addressLength) {
                return new Refused("PROXY v2 length " + length + " is too short for " + transport
                        + " addresses (" + addressLength + " bytes)");
            }
            Tlvs tlvs = new Tlvs();
            String problem = tlvs.read(16 + addressLength, total);
            if (problem != null) {
                return new Refused(problem);
            }
            if (tlvs.crcAt >= 0 && !crcMatches(tlvs.crcAt, total)) {
                return new Refused("PROXY v2 header CRC32c does not match");
            }
            if (protocol != 1 || family == 3) {
                // UDP and AF_UNIX are valid v2 but carry no TCP client: the spec's fallback is UNSPEC.
                return new Parsed(ProxyHeader.withoutAddress(2, Kind.UNKNOWN, transport, tlvs.vpcEndpointId), total);
            }
            int addressBytes = family == 1 ? 4 : 16;
            InetAddress source = byAddress(Arrays.copyOfRange(b, off + 16, off + 16 + addressBytes));
            InetAddress destination = byAddress(Arrays.copyOfRange(b, off + 16 + addressBytes, off + 16 + 2 * addressBytes));
            int ports = 16 + 2 * addressBytes;
            return new Parsed(ProxyHeader.relayed(2, transport, new Endpoint(source, u16(ports)),
                    new Endpoint(destination, u16(ports + 2)), tlvs.vpcEndpointId), total);
        }

        /** Byte 13: version 2, command LOCAL or PROXY; null when it is sound. */
        private ProxyHeaderResult checkVersionCommand() {
            int versionCommand = u8(12);
            if (versionCommand >>> 4 != 2) {
                return new Refused("PROXY v2 header has version " + (versionCommand >>> 4) + ", not 2");
            }
            int command = versionCommand & 0x0f;
            if (command > 1) {
                return new Refused("PROXY v2 header has command " + command + ", not LOCAL (0) or PROXY (1)");
            }
            return null;
        }

        /**
         * The spec's procedure: the CRC32c of the whole header with the checksum's four bytes read
         * as zeros equals the checksum, sent in network byte order.
         */
        private boolean crcMatches(int at, int total) {
            long sent = ((long) u16(at) << 16) | u16(at + 2);
            CRC32C crc = new CRC32C();
            crc.update(b, off, at);
            crc.update(new byte[4]);
            crc.update(b, off + at + 4, total - at - 4);
            return crc.getValue() == sent;
        }

        /** The TLVs after the addresses: each one inside the header, the ones sallyport reads well formed. */
        private final class Tlvs {
            int crcAt = -1;
            Optional<String> vpcEndpointId = Optional.empty();

            /** @return null when every TLV is sound, else the reason to refuse */
            String read(int from, int total) {
                int at = from;
                while (at < total) {
                    if (total - at < 3) {
                        return "PROXY v2 TLV at byte " + at + " is cut off: " + (total - at)
                                + " bytes left, a TLV needs 3";
                    }
                    int type = u8(at);
                    int length = u16(at + 1);
                    int value = at + 3;
                    if (length > total - value) {
                        return String.format("PROXY v2 TLV 0x%02x at byte %d claims %d bytes; the header has %d left",
                                type, at, length, total - value);
                    }
                    String problem = switch (type) {
                        case TYPE_CRC32C -> crc(value, length);
                        case TYPE_AWS -> aws(value, length);
                        // ALPN, authority, NOOP, unique id, SSL (whose sub-TLVs are not read), NETNS,
                        // other vendors' and unassigned types: nothing sallyport uses.
                        default -> null;
                    };
                    if (problem != null) {
                        return problem;
                    }
                    at = value + length;
                }
                return null;
            }

            private String crc(int value, int length) {
                if (length != 4) {
                    return "PROXY v2 CRC32c TLV has " + length + " bytes, not 4";
                }
                if (crcAt >= 0) {
                    return "PROXY v2 header has two CRC32c TLVs";
                }
                crcAt = value;
                return null;
            }

            private String aws(int value, int length) {
                if (length == 0) {
                    return "PROXY v2 AWS TLV (0xea) is empty: it has no subtype";
                }
                if (u8(value) != SUBTYPE_AWS_VPCE_ID) {
                    return null; // another AWS subtype: nothing sallyport uses
                }
                if (vpcEndpointId.isPresent()) {
                    return "PROXY v2 header has two AWS VPC endpoint ids";
                }
                int idLength = length - 1;
                if (idLength == 0 || idLength > MAX_VPC_ENDPOINT_ID) {
                    return "PROXY v2 AWS VPC endpoint id has " + idLength + " bytes, not 1-" + MAX_VPC_ENDPOINT_ID;
                }
                for (int i = 0; i < idLength; i++) {
                    int c = u8(value + 1 + i);
                    if (c < 0x21 || c > 0x7e) {
                        return String.format("PROXY v2 AWS VPC endpoint id has a byte that is not printable ASCII (0x%02x)", c);
                    }
                }
                vpcEndpointId = Optional.of(new String(b, off + value + 1, idLength, StandardCharsets.US_ASCII));
                return null;
            }
        }
    }

    private static InetAddress byAddress(byte[] address) {
        try {
            // No host name is given or looked up; a mapped IPv6 address comes back as IPv4.
            return IpLiterals.canonical(InetAddress.getByAddress(address));
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // 4 or 16 bytes are always an address
        }
    }
}
