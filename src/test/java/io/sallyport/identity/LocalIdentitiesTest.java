package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigException;
import io.sallyport.config.ConfigLoader;
import io.sallyport.config.ConfigProblem;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code identity.local}: users and key lines written in the config file. */
class LocalIdentitiesTest {

    private static Config config(String... aliceKeys) throws ConfigException {
        StringBuilder keys = new StringBuilder();
        for (String k : aliceKeys) {
            keys.append("          - \"").append(k).append("\"\n");
        }
        String yaml = """
                policy:
                  roles:
                    admin:
                      allow: ["10.0.0.0/16:22"]
                    db:
                      allow: ["10.0.20.0/24:5432"]
                identity:
                  local:
                    users:
                      alice:
                        roles: [admin, db]
                        keys:
                """ + keys + """
                      bob:
                        roles: []
                        keys: ["%s"]
                """.formatted(TestKeys.ecdsa256().line());
        return ConfigLoader.parse(yaml, Path.of("test.yaml"));
    }

    @Test
    void listedKeyLogsInWithTheUsersRoles() throws Exception {
        List<ConfigProblem> problems = new ArrayList<>();
        LocalIdentities local = LocalIdentities.from(config(TestKeys.ed25519().line()), problems);

        assertThat(problems).isEmpty();
        assertThat(local.authenticate("alice", TestKeys.ed25519().parsed()))
                .isEqualTo(new AuthDecision.Accept(new Identity("alice", List.of("admin", "db"), "local", Optional.empty())));
    }

    @Test
    void anotherUsersKeyIsRejectedWithItsFingerprint() throws Exception {
        LocalIdentities local = LocalIdentities.from(config(TestKeys.ed25519().line()), new ArrayList<>());

        assertThat(local.authenticate("alice", TestKeys.ecdsa256().parsed())).isEqualTo(new AuthDecision.Reject(
                "key " + TestKeys.ecdsa256().fingerprint() + " is not one of alice's keys"));
    }

    @Test
    void unknownUserIsRejected() throws Exception {
        LocalIdentities local = LocalIdentities.from(config(TestKeys.ed25519().line()), new ArrayList<>());

        assertThat(local.authenticate("mallory", TestKeys.ed25519().parsed())).isEqualTo(new AuthDecision.UnknownUser());
        assertThat(local.lookup("mallory")).isEmpty();
    }

    @Test
    void userNamesAreCaseSensitive() throws Exception {
        LocalIdentities local = LocalIdentities.from(config(TestKeys.ed25519().line()), new ArrayList<>());

        assertThat(local.authenticate("Alice", TestKeys.ed25519().parsed())).isNotInstanceOf(AuthDecision.Accept.class);
    }

    @Test
    void userWithoutRolesLogsInWithNoRoles() throws Exception {
        LocalIdentities local = LocalIdentities.from(config(TestKeys.ed25519().line()), new ArrayList<>());

        assertThat(local.authenticate("bob", TestKeys.ecdsa256().parsed()))
                .isEqualTo(new AuthDecision.Accept(new Identity("bob", List.of(), "local", Optional.empty())));
    }

    @Test
    void keyRefusedByKeyPolicyIsAConfigProblemAndNeverLogsIn() throws Exception {
        List<ConfigProblem> problems = new ArrayList<>();
        LocalIdentities local = LocalIdentities.from(config(TestKeys.rsa1024().line()), problems);

        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.file()).isEqualTo("test.yaml");
            assertThat(p.keyPath()).isEqualTo("identity.local.users.alice.keys[0]");
            assertThat(p.line()).isPositive();
            assertThat(p.message()).isEqualTo("RSA key of 1024 bits is shorter than policy.min_rsa_bits 2048");
        });
        assertThat(local.authenticate("alice", TestKeys.rsa1024().parsed())).isInstanceOf(AuthDecision.Reject.class);
    }

    @Test
    void dsaKeyLineIsAConfigProblem() throws Exception {
        List<ConfigProblem> problems = new ArrayList<>();
        LocalIdentities.from(config(TestKeys.line("ssh-dss", TestKeys.dsaBlob())), problems);

        assertThat(problems).singleElement().extracting(ConfigProblem::message).asString().startsWith("DSA keys are refused");
    }

    @Test
    void undecodableKeyLineIsAConfigProblemAndTheOtherKeysStillWork() throws Exception {
        List<ConfigProblem> problems = new ArrayList<>();
        LocalIdentities local = LocalIdentities.from(
                config("ssh-ed25519 AAAA!!!! typo@laptop", TestKeys.ed25519().line()), problems);

        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.keyPath()).isEqualTo("identity.local.users.alice.keys[0]");
            assertThat(p.message()).contains("not valid base64");
        });
        assertThat(local.authenticate("alice", TestKeys.ed25519().parsed())).isInstanceOf(AuthDecision.Accept.class);
    }

    /** A key line that lost its tail in a copy-paste would otherwise lock the user out in silence. */
    @Test
    void truncatedKeyLineIsAConfigProblem() throws Exception {
        byte[] blob = TestKeys.ed25519().parsed().blob();
        String cut = "ssh-ed25519 " + Base64.getEncoder().encodeToString(Arrays.copyOf(blob, blob.length - 8));
        List<ConfigProblem> problems = new ArrayList<>();
        LocalIdentities.from(config(cut), problems);

        assertThat(problems).singleElement().extracting(ConfigProblem::message).asString().contains("truncated or malformed");
    }

    @Test
    void lookupGivesTheIdentityWithoutAKey() throws Exception {
        LocalIdentities local = LocalIdentities.from(config(TestKeys.ed25519().line()), new ArrayList<>());

        assertThat(local.lookup("alice")).hasValue(new Identity("alice", List.of("admin", "db"), "local", Optional.empty()));
    }
}
