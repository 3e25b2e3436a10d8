package io.sallyport.config;

import static io.sallyport.config.ConfigFixtures.onlyProblemOf;
import static io.sallyport.config.ConfigFixtures.problemsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigProblemsTest {

    @Test
    void problemPrintsAsFileLineKeyPathMessage() {
        ConfigProblem p = new ConfigProblem("/etc/sallyport/sallyport.yaml", 12, "policy.roles.admin.allow[1]",
                "'10.0.0.0/33' has prefix /33, longer than 32 bits");

        assertThat(p).hasToString("/etc/sallyport/sallyport.yaml:12: policy.roles.admin.allow[1]: "
                + "'10.0.0.0/33' has prefix /33, longer than 32 bits");
    }

    @Test
    void exceptionMessageListsEveryProblemOnItsOwnLine() {
        assertThatThrownBy(() -> ConfigFixtures.parse("crypto: fast\nlimits:\n  max_auth_attempts: -1\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("""
                        /etc/sallyport/sallyport.yaml:1: crypto: 'fast' is not one of modern, pq-only, compat
                        /etc/sallyport/sallyport.yaml:3: limits.max_auth_attempts: must be between 1 and 100, got -1""");
    }

    @Test
    void unknownKeySuggestsClosestKey() {
        assertThat(onlyProblemOf("lisen: [\"0.0.0.0:22\"]\n").message())
                .isEqualTo("unknown key 'lisen' (did you mean 'listen'?)");
        assertThat(onlyProblemOf("policy:\n  unsafe-allow-loopback: true\n").message())
                .isEqualTo("unknown key 'unsafe-allow-loopback' (did you mean 'unsafe_allow_loopback'?)");
        assertThat(onlyProblemOf("policy:\n  idle_time: 5m\n").message())
                .isEqualTo("unknown key 'idle_time' (did you mean 'idle_timeout'?)");
    }

    @Test
    void unknownKeyFarFromEveryKnownKeyGetsNoSuggestion() {
        ConfigProblem p = onlyProblemOf("audit:\n  colour: blue\n");

        assertThat(p.keyPath()).isEqualTo("audit.colour");
        assertThat(p.message()).isEqualTo("unknown key 'colour'");
    }

    @Test
    void unknownKeysInsideUsersRolesAndAuthoritiesAreReported() {
        List<ConfigProblem> problems = problemsOf("""
                policy:
                  roles:
                    admin:
                      allow: []
                      alow: ["10.0.0.0/8:22"]
                identity:
                  local:
                    users:
                      alice:
                        role: [admin]
                """);

        assertThat(problems).extracting(ConfigProblem::keyPath, ConfigProblem::message).containsExactly(
                tuple("policy.roles.admin.alow", "unknown key 'alow' (did you mean 'allow'?)"),
                tuple("identity.local.users.alice.role", "unknown key 'role' (did you mean 'roles'?)"));
    }

    /** Found by ConfigLoaderFuzzTest: the problem printed as "FILE:1: : unknown key ''". */
    @Test
    void blankKeyIsNamedInQuotes() {
        assertThat(onlyProblemOf("\"\": 1\n").keyPath()).isEqualTo("''");
        assertThat(onlyProblemOf("policy:\n  \" \": 1\n").keyPath()).isEqualTo("policy.' '");
    }

    @Test
    void duplicateKeyIsRefusedAtItsSecondLine() {
        ConfigProblem p = onlyProblemOf("""
                policy:
                  unsafe_allow_loopback: false
                  unsafe_allow_loopback: true
                """);

        assertThat(p.line()).isEqualTo(3);
        assertThat(p.keyPath()).isEqualTo("policy.unsafe_allow_loopback");
        assertThat(p.message()).isEqualTo("duplicate key 'unsafe_allow_loopback' (first written at line 2)");
    }

    @Test
    void yamlSyntaxErrorGivesAProblemNotAStackTrace() {
        ConfigProblem p = onlyProblemOf("listen: [\"0.0.0.0:22\"\ncrypto: modern\n");

        assertThat(p.keyPath()).isEqualTo("(yaml)");
        assertThat(p.line()).isEqualTo(2);
        assertThat(p.message()).startsWith("not valid YAML: ").doesNotContain("\n").doesNotContain("Exception");
    }

    @Test
    void tabIndentationIsReportedAtTheLineWithTheTab() {
        ConfigProblem p = onlyProblemOf("policy:\n\tdeny: []\n");

        assertThat(p.line()).isEqualTo(2);
        assertThat(p.keyPath()).isEqualTo("(yaml)");
        assertThat(p.message()).contains("TAB");
    }

    @Test
    void unterminatedQuoteNamesTheLineWhereTheQuoteStarted() {
        ConfigProblem p = onlyProblemOf("crypto: modern\nregion: 'us-east-1\n");

        assertThat(p.keyPath()).isEqualTo("(yaml)");
        assertThat(p.message()).contains("quoted scalar at line 2");
    }

    @Test
    void secondYamlDocumentIsRefused() {
        ConfigProblem p = onlyProblemOf("crypto: modern\n---\ncrypto: compat\n");

        assertThat(p.keyPath()).isEqualTo("(yaml)");
        assertThat(p.message()).startsWith("only one YAML document is allowed");
    }

    @Test
    void aliasesAreRefused() {
        ConfigProblem p = onlyProblemOf("""
                policy:
                  private_networks: &nets [10.0.0.0/8]
                  deny: *nets
                """);

        assertThat(p.line()).isEqualTo(3);
        assertThat(p.keyPath()).isEqualTo("policy.deny");
        assertThat(p.message()).isEqualTo("YAML aliases (*nets) are not supported; write the value out in full");
    }

    @Test
    void aliasInAListDoesNotShiftTheIndicesOfLaterItems() {
        List<ConfigProblem> problems = problemsOf("policy:\n  deny: [&a 10.0.0.0/8, *a, 10.0.0.0/33]\n");

        assertThat(problems).extracting(ConfigProblem::keyPath).containsExactly("policy.deny[1]", "policy.deny[2]");
    }

    @Test
    void topLevelListIsRefused() {
        ConfigProblem p = onlyProblemOf("- listen\n- crypto\n");

        assertThat(p.line()).isEqualTo(1);
        assertThat(p.message()).contains("must be a mapping of settings").endsWith("got a list");
    }

    @Test
    void wrongTypesNameWhatIsExpected() {
        List<ConfigProblem> problems = problemsOf("""
                listen: "0.0.0.0:22"
                crypto: [modern]
                identity:
                  local:
                    users: [alice]
                policy:
                  min_rsa_bits: "4096"
                  deny:
                    - {cidr: 10.0.0.0/8}
                audit:
                  cloudwatch: true
                """);

        assertThat(problems).extracting(ConfigProblem::keyPath, ConfigProblem::message).containsExactly(
                tuple("listen", "expected a list of values (e.g. [a, b]), got '0.0.0.0:22' (write [0.0.0.0:22] for a list of one)"),
                tuple("crypto", "expected a single value, got a list"),
                tuple("identity.local.users", "expected a mapping of user name to {roles, keys}, got a list"),
                tuple("policy.min_rsa_bits", "expected a whole number, got '4096' (a quoted string; remove the quotes)"),
                tuple("policy.deny[0]", "expected a single value, got a mapping"),
                tuple("audit.cloudwatch", "expected a mapping of settings, got 'true'"));
    }

    @Test
    void booleanLikeWordsAreNotBooleans() {
        ConfigProblem p = onlyProblemOf("policy:\n  unsafe_allow_loopback: on\n");

        assertThat(p.message()).isEqualTo("expected true or false, got 'on'");
    }

    @Test
    void explicitNullForASettingWithADefaultIsRefused() {
        ConfigProblem p = onlyProblemOf("crypto:\n");

        assertThat(p.keyPath()).isEqualTo("crypto");
        assertThat(p.message()).isEqualTo("needs a value (leave the key out to use the default)");
    }

    @Test
    void emptyListenIsRefused() {
        ConfigProblem p = onlyProblemOf("listen: []\n");

        assertThat(p.keyPath()).isEqualTo("listen");
        assertThat(p.message()).startsWith("needs at least one address");
    }

    @Test
    void fileThatIsNotUtf8IsRefusedWithItsLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sallyport.yaml");
        byte[] latin1 = "crypto: modern\n# caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1);
        Files.write(file, latin1);

        assertThatThrownBy(() -> ConfigLoader.load(file))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems())
                        .singleElement()
                        .satisfies(p -> {
                            assertThat(p.line()).isEqualTo(2);
                            assertThat(p.file()).isEqualTo(file.toString());
                            assertThat(p.message()).startsWith("the file is not valid UTF-8");
                        }));
    }

    @Test
    void problemQuotingTheFileEscapesControlCharacters() {
        ConfigProblem p = onlyProblemOf("\"cry\\e[2Jpto\": modern\n");

        assertThat(p.keyPath()).isEqualTo("cry\u001b[2Jpto");
        assertThat(p.toString()).doesNotContain("\u001b")
                .isEqualTo("/etc/sallyport/sallyport.yaml:1: cry\\u001b[2Jpto: unknown key 'cry\\u001b[2Jpto'");
    }

    @Test
    void warningPrintsWithItsMarker() {
        ConfigProblem w = ConfigProblem.warning("/etc/sallyport/sallyport.yaml", 9, "policy.roles.ops.allow[0]", "never matches");

        assertThat(w.isError()).isFalse();
        assertThat(w).hasToString("/etc/sallyport/sallyport.yaml:9: policy.roles.ops.allow[0]: warning: never matches");
    }
}
