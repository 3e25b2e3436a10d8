package io.sallyport.identity.iam;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.aws.IamClients;
import io.sallyport.config.Config;
import io.sallyport.config.ConfigLoader;
import io.sallyport.testing.FakeIam;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The fleet's IAM call budget (docs/fleet.md, "IAM call budget") held against an account-wide
 * quota: 20 refreshers, each with its own real SDK client, against one fake IAM that answers
 * {@code Throttling} beyond its rate, as IAM does. Time is shrunk: a refresh period of seconds
 * instead of minutes, a pacing of 30 calls a second instead of 10, the SDK's throttling backoff
 * scaled with it. Every instance starts at once (a new stack), so the fleet asks for twice what
 * the account allows; the refresh period is the one the budget formula gives for the quota, and
 * {@code max_staleness} is three periods, as in the fleet template ({@code 10m}/{@code 30m}), so
 * the wait after a throttled refresh does not grow: the fleet gets out of the herd by jitter, by
 * failed refreshes stopping at the refused call, and by the wait after a slow refresh.
 * Assertions read the fake's call log, not the clock of the test.
 */
class IamFleetBudgetTest {
    static final int INSTANCES = 20;
    static final int USERS = 240;
    static final int ALLOWED = 60;
    /** One page, one listing per allowed user, one key body each: the first refresh. */
    static final int FIRST = RefreshStats.budget(USERS, ALLOWED, ALLOWED, IamDirectoryReader.PAGE_SIZE);
    /** Bodies cached: later refreshes. */
    static final int STEADY = RefreshStats.budget(USERS, ALLOWED, 0, IamDirectoryReader.PAGE_SIZE);
    static final double QUOTA = 300;
    static final double PACE = 30;
    static final double JITTER = 0.25;
    /** The period the budget asks for: N × C / (P × (1 − jitter)) within the quota at worst (at least 5.4 s here). */
    static final Duration REFRESH = Duration.ofSeconds(6);

    /** Production's shape (3 attempts, throttling backoff from 10 pacing intervals), scaled to the test's pace. */
    static final IamClients.Timings TIMINGS = new IamClients.Timings(3, Duration.ofMillis(20), Duration.ofMillis(330),
            Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(15));

    @Test
    void twentyInstancesStartingTogetherBackOffFromThrottlingAndConvergeWithinTheBudget() throws Exception {
        assertThat(INSTANCES * STEADY / (REFRESH.toMillis() / 1000.0 * (1 - JITTER))).isLessThan(QUOTA);
        List<String> partial = new CopyOnWriteArrayList<>();
        List<IamRefresher> refreshers = new ArrayList<>();
        List<IamIdentities> fleet = new ArrayList<>();
        try (FakeIam iam = FakeIam.start()) {
            String[] rsa = {IamTestKeys.rsa("fleet-a"), IamTestKeys.rsa("fleet-b")};
            for (int i = 0; i < USERS; i++) {
                FakeIam.User u = iam.user(String.format("user%03d", i), "/engineering/").tag("team", "t" + i % 7);
                if (i % 4 == 0) {
                    u.tag("sallyport:allow", "true").uploadKey(rsa[i % 8 == 0 ? 0 : 1]);
                }
            }
            iam.rateLimit(QUOTA, (int) (QUOTA / 10));
            Config config = ConfigLoader.parse("identity:\n  iam:\n    enabled: true\n    endpoint: \"" + iam.endpoint() + "\"\n"
                    + "    refresh: " + REFRESH.toSeconds() + "s\n    max_staleness: 18s\n"
                    + "policy:\n  roles:\n    ops:\n      allow: [\"10.0.0.0/16:22\"]\n", Path.of("/etc/sallyport/sallyport.yaml"));
            for (int n = 0; n < INSTANCES; n++) {
                IamIdentities identities = new IamIdentities(config, Clock.systemUTC());
                identities.onRefresh(() -> {
                    // Every snapshot an instance serves is the whole directory, never a part of it.
                    IamSnapshot s = identities.snapshot().orElseThrow();
                    long withKey = s.allowed().values().stream().filter(u -> !u.keys().isEmpty()).count();
                    if (s.allowed().size() != ALLOWED || withKey != ALLOWED) {
                        partial.add(s.stats().toString());
                    }
                });
                fleet.add(identities);
                refreshers.add(new IamRefresher(IamClients.iam(config.identity().iam(), TIMINGS), identities,
                        new IamRefresher.Settings(PACE, 5, Duration.ZERO, JITTER), new Random(n)));
            }
            long t0 = System.nanoTime();
            for (IamRefresher r : refreshers) {
                r.start(); // firstWait zero: all twenty begin at once
            }
            long deadline = t0 + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline && fleet.stream().anyMatch(i -> i.snapshot().isEmpty())) {
                Thread.sleep(100);
            }
            long converged = System.nanoTime();
            // A further stretch of steady state: every instance refreshes again at least once.
            Thread.sleep(REFRESH.toMillis() + 2000);
            long end = System.nanoTime();
            refreshers.forEach(IamRefresher::close);

            List<FakeIam.TimedCall> calls = iam.timedCalls();
            long throttled = calls.stream().filter(FakeIam.TimedCall::throttled).count();
            long accepted = calls.size() - throttled;
            double seconds = (end - t0) / 1e9;
            long worstSecond = 0;
            for (long from = t0; from < end; from += 1_000_000_000L) {
                long f = from;
                worstSecond = Math.max(worstSecond, calls.stream().filter(c -> c.nanos() >= f && c.nanos() < f + 1_000_000_000L).count());
            }
            System.out.printf("fleet converged after %.1f s; %d calls in %.1f s, %d throttled, busiest second %d%n",
                    (converged - t0) / 1e9, calls.size(), seconds, throttled, worstSecond);
            assertThat(fleet).allSatisfy(i -> assertThat(i.snapshot()).isPresent());
            assertThat(fleet).allSatisfy(i -> assertThat(i.snapshot().orElseThrow().allowed()).hasSize(ALLOWED));
            assertThat(partial).isEmpty();
            assertThat(throttled).as("the fleet starting at once exceeds the quota").isPositive();
            // Backoff, not a storm: from the first Throttling on, most calls fit the quota (at the
            // fleet's full pace, 20 × 30 = 600 a second against 300, half would be refused), and no
            // second sees that full pace: throttled calls are retried later, not at once.
            long firstThrottle = calls.stream().filter(FakeIam.TimedCall::throttled).mapToLong(FakeIam.TimedCall::nanos).min().orElseThrow();
            long afterFirst = calls.stream().filter(c -> c.nanos() >= firstThrottle).count();
            assertThat(throttled).as("refused of %d calls from the first Throttling on", afterFirst).isLessThan(afterFirst / 4);
            assertThat(worstSecond).isLessThan((long) (QUOTA * 1.5));
            // The budget: each instance at most one first refresh and one steady refresh per 0.75 × refresh.
            double periods = seconds / (REFRESH.toMillis() / 1000.0 * (1 - JITTER));
            assertThat(accepted).isLessThanOrEqualTo((long) (INSTANCES * (FIRST + STEADY * Math.ceil(periods))));
        } finally {
            refreshers.forEach(IamRefresher::close);
        }
    }
}
