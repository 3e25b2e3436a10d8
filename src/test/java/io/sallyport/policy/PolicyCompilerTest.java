package io.sallyport.policy;

import static io.sallyport.policy.FakeDns.literal;
import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigLoader;
import io.sallyport.config.ConfigProblem;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The policy section as the operator writes it, compiled and asked. */
class PolicyCompilerTest {
    private final FakeDns dns = new FakeDns();
    private final List<ConfigProblem> problems = new ArrayList<>();

    private ForwardingPolicy compile(String yaml) throws Exception {
        ForwardingPolicy p = compileWithProblems(yaml);
        assertThat(problems).isEmpty();
        return p;
    }

    private ForwardingPolicy compileWithProblems(String yaml) throws Exception {
        Config config = ConfigLoader.parse(yaml, Path.of("test.yaml"));
        return PolicyCompiler.compile(config, dns, () -> List.of(literal("10.0.1.10")), problems);
    }

    @Test
    void emptyConfigAllowsNobody() throws Exception {
        ForwardingPolicy p = compile("");

        assertThat(p.rulesByRole()).isEmpty();
        assertThat(p.denyList().allowsLoopback()).isFalse();
        for (List<String> roles : List.of(List.<String>of(), List.of("admin"))) {
            assertThat(p.decide(roles, "10.0.3.17", 22)).isInstanceOf(Decision.Deny.class);
            assertThat(p.decide(roles, "fd00::17", 22)).isInstanceOf(Decision.Deny.class);
            assertThat(p.decide(roles, "db.internal.corp", 22)).isInstanceOf(Decision.Deny.class);
            assertThat(p.decide(roles, "127.0.0.1", 22)).isInstanceOf(Decision.Deny.class);
        }
        assertThat(dns.lookups()).isEmpty();
    }

    @Test
    void rulesAreKeptAsWrittenPerRole() throws Exception {
        ForwardingPolicy p = compile("""
                policy:
                  roles:
                    admin:
                      allow: ["10.0.0.0/16:22", "*.internal.corp:22"]
                    db:
                      allow: ["10.0.20.0/24:5432", "[fd00::/8]:5432"]
                    nobody:
                      allow: []
                """);

        assertThat(p.rulesByRole().keySet()).containsExactly("admin", "db", "nobody");
        assertThat(p.rulesByRole().get("db")).extracting(AllowRule::text).containsExactly("10.0.20.0/24:5432", "[fd00::/8]:5432");
        assertThat(p.decide(List.of("admin"), "10.0.3.17", 22))
                .isEqualTo(new Decision.Allow("admin", "10.0.0.0/16:22", literal("10.0.3.17")));
        assertThat(p.decide(List.of("nobody"), "10.0.3.17", 22)).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void defaultPrivateNetworksKeepNamesOffPublicAddresses() throws Exception {
        ForwardingPolicy p = compile("""
                policy:
                  roles:
                    admin:
                      allow: ["*.internal.corp:22"]
                """);
        dns.answer("a.internal.corp", "10.0.3.17").answer("b.internal.corp", "203.0.113.9")
                .answer("c.internal.corp", "100.64.1.1").answer("d.internal.corp", "fd00::1");

        assertThat(p.decide(List.of("admin"), "a.internal.corp", 22)).isInstanceOf(Decision.Allow.class);
        assertThat(p.decide(List.of("admin"), "b.internal.corp", 22)).isInstanceOf(Decision.Deny.class);
        assertThat(p.decide(List.of("admin"), "c.internal.corp", 22)).isInstanceOf(Decision.Allow.class);
        assertThat(p.decide(List.of("admin"), "d.internal.corp", 22)).isInstanceOf(Decision.Allow.class);
    }

    @Test
    void operatorPrivateNetworksReplaceTheDefault() throws Exception {
        ForwardingPolicy p = compile("""
                policy:
                  roles:
                    admin:
                      allow: ["*.internal.corp:22"]
                  private_networks: [10.0.0.0/16]
                """);
        dns.answer("a.internal.corp", "10.0.3.17").answer("b.internal.corp", "10.1.3.17");

        assertThat(p.decide(List.of("admin"), "a.internal.corp", 22)).isInstanceOf(Decision.Allow.class);
        assertThat(p.decide(List.of("admin"), "b.internal.corp", 22)).isInstanceOf(Decision.Deny.class);
    }

    @Test
    void operatorDenyAndOwnAddressesBeatRules() throws Exception {
        ForwardingPolicy p = compileWithProblems("""
                policy:
                  roles:
                    admin:
                      allow: ["0.0.0.0/0:*"]
                  allow_public_targets: true
                  deny: [10.0.99.0/24]
                """);
        // A public rule allowed by allow_public_targets is still shown, as a warning.
        assertThat(problems).extracting(Object::toString).containsExactly("test.yaml:4: policy.roles.admin.allow[0]: warning:"
                + " '0.0.0.0/0:*' reaches addresses outside policy.private_networks (1.0.0.0 and on);"
                + " allowed by policy.allow_public_targets: true");

        assertThat(p.decide(List.of("admin"), "10.0.99.1", 22)).isInstanceOf(Decision.Deny.class);
        assertThat(p.decide(List.of("admin"), "10.0.1.10", 22)).isInstanceOf(Decision.Deny.class);
        assertThat(p.decide(List.of("admin"), "169.254.169.254", 80)).isInstanceOf(Decision.Deny.class);
        assertThat(p.decide(List.of("admin"), "10.0.98.1", 22)).isInstanceOf(Decision.Allow.class);
    }

    @Test
    void unsafeAllowLoopbackIsCarriedIntoTheDenyList() throws Exception {
        ForwardingPolicy p = compile("""
                policy:
                  roles:
                    demo:
                      allow: ["127.0.0.1:2223"]
                  unsafe_allow_loopback: true
                """);

        assertThat(p.denyList().allowsLoopback()).isTrue();
        assertThat(p.decide(List.of("demo"), "127.0.0.1", 2223)).isInstanceOf(Decision.Allow.class);
    }
}
