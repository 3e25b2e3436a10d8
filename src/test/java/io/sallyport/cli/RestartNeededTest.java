package io.sallyport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigException;
import io.sallyport.config.ConfigLoader;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a reload reports as needing a restart: exactly the keys it cannot apply that the new file
 * changed. Everything else (roles, rules, users, limits, crypto, the audit file) is applied by the
 * reload and so never listed.
 */
class RestartNeededTest {
    private static final Path SOURCE = Path.of("/etc/sallyport/sallyport.yaml");
    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice";

    /** The running file: every key a reload cannot apply is set, as are the ones it can. */
    private static final String RUNNING = """
            listen: ["0.0.0.0:22"]
            host_keys: [/var/lib/sallyport/ssh_host_ed25519_key]
            host_certificate: /etc/sallyport/host-cert.pub
            crypto: modern
            proxy_protocol:
              trusted_sources: ["10.0.0.0/8"]
            policy:
              roles:
                admin:
                  allow: ["10.0.0.0/16:22"]
                db:
                  allow: ["10.0.20.0/24:5432"]
              deny: []
              max_sessions_per_user: 10
            identity:
              local:
                users:
                  alice:
                    roles: [admin]
                    keys: ["%s"]
              iam:
                enabled: true
                endpoint: "http://127.0.0.1:4566"
                region: us-east-1
                allow_groups: [bastion-users]
            limits:
              max_tunnels_per_session: 64
              max_unauthenticated: 100
            audit:
              file: /var/log/sallyport/audit.log
              stdout: false
              spool_dir: /var/lib/sallyport/spool
              spool_max_bytes: 1GiB
              on_spool_full: refuse_new_sessions
              cloudwatch:
                enabled: true
                region: eu-west-1
                log_group: /sallyport/audit
            admin:
              socket: /run/sallyport/admin.sock
              metrics_listen: "127.0.0.1:9810"
            """.formatted(KEY);

