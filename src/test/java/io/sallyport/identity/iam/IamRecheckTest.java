package io.sallyport.identity.iam;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigLoader;
import io.sallyport.identity.AuthDecision;
import io.sallyport.identity.Identity;
import io.sallyport.identity.KeyPolicy;
import io.sallyport.identity.Logins;
import io.sallyport.identity.SshPublicKey;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * IAM sessions judged again after a refresh or a reload: stale data refuses new logins but ends no
 * session, and a reload's IAM rules apply from the refresh it asks for.
 */
class IamRecheckTest {
    private static final String SECTION = """
                path_prefix: /engineering/
                allow_groups: [bastion-users]
                group_roles: {dba: [db]}
                refresh: 60s
                max_staleness: 15m
            """;

    IamWorld world;
    final String bobEd = IamTestKeys.ed25519("bob");
    final SshPublicKey bobKey = SshPublicKey.parseLine(bobEd);

    @BeforeEach
    void start() throws Exception {
        world = new IamWorld(SECTION);
        world.iam.user("bob", "/engineering/").join("bastion-users").join("dba").tag("sallyport:ssh-key", bobEd);
        assertThat(world.refresh()).isTrue();
    }

    @AfterEach
    void stop() {
        world.close();
    }

    /** The running config with another {@code identity.iam} section (same fake IAM endpoint). */
    private Config reloaded(String section) throws Exception {
        String yaml = "identity:\n  iam:\n    enabled: true\n    endpoint: \"" + world.iam.endpoint() + "\"\n" + section
                + "policy:\n  roles:\n    ops:\n      allow: [\"10.0.0.0/16:22\"]\n    db:\n      allow: [\"10.0.20.0/24:5432\"]\n";
        return ConfigLoader.parse(yaml, Path.of("/etc/sallyport/sallyport.yaml"));
    }

    private Identity bob() {
        return ((AuthDecision.Accept) world.login("bob", bobEd)).identity();
    }

    @Test
    void staleDataStillAnswersARecheckWhileNewLoginsAreRefused() {
        Identity bob = bob();
        Logins logins = new Logins(new KeyPolicy(2048), List.of(world.identities));
        world.iam.down(true);
        world.clock.advance(Duration.ofMinutes(16));
        assertThat(world.refresh()).isFalse();

        assertThat(logins.authenticate("bob", bobKey)).isInstanceOfSatisfying(AuthDecision.Reject.class,
                r -> assertThat(r.reason()).startsWith("IAM data is stale: last successful refresh 2026-11-28T10:00:00Z"));
        assertThat(logins.recheck(bob, bobKey)).as("a stale source ends no live session").isEqualTo(new AuthDecision.Accept(bob));
    }

    @Test
    void staleDataStillWithdrawsWhatItsLastGoodRefreshWithdrew() {
        Identity bob = bob();
        world.iam.user("bob").leave("bastion-users");
        assertThat(world.refresh()).isTrue();
        world.iam.down(true);
        world.clock.advance(Duration.ofMinutes(16));
        world.refresh();

        assertThat(new Logins(new KeyPolicy(2048), List.of(world.identities)).recheck(bob, bobKey))
                .isInstanceOfSatisfying(AuthDecision.Reject.class, r -> assertThat(r.reason()).startsWith("IAM user bob is not allowed"));
    }

    @Test
    void aReloadsIamRulesApplyFromTheRefreshItAsksFor() throws Exception {
        Identity bob = bob();
        assertThat(bob.roles()).containsExactly("db");
        AtomicInteger asked = new AtomicInteger();
        world.identities.refreshWith(asked::incrementAndGet);

        world.identities.reconfigure(reloaded(SECTION.replace("group_roles: {dba: [db]}", "group_roles: {dba: [ops]}")));

        assertThat(asked).as("a refresh was asked for at once").hasValue(1);
        assertThat(world.identities.recheck(bob, bobKey)).as("the snapshot in use was read under the old rules")
                .isEqualTo(new AuthDecision.Accept(bob));
        assertThat(world.refresh()).isTrue();
        assertThat(world.identities.recheck(bob, bobKey)).isInstanceOfSatisfying(AuthDecision.Accept.class,
                a -> assertThat(a.identity().roles()).containsExactly("ops"));
    }

    @Test
    void aReloadThatShortensMaxStalenessRefusesNewLoginsAtOnceButEndsNoSession() throws Exception {
        Identity bob = bob();
        world.identities.refreshWith(() -> {});
        world.iam.down(true);
        world.clock.advance(Duration.ofMinutes(6));
        assertThat(world.refresh()).isFalse();
        assertThat(world.login("bob", bobEd)).isInstanceOf(AuthDecision.Accept.class);

        world.identities.reconfigure(reloaded(SECTION.replace("max_staleness: 15m", "max_staleness: 5m")));

        assertThat(world.login("bob", bobEd)).isInstanceOfSatisfying(AuthDecision.Reject.class,
                r -> assertThat(r.reason()).contains("beyond identity.iam.max_staleness 5m"));
        assertThat(world.identities.recheck(bob, bobKey)).isEqualTo(new AuthDecision.Accept(bob));
    }

    @Test
    void aReloadGetsItsRefreshFromTheRefresherWithoutWaitingForTheSchedule() throws Exception {
        Identity bob = bob();
        java.util.concurrent.CountDownLatch refreshed = new java.util.concurrent.CountDownLatch(1);
        world.identities.onRefresh(refreshed::countDown);

        world.identities.reconfigure(reloaded(SECTION.replace("group_roles: {dba: [db]}", "group_roles: {dba: [ops]}")));

        assertThat(refreshed.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("refreshed on the refresher's thread").isTrue();
        assertThat(world.identities.recheck(bob, bobKey)).isInstanceOfSatisfying(AuthDecision.Accept.class,
                a -> assertThat(a.identity().roles()).containsExactly("ops"));
    }

    @Test
    void aClosedRefresherIgnoresARefreshRequest() {
        world.refresher.close();
        world.iam.resetCalls();

        world.refresher.refreshSoon();

        assertThat(world.iam.calls()).isZero();
    }
}
