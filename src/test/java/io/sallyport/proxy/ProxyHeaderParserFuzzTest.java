package io.sallyport.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sallyport.net.IpLiterals;
import io.sallyport.proxy.ProxyHeader.Endpoint;
import io.sallyport.proxy.ProxyHeader.Kind;
import io.sallyport.proxy.ProxyHeaderResult.NeedMore;
import io.sallyport.proxy.ProxyHeaderResult.Parsed;
import io.sallyport.proxy.ProxyHeaderResult.Refused;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Set;

/**
 * {@link ProxyHeaderParser} reads the first bytes of every connection behind a load balancer,
 * before anything is known about the peer. Its contract, checked on every input taken as the first
 * bytes of a connection: it answers (never throws), reads only the range it is given, never takes
 * more than its bounds, and a header is decided by its own bytes alone (the SSH bytes after it, or
 * how the bytes were split into reads, change nothing). Corpus and how to fuzz: docs/fuzzing.md.
 */
class ProxyHeaderParserFuzzTest {
    private static final Set<String> V1_TRANSPORTS = Set.of("TCP4", "TCP6", "UNKNOWN");
    private static final Set<String> V2_TRANSPORTS =
            Set.of("TCP4", "TCP6", "UDP4", "UDP6", "UNIX-STREAM", "UNIX-DGRAM", "UNSPEC", "LOCAL");

    @FuzzTest(maxDuration = "5m")
    void header(byte[] input) {
        int n = input.length;
        ProxyHeaderResult result = ProxyHeaderParser.parse(input);
        assertThat(result).isNotNull();

        // Bytes around the range are never read: framing the input in different bytes changes nothing.
        for (byte filler : new byte[] {0x00, (byte) 0xff, 0x0a, 'P'}) {
            byte[] framed = new byte[n + 8];
            Arrays.fill(framed, filler);
            System.arraycopy(input, 0, framed, 4, n);
            assertThat(ProxyHeaderParser.parse(framed, 4, n)).isEqualTo(result);
        }

        if (result instanceof NeedMore more) {
            assertThat(more.atLeast()).isGreaterThan(n).isLessThanOrEqualTo(ProxyHeaderParser.MAX_HEADER);
        } else if (result instanceof Refused refused) {
            assertThat(refused.reason()).isNotBlank().hasSizeLessThanOrEqualTo(200).matches("[\\x20-\\x7e]+");
        } else {
            Parsed parsed = (Parsed) result;
            int length = parsed.length();
            assertThat(length).isBetween(1, Math.min(n, ProxyHeaderParser.MAX_HEADER));
            checkHeader(parsed.header(), length);
            // The header is its own bytes: without what follows it, it parses the same; one byte short, it needs more.
            assertThat(ProxyHeaderParser.parse(input, 0, length)).isEqualTo(parsed);
            assertThat(ProxyHeaderParser.parse(input, 0, length - 1)).isInstanceOf(NeedMore.class);
        }

        // A "need at least m bytes" answer for a prefix is not contradicted before m bytes.
        int half = n / 2;
        if (ProxyHeaderParser.parse(input, 0, half) instanceof NeedMore more && n < more.atLeast()) {
            assertThat(result).isInstanceOf(NeedMore.class);
        }

        // The same bytes in reads of any size give the same answer, and a parsed header leaves
        // the position of the last read at the first byte after it.
        int step = n == 0 ? 1 : 1 + (input[n - 1] & 0x0f);
        ProxyHeaderReader reader = new ProxyHeaderReader();
        ProxyHeaderResult incremental = new NeedMore(1);
        int fed = 0;
        while (fed < n && incremental instanceof NeedMore) {
            ByteBuffer chunk = ByteBuffer.wrap(input, fed, Math.min(step, n - fed));
            int start = chunk.position();
            incremental = reader.offer(chunk);
            if (incremental instanceof Parsed parsed) {
                assertThat(chunk.position()).isEqualTo(parsed.length()).isBetween(start, start + Math.min(step, n - fed));
            } else if (incremental instanceof NeedMore) {
                assertThat(chunk.hasRemaining()).isFalse();
            }
            fed += Math.min(step, n - fed);
            assertThat(reader.held()).isLessThanOrEqualTo(ProxyHeaderParser.MAX_HEADER);
        }
        assertThat(incremental).isEqualTo(n == 0 ? new NeedMore(1) : result);
    }

    private static void checkHeader(ProxyHeader header, int length) {
        if (header.version() == 1) {
            assertThat(length).isLessThanOrEqualTo(ProxyHeaderParser.MAX_V1);
            assertThat(header.transport()).isIn(V1_TRANSPORTS);
            assertThat(header.kind()).isNotEqualTo(Kind.LOCAL);
            assertThat(header.vpcEndpointId()).isEmpty();
        } else {
            assertThat(length).isGreaterThanOrEqualTo(16);
            assertThat(header.transport()).isIn(V2_TRANSPORTS);
        }
        assertThat(header.kind() == Kind.RELAYED).isEqualTo(header.transport().startsWith("TCP"));
        header.source().ifPresent(ProxyHeaderParserFuzzTest::checkEndpoint);
        header.destination().ifPresent(ProxyHeaderParserFuzzTest::checkEndpoint);
        header.vpcEndpointId().ifPresent(id -> assertThat(id)
                .hasSizeBetween(1, ProxyHeaderParser.MAX_VPC_ENDPOINT_ID).matches("[\\x21-\\x7e]+"));
    }

    private static void checkEndpoint(Endpoint endpoint) {
        assertThat(IpLiterals.canonical(endpoint.address())).isEqualTo(endpoint.address());
        assertThat(endpoint.port()).isBetween(0, 65535);
        // The printed form is a literal: no host name came with the address.
        String ip = IpLiterals.format(endpoint.address());
        assertThat(IpLiterals.parse(ip)).contains(endpoint.address());
    }
}
