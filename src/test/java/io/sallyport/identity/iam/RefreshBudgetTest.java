package io.sallyport.identity.iam;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.aws.IamClients;
import io.sallyport.identity.AuthDecision;
import io.sallyport.testing.FakeIam;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The call budget docs/iam.md promises, on the population the issue names: 5,000 IAM users, of
 * whom 300 may use the bastion (150 by tag, 150 by group). A refresh costs
 * {@code ceil(U/1000) + A + K_new} calls: 635 the first time (every tenth allowed user also has an
 * Inactive key), then 305 plus one per newly uploaded key.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RefreshBudgetTest {
    static final int USERS = 5000;
    static final int ALLOWED = 300;

    IamWorld world;
    FakeIam iam;
    final String[] rsa = {IamTestKeys.rsa("pop-a"), IamTestKeys.rsa("pop-b")};
    final String ed = IamTestKeys.ed25519("pop-c");

    @BeforeAll
    void population() throws Exception {
        // Generous timeouts: a retried attempt on a loaded machine would be counted by the fake as an
        // extra call, and this test counts calls.
        world = new IamWorld(FakeIam.start(), """
                    allow_groups: [bastion-users]
                    group_roles: {dba: [db]}
                """, new IamClients.Timings(3, Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(50),
                Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(60)));
        iam = world.iam;
        for (int i = 0; i < USERS; i++) {
            String path = i % 7 == 0 ? "/contractors/" : "/engineering/";
            FakeIam.User u = iam.user(String.format("user%04d", i), path).tag("team", "t" + (i % 40)).tag("cost-center", "cc" + (i % 9));
            if (i < ALLOWED) {
                if (i % 2 == 0) {
                    u.tag("sallyport:allow", "true").tag("sallyport:roles", "ops");
                } else {
                    u.join("bastion-users").join("dba");
                }
                u.uploadKey(rsa[i % 2]);
                if (i % 10 == 0) {
                    u.uploadKey(rsa[(i + 1) % 2], "Inactive");
                }
                if (i % 3 == 0) {
                    u.tag("sallyport:ssh-key", ed);
                }
            } else if (i % 5 == 0) {
                u.join("developers").uploadKey(rsa[i % 2]); // keys, but not allowed: never listed
            }
        }
    }

    @AfterAll
    void stop() {
        world.close();
    }

    @Test
    void refreshCallsStayWithinTheDocumentedBudget() {
        iam.resetCalls();
        assertThat(world.refresh()).isTrue();

        RefreshStats first = world.snapshot().stats();
        assertThat(first.users()).isEqualTo(USERS);
        assertThat(first.allowed()).isEqualTo(ALLOWED);
        assertThat(iam.calls()).isEqualTo(first.calls());
        assertThat(iam.calls("GetAccountAuthorizationDetails")).isEqualTo(5);
        assertThat(iam.calls("ListSSHPublicKeys")).isEqualTo(ALLOWED);
        // One Active key each, and the Inactive key of every tenth user (its body is fetched once too,
        // so that a key tag holding it is refused).
        assertThat(iam.calls("GetSSHPublicKey")).isEqualTo(ALLOWED + ALLOWED / 10);
        assertThat(first.calls()).isLessThanOrEqualTo(RefreshStats.budget(USERS, ALLOWED, ALLOWED + ALLOWED / 10,
                IamDirectoryReader.PAGE_SIZE)).isEqualTo(635);

        // The next refresh fetches no key body again, only those of keys uploaded since: seven here.
        for (int i = 0; i < 7; i++) {
            iam.user(String.format("user%04d", i * 2)).uploadKey(rsa[(i * 2 + 1) % 2]);
        }
        iam.resetCalls();
        assertThat(world.refresh()).isTrue();
        assertThat(iam.calls("GetSSHPublicKey")).isEqualTo(7);
        assertThat(iam.calls()).isEqualTo(RefreshStats.budget(USERS, ALLOWED, 7, IamDirectoryReader.PAGE_SIZE)).isEqualTo(312);

        // The alternative (ListUsers + ListUserTags + ListGroupsForUser per user) would cost
        // ceil(U/1000) + 2U + A: over 10,000 calls for the same refresh.
        assertThat(5 + 2 * USERS + ALLOWED).isGreaterThan(15 * first.calls());

        assertThat(world.login("user0000", ed)).isInstanceOf(AuthDecision.Accept.class);
        assertThat(world.login("USER0299", rsa[1])).isInstanceOf(AuthDecision.Accept.class);
        assertThat(world.login("user0300", rsa[0])).isInstanceOf(AuthDecision.Reject.class);
    }

}
