package io.sallyport.identity.iam;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.identity.AuthDecision;
import io.sallyport.identity.Identity;
import io.sallyport.identity.SshPublicKey;
import io.sallyport.testing.FakeIam;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The IAM source end to end below SSH: the real SDK client against the fake IAM, one refresh at a
 * time, logins decided from memory.
 */
class IamIdentitiesTest {
    static final String CONFIG = """
                path_prefix: /engineering/
                allow_groups: [bastion-users]
                group_roles: {dba: [db]}
                refresh: 60s
                max_staleness: 15m
            """;

    IamWorld world;
    FakeIam iam;
    String aliceRsa = IamTestKeys.rsa("alice");
    String bobEd = IamTestKeys.ed25519("bob");

    @BeforeEach
    void start() throws Exception {
        world = new IamWorld(CONFIG);
        iam = world.iam;
    }

    @AfterEach
    void stop() {
        world.close();
    }

    @Test
    void rsaKeyFromTheSshPublicKeyApiLogsIn() {
        iam.user("alice", "/engineering/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops").uploadKey(aliceRsa);
        assertThat(world.refresh()).isTrue();

        AuthDecision d = world.login("alice", aliceRsa);

        assertThat(d).isEqualTo(new AuthDecision.Accept(new Identity("alice", List.of("ops"), "iam",
                Optional.of("arn:aws:iam::123456789012:user/engineering/alice"))));
    }

    @Test
    void ed25519KeyFromATagLogsInAndRolesComeFromTagAndGroup() {
        iam.user("bob", "/engineering/").join("bastion-users").join("dba")
                .tag("sallyport:roles", "ops").tag("sallyport:ssh-key-2", bobEd);
        assertThat(world.refresh()).isTrue();

        AuthDecision d = world.login("bob", bobEd);

        assertThat(d).isInstanceOf(AuthDecision.Accept.class);
        assertThat(((AuthDecision.Accept) d).identity().roles()).containsExactly("ops", "db");
    }

    @Test
    void userNameMatchesCaseInsensitivelyAndIsReportedInIamSpelling() {
        iam.user("Alice.Smith", "/engineering/").tag("SallyPort:Allow", "TRUE").uploadKey(aliceRsa);
        world.refresh();

        AuthDecision d = world.login("alice.smith", aliceRsa);

        assertThat(d).isInstanceOf(AuthDecision.Accept.class);
        assertThat(((AuthDecision.Accept) d).identity().user()).isEqualTo("Alice.Smith");
    }

    @Test
    void inactiveAndExpiredKeysAreRefused() {
        FakeIam.User carol = iam.user("carol", "/engineering/").tag("sallyport:allow", "true");
        String id = carol.uploadKey(aliceRsa, "Inactive");
        world.refresh();
        assertThat(world.login("carol", aliceRsa)).isInstanceOf(AuthDecision.Reject.class);

        carol.keyStatus(id, "Active");
        world.refresh();
        assertThat(world.login("carol", aliceRsa)).isInstanceOf(AuthDecision.Accept.class);

        carol.keyStatus(id, "Expired");
        world.refresh();
        assertThat(world.login("carol", aliceRsa)).isEqualTo(new AuthDecision.Reject("key "
                + SshPublicKey.parseLine(aliceRsa).fingerprint() + " of IAM user carol is Expired (IAM SSH public key " + id + ")"));
    }

    @Test
    void userWithoutAllowTagOrGroupIsRefusedWithTheReason() {
        iam.user("erin", "/engineering/").tag("sallyport:allow", "false").join("developers").tag("sallyport:ssh-key", bobEd);
        world.refresh();

        assertThat(world.login("erin", bobEd)).isEqualTo(new AuthDecision.Reject(
                "IAM user erin is not allowed to use the bastion (needs tag sallyport:allow=true or membership of bastion-users)"));
    }

    @Test
    void userOutsidePathPrefixIsNotThisSourcesUser() {
        iam.user("frank", "/contractors/").tag("sallyport:allow", "true").tag("sallyport:ssh-key", bobEd);
        world.refresh();

        assertThat(world.login("frank", bobEd)).isInstanceOf(AuthDecision.UnknownUser.class);
        assertThat(world.snapshot().stats().inPath()).isZero();
    }

