package io.sallyport.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sallyport.proxy.ProxyHeaderResult.NeedMore;
import io.sallyport.proxy.ProxyHeaderResult.Parsed;
import io.sallyport.proxy.ProxyHeaderResult.Refused;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ProxyHeaderReaderTest {
    private static final byte[] SSH_GREETING = "SSH-2.0-OpenSSH_9.2\r\n".getBytes(StandardCharsets.US_ASCII);

    @Test
    void headerAndGreetingInOneChunkLeaveThePositionAtTheGreeting() {
        byte[] bytes = ProxyHeaderParserTest.captured("haproxy-v2-crc");
        ByteBuffer chunk = ByteBuffer.wrap(bytes);
        Parsed p = (Parsed) new ProxyHeaderReader().offer(chunk);
        assertThat(chunk.position()).isEqualTo(p.length()).isEqualTo(38);
        byte[] rest = new byte[chunk.remaining()];
        chunk.get(rest);
        assertThat(rest).isEqualTo(SSH_GREETING);
    }

    @Test
    void headerArrivingOneByteAtATimeIsParsedAtItsLastByte() {
        byte[] bytes = ProxyHeaderParserTest.captured("haproxy-v1-tcp6");
        ProxyHeaderReader reader = new ProxyHeaderReader();
        int headerLength = "PROXY TCP6 ::1 ::1 57048 17001\r\n".length();
        for (int i = 0; i < headerLength - 1; i++) {
            ByteBuffer one = ByteBuffer.wrap(bytes, i, 1);
            assertThat(reader.offer(one)).isInstanceOf(NeedMore.class);
            assertThat(one.hasRemaining()).isFalse();
        }
        ByteBuffer last = ByteBuffer.wrap(bytes, headerLength - 1, bytes.length - headerLength + 1);
        Parsed p = (Parsed) reader.offer(last);
        assertThat(p.length()).isEqualTo(headerLength);
        assertThat(last.position()).isEqualTo(headerLength);
        assertThat(Arrays.copyOfRange(bytes, last.position(), bytes.length)).isEqualTo(SSH_GREETING);
    }

    @Test
    void headerSplitAcrossChunksEndsInsideTheSecond() {
        byte[] header = V2Header.tcp4("203.0.113.7", "10.0.1.5", 51234, 22).vpce("vpce-08d2bf15fac5001c9").bytes();
        byte[] all = ProxyHeaderParserTest.concat(header, SSH_GREETING);
        ProxyHeaderReader reader = new ProxyHeaderReader();
        assertThat(reader.offer(ByteBuffer.wrap(all, 0, 20))).isEqualTo(new NeedMore(header.length));
        ByteBuffer second = ByteBuffer.wrap(all, 20, all.length - 20);
        Parsed p = (Parsed) reader.offer(second);
        assertThat(p.header().vpcEndpointId()).contains("vpce-08d2bf15fac5001c9");
        assertThat(second.position()).isEqualTo(header.length);
        assertThat(reader.held()).isEqualTo(all.length);
    }

    @Test
    void peerSendingAnEndlessStreamIsRefusedWithinTheBound() {
        ProxyHeaderReader reader = new ProxyHeaderReader();
        byte[] flood = new byte[1 << 20];
        Arrays.fill(flood, (byte) 'A');
        System.arraycopy("PROXY UNKNOWN ".getBytes(StandardCharsets.US_ASCII), 0, flood, 0, 14);
        assertThat(reader.offer(ByteBuffer.wrap(flood))).isInstanceOf(Refused.class);
        assertThat(reader.held()).isLessThanOrEqualTo(ProxyHeaderParser.MAX_HEADER);
    }

    @Test
    void readerAnswersOnceAndRefusesToBeFedAfterwards() {
        ProxyHeaderReader reader = new ProxyHeaderReader();
        assertThat(reader.offer(ByteBuffer.wrap(SSH_GREETING))).isInstanceOf(Refused.class);
        assertThatThrownBy(() -> reader.offer(ByteBuffer.wrap(SSH_GREETING))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void emptyChunkChangesNothing() {
        ProxyHeaderReader reader = new ProxyHeaderReader();
        assertThat(reader.offer(ByteBuffer.allocate(0))).isEqualTo(new NeedMore(1));
        assertThat(reader.held()).isZero();
    }
}
