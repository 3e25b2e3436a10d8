package io.sallyport.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class HealthTest {

    @Test
    void healthyWhenAcceptingLoginsWithADurableAuditTrailAndFreshIdentities() {
        Health h = Health.decide(true, Optional.empty(), Optional.empty());
        assertThat(h.ok()).isTrue();
        assertThat(h.httpStatus()).isEqualTo(200);
        assertThat(h.json()).containsEntry("status", "ok").doesNotContainKey("failing");
        assertThat(h.checks()).containsOnlyKeys("logins", "audit", "identities").allSatisfy((k, v) -> assertThat(v).isEqualTo("ok"));
    }

    @Test
    void aSpoolThatCannotPersistFailsTheAuditCheckWithItsReason() {
        Health h = Health.decide(true, Optional.of("audit spool full: 10 of 10 bytes"), Optional.empty());
        assertThat(h.httpStatus()).isEqualTo(503);
        assertThat(h.failing()).containsExactly("audit trail not durable: audit spool full: 10 of 10 bytes");
        assertThat(h.json()).containsEntry("status", "failing");
        assertThat(h.checks()).containsEntry("logins", "ok").containsEntry("identities", "ok");
    }

    @Test
    void staleIamDataFailsTheIdentitiesCheck() {
        Health h = Health.decide(true, Optional.empty(), Optional.of("IAM data is stale"));
        assertThat(h.httpStatus()).isEqualTo(503);
        assertThat(h.failing()).containsExactly("identities not fresh: IAM data is stale");
    }

    @Test
    void aStoppedListenerFailsAndEveryFailingCheckIsListed() {
        Health h = Health.decide(false, Optional.of("spool"), Optional.of("stale"));
        assertThat(h.httpStatus()).isEqualTo(503);
        assertThat(h.failing()).hasSize(3);
        assertThat(h.failing().get(0)).startsWith("not accepting logins");
    }

    @Test
    void aSpoolThatCannotWriteFailsHealthEvenWhenDropOldestKeepsLoginsOpen() {
        io.sallyport.audit.Spool.Status failing = new io.sallyport.audit.Spool.Status(5, 100, 1000, Optional.empty(), false,
                true, 5, 1, 0, 0, 0);
        MetricsSources s = new MetricsSources(() -> 0, () -> 0, () -> 0, () -> true, Optional::empty,
                Optional.of(() -> failing), Optional.empty(), Optional.empty(), Optional::empty, () -> 0.85,
                java.time.Clock.systemUTC());
        Health h = Health.of(s);
        assertThat(h.httpStatus()).isEqualTo(503);
        assertThat(h.checks().get("audit")).startsWith("audit trail not durable: audit spool cannot write to disk");
    }
}