    @Test
    void aTagThatIsNotAKeyLineIsSkippedAndReportedNotFatal() {
        iam.user("gina", "/engineering/").tag("sallyport:allow", "true")
                .tag("sallyport:ssh-key", "ssh-ed25519 not-base64!").tag("sallyport:ssh-key-3", bobEd);
        assertThat(world.refresh()).isTrue();

        assertThat(world.login("gina", bobEd)).isInstanceOf(AuthDecision.Accept.class);
        assertThat(world.snapshot().problems()).singleElement().asString()
                .contains("gina").contains("sallyport:ssh-key").contains("not a public key line");
    }

    @Test
    void beforeTheFirstRefreshEveryIamLoginIsRefusedWithTheReason() {
        iam.down(true);
        assertThat(world.refresh()).isFalse();

        AuthDecision d = world.login("alice", aliceRsa);

        assertThat(d).isInstanceOf(AuthDecision.Reject.class);
        assertThat(((AuthDecision.Reject) d).reason()).startsWith("IAM identities are not loaded yet; last refresh failed: "
                + "GetAccountAuthorizationDetails page 1 failed after 3 attempts (ServiceUnavailable");
    }

    @Test
    void duringAnOutageLastKnownGoodServesUntilMaxStalenessThenFailsClosed() {
        iam.user("alice", "/engineering/").tag("sallyport:allow", "true").uploadKey(aliceRsa);
        world.refresh();
        iam.down(true);

        world.clock.advance(Duration.ofMinutes(14));
        assertThat(world.refresh()).isFalse();
        assertThat(world.login("alice", aliceRsa)).isInstanceOf(AuthDecision.Accept.class);

        world.clock.advance(Duration.ofMinutes(1).plusSeconds(1));
        AuthDecision d = world.login("alice", aliceRsa);
        assertThat(d).isInstanceOf(AuthDecision.Reject.class);
        assertThat(((AuthDecision.Reject) d).reason())
                .startsWith("IAM data is stale: last successful refresh 2026-11-28T10:00:00Z, 15m 1s ago,"
                        + " beyond identity.iam.max_staleness 15m; last refresh failed: GetAccountAuthorizationDetails page 1");
        // Unknown names too: with stale data nobody can tell who is an IAM user.
        assertThat(world.login("nobody", aliceRsa)).isInstanceOf(AuthDecision.Reject.class);

        iam.down(false);
        assertThat(world.refresh()).isTrue();
        assertThat(world.login("alice", aliceRsa)).isInstanceOf(AuthDecision.Accept.class);
    }

    @Test
    void failureReportSaysWhatIsServedAndUntilWhen() {
        iam.user("alice", "/engineering/").tag("sallyport:allow", "true").uploadKey(aliceRsa);
        world.refresh();
        world.clock.advance(Duration.ofMinutes(4));
        iam.inject(FakeIam.Fault.throttle("*"));

        world.refresh();

        assertThat(world.identities.failed("x")).isEqualTo(
                "IAM refresh failed: x; serving keys from 2026-11-28T10:00:00Z, 4m old, stale after 15m");
    }

    @Test
    void aRefreshThatFailsOnPage3Of5RemovesNobody() {
        iam.maxPageSize(2);
        for (int i = 0; i < 10; i++) {
            iam.user(String.format("user%02d", i), "/engineering/").tag("sallyport:allow", "true").tag("sallyport:ssh-key", bobEd);
        }
        assertThat(world.refresh()).isTrue();
        assertThat(world.snapshot().stats().pages()).isEqualTo(5);
        iam.user("user09").untag("sallyport:allow");
        iam.inject(FakeIam.Fault.serverError("GetAccountAuthorizationDetails").onPage(3));
        iam.resetCalls();

        assertThat(world.refresh()).isFalse();

        for (int i = 0; i < 10; i++) {
            assertThat(world.login(String.format("user%02d", i), bobEd)).isInstanceOf(AuthDecision.Accept.class);
        }
        assertThat(world.snapshot().allowed()).hasSize(10);
        // Three attempts at page 3, and no page after it.
        assertThat(iam.callLog()).containsExactly("GetAccountAuthorizationDetails", "GetAccountAuthorizationDetails",
                "GetAccountAuthorizationDetails", "GetAccountAuthorizationDetails", "GetAccountAuthorizationDetails");
        Identity user09 = new Identity("user09", List.of(), "iam", Optional.empty());
        assertThat(world.identities.recheck(user09, SshPublicKey.parseLine(bobEd))).isInstanceOf(AuthDecision.Accept.class);
    }

