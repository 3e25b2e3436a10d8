package io.sallyport.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.proxy.ProxyHeader.Kind;
import io.sallyport.proxy.ProxyHeaderResult.NeedMore;
import io.sallyport.proxy.ProxyHeaderResult.Parsed;
import io.sallyport.proxy.ProxyHeaderResult.Refused;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ProxyHeaderParserTest {
    private static final byte[] SSH_GREETING = "SSH-2.0-OpenSSH_9.2\r\n".getBytes(StandardCharsets.US_ASCII);

    static ProxyHeaderResult parse(String text) {
        return ProxyHeaderParser.parse(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    static Parsed parsed(ProxyHeaderResult result) {
        assertThat(result).isInstanceOf(Parsed.class);
        return (Parsed) result;
    }

    static String refusal(ProxyHeaderResult result) {
        assertThat(result).isInstanceOf(Refused.class);
        String reason = ((Refused) result).reason();
        assertThat(reason).isNotBlank().matches("[\\x20-\\x7e]+");
        return reason;
    }

    /** A header written by haproxy 2.6 ({@code send-proxy}, {@code send-proxy-v2}) before an OpenSSH greeting. */
    static byte[] captured(String name) {
        try (InputStream in = ProxyHeaderParserTest.class.getResourceAsStream("ProxyHeaderParserFuzzTestInputs/header/" + name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static InetAddress ip(String literal) {
        return io.sallyport.net.IpLiterals.parse(literal).orElseThrow();
    }

    @Test
    void noBytesYetNeedsOne() {
        assertThat(ProxyHeaderParser.parse(new byte[0])).isEqualTo(new NeedMore(1));
    }

    @Test
    void sshClientConnectingWithoutTheProxyIsRefusedAtItsFirstByte() {
        assertThat(refusal(ProxyHeaderParser.parse(SSH_GREETING))).contains("SSH greeting");
        assertThat(ProxyHeaderParser.parse(SSH_GREETING, 0, 1)).isInstanceOf(Refused.class);
    }

    @Test
    void tlsOrHttpInsteadOfAHeaderIsRefused() {
        assertThat(refusal(ProxyHeaderParser.parse(new byte[] {0x16, 0x03, 0x01}))).contains("0x16");
        refusal(parse("GET / HTTP/1.1\r\n"));
    }

    @Nested
    class Version1 {
        @Test
        void specExampleIsRelayedAndEndsAtItsCrlf() {
            String line = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
            Parsed p = parsed(parse(line + "GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n"));
            assertThat(p.length()).isEqualTo(line.length());
            ProxyHeader h = p.header();
            assertThat(h.version()).isEqualTo(1);
            assertThat(h.kind()).isEqualTo(Kind.RELAYED);
            assertThat(h.transport()).isEqualTo("TCP4");
            assertThat(h.source()).contains(new ProxyHeader.Endpoint(ip("192.168.0.1"), 56324));
            assertThat(h.destination()).contains(new ProxyHeader.Endpoint(ip("192.168.0.11"), 443));
            assertThat(h.vpcEndpointId()).isEmpty();
        }

        @Test
        void haproxyLinesBeforeAnSshGreetingLeaveTheGreetingToSsh() {
            byte[] tcp4 = captured("haproxy-v1-tcp4");
            Parsed p4 = parsed(ProxyHeaderParser.parse(tcp4));
            assertThat(Arrays.copyOfRange(tcp4, p4.length(), tcp4.length)).isEqualTo(SSH_GREETING);
            assertThat(p4.header().source()).contains(new ProxyHeader.Endpoint(ip("127.0.0.1"), 59384));
            assertThat(p4.header().destination()).contains(new ProxyHeader.Endpoint(ip("127.0.0.1"), 17001));

            byte[] tcp6 = captured("haproxy-v1-tcp6");
            Parsed p6 = parsed(ProxyHeaderParser.parse(tcp6));
            assertThat(Arrays.copyOfRange(tcp6, p6.length(), tcp6.length)).isEqualTo(SSH_GREETING);
            assertThat(p6.header().transport()).isEqualTo("TCP6");
            assertThat(p6.header().source()).contains(new ProxyHeader.Endpoint(ip("::1"), 57048));
        }

        @Test
        void longestTcp6LineOfTheSpecIsAccepted() {
            String all = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
            String line = "PROXY TCP6 " + all + " " + all + " 65535 65535\r\n";
            assertThat(line).hasSize(104);
            Parsed p = parsed(parse(line));
            assertThat(p.length()).isEqualTo(104);
            assertThat(p.header().source().orElseThrow().port()).isEqualTo(65535);
        }

        @Test
        void unknownShortFormCarriesNoAddress() {
            Parsed p = parsed(parse("PROXY UNKNOWN\r\nSSH-2.0-x\r\n"));
            assertThat(p.length()).isEqualTo(15);
            assertThat(p.header().kind()).isEqualTo(Kind.UNKNOWN);
            assertThat(p.header().source()).isEmpty();
        }

        @Test
        void unknownWorstCaseOf107BytesIsAcceptedAndItsAddressesIgnored() {
            String all = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
            String line = "PROXY UNKNOWN " + all + " " + all + " 65535 65535\r\n";
            assertThat(line).hasSize(107);
            Parsed p = parsed(parse(line));
            assertThat(p.length()).isEqualTo(107);
            assertThat(p.header().kind()).isEqualTo(Kind.UNKNOWN);
            assertThat(p.header().destination()).isEmpty();
        }

        @Test
        void unknownFollowedByAnotherWordIsNotUnknown() {
            assertThat(refusal(parse("PROXY UNKNOWNX\r\n"))).contains("not TCP4, TCP6 or UNKNOWN");
        }

        @Test
        void lineWithoutCrlfIsRefusedAt107Bytes() {
            String line = "PROXY UNKNOWN " + "a".repeat(200);
            assertThat(ProxyHeaderParser.parse(line.getBytes(StandardCharsets.US_ASCII), 0, 106)).isEqualTo(new NeedMore(107));
            assertThat(refusal(ProxyHeaderParser.parse(line.getBytes(StandardCharsets.US_ASCII), 0, 107))).contains("no CRLF within 107");
            refusal(parse(line));
        }

        @Test
        void crlfEndingAtByte108IsRefused() {
            String line = "PROXY UNKNOWN " + "a".repeat(92) + "\r\n";
            assertThat(line).hasSize(108);
            assertThat(refusal(parse(line))).contains("no CRLF within 107");
            assertThat(refusal(parse(line.substring(0, 107)))).contains("no CRLF within 107");
        }

        @Test
        void partialLinesNeedMoreUntilTheCrlf() {
            String line = "PROXY TCP4 10.0.0.1 10.0.0.2 50000 22\r\n";
            byte[] b = line.getBytes(StandardCharsets.US_ASCII);
            for (int n = 1; n < b.length; n++) {
                assertThat(ProxyHeaderParser.parse(b, 0, n)).as("first %d bytes", n).isEqualTo(new NeedMore(n + 1));
            }
            assertThat(parsed(ProxyHeaderParser.parse(b)).length()).isEqualTo(b.length);
        }

        @Test
        void wrongPrefixIsRefusedBeforeTheLineEnds() {
            assertThat(refusal(parse("PROXX"))).contains("'PROXY '");
            refusal(parse("PROXY"  + "\t"));
            refusal(parse("proxy tcp4 10.0.0.1 10.0.0.2 1 2\r\n"));
        }

        @ParameterizedTest
        @ValueSource(strings = {
            "PROXY TCP4 10.0.0.1 10.0.0.2 50000 22\n",            // LF alone ends no line
            "PROXY TCP4 10.0.0.1 10.0.0.2 50000 22\r",            // CR then something else
            "PROXY TCP4 10.0.0.1\n10.0.0.2 50000 22\r\n",        // LF inside the line
            "PROXY TCP4 10.0.0.1 10.0.0.2 50000 22\r\r\n",        // CR CR LF
            "PROXY TCP4 10.0.0.1\r10.0.0.2 50000 22\r\n",        // CR inside the line
        })
        void loneCrOrLfIsRefused(String text) {
            String line = text.endsWith("\r") ? text + "X" : text;
            assertThat(refusal(parse(line))).containsAnyOf("CR without LF", "LF without CR");
        }

        @ParameterizedTest
        @ValueSource(strings = {
            "PROXY  TCP4 10.0.0.1 10.0.0.2 50000 22\r\n",         // two spaces after PROXY
            "PROXY TCP4  10.0.0.1 10.0.0.2 50000 22\r\n",         // two spaces after TCP4
            "PROXY TCP4 10.0.0.1 10.0.0.2  50000 22\r\n",
            "PROXY TCP4 10.0.0.1 10.0.0.2 50000 22 \r\n",         // trailing space
            " PROXY TCP4 10.0.0.1 10.0.0.2 50000 22\r\n",         // leading space
            "PROXY TCP4 10.0.0.1 10.0.0.2 50000\r\n",             // a field missing
            "PROXY TCP4 10.0.0.1 10.0.0.2 50000 22 22\r\n",       // a field too many
            "PROXY TCP4\r\n",
            "PROXY \r\n",
            "PROXY tcp4 10.0.0.1 10.0.0.2 50000 22\r\n",          // lower case
            "PROXY TCP5 10.0.0.1 10.0.0.2 50000 22\r\n",
            "PROXY UDP4 10.0.0.1 10.0.0.2 50000 22\r\n",
            "PROXY TCP4 10.0.0.1 10.0.0.2 50000 22\u00a0\r\n",    // not ASCII
        })
        void fieldsNotSeparatedExactlyAsTheGrammarSaysAreRefused(String line) {
            refusal(parse(line));
        }

        @Test
        void tabInsteadOfSpaceIsRefusedAsNotPrintable() {
            assertThat(refusal(parse("PROXY TCP4\t10.0.0.1 10.0.0.2 50000 22\r\n"))).contains("0x09");
        }

        @ParameterizedTest
        @ValueSource(strings = {
            "010.0.0.1",          // leading zero: octal to inet_aton
            "10.0.0.01",
            "10.000.0.1",
            "0x0a.0.0.1",         // hex
            "167772161",          // one number
            "10.1",               // two parts
            "10.0.1",
            "10.0.0.256",         // out of range
            "10.0.0.-1",
            "10.0.0.",
            ".10.0.0.1",
            "10..0.1",
            "::ffff:10.0.0.1",    // IPv6 in TCP4
            "localhost",          // a name is never looked up
            "１０.0.0.1",          // fullwidth digits
        })
        void tcp4AddressNotADottedQuadIsRefused(String address) {
            assertThat(refusal(parse("PROXY TCP4 " + address + " 10.0.0.2 50000 22\r\n")))
                    .satisfiesAnyOf(r -> assertThat(r).contains("source address"), r -> assertThat(r).contains("printable"));
            assertThat(refusal(parse("PROXY TCP4 10.0.0.2 " + address + " 50000 22\r\n")))
                    .satisfiesAnyOf(r -> assertThat(r).contains("destination address"), r -> assertThat(r).contains("printable"));
        }

        @ParameterizedTest
        @ValueSource(strings = {
            "10.0.0.1",           // IPv4 in TCP6
            "[::1]",              // brackets
            "fe80::1%eth0",       // zone id
            "1:2:3:4:5:6:7:8:9",  // 144 bits
            "1:2:3:4:5:6:7",      // 112 bits
            "1::2::3",            // two gaps
            "12345::1",           // five digits in a group
            "::ffff:010.0.0.1",   // leading zero in the mapped quad
            "g::1",
            "localhost",
        })
        void tcp6AddressNotIpv6IsRefused(String address) {
            assertThat(refusal(parse("PROXY TCP6 " + address + " ::1 50000 22\r\n"))).contains("source address");
        }

        @Test
        void mappedIpv6SourceIsItsIpv4Address() {
            Parsed p = parsed(parse("PROXY TCP6 ::ffff:10.0.3.17 ::ffff:10.0.0.2 50000 22\r\n"));
            assertThat(p.header().source().orElseThrow().address()).isInstanceOf(Inet4Address.class).isEqualTo(ip("10.0.3.17"));
        }

        @ParameterizedTest
        @ValueSource(strings = {"022", "00", "65536", "99999", "123456", "-1", "+22", "2a", ""})
        void portsOutOfRangeOrWithLeadingZerosAreRefused(String port) {
            assertThat(refusal(parse("PROXY TCP4 10.0.0.1 10.0.0.2 " + port + " 22\r\n"))).contains("source port");
            assertThat(refusal(parse("PROXY TCP4 10.0.0.1 10.0.0.2 50000 " + port + "\r\n"))).contains("destination port");
        }

        @Test
        void portZeroAndHighestPortAreWhatTheGrammarAllows() {
            Parsed p = parsed(parse("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n"));
            assertThat(p.header().source().orElseThrow().port()).isZero();
            assertThat(p.header().destination().orElseThrow().port()).isEqualTo(65535);
        }

        @Test
        void secondHeaderAfterTheFirstIsLeftToSsh() {
            // An NLB prepends its header to whatever the client sent, a forged header included.
            String first = "PROXY TCP4 203.0.113.7 10.0.0.2 50000 22\r\n";
            Parsed p = parsed(parse(first + "PROXY TCP4 10.0.0.99 10.0.0.2 1 22\r\n"));
            assertThat(p.length()).isEqualTo(first.length());
            assertThat(p.header().source().orElseThrow().address()).isEqualTo(ip("203.0.113.7"));
        }
    }

    @Nested
    class Version2 {
        @Test
        void haproxyTcp4HeaderIsRelayedAndTheGreetingLeftToSsh() {
            byte[] bytes = captured("haproxy-v2-tcp4");
            Parsed p = parsed(ProxyHeaderParser.parse(bytes));
            assertThat(p.length()).isEqualTo(28);
            assertThat(Arrays.copyOfRange(bytes, 28, bytes.length)).isEqualTo(SSH_GREETING);
            assertThat(p.header().version()).isEqualTo(2);
            assertThat(p.header().transport()).isEqualTo("TCP4");
            assertThat(p.header().source()).contains(new ProxyHeader.Endpoint(ip("127.0.0.1"), 58910));
            assertThat(p.header().destination()).contains(new ProxyHeader.Endpoint(ip("127.0.0.1"), 17002));
        }

        @Test
        void haproxyTcp6HeaderIsRelayed() {
            Parsed p = parsed(ProxyHeaderParser.parse(captured("haproxy-v2-tcp6")));
            assertThat(p.length()).isEqualTo(52);
            assertThat(p.header().source()).contains(new ProxyHeader.Endpoint(ip("::1"), 37150));
        }

        @Test
        void haproxyChecksumIsVerifiedAndItsEmptyUniqueIdSkipped() {
            byte[] bytes = captured("haproxy-v2-crc");
            Parsed p = parsed(ProxyHeaderParser.parse(bytes));
            assertThat(p.length()).isEqualTo(16 + 22);
            assertThat(p.header().source()).contains(new ProxyHeader.Endpoint(ip("127.0.0.1"), 53460));

            byte[] forged = bytes.clone();
            forged[19] = 9; // the source address 127.0.0.1 becomes 127.0.0.9
            assertThat(refusal(ProxyHeaderParser.parse(forged))).contains("CRC32c does not match");
        }

        @Test
        void nlbHeaderCarriesTheVpcEndpointId() {
            byte[] bytes = V2Header.tcp4("203.0.113.7", "10.0.1.5", 51234, 22).vpce("vpce-08d2bf15fac5001c9").bytes();
            Parsed p = parsed(ProxyHeaderParser.parse(concat(bytes, SSH_GREETING)));
            assertThat(p.length()).isEqualTo(bytes.length);
            assertThat(p.header().vpcEndpointId()).contains("vpce-08d2bf15fac5001c9");
            assertThat(p.header().source()).contains(new ProxyHeader.Endpoint(ip("203.0.113.7"), 51234));
        }

        @Test
        void ipv6SourceIsRelayedAndAMappedOneIsIpv4() {
            byte[] src = ip("2001:db8::7").getAddress();
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            mapped[12] = 10;
            mapped[15] = 1;
            Parsed p = parsed(ProxyHeaderParser.parse(V2Header.tcp6(src, mapped, 1, 22).crc().bytes()));
            assertThat(p.header().source()).contains(new ProxyHeader.Endpoint(ip("2001:db8::7"), 1));
            assertThat(p.header().destination().orElseThrow().address()).isEqualTo(ip("10.0.0.1"));
            assertThat(p.header().source().orElseThrow()).hasToString("[2001:db8::7]:1");
        }

        @Test
        void localCommandFromAHealthCheckIsLocalWhateverItsBlockHolds() {
            Parsed empty = parsed(ProxyHeaderParser.parse(V2Header.empty().versionCommand(0x20).familyProtocol(0x00).bytes()));
            assertThat(empty.length()).isEqualTo(16);
            assertThat(empty.header().kind()).isEqualTo(Kind.LOCAL);
            assertThat(empty.header().source()).isEmpty();

            // The spec: discard the block, family included; the length still says where SSH starts.
            byte[] withBlock = V2Header.empty().versionCommand(0x20).familyProtocol(0xff).raw(1, 2, 3).bytes();
            Parsed p = parsed(ProxyHeaderParser.parse(withBlock));
            assertThat(p.length()).isEqualTo(19);
            assertThat(p.header().kind()).isEqualTo(Kind.LOCAL);
        }

        @Test
        void unspecifiedFamilyIsUnknownAndItsBlockSkipped() {
            Parsed p = parsed(ProxyHeaderParser.parse(V2Header.empty().familyProtocol(0x00).raw(0xEA, 0, 0).bytes()));
            assertThat(p.length()).isEqualTo(19);
            assertThat(p.header().kind()).isEqualTo(Kind.UNKNOWN);
            assertThat(p.header().transport()).isEqualTo("UNSPEC");
        }

        @Test
        void udpAndUnixSocketsAreUnknownButTheirTlvsAreStillChecked() {
            Parsed udp = parsed(ProxyHeaderParser.parse(V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).familyProtocol(0x12).vpce("vpce-1").bytes()));
            assertThat(udp.header().kind()).isEqualTo(Kind.UNKNOWN);
            assertThat(udp.header().transport()).isEqualTo("UDP4");
            assertThat(udp.header().source()).isEmpty();
            assertThat(udp.header().vpcEndpointId()).contains("vpce-1");

            Parsed unix = parsed(ProxyHeaderParser.parse(V2Header.empty().familyProtocol(0x31).raw(new byte[216]).bytes()));
            assertThat(unix.length()).isEqualTo(16 + 216);
            assertThat(unix.header().transport()).isEqualTo("UNIX-STREAM");

            refusal(ProxyHeaderParser.parse(V2Header.empty().familyProtocol(0x31).raw(new byte[216]).raw(0x03, 0, 4).bytes()));
        }

        @Test
        void everyPrefixOfAHeaderNeedsMoreAndSaysHowMuch() {
            byte[] bytes = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).vpce("vpce-1").crc().bytes();
            for (int n = 1; n < bytes.length; n++) {
                assertThat(ProxyHeaderParser.parse(bytes, 0, n)).as("first %d bytes", n)
                        .isEqualTo(new NeedMore(n < 14 ? n + 1 : n < 16 ? 16 : bytes.length));
            }
            parsed(ProxyHeaderParser.parse(bytes));
        }

        @Test
        void needMoreNeverPromisesMoreBytesThanTheNextRefusalWaitsFor() {
            // Found by fuzzing: 13 bytes answered "at least 16", then byte 14 alone was refused.
            byte[] bad = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).familyProtocol(0x0d).bytes();
            assertThat(ProxyHeaderParser.parse(bad, 0, 13)).isEqualTo(new NeedMore(14));
            assertThat(refusal(ProxyHeaderParser.parse(bad, 0, 14))).contains("0x0d");
        }

        @Test
        void everyByteOfTheSignatureIsChecked() {
            byte[] good = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).bytes();
            for (int i = 1; i < 12; i++) {
                byte[] bad = good.clone();
                bad[i] ^= 0x20;
                assertThat(refusal(ProxyHeaderParser.parse(bad))).as("byte %d", i).contains("signature");
                assertThat(ProxyHeaderParser.parse(bad, 0, i + 1)).as("refused as soon as byte %d arrives", i).isInstanceOf(Refused.class);
            }
        }

        @ParameterizedTest
        @ValueSource(ints = {0x11, 0x31, 0x01, 0xf1, 0x22, 0x2f})
        void versionOtherThanTwoOrUnassignedCommandIsRefusedAtByte13(int versionCommand) {
            byte[] bad = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).versionCommand(versionCommand).bytes();
            assertThat(ProxyHeaderParser.parse(bad, 0, 13)).isInstanceOf(Refused.class);
        }

        @ParameterizedTest
        @ValueSource(ints = {0x41, 0xf1, 0x13, 0x1f, 0x03, 0x40})
        void unassignedFamilyOrProtocolIsRefusedAtByte14(int familyProtocol) {
            byte[] bad = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).familyProtocol(familyProtocol).bytes();
            assertThat(refusal(ProxyHeaderParser.parse(bad, 0, 14))).contains("family and protocol");
        }

        @Test
        void lengthOverTheBoundIsRefusedWithoutWaitingForTheBytes() {
            byte[] claim = V2Header.empty().length(0xffff).bytes();
            assertThat(refusal(ProxyHeaderParser.parse(claim))).contains("65535 is over 4080");
            byte[] justOver = V2Header.empty().length(ProxyHeaderParser.MAX_V2_LENGTH + 1).bytes();
            refusal(ProxyHeaderParser.parse(justOver));
        }

        @Test
        void headerOfExactlyTheBoundIsAccepted() {
            int padding = ProxyHeaderParser.MAX_V2_LENGTH - 12 - 3;
            byte[] bytes = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).tlv(0x04, new byte[padding]).bytes();
            assertThat(bytes).hasSize(ProxyHeaderParser.MAX_HEADER);
            assertThat(parsed(ProxyHeaderParser.parse(bytes)).length()).isEqualTo(ProxyHeaderParser.MAX_HEADER);
        }

        @Test
        void lengthShorterThanTheFamilysAddressesIsRefused() {
            byte[] tcp4 = V2Header.empty().familyProtocol(0x11).raw(new byte[8]).bytes();
            assertThat(refusal(ProxyHeaderParser.parse(tcp4))).contains("too short for TCP4 addresses (12 bytes)");
            // IPv4 addresses sent under the IPv6 family: 12 bytes where 36 are needed.
            byte[] mismatched = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).familyProtocol(0x21).bytes();
            assertThat(refusal(ProxyHeaderParser.parse(mismatched))).contains("too short for TCP6");
            byte[] unix = V2Header.empty().familyProtocol(0x31).raw(new byte[215]).bytes();
            refusal(ProxyHeaderParser.parse(unix));
        }

        @Test
        void ipv6AddressesSentUnderTheIpv4FamilyAreNotReadAsIpv4() {
            // 36 bytes under 0x11: the first 12 are read as IPv4 addresses and ports, the rest must be TLVs.
            byte[] bytes = V2Header.tcp6(new byte[16], new byte[16], 1, 2).familyProtocol(0x11).bytes();
            refusal(ProxyHeaderParser.parse(bytes));
        }

        @Test
        void tlvClaimingBytesPastTheEndIsRefused() {
            byte[] bytes = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).raw(0x04).u16(10).raw(1, 2, 3).bytes();
            assertThat(refusal(ProxyHeaderParser.parse(bytes))).contains("claims 10 bytes; the header has 3 left");
            // The bytes after the header hold enough for the claim: they are SSH's, not the TLV's.
            assertThat(refusal(ProxyHeaderParser.parse(concat(bytes, SSH_GREETING)))).contains("claims 10 bytes");
        }

        @ParameterizedTest
        @ValueSource(ints = {1, 2})
        void tlvHeaderCutOffIsRefused(int trailing) {
            V2Header h = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2);
            for (int i = 0; i < trailing; i++) {
                h.raw(0x04);
            }
            assertThat(refusal(ProxyHeaderParser.parse(h.bytes()))).contains("cut off");
        }

        @Test
        void zeroLengthTlvsAreSkipped() {
            byte[] bytes = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2)
                    .tlv(0x04, new byte[0]).tlv(0x05, new byte[0]).tlv(0xE0, new byte[0]).tlv(0xFF, new byte[0]).bytes();
            assertThat(parsed(ProxyHeaderParser.parse(bytes)).length()).isEqualTo(bytes.length);
        }

        @Test
        void sslTlvIsSkippedWithoutReadingItsSubTlvs() {
            // client=1, verify=0, then a sub-TLV claiming 0xffff bytes, and a VPC endpoint TLV nested inside.
            byte[] ssl = {0x01, 0, 0, 0, 0, 0x21, (byte) 0xff, (byte) 0xff, (byte) 0xEA, 0, 3, 0x01, 'x', 'y'};
            byte[] bytes = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).tlv(0x20, ssl).bytes();
            Parsed p = parsed(ProxyHeaderParser.parse(bytes));
            assertThat(p.header().vpcEndpointId()).as("only a top-level AWS TLV counts").isEmpty();
        }

        @Test
        void repeatedUnknownTlvsAreSkipped() {
            byte[] bytes = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2)
                    .tlv(0x02, "a.example".getBytes(StandardCharsets.US_ASCII)).tlv(0x02, "b.example".getBytes(StandardCharsets.US_ASCII))
                    .tlv(0xEE, new byte[] {1, 2, 3, 4, 5}).tlv(0xEE, new byte[] {1}).bytes();
            parsed(ProxyHeaderParser.parse(bytes));
        }

        @Test
        void twoVpcEndpointIdsAreRefused() {
            byte[] bytes = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).vpce("vpce-aaa").vpce("vpce-bbb").bytes();
            assertThat(refusal(ProxyHeaderParser.parse(bytes))).contains("two AWS VPC endpoint ids");
        }

        @Test
        void otherAwsSubtypesAreSkipped() {
            byte[] bytes = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).tlv(0xEA, new byte[] {0x02, 0, 1, 2}).vpce("vpce-1").bytes();
            assertThat(parsed(ProxyHeaderParser.parse(bytes)).header().vpcEndpointId()).contains("vpce-1");
        }

        @Test
        void awsTlvWithoutSubtypeIsRefused() {
            byte[] bytes = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).tlv(0xEA, new byte[0]).bytes();
            assertThat(refusal(ProxyHeaderParser.parse(bytes))).contains("no subtype");
        }

        @ParameterizedTest
        @ValueSource(strings = {"", "vpce-\u0000", "vpce-\u001b[31m", "vpce 1", "vpce-\u00e9", "vpce-\n"})
        void vpcEndpointIdThatIsNotPrintableAsciiIsRefused(String id) {
            byte[] bytes = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).vpce(id).bytes();
            assertThat(refusal(ProxyHeaderParser.parse(bytes))).contains("VPC endpoint id");
        }

        @Test
        void vpcEndpointIdOverTheBoundIsRefused() {
            String longest = "vpce-" + "0".repeat(ProxyHeaderParser.MAX_VPC_ENDPOINT_ID - 5);
            assertThat(parsed(ProxyHeaderParser.parse(V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).vpce(longest).bytes()))
                    .header().vpcEndpointId()).contains(longest);
            byte[] bytes = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).vpce(longest + "0").bytes();
            assertThat(refusal(ProxyHeaderParser.parse(bytes))).contains("65 bytes, not 1-64");
        }

        @Test
        void checksumOfTheWrongSizeOrTwiceIsRefused() {
            byte[] three = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).tlv(0x03, new byte[3]).bytes();
            assertThat(refusal(ProxyHeaderParser.parse(three))).contains("3 bytes, not 4");
            byte[] twice = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).crc().tlv(0x03, new byte[4]).bytes();
            assertThat(refusal(ProxyHeaderParser.parse(twice))).contains("two CRC32c");
        }

        @Test
        void zeroChecksumIsCheckedLikeAnyOther() {
            byte[] zero = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).tlv(0x03, new byte[4]).bytes();
            assertThat(refusal(ProxyHeaderParser.parse(zero))).contains("CRC32c does not match");
        }

        @Test
        void checksumCoversTheTlvsAfterIt() {
            byte[] bytes = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).crc().vpce("vpce-good").bytes();
            assertThat(parsed(ProxyHeaderParser.parse(bytes)).header().vpcEndpointId()).contains("vpce-good");
            bytes[bytes.length - 1] = 'x';
            refusal(ProxyHeaderParser.parse(bytes));
        }

        @Test
        void parserReadsOnlyTheRangeItIsGiven() {
            byte[] header = V2Header.tcp4("10.0.0.1", "10.0.0.2", 1, 2).vpce("vpce-1").bytes();
            byte[] framed = new byte[header.length + 20];
            Arrays.fill(framed, (byte) 0xEA);
            System.arraycopy(header, 0, framed, 10, header.length);
            Parsed p = parsed(ProxyHeaderParser.parse(framed, 10, header.length));
            assertThat(p.length()).isEqualTo(header.length);
            assertThat(ProxyHeaderParser.parse(framed, 10, header.length - 1)).isEqualTo(new NeedMore(header.length));
        }
    }
}
