package io.sallyport.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sallyport.net.IpLiterals;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Timeout;

/**
 * {@link AllowRule#parse} reads the {@code allow} entries of roles; a name rule then matches host
 * names that clients choose. Input: the rule on the first line, a host name on the second.
 * Contract: a rule or an {@link IllegalArgumentException}; a rule parses back from its own text;
 * a name rule never matches every name, and matching a client's name takes time linear in its
 * length whatever the glob (the timeout turns a slow match into a finding). Corpus and how to
 * fuzz: docs/fuzzing.md.
 */
class AllowRuleFuzzTest {

    @FuzzTest(maxDuration = "5m")
    @Timeout(10)
    void rule(byte[] input) {
        String[] lines = new String(input, StandardCharsets.UTF_8).split("\n", 2);
        AllowRule rule;
        try {
            rule = AllowRule.parse(lines[0]);
        } catch (IllegalArgumentException refused) {
            assertThat(refused.getMessage()).isNotBlank();
            return;
        }
        AllowRule again = AllowRule.parse(rule.text());
        assertThat(again.text()).isEqualTo(rule.text());
        assertThat(again.getClass()).isEqualTo(rule.getClass());
        if (rule instanceof AllowRule.AddressRule a) {
            assertThat(((AllowRule.AddressRule) again).block()).isEqualTo(a.block());
            return;
        }
        AllowRule.NameRule n = (AllowRule.NameRule) rule;
        // "*:22" is refused as matching everything; no accepted glob may match every name.
        assertThat(n.glob()).matches(".*[a-z0-9-].*");
        if (lines.length > 1) {
            String name = ForwardingPolicy.normaliseName(lines[1]);
            if (name != null && !IpLiterals.isLiteral(lines[1])) {
                for (int port : new int[] {22, 80, 5432}) {
                    n.matches(name, port);
                }
            }
        }
    }
}
