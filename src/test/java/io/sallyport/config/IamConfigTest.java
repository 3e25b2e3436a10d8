package io.sallyport.config;

import static io.sallyport.config.ConfigFixtures.onlyProblemOf;
import static io.sallyport.config.ConfigFixtures.parse;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code identity.iam} is a working feature now: accepted when on, and its timing keys checked together. */
class IamConfigTest {

    @Test
    void iamEnabledIsAccepted() throws Exception {
        Config c = parse("identity:\n  iam:\n    enabled: true\n");

        assertThat(c.identity().iam().enabled()).isTrue();
    }

    @Test
    void shortRefreshForTestsIsAllowed() throws Exception {
        Config c = parse("identity:\n  iam:\n    enabled: true\n    refresh: 1s\n    max_staleness: 5s\n");

        assertThat(c.identity().iam().refresh()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void maxStalenessShorterThanTwoRefreshesIsRefusedBecauseOneFailedRefreshWouldLockEveryoneOut() {
        ConfigProblem p = onlyProblemOf("identity:\n  iam:\n    refresh: 10m\n    max_staleness: 15m\n");

        assertThat(p.keyPath()).isEqualTo("identity.iam.max_staleness");
        assertThat(p.line()).isEqualTo(4);
        assertThat(p.message()).isEqualTo("15m is shorter than twice identity.iam.refresh (10m): a single failed refresh"
                + " would refuse every IAM login");
    }
}
