package io.sallyport.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sallyport.net.Cidr;
import io.sallyport.net.DenyList;
import io.sallyport.net.HostName;
import io.sallyport.net.IpLiterals;
import io.sallyport.net.TargetResolver;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Timeout;

/**
 * The target of a {@code direct-tcpip} request, as a client sends it, through
 * {@link ForwardingPolicy#decide} with a fake resolver (no DNS in a fuzz test). Input: the host on
 * the first line, the port on the second, then the addresses the resolver answers for any name
 * (none: the name does not resolve).
 *
 * <p>Contract: a decision, never an exception; a name is resolved at most once, and only a valid
 * name (never a literal); an allowed tunnel goes to an address that is not denied, that the user's
 * rule covers, and, for a name, that the resolver answered and that lies in
 * {@code private_networks}. Corpus and how to fuzz: docs/fuzzing.md.
 */
class ForwardingPolicyFuzzTest {
    private static final List<String> ROLES = List.of("ops", "dev");
    private static final InetAddress OWN = IpLiterals.parse("10.0.0.5").orElseThrow();
    private static final List<Cidr> PRIVATE = List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00::/8"));

    @FuzzTest(maxDuration = "5m")
    @Timeout(10)
    void target(byte[] input) {
        String[] lines = new String(input, StandardCharsets.UTF_8).split("\n", -1);
        String host = lines[0];
        int port = lines.length > 1 && lines[1].matches("-?[0-9]{1,9}") ? Integer.parseInt(lines[1]) : 22;
        List<InetAddress> answers = new ArrayList<>();
        for (int i = 2; i < lines.length; i++) {
            IpLiterals.parse(lines[i]).ifPresent(answers::add);
        }
        List<String> lookups = new ArrayList<>();
        TargetResolver resolver = name -> {
            lookups.add(name);
            if (answers.isEmpty()) {
                throw new UnknownHostException(name);
            }
            return List.copyOf(answers);
        };

        Decision decision = policy(resolver).decide(ROLES, host, port);

        assertThat(decision).isNotNull();
        assertThat(lookups).hasSizeLessThanOrEqualTo(1);
        for (String name : lookups) {
            assertThat(HostName.normalise(name).orElse(null)).isEqualTo(name);
            assertThat(IpLiterals.isLiteral(host)).isFalse();
        }
        if (decision instanceof Decision.Allow allow) {
            InetAddress to = allow.address();
            assertThat(port).isBetween(1, 65_535);
            assertThat(deny().reasonToDeny(to)).isEmpty();
            assertThat(allow.role()).isIn(ROLES);
            AllowRule rule = AllowRule.parse(allow.rule());
            assertThat(rule.ports().contains(port)).isTrue();
            Optional<InetAddress> literal = IpLiterals.parse(host);
            if (literal.isPresent()) {
                assertThat(to).isEqualTo(literal.get());
                assertThat(lookups).isEmpty();
            } else {
                assertThat(answers.stream().map(IpLiterals::canonical)).contains(to);
                assertThat(PRIVATE.stream().anyMatch(c -> c.contains(to))).isTrue();
            }
            if (rule instanceof AllowRule.AddressRule a) {
                assertThat(a.block().contains(to)).isTrue();
            }
        }
    }

    private static ForwardingPolicy policy(TargetResolver resolver) {
        Map<String, List<AllowRule>> rules = new LinkedHashMap<>();
        rules.put("ops", List.of(
                AllowRule.parse("10.0.0.0/16:22,5432"),
                AllowRule.parse("*.internal.corp:22"),
                AllowRule.parse("*-*-*-*.svc.internal.corp:80")));
        rules.put("dev", List.of(
                AllowRule.parse("[fd00::/8]:22"),
                AllowRule.parse("db-?.internal.corp:5432"),
                AllowRule.parse("0.0.0.0/0:443")));
        return new ForwardingPolicy(rules, PRIVATE, deny(), resolver);
    }

    private static DenyList deny() {
        return new DenyList(List.of(Cidr.parse("10.0.99.0/24")), false, () -> List.of(OWN));
    }
}
