package io.sallyport.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every spelling {@code inet_aton}/{@code getaddrinfo} would turn into an address is seen as that address. */
class IpLiteralsTest {

    private static InetAddress address(String canonical) throws Exception {
        return InetAddress.getByName(canonical);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "169.254.169.254",
            "2852039166",               // one 32-bit number
            "0xa9fea9fe",               // hex
            "0XA9FEA9FE",
            "0251.0376.0251.0376",      // octal parts
            "169.254.43518",            // a.b.c, c is 16 bits
            "169.16689662",             // a.b, b is 24 bits
            "0xa9.0xfe.0xa9.0xfe",
            "0xa9.254.0251.0xfe",       // mixed bases
            "::ffff:169.254.169.254",   // IPv4-mapped IPv6
            "::ffff:a9fe:a9fe",
            "[::ffff:a9fe:a9fe]",
            "[::FFFF:A9FE:A9FE]",
            "[169.254.169.254]",
            "0:0:0:0:0:ffff:a9fe:a9fe",
    })
    void metadataAddressInEverySpellingIsTheMetadataAddress(String spelling) throws Exception {
        assertThat(IpLiterals.parse(spelling)).hasValue(address("169.254.169.254"));
        assertThat(IpLiterals.parse(spelling).orElseThrow()).isInstanceOf(Inet4Address.class);
        assertThat(IpLiterals.isLiteral(spelling)).isTrue();
    }

    /**
     * {@code getaddrinfo} (glibc's inet_aton) takes any number of leading zeros:
     * {@code 0x00000000a9fea9fe} and {@code 00000000000000025177524776} are 169.254.169.254 to it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"0x00000000a9fea9fe", "00000000000000025177524776", "0x0000000000a9.254.169.254"})
    void zeroPaddedSpellingsAreLiteralsToo(String spelling) throws Exception {
        assertThat(IpLiterals.parse(spelling)).hasValue(address("169.254.169.254"));
    }

    @ParameterizedTest
    @CsvSource({
            "10.0.3.17, 10.0.3.17",
            "167772945, 10.0.3.17",
            "10.0.785, 10.0.3.17",
            "012.0.03.021, 10.0.3.17",
            "0, 0.0.0.0",
            "0x7f000001, 127.0.0.1",
            "127.1, 127.0.0.1",
            "4294967295, 255.255.255.255",
    })
    void ipv4SpellingsNormalise(String spelling, String canonical) throws Exception {
        assertThat(IpLiterals.parse(spelling)).hasValue(address(canonical));
    }

    @ParameterizedTest
    @CsvSource({
            "fd00:ec2::254, fd00:ec2::254",
            "[fd00:ec2::254], fd00:ec2::254",
            "FD00:EC2::254, fd00:ec2::254",
            "::1, ::1",
            "::, ::",
            "64:ff9b::a9fe:a9fe, 64:ff9b::a9fe:a9fe",
            "64:ff9b::169.254.169.254, 64:ff9b::a9fe:a9fe",
    })
    void ipv6LiteralsWithAndWithoutBracketsStayIpv6(String spelling, String formatted) {
        InetAddress a = IpLiterals.parse(spelling).orElseThrow();
        assertThat(a).isInstanceOf(Inet6Address.class);
        assertThat(IpLiterals.format(a)).isEqualTo(formatted);
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {
            "db.internal.corp", "localhost", "metadata.google.internal",
            "1.2.3.4.5", "1..2.3", "1.2.3.", ".1.2.3",
            "256.1.1.1", "1.2.3.256", "1.2.65536", "1.16777216", "4294967296",
            "08", "0x1g", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n", "-1", "+1",
            "fe80::1%eth0", "[fe80::1%2]", "1:2", "::ffff:0xa9fea9fe", "fd00::/8", "[::1", "::1]",
    })
    void namesAndJunkAreNotLiterals(String text) {
        assertThat(IpLiterals.parse(text)).isEmpty();
        assertThat(IpLiterals.isLiteral(text)).isFalse();
    }

    /** Java reads these as numbers; no resolver reads them as an address. Found by IpLiteralsFuzzTest. */
    @ParameterizedTest
    @ValueSource(strings = {"\u07c7", "\u0661\u0666\u0669.\u0662\u0665\u0664.\u0661\u0666\u0669.\u0662\u0665\u0664",
            "\uff11\uff10.0.0.1", "0x\u0661"})
    void digitsOfOtherScriptsAreNotLiterals(String text) {
        assertThat(IpLiterals.parse(text)).isEmpty();
    }

    @Test
    void canonicalTurnsAnIpv4MappedAddressFromAResolverIntoIpv4() throws Exception {
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 169, (byte) 254, (byte) 169, (byte) 254};
        InetAddress fromResolver = Inet6Address.getByAddress("evil.example", mapped, -1);

        InetAddress c = IpLiterals.canonical(fromResolver);

        assertThat(c).isInstanceOf(Inet4Address.class).isEqualTo(address("169.254.169.254"));
    }

    @Test
    void canonicalLeavesOtherAddressesAlone() throws Exception {
        assertThat(IpLiterals.canonical(address("10.0.0.1"))).isEqualTo(address("10.0.0.1"));
        assertThat(IpLiterals.canonical(address("fd00::1"))).isEqualTo(address("fd00::1"));
        assertThat(IpLiterals.canonical(address("::a9fe:a9fe"))).isInstanceOf(Inet6Address.class);
    }

    @Test
    void formatDropsHostNamesAndZoneIds() throws Exception {
        InetAddress named = InetAddress.getByAddress("db.internal.corp", new byte[] {10, 0, 3, 17});
        InetAddress zoned = Inet6Address.getByAddress(null, address("fe80::1").getAddress(), 2);

        assertThat(IpLiterals.format(named)).isEqualTo("10.0.3.17");
        assertThat(IpLiterals.format(zoned)).isEqualTo("fe80::1");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "\uFF11\uFF10.\uFF10.\uFF13.\uFF11\uFF17",   // fullwidth 10.0.3.17
            "\u0661\u0660.0.3.17",                       // Arabic-Indic digits
            "\uFF10\uFF58a9fea9fe",                      // fullwidth 0xa9fea9fe
            "fd00::\uFF11", "::ffff:\uFF11.2.3.4",
    })
    void unicodeDigitsAreNotDigits(String text) {
        assertThat(IpLiterals.parse(text)).isEmpty();
    }

    /** These once went to the system resolver (the JDK looks up what does not start with a hex digit or ':'). */
    @ParameterizedTest
    @ValueSource(strings = {".a:b", ".1:2", "g::1", "::g", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:", "12345::", "::1.2.3", "::1.2.3.04", "1.2.3.4::", "::1.2.3.4:5", "1::2:3:4:5:6:7:8"})
    void malformedIpv6IsNotALiteral(String text) {
        assertThat(IpLiterals.parse(text)).isEmpty();
    }

    @ParameterizedTest
    @CsvSource({
            "1:2:3:4:5:6:7:8, 1:2:3:4:5:6:7:8",
            "1::8, 1::8",
            "1:2:3:4:5:6:7::, 1:2:3:4:5:6:7:0",
            "::2:3:4:5:6:7:8, 0:2:3:4:5:6:7:8",
            "::10.0.3.17, ::a00:311",
            "fd00:0:0:0:0:0:0:1, fd00::1",
            "0fd0::001, fd0::1",
    })
    void ipv6FormsAreParsedWithoutTheResolver(String text, String formatted) {
        assertThat(IpLiterals.parse(text).map(IpLiterals::format)).hasValue(formatted);
    }

    @Test
    void ipLiteralsNeverAsksTheResolver() throws Exception {
        // Pins the parser, not a behaviour the JDK hides: nothing in IpLiterals may look a string up.
        String source = java.nio.file.Files.readString(java.nio.file.Path.of("src/main/java/io/sallyport/net/IpLiterals.java"));
        assertThat(source).doesNotContain("getByName(", "getAllByName(");
    }
}
