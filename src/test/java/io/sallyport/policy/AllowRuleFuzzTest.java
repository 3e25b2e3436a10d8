package io.sallyport.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sallyport.net.HostName;
import io.sallyport.net.IpLiterals;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Timeout;

/**
 * {@link AllowRule#parse} reads the {@code allow} entries of roles; a name rule then matches host
 * names that clients choose. Input: the rule on the first line, a host name on the second.
 * Contract: a rule or an {@link IllegalArgumentException}; a rule parses back from its own text;
 * a name rule never matches every name, matches as its glob read as a regular expression would,
 * and answers at once whatever the glob (the timeout turns a slow match into a finding). Corpus and how to
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
            String name = HostName.normalise(lines[1]).orElse(null);
            if (name != null && !IpLiterals.isLiteral(lines[1])) {
                boolean on22 = n.matches(name, 22);
                boolean on5432 = n.matches(name, 5432);
                // The glob's meaning, as a regular expression; only for few stars, where backtracking stays cheap.
                if (n.glob().chars().filter(c -> c == '*').count() <= 3) {
                    boolean byRegex = Pattern.matches(regex(n.glob()), name);
                    assertThat(on22).as("%s against %s", n.glob(), name).isEqualTo(byRegex && n.ports().contains(22));
                    assertThat(on5432).as("%s against %s", n.glob(), name).isEqualTo(byRegex && n.ports().contains(5432));
                }
            }
        }
    }

    private static String regex(String glob) {
        StringBuilder re = new StringBuilder();
        for (char c : glob.toCharArray()) {
            re.append(switch (c) {
                case '*' -> "[a-z0-9.-]*";
                case '?' -> "[a-z0-9-]";
                case '.' -> "\\.";
                default -> String.valueOf(c);
            });
        }
        return re.toString();
    }
}
