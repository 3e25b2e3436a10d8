package io.sallyport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.net.Cidr;
import io.sallyport.net.IpLiterals;
import io.sallyport.policy.AllowRule;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Host patterns are exact: never a host or address the rule does not allow, and all the addresses it does. */
class HostPatternsTest {

    private static List<String> patterns(String rule) {
        return HostPatterns.of(AllowRule.parse(rule)).orElseThrow();
    }

    private static boolean anyMatches(List<String> patterns, String text) {
        return patterns.stream().anyMatch(p -> HostPatterns.sshMatches(p, text));
    }

    @Test
    void octetAlignedBlocksAreOnePattern() {
        assertThat(patterns("10.0.0.0/8:22")).containsExactly("10.*");
        assertThat(patterns("10.0.0.0/16:22")).containsExactly("10.0.*");
        assertThat(patterns("10.0.3.0/24:22,5432")).containsExactly("10.0.3.*");
        assertThat(patterns("10.0.3.17:22")).containsExactly("10.0.3.17");
        assertThat(patterns("10.0.3.17/32:22")).containsExactly("10.0.3.17");
    }

    @Test
    void otherPrefixesBecomeTheAlignedBlocksTheyHold() {
        assertThat(patterns("172.16.0.0/12:22")).hasSize(16).first().isEqualTo("172.16.*");
        assertThat(patterns("172.16.0.0/12:22")).last().isEqualTo("172.31.*");
        assertThat(patterns("10.0.2.0/23:22")).containsExactly("10.0.2.*", "10.0.3.*");
        assertThat(patterns("192.168.1.16/28:22")).hasSize(16).contains("192.168.1.16", "192.168.1.31");
    }

    @Test
    void blocksNeedingMoreThanSixteenPatternsHaveNone() {
        assertThat(HostPatterns.of(AllowRule.parse("10.0.0.0/9:22"))).isEmpty();
        assertThat(HostPatterns.of(AllowRule.parse("10.0.3.0/25:22"))).isEmpty();
        assertThat(HostPatterns.ofBlock("0.0.0.0/0")).isEmpty();
        assertThat(HostPatterns.ofBlock("8.0.0.0/7")).isEmpty();
    }

    @Test
    void ipv6BlocksHaveNone() {
        assertThat(HostPatterns.of(AllowRule.parse("[fd00::/16]:22"))).isEmpty();
        assertThat(HostPatterns.of(AllowRule.parse("[fd00::5]:22"))).isEmpty();
    }

    @Test
    void everyAddressMatchedIsInTheBlockAndEveryAddressInTheBlockIsMatched() throws Exception {
        Random random = new Random(42);
        List<String> rules = List.of("10.0.0.0/8", "10.0.0.0/16", "10.0.3.0/24", "172.16.0.0/12", "10.0.2.0/23",
                "192.168.1.16/28", "192.168.0.0/20", "10.0.3.17/32", "100.64.0.0/12");
        for (String r : rules) {
            Cidr block = Cidr.parse(r);
            List<String> patterns = HostPatterns.ofBlock(block.toString()).orElseThrow();
            byte[] base = InetAddress.getByName(r.substring(0, r.indexOf('/'))).getAddress();
            for (int i = 0; i < 2_000; i++) {
                byte[] a = new byte[4];
                random.nextBytes(a);
                if (i % 2 == 0) {
                    // half of them near the block, so both sides of each edge are tried
                    a[0] = base[0];
                    a[1] = i % 4 == 0 ? base[1] : (byte) (base[1] + random.nextInt(3) - 1);
                    a[2] = i % 8 == 0 ? base[2] : (byte) (base[2] + random.nextInt(33) - 16);
                }
                InetAddress address = InetAddress.getByAddress(a);
                String text = address.getHostAddress();
                assertThat(anyMatches(patterns, text)).as(r + " vs " + text).isEqualTo(block.contains(address));
            }
        }
    }

    @Test
    void noSpellingOfAnAddressOutsideTheBlockMatches() {
        // inet_aton spellings the bastion reads as addresses: octal, hex, fewer parts.
        List<String> spellings = List.of("10.0.3", "10.0.0x3.1", "10.0.03.1", "10.0.65535", "10.1", "10.0.256.1",
                "10.00.3.1", "010.0.3.1", "0xa.0.3.1", "167772161", "10.0.3.17.1", "10.0.3.017", "10.0.3.0x11",
                "10.0", "10.", "10.0.", "10.0.3.", "10.0.1.1", "10.0.4.1");
        for (String r : List.of("10.0.0.0/8", "10.0.0.0/16", "10.0.3.0/24", "10.0.2.0/23", "10.0.3.17/32")) {
            Cidr block = Cidr.parse(r);
            List<String> patterns = HostPatterns.ofBlock(block.toString()).orElseThrow();
            for (String s : spellings) {
                Optional<InetAddress> address = IpLiterals.parse(s);
                if (anyMatches(patterns, s) && address.isPresent()) {
                    assertThat(block.contains(address.get())).as(r + " pattern matched " + s + " = " + address.get()).isTrue();
                }
            }
        }
    }

    @Test
    void aNameGlobIsItsOwnPatternAndMatchesTheSameNames() {
        assertThat(patterns("*.internal.corp:22")).containsExactly("*.internal.corp");
        assertThat(patterns("DB.Internal.Corp.:5432")).containsExactly("db.internal.corp");
        AllowRule.NameRule rule = (AllowRule.NameRule) AllowRule.parse("*.internal.corp:22");
        for (String name : List.of("db.internal.corp", "a.b.internal.corp", "internal.corp", "db.internal.corp.evil.com",
                "dbinternal.corp", "x.internal.corpx")) {
            assertThat(HostPatterns.sshMatches("*.internal.corp", name)).as(name).isEqualTo(rule.matches(name, 22));
        }
    }

    @Test
    void aGlobWithQuestionMarkHasNoPatternBecauseOpenSshsQuestionMarkMatchesADot() {
        assertThat(HostPatterns.sshMatches("db?.corp", "db..corp")).isTrue();
        assertThat(HostPatterns.of(AllowRule.parse("web?.internal.corp:22"))).isEmpty();
    }

    @Test
    void aGlobThatCouldMatchTheTextOfAnAddressHasNoPattern() {
        // A name rule never allows an address; 10.* as a Host pattern would send 10.1.2.3 to the bastion as allowed.
        assertThat(HostPatterns.of(AllowRule.parse("10.*:22"))).isEmpty();
        assertThat(HostPatterns.of(AllowRule.parse("*.cafe:22"))).isEmpty();
        assertThat(HostPatterns.of(AllowRule.parse("*.0x0a:22"))).isEmpty();
        assertThat(HostPatterns.of(AllowRule.parse("*.corp:22"))).isPresent();
    }

    @Test
    void sshMatchingIsOpenSshs() {
        assertThat(HostPatterns.sshMatches("10.0.*", "10.0.3.17")).isTrue();
        assertThat(HostPatterns.sshMatches("10.0.*", "10.00.3.17")).isFalse();
        assertThat(HostPatterns.sshMatches("1.*", "10.0.0.1")).isFalse();
        assertThat(HostPatterns.sshMatches("*", "")).isTrue();
        assertThat(HostPatterns.sshMatches("a*b*c", "axxbyyc")).isTrue();
        assertThat(HostPatterns.sshMatches("a*b*c", "axxbyy")).isFalse();
    }
}
