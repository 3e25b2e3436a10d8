package io.sallyport.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigException;
import io.sallyport.config.ConfigLoader;
import io.sallyport.config.ConfigProblem;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Allow rules as the loader reports them with the policy check ({@link PolicyCompiler#check}): the
 * config room keeps rules as written, and their syntax, reach and dead rules come back at their
 * {@code FILE:LINE} in the same run as the loader's own problems.
 */
class RuleProblemsTest {
    static final Path SOURCE = Path.of("/etc/sallyport/sallyport.yaml");

    private static Config parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, SOURCE, PolicyCompiler::check);
    }

    private static List<ConfigProblem> problemsOf(String yaml) {
        AtomicReference<List<ConfigProblem>> problems = new AtomicReference<>();
        assertThatThrownBy(() -> parse(yaml))
                .isInstanceOfSatisfying(ConfigException.class, e -> problems.set(e.problems()));
        return problems.get();
    }

    @Test
    void everyProblemIsReportedWithFileLineAndKey() {
        List<ConfigProblem> problems = problemsOf("""
                listen: ["0.0.0.0:22", "[::]:70000"]
                crypto: modrn
                policy:
                  roles:
                    admin:
                      allow: ["10.0.0.0/16:22", "10.0.0.0/33:22"]
                  max_sesions_per_user: 5
                  idle_timeout: 5 minutes
                identity:
                  local:
                    users:
                      alice:
                        roles: [admin, dba]
                        keys: ["ssh-ed25519"]
                limits:
                  max_auth_attempts: 0
                audit:
                  stdout: yes
                """);

        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::keyPath).containsExactly(
                tuple(1, "listen[1]"),
                tuple(2, "crypto"),
                tuple(6, "policy.roles.admin.allow[1]"),
                tuple(7, "policy.max_sesions_per_user"),
                tuple(8, "policy.idle_timeout"),
                tuple(13, "identity.local.users.alice.roles[1]"),
                tuple(14, "identity.local.users.alice.keys[0]"),
                tuple(16, "limits.max_auth_attempts"),
                tuple(18, "audit.stdout"));
        assertThat(problems).allSatisfy(p -> assertThat(p.file()).isEqualTo("/etc/sallyport/sallyport.yaml"));
        assertThat(problems).extracting(ConfigProblem::message).containsExactly(
                "port 70000 in '[::]:70000' is out of range 1-65535",
                "'modrn' is not one of modern, pq-only, compat (did you mean 'modern'?)",
                "'10.0.0.0/33' has prefix /33, longer than 32 bits",
                "unknown key 'max_sesions_per_user' (did you mean 'max_sessions_per_user'?)",
                "'5 minutes' is not a duration (use e.g. 90s, 15m, 12h, 7d)",
                "role 'dba' is not defined in policy.roles",
                "'ssh-ed25519' is not an OpenSSH public key line (expected TYPE BASE64 [COMMENT], as in a .pub file)",
                "must be between 1 and 100, got 0",
                "expected true or false, got 'yes'");
    }

    @Test
    void badRuleAndCidrMessagesComeThroughWithLineNumbers() {
        List<ConfigProblem> problems = problemsOf("""
                proxy_protocol:
                  trusted_sources: [10.0.0.0/33]
                policy:
                  roles:
                    admin:
                      allow:
                        - "10.0.0.0/16:22"
                        - "10.0.3.0/16:22"
                        - "*:22"
                        - "10.0.0.0/8"
                  private_networks: [10.0.0.0/8, 172.16.0.1/12]
                  deny: [not-a-cidr]
                """);

        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::keyPath, ConfigProblem::message).containsExactly(
                tuple(2, "proxy_protocol.trusted_sources[0]", "'10.0.0.0/33' has prefix /33, longer than 32 bits"),
                tuple(8, "policy.roles.admin.allow[1]", "'10.0.3.0/16' has host bits set; did you mean 10.0.0.0/16?"),
                tuple(9, "policy.roles.admin.allow[2]", "'*' would match every host name; name the domain (e.g. *.internal.corp)"),
                tuple(10, "policy.roles.admin.allow[3]", "'10.0.0.0/8' is not HOST:PORTS (e.g. 10.0.0.0/16:22, *.internal.corp:22,2222)"),
                tuple(11, "policy.private_networks[1]", "'172.16.0.1/12' has host bits set; did you mean 172.16.0.0/12?"),
                tuple(12, "policy.deny[0]", "'not-a-cidr' is not an IP address or CIDR block"));
    }


    @Test
    void openProxyRulesAreErrorsAtTheirLines() {
        List<ConfigProblem> problems = problemsOf("""
                policy:
                  roles:
                    ops:
                      allow:
                        - "0.0.0.0/0:*"
                        - "[::/0]:*"
                        - "8.8.8.8:53"
                        - "10.0.0.0/7:22"
                        - "10.0.0.0/8:22"
                """);

        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::keyPath, ConfigProblem::severity).containsExactly(
                tuple(5, "policy.roles.ops.allow[0]", ConfigProblem.Severity.ERROR),
                tuple(6, "policy.roles.ops.allow[1]", ConfigProblem.Severity.ERROR),
                tuple(7, "policy.roles.ops.allow[2]", ConfigProblem.Severity.ERROR),
                tuple(8, "policy.roles.ops.allow[3]", ConfigProblem.Severity.ERROR));
        assertThat(problems.get(0)).hasToString("/etc/sallyport/sallyport.yaml:5: policy.roles.ops.allow[0]: '0.0.0.0/0:*'"
                + " reaches addresses outside policy.private_networks (1.0.0.0 and on): an open proxy to the internet."
                + " Keep the rule inside the private networks, or set policy.allow_public_targets: true if public targets are meant");
        assertThat(problems.get(2).message()).contains("(8.8.8.8 and on)");
        assertThat(problems.get(3).message()).contains("(11.0.0.0 and on)");
    }

    @Test
    void ruleOutsideOperatorPrivateNetworksIsAnError() {
        List<ConfigProblem> problems = problemsOf("""
                policy:
                  roles:
                    ops: {allow: ["10.1.0.0/16:22", "10.0.3.0/24:22"]}
                  private_networks: [10.0.0.0/16]
                """);

        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(3);
            assertThat(p.message()).startsWith("'10.1.0.0/16:22' reaches addresses outside policy.private_networks (10.1.0.0 and on)");
        });
    }

    @Test
    void allowPublicTargetsLetsPublicRulesThroughWithAWarningForEach() throws Exception {
        Config c = parse("""
                policy:
                  roles:
                    ops: {allow: ["0.0.0.0/0:*", "[::/0]:443", "203.0.113.0/24:22", "10.0.3.0/24:22"]}
                  allow_public_targets: true
                """);

        assertThat(c.policy().roles().get("ops").allow()).hasSize(4);
        assertThat(c.warnings()).extracting(ConfigProblem::keyPath, ConfigProblem::severity).containsExactly(
                tuple("policy.roles.ops.allow[0]", ConfigProblem.Severity.WARNING),
                tuple("policy.roles.ops.allow[1]", ConfigProblem.Severity.WARNING),
                tuple("policy.roles.ops.allow[2]", ConfigProblem.Severity.WARNING));
        assertThat(c.warnings().get(1).message()).isEqualTo("'[::/0]:443' reaches addresses outside policy.private_networks"
                + " (::1:0:0 and on); allowed by policy.allow_public_targets: true");
    }

    @Test
    void ruleThatIsPartlyDeniedAndOtherwisePrivateIsFine() throws Exception {
        Config c = parse("""
                policy:
                  roles:
                    ops: {allow: ["10.0.0.0/8:22"]}
                  deny: [10.0.99.0/24]
                """);

        assertThat(c.warnings()).isEmpty();
    }

    @Test
    void nameRulesAreLeftToResolutionTime() throws Exception {
        // Their addresses are checked against private_networks when the name is resolved.
        Config c = parse("""
                policy:
                  roles:
                    ops: {allow: ["*.example.com:443", "db-?.internal.corp:5432"]}
                """);

        assertThat(c.warnings()).isEmpty();
    }

    @Test
    void rulesTheDenyListMakesDeadAreWarningsAndTheConfigIsUsed() throws Exception {
        Config c = parse("""
                policy:
                  roles:
                    ops:
                      allow:
                        - "169.254.169.254:80"
                        - "127.0.0.1:22"
                        - "169.254.0.0/16:*"
                        - "10.0.99.128/25:22"
                        - "10.0.98.0/23:22"
                        - "[fe80::/64]:22"
                        - "10.0.3.17:22"
                  deny: [10.0.99.0/24, 10.0.98.0/24]
                """);

        assertThat(c.warnings()).extracting(ConfigProblem::line, ConfigProblem::keyPath, ConfigProblem::severity).containsExactly(
                tuple(5, "policy.roles.ops.allow[0]", ConfigProblem.Severity.WARNING),
                tuple(6, "policy.roles.ops.allow[1]", ConfigProblem.Severity.WARNING),
                tuple(7, "policy.roles.ops.allow[2]", ConfigProblem.Severity.WARNING),
                tuple(8, "policy.roles.ops.allow[3]", ConfigProblem.Severity.WARNING),
                tuple(9, "policy.roles.ops.allow[4]", ConfigProblem.Severity.WARNING),
                tuple(10, "policy.roles.ops.allow[5]", ConfigProblem.Severity.WARNING));
        assertThat(c.warnings().get(0)).hasToString("/etc/sallyport/sallyport.yaml:5: policy.roles.ops.allow[0]: warning:"
                + " '169.254.169.254:80' never matches: it lies inside 169.254.169.254/32, the cloud instance metadata service,"
                + " on the built-in deny list");
        assertThat(c.warnings()).extracting(ConfigProblem::message).satisfies(m -> {
            assertThat(m.get(1)).contains("loopback").contains("policy.unsafe_allow_loopback");
            assertThat(m.get(2)).contains("169.254.0.0/16, link-local");
            assertThat(m.get(3)).endsWith("it lies inside policy.deny 10.0.99.0/24");
            assertThat(m.get(4)).contains("every address of it is on the deny list").contains("10.0.98.0/24").contains("10.0.99.0/24");
        });
    }

    @Test
    void warningsAreListedWithTheErrorsOfARefusedFile() {
        List<ConfigProblem> problems = problemsOf("""
                policy:
                  roles:
                    ops: {allow: ["169.254.169.254:80", "0.0.0.0/0:22"]}
                """);

        assertThat(problems).extracting(ConfigProblem::severity)
                .containsExactly(ConfigProblem.Severity.WARNING, ConfigProblem.Severity.ERROR);
    }

    @Test
    void loopbackRulesWithUnsafeAllowLoopbackAreNeitherDeadNorPublic() throws Exception {
        Config c = parse("""
                policy:
                  roles:
                    demo: {allow: ["127.0.0.1:2223", "[::1]:2223", "127.0.0.0/8:*"]}
                  unsafe_allow_loopback: true
                """);

        assertThat(c.warnings()).isEmpty();
    }

    @Test
    void loopbackTakenBackByPolicyDenyIsDeadEvenWithUnsafeAllowLoopback() throws Exception {
        Config c = parse("""
                policy:
                  roles:
                    demo: {allow: ["127.0.0.1:2223"]}
                  unsafe_allow_loopback: true
                  deny: [127.0.0.0/8]
                """);

        assertThat(c.warnings()).singleElement().satisfies(w -> assertThat(w.message()).endsWith("inside policy.deny 127.0.0.0/8"));
    }

    @Test
    void ruleSyntaxIsCheckedOnlyByPolicyNotByTheConfigRoom() throws Exception {
        // Without the policy check the loader keeps rules as written: the config room knows no rule syntax.
        Config c = ConfigLoader.parse("policy:\n  roles:\n    ops: {allow: [\"not a rule\"]}\n", SOURCE);

        assertThat(c.policy().roles().get("ops").allow()).extracting(Config.Located::value).containsExactly("not a rule");
        assertThat(problemsOf("policy:\n  roles:\n    ops: {allow: [\"not a rule\"]}\n")).singleElement()
                .satisfies(p -> assertThat(p.line()).isEqualTo(3));
    }

    @Test
    void openProxyDisguisedAsAPrivateNetworkIsReportedTwice() {
        List<ConfigProblem> problems = problemsOf("""
                policy:
                  roles:
                    ops: {allow: ["0.0.0.0/0:*"]}
                  private_networks: [0.0.0.0/0]
                """);

        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::keyPath).containsExactly(
                tuple(3, "policy.roles.ops.allow[0]"),
                tuple(4, "policy.private_networks[0]"));
    }

    @Test
    void refusedPrivateNetworksDoNotMakeGoodRulesErrorsToo() {
        List<ConfigProblem> problems = problemsOf("""
                policy:
                  roles:
                    ops: {allow: ["10.0.0.0/8:22"]}
                  private_networks: [0.0.0.0/0]
                """);

        assertThat(problems).extracting(ConfigProblem::keyPath).containsExactly("policy.private_networks[0]");
    }
}
