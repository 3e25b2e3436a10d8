package io.sallyport.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.proxy.FirstBytes.Outcome;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class FirstBytesTest {
    private static final byte[] SSH = "SSH-2.0-OpenSSH_9.2p1\r\n".getBytes(StandardCharsets.US_ASCII);

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static Outcome trusted(byte[] b) {
        return FirstBytes.decide(true, b, 0, b.length);
    }

    private static Outcome untrusted(byte[] b) {
        return FirstBytes.decide(false, b, 0, b.length);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Nested
    class FromATrustedPeer {
        @Test
        void aV1HeaderNamesTheClientAndLeavesTheSshBytes() {
            byte[] header = ascii("PROXY TCP4 203.0.113.7 10.0.0.5 51234 22\r\n");
            Outcome o = trusted(concat(header, SSH));
            assertThat(o).isInstanceOf(Outcome.Relayed.class);
            Outcome.Relayed r = (Outcome.Relayed) o;
            assertThat(r.length()).isEqualTo(header.length);
            assertThat(r.header().source().orElseThrow().toString()).isEqualTo("203.0.113.7:51234");
        }

        @Test
        void aV2HeaderWithAVpcEndpointKeepsTheEndpointId() {
            byte[] header = V2Header.tcp4("198.51.100.9", "10.0.0.5", 40000, 22).vpce("vpce-0123456789abcdef0").bytes();
            Outcome.Relayed r = (Outcome.Relayed) trusted(concat(header, SSH));
            assertThat(r.length()).isEqualTo(header.length);
            assertThat(r.header().source().orElseThrow().toString()).isEqualTo("198.51.100.9:40000");
            assertThat(r.header().vpcEndpointId()).contains("vpce-0123456789abcdef0");
        }

        @Test
        void aHeaderCutShortWaitsForTheRest() {
            byte[] header = ascii("PROXY TCP4 203.0.113.7 10.0.0.5 51234 22\r\n");
            assertThat(FirstBytes.decide(true, header, 0, 20)).isInstanceOf(Outcome.Wait.class);
            assertThat(FirstBytes.decide(true, header, 0, 0)).isInstanceOf(Outcome.Wait.class);
        }

        @Test
        void aTrustedPeerWithoutAHeaderIsRefused() {
            assertThat(trusted(SSH)).isInstanceOf(Outcome.Refuse.class);
        }

        @Test
        void aMalformedV1HeaderIsRefused() {
            assertThat(trusted(ascii("PROXY TCP4 203.0.113.7  10.0.0.5 51234 22\r\n"))).isInstanceOf(Outcome.Refuse.class);
        }

        @Test
        void aMalformedV2HeaderIsRefused() {
            assertThat(trusted(V2Header.tcp4("198.51.100.9", "10.0.0.5", 40000, 22).versionCommand(0x31).bytes()))
                    .isInstanceOf(Outcome.Refuse.class);
        }

        @Test
        void aLocalHeaderIsTheBalancersHealthCheck() {
            assertThat(trusted(V2Header.empty().versionCommand(0x20).familyProtocol(0x00).bytes()))
                    .isInstanceOf(Outcome.Local.class);
        }

        @Test
        void aHeaderWithoutAClientAddressIsRefused() {
            Outcome o = trusted(ascii("PROXY UNKNOWN\r\n"));
            assertThat(o).isInstanceOf(Outcome.Refuse.class);
            assertThat(((Outcome.Refuse) o).reason()).contains("no TCP client address");
        }
    }

    @Nested
    class FromAnyOtherPeer {
        @Test
        void anSshClientIsDirectAtItsFirstByte() {
            assertThat(FirstBytes.decide(false, SSH, 0, 1)).isInstanceOf(Outcome.Direct.class);
        }

        @Test
        void aV1HeaderIsRefusedOnceItsPrefixIsSeen() {
            byte[] header = ascii("PROXY TCP4 203.0.113.7 10.0.0.5 51234 22\r\n");
            assertThat(FirstBytes.decide(false, header, 0, 5)).isInstanceOf(Outcome.Wait.class);
            assertThat(FirstBytes.decide(false, header, 0, 6)).isInstanceOf(Outcome.Refuse.class);
        }

        @Test
        void aV2SignatureIsRefused() {
            byte[] header = V2Header.tcp4("198.51.100.9", "10.0.0.5", 40000, 22).bytes();
            assertThat(FirstBytes.decide(false, header, 0, 11)).isInstanceOf(Outcome.Wait.class);
            Outcome o = untrusted(header);
            assertThat(o).isInstanceOf(Outcome.Refuse.class);
            assertThat(((Outcome.Refuse) o).reason()).contains("outside trusted_sources");
        }

        @Test
        void bytesThatOnlyBeginLikeAHeaderAreSsh() {
            assertThat(untrusted(ascii("PROXZ"))).isInstanceOf(Outcome.Direct.class);
            assertThat(untrusted(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0B}))
                    .isInstanceOf(Outcome.Direct.class);
        }

        @Test
        void anOffsetIntoALargerBufferIsRespected() {
            byte[] b = concat(ascii("xx"), SSH);
            assertThat(FirstBytes.decide(false, b, 2, SSH.length)).isInstanceOf(Outcome.Direct.class);
            byte[] h = concat(ascii("SS"), ascii("PROXY TCP4 203.0.113.7 10.0.0.5 51234 22\r\n"));
            assertThat(FirstBytes.decide(true, h, 2, h.length - 2)).isInstanceOf(Outcome.Relayed.class);
        }
    }
}
