package io.sallyport.config;

import static io.sallyport.config.ConfigFixtures.onlyProblemOf;
import static io.sallyport.config.ConfigFixtures.parse;
import static io.sallyport.config.ConfigFixtures.problemsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigValuesTest {

    @ParameterizedTest
    @CsvSource({"90s, PT1M30S", "15m, PT15M", "12h, PT12H", "7d, PT168H", "1s, PT1S"})
    void durationsTakeAWholeNumberAndOneUnit(String written, Duration expected) throws Exception {
        assertThat(parse("policy:\n  idle_timeout: " + written + "\n").policy().idleTimeout()).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"5 minutes", "30", "1.5h", "15M", "1h30m", "-5m", "PT15M", "m"})
    void anythingElseIsNotADuration(String written) {
        ConfigProblem p = onlyProblemOf("limits:\n  login_grace_time: \"" + written + "\"\n");

        assertThat(p.keyPath()).isEqualTo("limits.login_grace_time");
        assertThat(p.message()).isEqualTo("'" + written + "' is not a duration (use e.g. 90s, 15m, 12h, 7d)");
    }

    @Test
    void zeroDurationIsRefused() {
        assertThat(onlyProblemOf("policy:\n  max_session_duration: 0s\n").message())
                .isEqualTo("'0s' is not a positive duration (use e.g. 90s, 15m, 12h, 7d)");
    }

    @Test
    void ipv6ListenAddressesGoInBrackets() throws Exception {
        Config c = parse("listen: [\"[::]:22\", \"0.0.0.0:2222\", \"[fd00::1]:22\"]\n");

        assertThat(c.listen()).containsExactly(
                new Config.HostPort("::", 22), new Config.HostPort("0.0.0.0", 2222), new Config.HostPort("fd00::1", 22));
        assertThat(c.listen().get(0)).hasToString("[::]:22");
    }

    @Test
    void badListenAddressesSayWhatIsWrong() {
        List<ConfigProblem> problems = problemsOf("""
                listen:
                  - ":::22"
                  - "localhost:22"
                  - "0.0.0.0:0"
                  - "0.0.0.0"
                  - "[10.0.0.1]:22"
                  - "0.0.0.0:22"
                  - "0.0.0.0:22"
                admin:
                  metrics_listen: "127.0.0.1:metrics"
                """);

        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::keyPath, ConfigProblem::message).containsExactly(
                tuple(2, "listen[0]", "':::22': put an IPv6 address in brackets, e.g. [::]:22"),
                tuple(3, "listen[1]", "'localhost' in 'localhost:22' is not an IP address; listen on an address, not a name (e.g. 0.0.0.0:22, [::]:22)"),
                tuple(4, "listen[2]", "port 0 in '0.0.0.0:0' is out of range 1-65535"),
                tuple(5, "listen[3]", "'0.0.0.0' is not HOST:PORT (e.g. 0.0.0.0:22, [::]:22)"),
                tuple(6, "listen[4]", "'10.0.0.1' in '[10.0.0.1]:22' is not an IPv6 address"),
                tuple(8, "listen[6]", "'0.0.0.0:22' is already listed at line 7"),
                tuple(10, "admin.metrics_listen", "'metrics' in '127.0.0.1:metrics' is not a port number (1-65535)"));
    }

    @Test
    void allowRulesKeepTheirTextLineAndKeyPath() throws Exception {
        Config c = parse("""
                policy:
                  roles:
                    admin:
                      allow:
                        - "10.0.0.0/16:22"
                        - "*.internal.corp:22,2222"
                """);

        assertThat(c.policy().roles().get("admin").allow()).containsExactly(
                new Config.Located<>("10.0.0.0/16:22", 5, "policy.roles.admin.allow[0]"),
                new Config.Located<>("*.internal.corp:22,2222", 6, "policy.roles.admin.allow[1]"));
    }

    @Test
    void localUserKeysKeepTheirLineAndKeyPath() throws Exception {
        Config c = parse("""
                policy:
                  roles:
                    admin: {allow: []}
                identity:
                  local:
                    users:
                      alice:
                        roles: [admin]
                        keys:
                          - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA alice@laptop
                          - ecdsa-sha2-nistp256 AAAAE2VjZHNh
                """);

        Config.LocalUser alice = c.identity().localUsers().get("alice");
        assertThat(alice.keys()).containsExactly(
                new Config.Located<>("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA alice@laptop", 10, "identity.local.users.alice.keys[0]"),
                new Config.Located<>("ecdsa-sha2-nistp256 AAAAE2VjZHNh", 11, "identity.local.users.alice.keys[1]"));
    }

    @Test
    void rolesReferencingUndefinedRolesAreRefusedWithASuggestion() {
        List<ConfigProblem> problems = problemsOf("""
                policy:
                  roles:
                    admin: {allow: ["10.0.0.0/16:22"]}
                identity:
                  local:
                    users:
                      alice: {roles: [admn]}
                  iam:
                    group_roles:
                      dba: [db]
                """);

        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::keyPath, ConfigProblem::message).containsExactly(
                tuple(7, "identity.local.users.alice.roles[0]", "role 'admn' is not defined in policy.roles (did you mean 'admin'?)"),
                tuple(10, "identity.iam.group_roles.dba[0]", "role 'db' is not defined in policy.roles"));
    }

    @Test
    void roleNeedsAnAllowListAndAPlainName() {
        List<ConfigProblem> problems = problemsOf("""
                policy:
                  roles:
                    admin: {}
                    "db team":
                      allow: []
                    ops: ["10.0.0.0/8:22"]
                """);

        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::keyPath, ConfigProblem::message).containsExactly(
                tuple(3, "policy.roles.admin", "role 'admin' needs an allow list (it may be empty: allow: [])"),
                tuple(4, "policy.roles.db team", "'db team' is not a role name (letters, digits, '_', '.', '-')"),
                tuple(6, "policy.roles.ops", "expected a mapping with an allow list (e.g. ops: {allow: [\"10.0.0.0/16:22\"]}), got a list"));
    }

    @Test
    void roleFromAndRequireAreReadAndChecked() throws Exception {
        Config c = parse("""
                policy:
                  roles:
                    admin:
                      allow: ["10.0.0.0/16:22"]
                      from: [203.0.113.0/24, "2001:db8::/32"]
                      require: [fido, fido-verified, fido]
                """);
        assertThat(c.policy().roles().get("admin").from()).containsExactly("203.0.113.0/24", "2001:db8::/32");
        assertThat(c.policy().roles().get("admin").require())
                .containsExactly(Config.Requirement.FIDO, Config.Requirement.FIDO_VERIFIED);

        List<ConfigProblem> problems = problemsOf("""
                policy:
                  roles:
                    admin:
                      allow: []
                      from: [203.0.113.7/24]
                      require: [yubikey]
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::keyPath).containsExactly(
                tuple(5, "policy.roles.admin.from[0]"), tuple(6, "policy.roles.admin.require[0]"));
        assertThat(problems.get(0).message()).contains("host bits set");
        assertThat(problems.get(1).message()).contains("fido").contains("fido-verified");
    }

    @Test
    void badUserNamesAreRefused() {
        ConfigProblem p = onlyProblemOf("identity:\n  local:\n    users:\n      \"alice smith\": {}\n");

        assertThat(p.keyPath()).isEqualTo("identity.local.users.alice smith");
        assertThat(p.message()).startsWith("'alice smith' is not a user name");
    }

    @Test
    void numbersOutsideTheirSaneRangeAreRefused() {
        List<ConfigProblem> problems = problemsOf("""
                policy:
                  min_rsa_bits: 1024
                  max_sessions_per_user: 0
                limits:
                  max_unauthenticated: 99999999999999999999
                """);

        assertThat(problems).extracting(ConfigProblem::keyPath, ConfigProblem::message).containsExactly(
                tuple("policy.min_rsa_bits", "must be between 2048 and 16384, got 1024"),
                tuple("policy.max_sessions_per_user", "must be between 1 and 10000, got 0"),
                tuple("limits.max_unauthenticated", "must be between 1 and 100000, got 99999999999999999999"));
    }

    @Test
    void logStreamTakesOnlyKnownPlaceholders() throws Exception {
        assertThat(parse("audit:\n  cloudwatch:\n    log_stream: \"{hostname}-{date}/{instance_id}\"\n")
                .audit().cloudwatch().logStream()).isEqualTo("{hostname}-{date}/{instance_id}");

        assertThat(onlyProblemOf("audit:\n  cloudwatch:\n    log_stream: \"{region}\"\n").message())
                .contains("unknown placeholder");
        assertThat(onlyProblemOf("audit:\n  cloudwatch:\n    log_stream: \"bastion:1\"\n").message())
                .contains("':' or '*'");
    }

    @Test
    void spoolSizeTakesABinaryUnitAndStaysWithinBounds() throws Exception {
        assertThat(parse("audit:\n  spool_max_bytes: 64KiB\n").audit().spoolMaxBytes()).isEqualTo(64L << 10);
        assertThat(parse("audit:\n  spool_max_bytes: 512MiB\n").audit().spoolMaxBytes()).isEqualTo(512L << 20);
        assertThat(parse("audit:\n  spool_max_bytes: 2GiB\n").audit().spoolMaxBytes()).isEqualTo(2L << 30);

        assertThat(onlyProblemOf("audit:\n  spool_max_bytes: 1073741824\n").message())
                .startsWith("'1073741824' is not a size (use e.g. 64MiB, 1GiB");
        assertThat(onlyProblemOf("audit:\n  spool_max_bytes: 1GB\n").message()).contains("is not a size");
        assertThat(onlyProblemOf("audit:\n  spool_max_bytes: 4KiB\n").message())
                .isEqualTo("must be between 64KiB and 1TiB, got 4KiB");
        assertThat(onlyProblemOf("audit:\n  spool_max_bytes: 2TiB\n").keyPath()).isEqualTo("audit.spool_max_bytes");
    }

    @Test
    void choicesSuggestTheClosestSpelling() {
        assertThat(onlyProblemOf("audit:\n  on_spool_full: drop_olderst\n").message())
                .isEqualTo("'drop_olderst' is not one of refuse_new_sessions, drop_oldest (did you mean 'drop_oldest'?)");
        assertThat(onlyProblemOf("crypto: pq_only\n").message())
                .isEqualTo("'pq_only' is not one of modern, pq-only, compat (did you mean 'pq-only'?)");
    }

    @Test
    void awsNamesAreCheckedAtLoadTime() {
        List<ConfigProblem> problems = problemsOf("""
                identity:
                  iam:
                    region: us-east
                    endpoint: "localhost:4566"
                    path_prefix: engineering
                    allow_tag: "aws:allow"
                """);

        assertThat(problems).extracting(ConfigProblem::keyPath).containsExactly(
                "identity.iam.region", "identity.iam.endpoint", "identity.iam.path_prefix", "identity.iam.allow_tag");
    }

    @Test
    void relativePathsAreResolvedAgainstTheConfigFileDirectory(@TempDir Path dir) throws Exception {
        Path etc = Files.createDirectories(dir.resolve("etc"));
        Path file = etc.resolve("sallyport.yaml");
        Files.writeString(file, """
                host_keys: [keys/host_ed25519]
                host_certificate: ./keys/host_ed25519-cert.pub
                identity:
                  certificates:
                    revoked: revoked_keys
                audit:
                  file: ../log/audit.jsonl
                  spool_dir: /var/lib/sallyport/spool
                admin:
                  socket: run/admin.sock
                """);

        Config c = ConfigLoader.load(file);

        assertThat(c.hostKeys()).containsExactly(etc.resolve("keys/host_ed25519"));
        assertThat(c.hostCertificate()).contains(etc.resolve("keys/host_ed25519-cert.pub"));
        assertThat(c.identity().certificates().revoked()).map(Config.Located::value).contains(etc.resolve("revoked_keys"));
        assertThat(c.audit().file()).contains(dir.resolve("log/audit.jsonl"));
        assertThat(c.audit().spoolDir()).isEqualTo(Path.of("/var/lib/sallyport/spool"));
        assertThat(c.admin().socket()).isEqualTo(etc.resolve("run/admin.sock"));
    }

    @Test
    void relativeConfigFileNameStillAnchorsPathsAtItsDirectory() throws Exception {
        Config c = ConfigLoader.parse("host_keys: [host_key]\n", Path.of("conf/sallyport.yaml"));

        assertThat(c.hostKeys()).containsExactly(Path.of("conf/host_key").toAbsolutePath());
    }

    @Test
    void certificateAuthoritiesAreValidated() {
        List<ConfigProblem> problems = problemsOf("""
                policy:
                  roles:
                    admin: {allow: []}
                identity:
                  certificates:
                    authorities:
                      - name: corp-ca
                        public_key: "ssh-ed25519 AAAAC3Nz corp-ca"
                        grantable_roles: [admin, db]
                      - name: corp-ca
                        public_key: "ssh-ed25519 AAAAC3Nz other"
                      - grantable_roles: [admin]
                """);

        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::keyPath, ConfigProblem::message).containsExactly(
                tuple(9, "identity.certificates.authorities[0].grantable_roles[1]", "role 'db' is not defined in policy.roles"),
                tuple(10, "identity.certificates.authorities[1].name", "authority name 'corp-ca' is already used at line 7"),
                tuple(12, "identity.certificates.authorities[2]", "an authority needs a name"),
                tuple(12, "identity.certificates.authorities[2]", "an authority needs a public_key (the CA's OpenSSH public key line)"));
    }

    @Test
    void privateNetworksCannotBeAPublicRangeInDisguise() {
        List<ConfigProblem> problems = problemsOf("""
                policy:
                  private_networks: [10.0.0.0/8, 0.0.0.0/0, "::/0", 8.8.8.0/24, 172.0.0.0/11, fd00::/8, 100.64.0.0/10]
                """);

        assertThat(problems).extracting(ConfigProblem::keyPath).containsExactly(
                "policy.private_networks[1]", "policy.private_networks[2]", "policy.private_networks[3]", "policy.private_networks[4]");
        assertThat(problems.get(0).message()).startsWith("'0.0.0.0/0' is every IPv4 address, not a private network (private: "
                + "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7)");
        assertThat(problems.get(1).message()).startsWith("'::/0' is every IPv6 address");
        assertThat(problems.get(2).message()).startsWith("'8.8.8.0/24' is not private address space")
                .endsWith("Set policy.allow_public_targets: true if that is meant");
    }

    @Test
    void publicPrivateNetworksNeedAllowPublicTargets() throws Exception {
        Config c = parse("""
                policy:
                  private_networks: [10.0.0.0/8, 198.51.100.0/24]
                  allow_public_targets: true
                """);

        assertThat(c.policy().privateNetworks()).containsExactly("10.0.0.0/8", "198.51.100.0/24");
    }
}
