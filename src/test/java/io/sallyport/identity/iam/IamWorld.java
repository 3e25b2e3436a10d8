package io.sallyport.identity.iam;

import io.sallyport.aws.IamClients;
import io.sallyport.config.Config;
import io.sallyport.config.ConfigLoader;
import io.sallyport.identity.AuthDecision;
import io.sallyport.identity.SshPublicKey;
import io.sallyport.testing.FakeIam;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;

/**
 * The IAM source wired as the server wires it — the real SDK client from {@code io.sallyport.aws},
 * talking to a {@link FakeIam} over HTTP — with a hand-moved clock, no pacing, and SDK retries fast
 * enough for unit tests.
 */
final class IamWorld implements AutoCloseable {
    /** Three attempts, as in production, with millisecond backoff and a 1 s attempt timeout. */
    static final IamClients.Timings FAST = new IamClients.Timings(3, Duration.ofMillis(5), Duration.ofMillis(10),
            Duration.ofMillis(50), Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(5));

    final FakeIam iam;
    final MutableClock clock = new MutableClock(Instant.parse("2026-11-28T10:00:00Z"));
    final Config config;
    final IamIdentities identities;
    final IamRefresher refresher;

    IamWorld(String iamSection) throws Exception {
        this(FakeIam.start(), iamSection);
    }

    /**
     * @param iamSection YAML lines under {@code identity.iam}, indented by four spaces; the
     *                   endpoint is added. Roles {@code ops} and {@code db} are defined.
     */
    IamWorld(FakeIam iam, String iamSection) throws Exception {
        this(iam, iamSection, FAST);
    }

    IamWorld(FakeIam iam, String iamSection, IamClients.Timings timings) throws Exception {
        this.iam = iam;
        String yaml = "identity:\n  iam:\n    enabled: true\n    endpoint: \"" + iam.endpoint() + "\"\n" + iamSection
                + "policy:\n  roles:\n    ops:\n      allow: [\"10.0.0.0/16:22\"]\n    db:\n      allow: [\"10.0.20.0/24:5432\"]\n";
        config = ConfigLoader.parse(yaml, Path.of("/etc/sallyport/sallyport.yaml"));
        identities = new IamIdentities(config, clock);
        refresher = new IamRefresher(IamClients.iam(config.identity().iam(), timings), identities,
                new IamRefresher.Settings(Double.POSITIVE_INFINITY, 1, Duration.ofSeconds(5), 0.25), new Random(1));
    }

    boolean refresh() {
        return refresher.refreshOnce();
    }

    AuthDecision login(String user, String keyLine) {
        return identities.authenticate(user, SshPublicKey.parseLine(keyLine));
    }

    IamSnapshot snapshot() {
        return identities.snapshot().orElseThrow();
    }

    @Override
    public void close() {
        refresher.close();
        iam.close();
    }
}
