package io.sallyport.identity.iam;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.config.ConfigLoader;
import io.sallyport.identity.Identity;
import io.sallyport.identity.IdentitySource;
import io.sallyport.identity.KeyPolicy;
import io.sallyport.identity.LocalIdentities;
import io.sallyport.identity.Logins;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What {@code explain} learns from the IAM source: a user as the last good refresh has them, with
 * their current roles, and whether logins are refused now (stale or not loaded, not allowed, no
 * active key), never a pretence that stale data serves.
 */
class IamLookupTest {
    IamWorld world;
    String aliceRsa = IamTestKeys.rsa("alice");
    String ginaEd = IamTestKeys.ed25519("gina");

    @BeforeEach
    void start() throws Exception {
        world = new IamWorld(IamIdentitiesTest.CONFIG);
    }

    @AfterEach
    void stop() {
        world.close();
    }

    @Test
    void nothingIsKnownBeforeTheFirstRefreshAndEveryLoginIsSaidToBeRefused() {
        assertThat(world.identities.lookup("gina")).isEmpty();
        assertThat(world.identities.loginRefusal("gina")).hasValueSatisfying(r ->
                assertThat(r).startsWith("IAM identities are not loaded yet"));
    }

    @Test
    void aUserComesWithTheirRolesFromTagAndGroupsInIamSpellingAndFollowsTheNextRefresh() {
        world.iam.user("Gina", "/engineering/").join("bastion-users").join("dba").tag("sallyport:roles", "ops")
                .tag("sallyport:ssh-key", ginaEd);
        assertThat(world.refresh()).isTrue();

        assertThat(world.identities.lookup("gina")).contains(new Identity("Gina", List.of("ops", "db"), "iam",
                Optional.of("arn:aws:iam::123456789012:user/engineering/Gina")));
        assertThat(world.identities.loginRefusal("GINA")).isEmpty();

        world.iam.user("Gina").leave("dba");
        assertThat(world.refresh()).isTrue();
        assertThat(world.identities.lookup("gina").orElseThrow().roles()).containsExactly("ops");
    }

    @Test
    void staleDataStillNamesTheUserAndTheirRolesButSaysLoginsAreRefused() {
        world.iam.user("gina", "/engineering/").join("bastion-users").join("dba").tag("sallyport:ssh-key", ginaEd);
        world.refresh();
        world.iam.down(true);
        world.clock.advance(Duration.ofMinutes(16));
        assertThat(world.refresh()).isFalse();

        assertThat(world.identities.lookup("gina").orElseThrow().roles()).containsExactly("db");
        assertThat(world.identities.loginRefusal("gina")).hasValueSatisfying(r -> assertThat(r)
                .startsWith("IAM data is stale: last successful refresh 2026-11-28T10:00:00Z, 16m ago")
                .contains("beyond identity.iam.max_staleness 15m"));
        assertThat(world.identities.loginRefusal("nobody")).as("nobody can tell who is an IAM user").isPresent();
    }

    @Test
    void aUserWithoutTheAllowTagOrGroupIsUnknownWithTheReasonAndOneWithoutActiveKeysIsRefused() {
        world.iam.user("erin", "/engineering/").tag("sallyport:roles", "ops").tag("sallyport:ssh-key", ginaEd);
        world.iam.user("carol", "/engineering/").tag("sallyport:allow", "true").uploadKey(aliceRsa, "Inactive");
        world.refresh();

        assertThat(world.identities.lookup("erin")).isEmpty();
        assertThat(world.identities.loginRefusal("erin")).contains("IAM user erin is not allowed to use the bastion"
                + " (needs tag sallyport:allow=true or membership of bastion-users)");
        assertThat(world.identities.lookup("carol")).isPresent();
        assertThat(world.identities.loginRefusal("carol")).contains("IAM user carol has no active key");
        assertThat(world.identities.loginRefusal("nobody")).isEmpty();
    }

    @Test
    void loginsAskLocalUsersFirstAsAtLoginSoALocalNameShadowsAnIamUser() throws Exception {
        world.iam.user("alice", "/engineering/").tag("sallyport:allow", "true").tag("sallyport:roles", "db")
                .uploadKey(aliceRsa);
        world.iam.user("gina", "/engineering/").join("bastion-users").tag("sallyport:roles", "ops")
                .tag("sallyport:ssh-key", ginaEd);
        world.refresh();
        var config = ConfigLoader.parse("identity:\n  local:\n    users:\n      alice: {roles: [ops]}\n"
                + "policy:\n  roles:\n    ops:\n      allow: [\"10.0.0.0/16:22\"]\n    db:\n      allow: [\"10.0.20.0/24:5432\"]\n",
                Path.of("/etc/sallyport/sallyport.yaml"));
        LocalIdentities local = LocalIdentities.from(config, new ArrayList<>());
        Logins logins = new Logins(new KeyPolicy(2048), List.<IdentitySource>of(local, world.identities));

        assertThat(logins.lookup("alice").orElseThrow().source()).isEqualTo("local");
        assertThat(logins.lookup("alice").orElseThrow().roles()).containsExactly("ops");
        assertThat(logins.lookup("gina").orElseThrow().source()).isEqualTo("iam");
        assertThat(logins.lookup("nobody")).isEmpty();
        assertThat(logins.loginRefusal("alice")).isEmpty();

        world.iam.down(true);
        world.clock.advance(Duration.ofMinutes(16));
        world.refresh();
        assertThat(logins.loginRefusal("alice")).as("a local user is not IAM's to refuse").isEmpty();
        assertThat(logins.loginRefusal("gina")).hasValueSatisfying(r -> assertThat(r).startsWith("IAM data is stale"));
        assertThat(logins.loginRefusal("nobody")).hasValueSatisfying(r -> assertThat(r).startsWith("IAM data is stale"));
    }
}
