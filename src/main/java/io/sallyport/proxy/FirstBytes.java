package io.sallyport.proxy;

import io.sallyport.proxy.ProxyHeaderResult.NeedMore;
import io.sallyport.proxy.ProxyHeaderResult.Parsed;
import io.sallyport.proxy.ProxyHeaderResult.Refused;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * What the first bytes of a connection on the SSH port mean when {@code proxy_protocol.enabled} is
 * on: the whole decision, as a value, for the SSH layer to carry out.
 *
 * <ul>
 *   <li>From a peer in {@code trusted_sources}: a header is required. A relayed TCP header names the
 *       client; a v2 {@code LOCAL} header is the balancer's own health check, closed quietly; any
 *       other header (v1 {@code UNKNOWN}, v2 {@code UNSPEC}, {@code AF_UNIX}, UDP: no client address)
 *       and anything that is not a header are refused.
 *   <li>From any other peer: a connection that begins like a PROXY header ({@code PROXY } or the v2
 *       signature) is refused without being read further, it could only be a forged client
 *       address; anything else is a direct client, its bytes left for SSH.
 * </ul>
 */
public final class FirstBytes {
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);

    private FirstBytes() {}

    /** The decision for the bytes received so far. */
    public sealed interface Outcome {
        /** Not enough bytes to decide; nothing is wrong so far. */
        record Wait() implements Outcome {}

        /** A direct client (untrusted peer, no header): every byte is SSH's. */
        record Direct() implements Outcome {}

        /** A trusted peer relayed a client: the first {@code length} bytes were the header. */
        record Relayed(ProxyHeader header, int length) implements Outcome {
            public Relayed {
                Objects.requireNonNull(header, "header");
            }
        }

        /** A trusted peer's v2 LOCAL header (a health check): close without audit. */
        record Local() implements Outcome {}

        /** Close the connection and audit {@code reason}. */
        record Refuse(String reason) implements Outcome {
            public Refuse {
                Objects.requireNonNull(reason, "reason");
            }
        }
    }

    /**
     * Decides on {@code bytes[offset, offset + length)}, the first bytes the peer sent (all of them so
     * far, from the connection's first byte).
     *
     * @param trusted whether the TCP peer is in {@code proxy_protocol.trusted_sources}
     */
    public static Outcome decide(boolean trusted, byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        if (!trusted) {
            return untrusted(bytes, offset, length);
        }
        ProxyHeaderResult r = ProxyHeaderParser.parse(bytes, offset, length);
        if (r instanceof NeedMore) {
            return new Outcome.Wait();
        }
        if (r instanceof Refused refused) {
            return new Outcome.Refuse(refused.reason());
        }
        Parsed parsed = (Parsed) r;
        ProxyHeader h = parsed.header();
        return switch (h.kind()) {
            case RELAYED -> new Outcome.Relayed(h, parsed.length());
            case LOCAL -> new Outcome.Local();
            case UNKNOWN -> new Outcome.Refuse("PROXY v" + h.version() + " header (" + h.transport()
                    + ") carries no TCP client address");
        };
    }

    private static Outcome untrusted(byte[] b, int off, int n) {
        if (n == 0) {
            return new Outcome.Wait();
        }
        boolean v1 = startsWith(b, off, n, V1_PREFIX);
        boolean v2 = startsWith(b, off, n, ProxyHeaderParser.V2_SIGNATURE);
        if (!v1 && !v2) {
            return new Outcome.Direct();
        }
        if ((v1 && n >= V1_PREFIX.length) || (v2 && n >= ProxyHeaderParser.V2_SIGNATURE.length)) {
            return new Outcome.Refuse("a PROXY " + (v1 ? "v1" : "v2") + " header from a peer outside trusted_sources");
        }
        return new Outcome.Wait();
    }

    /** Whether the {@code n} bytes so far agree with {@code prefix} as far as both go. */
    private static boolean startsWith(byte[] b, int off, int n, byte[] prefix) {
        for (int i = 0; i < Math.min(n, prefix.length); i++) {
            if (b[off + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
