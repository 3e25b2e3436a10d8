package io.sallyport.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CidrTest {

    private static InetAddress ip(String literal) {
        return IpLiterals.parse(literal).orElseThrow();
    }

    @ParameterizedTest
    @CsvSource({
            "10.0.0.0/16, 10.0.0.1, true",
            "10.0.0.0/16, 10.0.255.255, true",
            "10.0.0.0/16, 10.1.0.0, false",
            "10.0.3.17, 10.0.3.17, true",
            "10.0.3.17, 10.0.3.18, false",
            "10.0.3.17/32, 10.0.3.17, true",
            "0.0.0.0/0, 203.0.113.9, true",
            "172.16.0.0/12, 172.31.255.255, true",
            "172.16.0.0/12, 172.32.0.0, false",
            "fd00::/8, fd12:3456::1, true",
            "fd00::/8, fe00::1, false",
            "[fd00::/8], fd00::1, true",
            "[fd00::1], fd00::1, true",
            "fd00::1/128, fd00::2, false",
            "::/0, 2001:db8::1, true",
    })
    void blockContainsExactlyItsAddresses(String block, String address, boolean contained) {
        assertThat(Cidr.parse(block).contains(ip(address))).isEqualTo(contained);
    }

    @Test
    void ipv4MappedIpv6AddressIsMatchedByAnIpv4Block() throws Exception {
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 3, 17};
        InetAddress fromResolver = java.net.Inet6Address.getByAddress(null, mapped, -1);

        assertThat(Cidr.parse("10.0.0.0/16").contains(fromResolver)).isTrue();
        assertThat(Cidr.parse("10.0.0.0/16").contains(ip("::ffff:10.0.3.17"))).isTrue();
    }

    @Test
    void ipv4BlockNeverContainsIpv6AndTheOtherWayRound() {
        assertThat(Cidr.parse("0.0.0.0/0").contains(ip("fd00::1"))).isFalse();
        assertThat(Cidr.parse("::/0").contains(ip("10.0.0.1"))).isFalse();
        assertThat(Cidr.parse("0.0.0.0/0").isIpv4()).isTrue();
        assertThat(Cidr.parse("::/0").isIpv4()).isFalse();
    }

    @Test
    void hostBitsBelowThePrefixAreATypoNotAWiderBlock() {
        assertThatThrownBy(() -> Cidr.parse("10.0.3.0/16"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'10.0.3.0/16' has host bits set; did you mean 10.0.0.0/16?");
        assertThatThrownBy(() -> Cidr.parse("fd00::1/8"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has host bits set; did you mean");
    }

    @Test
    void prefixLongerThanTheAddressIsRefused() {
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'10.0.0.0/33' has prefix /33, longer than 32 bits");
        assertThatThrownBy(() -> Cidr.parse("fd00::/129"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'fd00::/129' has prefix /129, longer than 128 bits");
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.0/", "10.0.0.0/abc", "10.0.0.0/-1", "10.0.0.0/1000", "10.0.0.0/ 8"})
    void badPrefixLengthIsRefused(String text) {
        assertThatThrownBy(() -> Cidr.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad prefix length");
    }

    /** Config files must say what they mean: odd inet_aton spellings are for attackers, not operators. */
    @ParameterizedTest
    @ValueSource(strings = {"2852039166", "0xa9fea9fe", "10.1", "010.0.0.0/8", "10.0.0.256", "db.internal.corp",
            "", "/8", "::ffff:10.0.0.0/104", "fe80::1%eth0"})
    void onlyCanonicalSpellingsAreAcceptedInConfig(String text) {
        assertThatThrownBy(() -> Cidr.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not an IP address or CIDR block");
    }

    @Test
    void plainAddressIsABlockOfOne() {
        assertThat(Cidr.parse("10.0.3.17").prefix()).isEqualTo(32);
        assertThat(Cidr.parse("fd00::1").prefix()).isEqualTo(128);
        assertThat(Cidr.parse("10.0.3.17")).isEqualTo(Cidr.parse("10.0.3.17/32"));
    }

    @Test
    void equalBlocksAreEqualWhateverTheSpelling() {
        assertThat(Cidr.parse("[fd00::/8]")).isEqualTo(Cidr.parse("fd00:0::/8")).hasSameHashCodeAs(Cidr.parse("fd00::/8"));
        assertThat(Cidr.parse("10.0.0.0/8")).isNotEqualTo(Cidr.parse("10.0.0.0/16"));
        assertThat(Cidr.parse(" 10.0.0.0/8 ")).hasToString("10.0.0.0/8");
    }

    @Test
    void ofMasksHostBitsForBuiltInLists() {
        assertThat(Cidr.of(ip("10.0.3.17"), 16)).isEqualTo(Cidr.parse("10.0.0.0/16"));
        assertThat(Cidr.of(ip("::ffff:10.0.3.17"), 8)).isEqualTo(Cidr.parse("10.0.0.0/8"));
    }

    @Test
    void firstAddressOutsideFindsTheGapOrNothing() {
        java.util.List<Cidr> cover = java.util.List.of(Cidr.parse("10.0.0.0/9"), Cidr.parse("10.128.0.0/10"), Cidr.parse("fc00::/7"));

        assertThat(Cidr.parse("10.0.0.0/8").firstAddressOutside(cover)).contains(ip("10.192.0.0"));
        assertThat(Cidr.parse("10.0.0.0/9").firstAddressOutside(cover)).isEmpty();
        assertThat(Cidr.parse("10.64.0.0/10").firstAddressOutside(cover)).isEmpty();
        assertThat(Cidr.parse("0.0.0.0/0").firstAddressOutside(cover)).contains(ip("0.0.0.0"));
        assertThat(Cidr.parse("255.255.255.255").firstAddressOutside(cover)).contains(ip("255.255.255.255"));
        assertThat(Cidr.parse("fd00::/8").firstAddressOutside(cover)).isEmpty();
        assertThat(Cidr.parse("::/0").firstAddressOutside(cover)).contains(ip("::"));
        assertThat(Cidr.parse("ffff::/16").firstAddressOutside(java.util.List.of(Cidr.parse("ffff::/17"))))
                .contains(ip("ffff:8000::"));
    }

    @Test
    void containsAllAndOverlapsCompareWholeBlocks() {
        assertThat(Cidr.parse("10.0.0.0/8").containsAll(Cidr.parse("10.3.0.0/16"))).isTrue();
        assertThat(Cidr.parse("10.3.0.0/16").containsAll(Cidr.parse("10.0.0.0/8"))).isFalse();
        assertThat(Cidr.parse("10.3.0.0/16").overlaps(Cidr.parse("10.0.0.0/8"))).isTrue();
        assertThat(Cidr.parse("10.0.0.0/8").overlaps(Cidr.parse("11.0.0.0/8"))).isFalse();
        assertThat(Cidr.parse("0.0.0.0/0").containsAll(Cidr.parse("::/128"))).isFalse();
    }
}