    @Test
    void aFailedKeyFetchPartWayAlsoChangesNothing() {
        iam.user("alice", "/engineering/").tag("sallyport:allow", "true").uploadKey(aliceRsa);
        world.refresh();
        iam.user("alice").untag("sallyport:allow");
        iam.user("zed", "/engineering/").tag("sallyport:allow", "true").uploadKey(IamTestKeys.rsa("zed"));
        iam.inject(FakeIam.Fault.serverError("GetSSHPublicKey"));

        assertThat(world.refresh()).isFalse();

        assertThat(world.login("alice", aliceRsa)).isInstanceOf(AuthDecision.Accept.class);
        assertThat(world.login("zed", IamTestKeys.rsa("zed"))).isInstanceOf(AuthDecision.UnknownUser.class);
    }

    @Test
    void throttlingIsRetriedWithBackoffAndTheRefreshSucceeds() {
        iam.user("alice", "/engineering/").tag("sallyport:allow", "true").uploadKey(aliceRsa);
        iam.inject(FakeIam.Fault.throttle("ListSSHPublicKeys").times(2));

        assertThat(world.refresh()).isTrue();

        assertThat(iam.calls("ListSSHPublicKeys")).isEqualTo(3);
        assertThat(world.login("alice", aliceRsa)).isInstanceOf(AuthDecision.Accept.class);
    }

    @Test
    void throttlingThatOutlastsTheRetriesFailsTheRefreshWithTheCodeAndAttempts() {
        iam.user("alice", "/engineering/").tag("sallyport:allow", "true").uploadKey(aliceRsa);
        iam.inject(FakeIam.Fault.throttle("ListSSHPublicKeys"));

        assertThat(world.refresh()).isFalse();

        Duration first = world.refresher.nextDelay(false);
        assertThat(first).isGreaterThan(Duration.ofSeconds(90)); // 2 × 60s, less at most a quarter
        String reason = ((AuthDecision.Reject) world.login("alice", aliceRsa)).reason();
        assertThat(reason).contains("ListSSHPublicKeys for alice failed after 3 attempts (Throttling: Rate exceeded)");
    }

    @Test
    void aSlowAnswerTimesOutAndChangesNothing() throws Exception {
        world.close();
        iam = FakeIam.start();
        world = new IamWorld(iam, CONFIG, new io.sallyport.aws.IamClients.Timings(3, Duration.ofMillis(5), Duration.ofMillis(10),
                Duration.ofMillis(50), Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofMillis(250), Duration.ofSeconds(5)));
        iam.user("alice", "/engineering/").tag("sallyport:allow", "true").uploadKey(aliceRsa);
        world.refresh();
        iam.user("alice").untag("sallyport:allow");
        iam.inject(FakeIam.Fault.slow("GetAccountAuthorizationDetails", Duration.ofSeconds(1)));

        long t0 = System.nanoTime();
        assertThat(world.refresh()).isFalse();

        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        assertThat(world.login("alice", aliceRsa)).isInstanceOf(AuthDecision.Accept.class);
        assertThat(world.identities.failed("-")).contains("serving keys from");
    }

    @Test
    void keyBodiesAreFetchedOnceWhateverTheirStatus() {
        FakeIam.User alice = iam.user("alice", "/engineering/").tag("sallyport:allow", "true");
        alice.uploadKey(aliceRsa);
        alice.uploadKey(IamTestKeys.rsa("alice-old"), "Inactive");
        world.refresh();
        // The Inactive key's body too: it is what lets a key tag holding the same key be refused.
        assertThat(iam.calls("GetSSHPublicKey")).isEqualTo(2);

        iam.resetCalls();
        world.refresh();

        assertThat(iam.calls("GetSSHPublicKey")).isZero();
        assertThat(iam.callLog()).containsExactly("GetAccountAuthorizationDetails", "ListSSHPublicKeys alice");
    }

