package io.sallyport.config;

import static io.sallyport.config.ConfigFixtures.parse;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConfigDefaultsTest {

    @Test
    void emptyFileIsValidAndAllowsNobody() throws Exception {
        Config config = parse("");

        assertThat(config.policy().roles()).isEmpty();
        assertThat(config.identity().localUsers()).isEmpty();
        assertThat(config.identity().iam().enabled()).isFalse();
        assertThat(config.identity().certificates().authorities()).isEmpty();
        assertThat(config.policy().unsafeAllowLoopback()).isFalse();
        assertThat(config.policy().allowPublicTargets()).isFalse();
    }

    @Test
    void fileWithOnlyCommentsIsTheSameAsAnEmptyFile() throws Exception {
        assertThat(parse("# nothing configured yet\n\n   # still nothing\n")).isEqualTo(parse(""));
    }

    @Test
    void emptySectionsMeanAllDefaults() throws Exception {
        assertThat(parse("identity:\npolicy:\naudit:\n  cloudwatch:\n")).isEqualTo(parse(""));
    }

    @Test
    void emptyFileGetsEveryDocumentedDefault() throws Exception {
        Config c = parse("");

        assertThat(c.source()).isEqualTo(ConfigFixtures.SOURCE);
        assertThat(c.listen()).containsExactly(new Config.HostPort("0.0.0.0", 22));
        assertThat(c.hostKeys()).containsExactly(Path.of("/var/lib/sallyport/ssh_host_ed25519_key"));
        assertThat(c.hostCertificate()).isEmpty();
        assertThat(c.crypto()).isEqualTo(Config.CryptoProfile.MODERN);
        assertThat(c.proxyProtocol()).isEqualTo(new Config.ProxyProtocol(false, List.of()));

        Config.Iam iam = c.identity().iam();
        assertThat(iam.endpoint()).isEmpty();
        assertThat(iam.region()).isEqualTo("us-east-1");
        assertThat(iam.refresh()).isEqualTo(Duration.ofSeconds(60));
        assertThat(iam.maxStaleness()).isEqualTo(Duration.ofMinutes(15));
        assertThat(iam.pathPrefix()).isEqualTo("/");
        assertThat(iam.allowTag()).isEqualTo("sallyport:allow");
        assertThat(iam.allowGroups()).isEmpty();
        assertThat(iam.rolesTag()).isEqualTo("sallyport:roles");
        assertThat(iam.keyTagPrefix()).isEqualTo("sallyport:ssh-key");
        assertThat(iam.groupRoles()).isEmpty();

        assertThat(c.identity().certificates()).isEqualTo(new Config.Certificates(
                Duration.ofHours(24), Duration.ofSeconds(60), Optional.empty(), List.of()));

        assertThat(c.policy().privateNetworks())
                .containsExactly("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7");
        assertThat(c.policy().deny()).isEmpty();
        assertThat(c.policy().minRsaBits()).isEqualTo(2048);
        assertThat(c.policy().maxSessionsPerUser()).isEqualTo(10);
        assertThat(c.policy().idleTimeout()).isEqualTo(Duration.ofMinutes(30));
        assertThat(c.policy().maxSessionDuration()).isEqualTo(Duration.ofHours(12));

        assertThat(c.limits()).isEqualTo(new Config.Limits(100, 10, Duration.ofSeconds(30), 6, Duration.ofSeconds(30),
                Duration.ofSeconds(10), List.of(), 64, 256, Duration.ofSeconds(2), 85, List.of()));

        assertThat(c.audit().file()).isEmpty();
        assertThat(c.audit().stdout()).isFalse();
        assertThat(c.audit().spoolDir()).isEqualTo(Path.of("/var/lib/sallyport/spool"));
        assertThat(c.audit().spoolMaxBytes()).isEqualTo(1L << 30);
        assertThat(c.audit().onSpoolFull()).isEqualTo(Config.SpoolFullAction.REFUSE_NEW_SESSIONS);
        assertThat(c.audit().cloudwatch()).isEqualTo(new Config.CloudWatch(
                false, Optional.empty(), Optional.empty(), "/sallyport/audit", "{instance_id}", true));

        assertThat(c.admin().socket()).isEqualTo(Path.of("/run/sallyport/admin.sock"));
        assertThat(c.admin().metricsListen()).contains(new Config.HostPort("127.0.0.1", 9810));
    }

    @Test
    void explicitNullTurnsOptionalSettingsOff() throws Exception {
        Config c = parse("""
                host_certificate: null
                identity:
                  iam:
                    endpoint: null
                audit:
                  file: ~
                admin:
                  metrics_listen: null
                """);

        assertThat(c.hostCertificate()).isEmpty();
        assertThat(c.identity().iam().endpoint()).isEmpty();
        assertThat(c.audit().file()).isEmpty();
        assertThat(c.admin().metricsListen()).isEmpty();
    }

    @Test
    void specExampleLoadsOnceUnsupportedFeaturesAreOff() throws Exception {
        Config c = parse("""
                listen: ["0.0.0.0:22"]
                host_keys:
                  - /var/lib/sallyport/ssh_host_ed25519_key
                host_certificate: /etc/sallyport/ssh_host_ed25519_key-cert.pub
                crypto: modern
                proxy_protocol:
                  enabled: false
                  trusted_sources: []
                identity:
                  local:
                    users:
                      alice:
                        roles: [admin]
                        keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG alice@laptop"]
                  iam:
                    enabled: false
                    endpoint: null
                    region: us-east-1
                    refresh: 60s
                    max_staleness: 15m
                    path_prefix: /
                    allow_tag: "sallyport:allow"
                    allow_groups: [bastion-users]
                    roles_tag: "sallyport:roles"
                    key_tag_prefix: "sallyport:ssh-key"
                    group_roles: {dba: [db]}
                  certificates:
                    max_validity: 24h
                    clock_skew: 60s
                    revoked: /etc/sallyport/revoked_keys
                    authorities: []
                policy:
                  roles:
                    admin:
                      allow: ["10.0.0.0/16:22", "*.internal.corp:22"]
                    db:
                      allow: ["10.0.20.0/24:5432", "db-*.internal.corp:5432"]
                  private_networks: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7]
                  deny: []
                  unsafe_allow_loopback: false
                  min_rsa_bits: 2048
                  max_sessions_per_user: 10
                  idle_timeout: 30m
                  max_session_duration: 12h
                limits:
                  max_unauthenticated: 100
                  login_grace_time: 30s
                  max_auth_attempts: 6
                  auth_failure_penalty: 30s
                audit:
                  file: /var/log/sallyport/audit.jsonl
                  stdout: false
                  spool_dir: /var/lib/sallyport/spool
                  spool_max_bytes: 1GiB
                  on_spool_full: refuse_new_sessions
                  cloudwatch:
                    enabled: false
                    endpoint: null
                    region: null
                    log_group: /sallyport/audit
                    log_stream: "{instance_id}"
                    create_log_group: true
                admin:
                  socket: /run/sallyport/admin.sock
                  metrics_listen: 127.0.0.1:9810
                """);

        assertThat(c.identity().localUsers().get("alice").roles()).containsExactly("admin");
        assertThat(c.identity().iam().groupRoles()).containsEntry("dba", List.of("db"));
        assertThat(c.policy().roles().get("db").allow()).extracting(Config.Located::value)
                .containsExactly("10.0.20.0/24:5432", "db-*.internal.corp:5432");
        assertThat(c.identity().certificates().revoked()).map(Config.Located::value).contains(Path.of("/etc/sallyport/revoked_keys"));
        assertThat(c.audit().file()).contains(Path.of("/var/log/sallyport/audit.jsonl"));
    }
}
