package io.sallyport.identity.iam;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.identity.AuthDecision;
import io.sallyport.testing.FakeIam;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** When the refresher calls IAM: periods with jitter, backoff after throttling, the background thread. */
class IamRefresherTest {

    @Test
    void periodsAreJitteredDownwardsOnlySoRefreshStaysTheUpperBound() throws Exception {
        try (IamWorld world = new IamWorld("    refresh: 60s\n")) {
            for (int i = 0; i < 200; i++) {
                assertThat(world.refresher.nextDelay(true)).isBetween(Duration.ofSeconds(45), Duration.ofSeconds(60));
            }
        }
    }

    @Test
    void throttledRefreshesBackOffDoublingUpToAQuarterOfMaxStaleness() throws Exception {
        try (IamWorld world = new IamWorld("    refresh: 60s\n    max_staleness: 15m\n")) {
            world.iam.inject(FakeIam.Fault.throttle("*"));
            Duration[] upper = {Duration.ofSeconds(120), Duration.ofSeconds(225), Duration.ofSeconds(225)};
            for (Duration max : upper) {
                world.refresh();
                Duration d = world.refresher.nextDelay(false);
                assertThat(d).isLessThanOrEqualTo(max).isGreaterThanOrEqualTo(Duration.ofMillis((long) (max.toMillis() * 0.75)));
            }
            // An outage that is not throttling retries at the normal period: waiting longer only nears max_staleness.
            world.iam.clearFaults();
            world.iam.down(true);
            world.refresh();
            assertThat(world.refresher.nextDelay(false)).isLessThanOrEqualTo(Duration.ofSeconds(60));
        }
    }

    @Test
    void startLoadsBeforeReturningAndTheBackgroundThreadPicksUpChanges() throws Exception {
        try (IamWorld world = new IamWorld("    refresh: 1s\n    max_staleness: 10s\n")) {
            String key = IamTestKeys.ed25519("refresher");
            world.iam.user("ann").tag("sallyport:allow", "true").tag("sallyport:ssh-key", key);
            world.refresher.start();
            assertThat(world.login("ann", key)).isInstanceOf(AuthDecision.Accept.class);

            world.iam.user("ann").untag("sallyport:allow");
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (world.login("ann", key) instanceof AuthDecision.Accept && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(world.login("ann", key)).isInstanceOf(AuthDecision.Reject.class);
        }
    }

    @Test
    void pacerSpreadsCallsAtTheConfiguredRate() throws Exception {
        CallPacer pacer = CallPacer.perSecond(100, 5);
        long t0 = System.nanoTime();
        for (int i = 0; i < 25; i++) {
            pacer.acquire();
        }
        // 5 from the burst, then 20 at 100/s.
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(180));
    }

    @Test
    void aBurstOfReloadsIsAtMostOneRefreshBeyondTheOneRunning() throws Exception {
        try (IamWorld world = new IamWorld("    refresh: 1h\n    max_staleness: 3h\n")) {
            world.iam.user("ann").tag("sallyport:allow", "true").tag("sallyport:ssh-key", IamTestKeys.ed25519("burst"));
            world.refresher.start();
            int before = world.iam.calls("GetAccountAuthorizationDetails");
            world.iam.inject(FakeIam.Fault.slow("GetAccountAuthorizationDetails", Duration.ofMillis(200)));

            for (int i = 0; i < 20; i++) {
                world.identities.reconfigure(world.config);
            }

            // Wait until the refresh thread is quiet: no new call for a second (bounded).
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            int seen = -1;
            while (System.nanoTime() < deadline && seen != world.iam.calls("GetAccountAuthorizationDetails")) {
                seen = world.iam.calls("GetAccountAuthorizationDetails");
                Thread.sleep(1000);
            }
            assertThat(world.iam.calls("GetAccountAuthorizationDetails") - before).isBetween(1, 2);
        }
    }

    @Test
    void aRefreshSlowerThanThePeriodIsFollowedByAWaitAsLongAsItTook() throws Exception {
        try (IamWorld world = new IamWorld("    refresh: 1s\n    max_staleness: 10s\n")) {
            for (String name : new String[] {"ann", "bob"}) {
                world.iam.user(name).tag("sallyport:allow", "true").uploadKey(IamTestKeys.rsa("slow-" + name));
            }
            // Two key listings of 600 ms each: the refresh takes longer than the 1 s period.
            world.iam.inject(FakeIam.Fault.slow("ListSSHPublicKeys", Duration.ofMillis(600)));
            assertThat(world.refresh()).isTrue();
            Duration took = world.refresher.lastRefreshDuration().orElseThrow();
            assertThat(took).isGreaterThan(Duration.ofMillis(1200));

            // Back to back would keep this instance calling IAM all the time: it waits as long as the
            // refresh took, less the jitter (refreshes slowed alike must not stay in step).
            for (int i = 0; i < 20; i++) {
                assertThat(world.refresher.nextDelay(true)).isBetween(Duration.ofMillis((long) (took.toMillis() * 0.75)), took);
            }
            // Once the directory is quick to read again, the period is the configured one.
            world.iam.clearFaults();
            assertThat(world.refresh()).isTrue();
            assertThat(world.refresher.nextDelay(true)).isBetween(Duration.ofMillis(750), Duration.ofSeconds(1));
        }
    }
}