    @Test
    void inactiveIamKeyHeldInTheUsersKeyTagIsRefusedOnAFreshStart() throws Exception {
        FakeIam.User carol = iam.user("carol", "/engineering/").tag("sallyport:allow", "true");
        String id = carol.uploadKey(aliceRsa);
        world.refresh();
        carol.keyStatus(id, "Inactive").tag("sallyport:ssh-key", aliceRsa);
        world.refresh();
        String refused = "key " + SshPublicKey.parseLine(aliceRsa).fingerprint() + " of IAM user carol is Inactive"
                + " (IAM SSH public key " + id + ")";
        assertThat(world.login("carol", aliceRsa)).as("while the body is cached").isEqualTo(new AuthDecision.Reject(refused));

        // A restart: a new source and reader with nothing cached, against the same IAM.
        IamWorld restarted = new IamWorld(iam, CONFIG);
        try {
            assertThat(restarted.refresh()).isTrue();

            assertThat(restarted.login("carol", aliceRsa)).isEqualTo(new AuthDecision.Reject(refused));
            assertThat(restarted.snapshot().stats().activeKeys()).isZero();
        } finally {
            restarted.refresher.close(); // the fake IAM is shared: stop() closes it
        }
    }

    @Test
    void expiredIamKeyOfOneUserHeldInAnotherUsersKeyTagIsRefused() {
        FakeIam.User alice = iam.user("alice", "/engineering/").tag("sallyport:allow", "true");
        String id = alice.uploadKey(aliceRsa, "Expired");
        iam.user("mallory", "/engineering/").tag("sallyport:allow", "true").tag("sallyport:ssh-key-3", aliceRsa)
                .tag("sallyport:ssh-key", bobEd);
        assertThat(world.refresh()).isTrue();

        assertThat(world.login("mallory", aliceRsa)).isEqualTo(new AuthDecision.Reject("key "
                + SshPublicKey.parseLine(aliceRsa).fingerprint() + " of IAM user mallory is Expired (tag sallyport:ssh-key-3,"
                + " withdrawn as IAM SSH public key " + id + " of IAM user alice)"));
        assertThat(world.login("alice", aliceRsa)).isInstanceOf(AuthDecision.Reject.class);
        assertThat(world.login("mallory", bobEd)).as("the user's other keys still work").isInstanceOf(AuthDecision.Accept.class);
    }

    @Test
    void aLiveLoginRecheckedAfterARefreshNamesWhatWasWithdrawn() {
        FakeIam.User alice = iam.user("alice", "/engineering/").tag("sallyport:allow", "true");
        String keyId = alice.uploadKey(aliceRsa);
        iam.user("bob", "/engineering/").join("bastion-users").tag("sallyport:ssh-key", bobEd);
        iam.user("dora", "/engineering/").tag("sallyport:allow", "true").tag("sallyport:ssh-key", bobEd);
        world.refresh();
        Identity a = ((AuthDecision.Accept) world.login("alice", aliceRsa)).identity();
        Identity b = ((AuthDecision.Accept) world.login("bob", bobEd)).identity();
        Identity d = ((AuthDecision.Accept) world.login("dora", bobEd)).identity();
        String aliceFp = SshPublicKey.parseLine(aliceRsa).fingerprint();
        SshPublicKey aliceKey = SshPublicKey.parseLine(aliceRsa);
        SshPublicKey bobKey = SshPublicKey.parseLine(bobEd);
        assertThat(world.identities.recheck(a, aliceKey)).isInstanceOf(AuthDecision.Accept.class);

        alice.keyStatus(keyId, "Inactive");
        iam.user("bob").leave("bastion-users");
        iam.deleteUser("dora");
        world.refresh();

        assertThat(((AuthDecision.Reject) world.identities.recheck(a, aliceKey)).reason())
                .isEqualTo("key " + aliceFp + " of IAM user alice is Inactive (IAM SSH public key " + keyId + ")");
        assertThat(((AuthDecision.Reject) world.identities.recheck(b, bobKey)).reason()).startsWith("IAM user bob is not allowed");
        assertThat(world.identities.recheck(d, bobKey)).as("a user IAM no longer has is unknown: no source lets them in")
                .isInstanceOf(AuthDecision.UnknownUser.class);
    }

    @Test
    void listenersRunAfterEachSuccessfulRefreshOnly() {
        int[] runs = {0};
        world.identities.onRefresh(() -> runs[0]++);
        world.refresh();
        iam.down(true);
        world.refresh();

        assertThat(runs[0]).isEqualTo(1);
    }
}
