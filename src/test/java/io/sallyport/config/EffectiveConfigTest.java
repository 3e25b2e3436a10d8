package io.sallyport.config;

import static io.sallyport.config.ConfigFixtures.parse;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EffectiveConfigTest {
    private static final String KEY_BLOB = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

    @Test
    void emptyConfigSummarySaysNobodyMayReachAnything() throws Exception {
        String text = EffectiveConfig.render(parse(""));

        assertThat(text).contains("none: nobody may reach anything");
        assertThat(text).containsPattern("(?m)^  local users +none$");
        assertThat(text).containsPattern("(?m)^  loopback +denied$");
        assertThat(text).doesNotContain("WARNING");
    }

    @Test
    void summaryShowsAllowSourcesAndMaxKeyAge() throws Exception {
        assertThat(EffectiveConfig.render(parse("")))
                .containsPattern("(?m)^  allow sources +anywhere$").containsPattern("(?m)^  max key age +none$");
        String text = EffectiveConfig.render(parse("""
                identity:
                  max_key_age: 90d
                limits:
                  allow_sources: [203.0.113.0/24]
                """));

        assertThat(text).containsPattern("(?m)^  allow sources +203.0.113.0/24 \\(others closed at accept\\)$");
        assertThat(text).contains("max key age").contains("(plain keys; undated keys refused)");
    }

    @Test
    void summaryShowsRolesWithRulesAsWrittenAndUsersWithKeyCountsButNoKeys() throws Exception {
        String text = EffectiveConfig.render(parse("""
                listen: ["0.0.0.0:22", "[::]:22"]
                crypto: pq-only
                policy:
                  roles:
                    admin:
                      allow: ["10.0.0.0/16:22", "*.Internal.corp:22"]
                    db:
                      allow: []
                identity:
                  local:
                    users:
                      alice:
                        roles: [admin, db]
                        keys: ["ssh-ed25519 %s alice@laptop"]
                audit:
                  stdout: true
                """.formatted(KEY_BLOB)));

        assertThat(text).containsPattern("(?m)^  listen +0\\.0\\.0\\.0:22, \\[::\\]:22$");
        assertThat(text).containsPattern("(?m)^  crypto +pq-only$");
        assertThat(text).containsPattern("(?m)^    alice +roles: admin, db; 1 key$");
        assertThat(text).containsPattern("(?m)^    admin +allow 10\\.0\\.0\\.0/16:22$");
        assertThat(text).containsPattern("(?m)^ +allow \\*\\.Internal\\.corp:22$");
        assertThat(text).containsPattern("(?m)^    db +\\(no allow rules: grants nothing\\)$");
        assertThat(text).containsPattern("(?m)^  stdout +on$");
        assertThat(text).doesNotContain(KEY_BLOB);
    }

    @Test
    void summaryShowsEachRolesFromAndRequireUnderItsRules() throws Exception {
        String text = EffectiveConfig.render(parse("""
                policy:
                  roles:
                    prod:
                      allow: ["10.0.0.0/16:22"]
                      from: [203.0.113.0/24, "2001:db8::/32"]
                      require: [fido-verified]
                    office:
                      allow: []
                      from: [198.51.100.0/24]
                    dev:
                      allow: ["10.1.0.0/16:22"]
                """));

        assertThat(text).containsPattern("(?m)^    prod +allow 10\\.0\\.0\\.0/16:22\n +from 203\\.0\\.113\\.0/24, 2001:db8::/32 only"
                + " \\(a login from elsewhere does not get this role\\)\n +require fido-verified \\(a FIDO key, with user presence"
                + " and verification \\(PIN, biometric\\) on the login's signature\\)\n    office ");
        assertThat(text).containsPattern("(?m)^    office +\\(no allow rules: grants nothing\\)\n +from 198\\.51\\.100\\.0/24 only ");
        assertThat(text).containsPattern("(?m)^    dev +allow 10\\.1\\.0\\.0/16:22\n  \\S");
    }

    @Test
    void summaryShowsTheSpoolOnlyWhenCloudWatchShippingFeedsIt() throws Exception {
        assertThat(EffectiveConfig.render(parse(""))).containsPattern("(?m)^  spool +off ");

        String text = EffectiveConfig.render(parse("""
                audit:
                  spool_dir: /var/lib/sallyport/spool
                  spool_max_bytes: 512MiB
                  cloudwatch:
                    enabled: true
                    log_group: /corp/bastion
                """));

        assertThat(text).containsPattern("(?m)^  spool +/var/lib/sallyport/spool, up to 512MiB \\(when full: refuse_new_sessions\\)$");
        assertThat(text).containsPattern("(?m)^    region +from instance metadata$");
        assertThat(text).containsPattern("(?m)^    log group +/corp/bastion \\(created when missing\\)$");
    }

    @Test
    void unsafeAllowLoopbackIsFlaggedLoudly() throws Exception {
        String text = EffectiveConfig.render(parse("policy:\n  unsafe_allow_loopback: true\n"));

        assertThat(text).contains("!!! WARNING: policy.unsafe_allow_loopback is true");
        assertThat(text).containsPattern("(?m)^  loopback +ALLOWED \\(unsafe_allow_loopback: true\\)");
    }

    @Test
    void columnsAreAligned() throws Exception {
        String text = EffectiveConfig.render(parse(""));

        assertThat(text.lines().filter(l -> l.startsWith("  ")))
                .allSatisfy(l -> assertThat(l.charAt(27)).isEqualTo(' '))
                .allSatisfy(l -> assertThat(l.charAt(28)).isNotEqualTo(' '));
    }

    @Test
    void namesFromTheFileCannotDriveTheTerminal() throws Exception {
        // YAML double quotes turn \e into ESC: a rule or a path can carry any character.
        String text = EffectiveConfig.render(parse("""
                policy:
                  roles:
                    ops:
                      allow: ["10.0.0.0/16:22\\e]0;owned\\a"]
                audit:
                  file: "/var/log/eve\\e[2J\\u202e.jsonl"
                """));

        assertThat(text).doesNotContain("\u001b", "\u0007", "\u202e");
        assertThat(text).contains("/var/log/eve\\u001b[2J\\u202e.jsonl").contains("allow 10.0.0.0/16:22\\u001b]0;owned\\u0007");
    }
}