    private static Config parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, SOURCE);
    }

    /** The running file with one line replaced; fails when {@code from} is not in it, so no case tests nothing. */
    private static Config changed(String from, String to) throws ConfigException {
        if (!RUNNING.contains(from)) {
            throw new AssertionError("not in the running file: " + from);
        }
        return parse(RUNNING.replace(from, to));
    }

    @Test
    void theSameFileNeedsNoRestart() throws Exception {
        assertThat(RestartNeeded.between(parse(RUNNING), parse(RUNNING))).isEmpty();
    }

    static Stream<Arguments> keysAReloadCannotApply() {
        return Stream.of(
                Arguments.of("listen", "listen: [\"0.0.0.0:22\"]", "listen: [\"0.0.0.0:2222\"]"),
                Arguments.of("host_keys", "host_keys: [/var/lib/sallyport/ssh_host_ed25519_key]",
                        "host_keys: [/var/lib/sallyport/other_key]"),
                Arguments.of("host_certificate", "host_certificate: /etc/sallyport/host-cert.pub", "host_certificate: null"),
                Arguments.of("proxy_protocol", "trusted_sources: [\"10.0.0.0/8\"]", "trusted_sources: [\"10.1.0.0/16\"]"),
                Arguments.of("audit.spool_dir", "spool_dir: /var/lib/sallyport/spool", "spool_dir: /srv/spool"),
                Arguments.of("audit.spool_max_bytes", "spool_max_bytes: 1GiB", "spool_max_bytes: 2GiB"),
                Arguments.of("audit.on_spool_full", "on_spool_full: refuse_new_sessions", "on_spool_full: drop_oldest"),
                Arguments.of("audit.cloudwatch", "log_group: /sallyport/audit", "log_group: /sallyport/other"),
                Arguments.of("audit.cloudwatch", "    enabled: true\n    region: eu-west-1", "    enabled: false\n    region: eu-west-1"),
                Arguments.of("admin.socket", "socket: /run/sallyport/admin.sock", "socket: /run/sallyport/other.sock"),
                Arguments.of("admin.metrics_listen", "metrics_listen: \"127.0.0.1:9810\"", "metrics_listen: null"),
                Arguments.of("identity.iam.enabled", "    enabled: true\n    endpoint", "    enabled: false\n    endpoint"),
                Arguments.of("identity.iam.endpoint", "endpoint: \"http://127.0.0.1:4566\"", "endpoint: \"http://127.0.0.1:4567\""),
                Arguments.of("identity.iam.region", "region: us-east-1", "region: us-west-2"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("keysAReloadCannotApply")
    void aChangedKeyAReloadCannotApplyIsReportedAlone(String key, String from, String to) throws Exception {
        assertThat(RestartNeeded.between(parse(RUNNING), changed(from, to))).containsExactly(key);
    }

    static Stream<Arguments> keysAReloadApplies() {
        return Stream.of(
                Arguments.of("an allow rule", "allow: [\"10.0.0.0/16:22\"]", "allow: [\"10.0.4.0/24:22\"]"),
                Arguments.of("a role", "    db:\n      allow: [\"10.0.20.0/24:5432\"]\n", ""),
                Arguments.of("a user's roles", "roles: [admin]", "roles: [admin, db]"),
                Arguments.of("a user's keys", "keys: [\"" + KEY + "\"]", "keys: []"),
                Arguments.of("policy.deny", "deny: []", "deny: [\"10.0.3.0/24\"]"),
                Arguments.of("policy.max_sessions_per_user", "max_sessions_per_user: 10", "max_sessions_per_user: 2"),
                Arguments.of("IAM rules", "allow_groups: [bastion-users]", "allow_groups: [ops]"),
                Arguments.of("limits", "max_tunnels_per_session: 64\n  max_unauthenticated: 100",
                        "max_tunnels_per_session: 8\n  max_unauthenticated: 20"),
                Arguments.of("crypto", "crypto: modern", "crypto: pq-only"),
                Arguments.of("audit.file", "file: /var/log/sallyport/audit.log", "file: /var/log/sallyport/other.log"),
                Arguments.of("audit.stdout", "stdout: false", "stdout: true"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("keysAReloadApplies")
    void aChangeTheReloadAppliesIsNotListed(String what, String from, String to) throws Exception {
        assertThat(RestartNeeded.between(parse(RUNNING), changed(from, to))).isEmpty();
    }

    @Test
    void everyChangedKeyIsListedOnce() throws Exception {
        Config next = parse(RUNNING.replace("listen: [\"0.0.0.0:22\"]", "listen: [\"0.0.0.0:2222\"]")
                .replace("socket: /run/sallyport/admin.sock", "socket: /run/sallyport/other.sock")
                .replace("region: us-east-1", "region: us-west-2")
                .replace("crypto: modern", "crypto: pq-only"));

        assertThat(RestartNeeded.between(parse(RUNNING), next))
                .containsExactlyInAnyOrder("listen", "admin.socket", "identity.iam.region");
    }

    @Test
    void spoolAndCloudWatchChangesNeedNoRestartWhileShippingIsOffBeforeAndAfter() throws Exception {
        String off = RUNNING.replace("    enabled: true\n    region: eu-west-1", "    enabled: false\n    region: eu-west-1");
        String changed = off.replace("spool_dir: /var/lib/sallyport/spool", "spool_dir: /srv/spool")
                .replace("spool_max_bytes: 1GiB", "spool_max_bytes: 2GiB")
                .replace("on_spool_full: refuse_new_sessions", "on_spool_full: drop_oldest")
                .replace("log_group: /sallyport/audit", "log_group: /sallyport/other");

        assertThat(RestartNeeded.between(parse(off), parse(changed))).isEmpty();
        assertThat(RestartNeeded.between(parse(off), parse(RUNNING))).as("turning shipping on")
                .containsExactly("audit.cloudwatch");
    }

    @Test
    void iamEndpointAndRegionChangesNeedNoRestartWhileIamIsOffBeforeAndAfter() throws Exception {
        String off = RUNNING.replace("    enabled: true\n    endpoint", "    enabled: false\n    endpoint");
        String changed = off.replace("endpoint: \"http://127.0.0.1:4566\"", "endpoint: \"http://127.0.0.1:4567\"")
                .replace("region: us-east-1", "region: us-west-2");

        assertThat(RestartNeeded.between(parse(off), parse(changed))).isEmpty();
        assertThat(RestartNeeded.between(parse(off), parse(changed.replace("    enabled: false\n    endpoint", "    enabled: true\n    endpoint"))))
                .as("turning IAM on, somewhere else").containsExactly("identity.iam.enabled", "identity.iam.endpoint",
                        "identity.iam.region");
    }
}
