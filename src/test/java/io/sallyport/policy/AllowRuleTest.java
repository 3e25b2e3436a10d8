package io.sallyport.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sallyport.net.Cidr;
import io.sallyport.net.IpLiterals;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AllowRuleTest {

    private static InetAddress ip(String literal) {
        return IpLiterals.parse(literal).orElseThrow();
    }

    private static AllowRule.AddressRule address(String text) {
        return (AllowRule.AddressRule) AllowRule.parse(text);
    }

    private static AllowRule.NameRule name(String text) {
        return (AllowRule.NameRule) AllowRule.parse(text);
    }

    @Test
    void cidrRule() {
        AllowRule.AddressRule r = address("10.0.0.0/16:22");
        assertThat(r.block()).isEqualTo(Cidr.parse("10.0.0.0/16"));
        assertThat(r.text()).isEqualTo("10.0.0.0/16:22");
        assertThat(r.matches(ip("10.0.3.17"), 22)).isTrue();
        assertThat(r.matches(ip("10.0.3.17"), 2222)).isFalse();
        assertThat(r.matches(ip("10.1.3.17"), 22)).isFalse();
    }

    @Test
    void plainIpRuleIsABlockOfOne() {
        AllowRule.AddressRule r = address("10.0.3.17:22,2222");
        assertThat(r.block().prefix()).isEqualTo(32);
        assertThat(r.matches(ip("10.0.3.17"), 2222)).isTrue();
        assertThat(r.matches(ip("10.0.3.18"), 22)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"[fd00::/8]:22", "fd00::/8:22", " [fd00::/8]:22 "})
    void ipv6BlockWithOrWithoutBrackets(String text) {
        AllowRule.AddressRule r = address(text);
        assertThat(r.block()).isEqualTo(Cidr.parse("fd00::/8"));
        assertThat(r.matches(ip("fd12::1"), 22)).isTrue();
        assertThat(r.matches(ip("fe80::1"), 22)).isFalse();
        assertThat(r.matches(ip("fd12::1"), 23)).isFalse();
    }

    @Test
    void bracketedIpv6AddressRule() {
        AllowRule.AddressRule r = address("[fd00::17]:8000-8100");
        assertThat(r.block().prefix()).isEqualTo(128);
        assertThat(r.matches(ip("fd00::17"), 8080)).isTrue();
    }

    @Test
    void ipv4BlockMatchesAnIpv4MappedTarget() {
        assertThat(address("10.0.0.0/8:22").matches(ip("::ffff:10.0.3.17"), 22)).isTrue();
    }

    @Test
    void textIsKeptExactlyAsWritten() {
        assertThat(AllowRule.parse("*.Internal.Corp:22,2222").text()).isEqualTo("*.Internal.Corp:22,2222");
        assertThat(AllowRule.parse("[fd00::/8]:*").text()).isEqualTo("[fd00::/8]:*");
    }

    @Test
    void nameGlobMatchesNamesCaseInsensitively() {
        AllowRule.NameRule r = name("*.Internal.Corp.:22");
        assertThat(r.glob()).isEqualTo("*.internal.corp");
        assertThat(r.matches("db.internal.corp", 22)).isTrue();
        assertThat(r.matches("a.b.internal.corp", 22)).isTrue();
        assertThat(r.matches("db.internal.corp", 5432)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"internal.corp", "internal.corp.evil.com", "evilinternal.corp", "db.internal.corp.evil"})
    void nameGlobIsAnchoredAtBothEnds(String host) {
        assertThat(name("*.internal.corp:22").matches(host, 22)).isFalse();
    }

    @Test
    void questionMarkIsOneCharacterWithinALabel() {
        AllowRule.NameRule r = name("db-?.internal.corp:5432");
        assertThat(r.matches("db-1.internal.corp", 5432)).isTrue();
        assertThat(r.matches("db-10.internal.corp", 5432)).isFalse();
        assertThat(r.matches("db-.internal.corp", 5432)).isFalse();
        assertThat(r.matches("db-..internal.corp", 5432)).isFalse();
    }

    @Test
    void starSpansLabelsAndMayBeEmpty() {
        AllowRule.NameRule r = name("web*.internal.corp:22");
        assertThat(r.matches("web.internal.corp", 22)).isTrue();
        assertThat(r.matches("web-1.eu.internal.corp", 22)).isTrue();
        assertThat(r.matches("web_1.internal.corp", 22)).isFalse();
        assertThat(r.matches("api.internal.corp", 22)).isFalse();
    }

    @Test
    @Timeout(10) // a hang guard, not a benchmark: the answer takes microseconds
    void manyStarsAgainstALongHostileNameStillAnswerAtOnce() {
        // As a regular expression this glob backtracked for hours on such a name (10 s with five stars).
        AllowRule.NameRule r = name("*-*-*-*-*-*-*-*.internal.corp:22");
        String hostile = "a-".repeat(120) + "a.internal.cor";
        assertThat(r.matches(hostile, 22)).isFalse();
        assertThat(r.matches("a-b-c-d-e-f-g-h.internal.corp", 22)).isTrue();
    }

    @Test
    void exactNameRule() {
        AllowRule.NameRule r = name("bastion-target.internal.corp:22");
        assertThat(r.matches("bastion-target.internal.corp", 22)).isTrue();
        assertThat(r.matches("bastion-targetx.internal.corp", 22)).isFalse();
        assertThat(r.matches("bastion-targetxinternal.corp", 22)).isFalse();
    }

    @Test
    void digitsAndStarIsANameGlobNotAnAddress() {
        // Only a name can match it: policy never hands an address literal to a name rule.
        assertThat(AllowRule.parse("10.0.*:22")).isInstanceOf(AllowRule.NameRule.class);
    }

    @ParameterizedTest(name = "''{0}'' -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "10.0.0.0/16              | '10.0.0.0/16' is not HOST:PORTS (e.g. 10.0.0.0/16:22, *.internal.corp:22,2222)",
            "db.internal.corp         | 'db.internal.corp' is not HOST:PORTS (e.g. 10.0.0.0/16:22, *.internal.corp:22,2222)",
            "10.0.0.0/16:             | '10.0.0.0/16:' is not HOST:PORTS (e.g. 10.0.0.0/16:22, *.internal.corp:22,2222)",
            ":22                      | ':22' is not HOST:PORTS (e.g. 10.0.0.0/16:22, *.internal.corp:22,2222)",
            "*:22                     | '*' would match every host name; name the domain (e.g. *.internal.corp)",
            "*.*:22                   | '*.*' would match every host name; name the domain (e.g. *.internal.corp)",
            "?:*                      | '?' would match every host name; name the domain (e.g. *.internal.corp)",
            "db_1!.corp:22            | 'db_1!.corp' is not a host name pattern (letters, digits, '-', '.', '*', '?')",
            "-db.corp:22              | '-db.corp' is not a host name pattern (letters, digits, '-', '.', '*', '?')",
            "10.0.3.0/16:22           | '10.0.3.0/16' has host bits set; did you mean 10.0.0.0/16?",
            "10.0.0.0/33:22           | '10.0.0.0/33' has prefix /33, longer than 32 bits",
            "[fd00::/129]:22          | '[fd00::/129]' has prefix /129, longer than 128 bits",
            "fd00::/129:22            | 'fd00::/129' has prefix /129, longer than 128 bits",
            "2852039166:80            | '2852039166' is not an IP address or CIDR block",
            "10.0.0.0/8:0             | port 0 is outside 1-65535",
            "10.0.0.0/8:65536         | port 65536 is outside 1-65535",
            "10.0.0.0/8:100-50        | port range '100-50' runs backwards",
            "10.0.0.0/8:abc           | 'abc' in 'abc' is not a port (use 22, 22,2222, 8000-8100 or *)",
    })
    void badRulesAreRefusedWithAClearMessage(String text, String message) {
        assertThatThrownBy(() -> AllowRule.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\u212A*.x:22", "b\u00fccher.example:443", "db.\u0456nternal.corp:22", "db\u200b.corp:22"})
    void nonAsciiNamePatternIsRefusedNotFolded(String text) {
        assertThatThrownBy(() -> AllowRule.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageEndingWith("is not a host name pattern (ASCII letters, digits, '-', '.', '*', '?';"
                        + " an IDN is written as punycode, xn--...)");
    }
}
