package io.sallyport.identity.iam;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The tag and group conventions of docs/iam.md, without IAM. */
class IamAccessRulesTest {
    final Config config = parse("""
            identity:
              iam:
                allow_groups: [Bastion-Users]
                group_roles: {dba: [db], ops-team: [ops, db]}
            policy:
              roles:
                ops: {allow: ["10.0.0.0/16:22"]}
                db: {allow: ["10.0.20.0/24:5432"]}
            """);
    final IamAccessRules rules = new IamAccessRules(config.identity().iam(), config.policy().roles().keySet());

    static Config parse(String yaml) {
        try {
            return ConfigLoader.parse(yaml, Path.of("/etc/sallyport/sallyport.yaml"));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static IamAccessRules.Tags tags(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return IamAccessRules.Tags.of(m);
    }

    @Test
    void allowTagMustSayTrueInAnyCaseUnderAnySpellingOfItsKey() {
        assertThat(rules.refusal("a", tags("sallyport:allow", "true"), List.of())).isEmpty();
        assertThat(rules.refusal("a", tags("SallyPort:Allow", " True "), List.of())).isEmpty();
        assertThat(rules.refusal("a", tags("sallyport:allow", "yes"), List.of())).isPresent();
        assertThat(rules.refusal("a", tags("sallyport:allow", ""), List.of())).isPresent();
        assertThat(rules.refusal("a", tags(), List.of())).isPresent();
    }

    @Test
    void allowGroupMatchesCaseInsensitively() {
        assertThat(rules.refusal("a", tags(), List.of("bastion-users"))).isEmpty();
        assertThat(rules.refusal("a", tags(), List.of("bastion-users-old"))).get().asString()
                .isEqualTo("IAM user a is not allowed to use the bastion (needs tag sallyport:allow=true or membership of Bastion-Users)");
    }

    @Test
    void rolesComeFromTheTagThenTheGroupsWithoutDuplicatesAndUndefinedOnesAreDropped() {
        List<String> problems = new ArrayList<>();

        List<String> roles = rules.roles("a", tags("sallyport:roles", " ops  admin "), List.of("DBA", "ops-team"), problems);

        assertThat(roles).containsExactly("ops", "db");
        assertThat(problems).containsExactly("IAM user a: role 'admin' in tag sallyport:roles is not defined in policy.roles; ignored");
    }

    @Test
    void keyTagsAreThePrefixAndNumberedOnesInOrder() {
        List<Map.Entry<String, String>> keys = rules.keyTags(tags(
                "sallyport:ssh-key-10", "k10", "team", "x", "Sallyport:SSH-Key", "k1", "sallyport:ssh-key-2", "k2",
                "sallyport:ssh-keys", "no", "sallyport:ssh-key-x", "no"));

        assertThat(keys).extracting(Map.Entry::getValue).containsExactly("k1", "k2", "k10");
    }

    @Test
    void pathPrefixIsAPlainPrefixOfTheUsersPath() {
        IamAccessRules eng = new IamAccessRules(parse("identity:\n  iam:\n    path_prefix: /engineering/\n").identity().iam(), java.util.Set.of());
        assertThat(eng.inPath("/engineering/")).isTrue();
        assertThat(eng.inPath("/engineering/sre/")).isTrue();
        assertThat(eng.inPath("/")).isFalse();
        assertThat(eng.inPath("/engineering-old/")).isFalse();
    }
}
