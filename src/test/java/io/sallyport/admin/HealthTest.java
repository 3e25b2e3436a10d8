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
}
