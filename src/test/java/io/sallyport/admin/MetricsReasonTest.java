package io.sallyport.admin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MetricsReasonTest {

    @Test
    void aQuotaRefusalIsLabelledByItsQuotaName() {
        assertThat(MetricsReason.label("max_tunnels_per_session: session has 64 tunnels")).isEqualTo("max_tunnels_per_session");
        assertThat(MetricsReason.label("max_tunnels_per_user: alice has 256 tunnels open")).isEqualTo("max_tunnels_per_user");
        assertThat(MetricsReason.label("memory_high_water: 900 MiB of the heap's 1024 MiB in use (limit 85%)"))
                .isEqualTo("memory_high_water");
        assertThat(MetricsReason.label("auth_penalty: too many failed logins")).isEqualTo("auth_penalty");
        assertThat(MetricsReason.label("max_unauthenticated_per_source")).isEqualTo("max_unauthenticated_per_source");
        assertThat(MetricsReason.isQuota("max_tunnels_per_session")).isTrue();
        assertThat(MetricsReason.isQuota("no_rule")).isFalse();
    }

    @Test
    void theServersFixedPhrasesHaveTheirOwnLabels() {
        assertThat(MetricsReason.label("unknown user")).isEqualTo("unknown_user");
        assertThat(MetricsReason.label("key SHA256:abc is not one of alice's keys")).isEqualTo("key_not_authorized");
        assertThat(MetricsReason.label("no rule of role(s) dev allows db:5432")).isEqualTo("no_rule");
        assertThat(MetricsReason.label("no role left for this login: prod (require fido: not a FIDO key)")).isEqualTo("no_role_left");
        assertThat(MetricsReason.label("audit spool full: 10 of 10 bytes hold events")).isEqualTo("audit_spool");
        assertThat(MetricsReason.label("revoked: key SHA256:abc")).isEqualTo("revoked");
        assertThat(MetricsReason.label("idle")).isEqualTo("idle");
        assertThat(MetricsReason.label("session closed before the tunnel opened")).isEqualTo("session_closed");
    }

    @Test
    void aReasonAClientCanShapeCannotCreateANewLabel() {
        // the user name and the target host are the client's; the label never is
        assertThat(MetricsReason.label("evil_label_1: x")).isEqualTo("other");
        assertThat(MetricsReason.label("max_tunnels_per_session_x: y")).isEqualTo("other");
        assertThat(MetricsReason.label(" max_tunnels_per_session")).isEqualTo("max_tunnels_per_session");
        assertThat(MetricsReason.label("")).isEqualTo("other");
        assertThat(MetricsReason.label(null)).isEqualTo("other");
        for (int i = 0; i < 1000; i++) {
            assertThat(MetricsReason.label("reason " + i + ": anything")).isEqualTo("other");
        }
    }
}
