package io.sallyport.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sallyport.identity.CertificateVerifier;
import io.sallyport.identity.LocalIdentities;
import io.sallyport.net.TargetResolver;
import io.sallyport.policy.PolicyCompiler;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Timeout;

/**
 * {@link ConfigLoader#parse} reads a file an operator (or a configuration management tool, or a
 * mistaken copy) wrote. Contract: a {@link Config} or a {@link ConfigException} listing problems
 * that each name a line of the text, never another exception; what the loader accepts, the
 * second half of the checks ({@code check-config}: key lines, CA keys, allow rules) compiles
 * without a surprise, and {@link EffectiveConfig} prints.
 *
 * <p>{@link #anyText} mutates whole files (the seeds are the documented examples); {@link #yamlTree}
 * builds well-formed YAML from the known keys and edge-case values, so that mutations reach the
 * validation of every section instead of stopping at YAML syntax. Corpus and how to fuzz:
 * docs/fuzzing.md.
 */
class ConfigLoaderFuzzTest {
    private static final Path SOURCE = Path.of("/etc/sallyport/sallyport.yaml");
    private static final TargetResolver NO_DNS = name -> {
        throw new UnknownHostException(name);
    };

    @FuzzTest(maxDuration = "5m")
    @Timeout(10)
    void anyText(byte[] input) {
        load(new String(input, StandardCharsets.UTF_8));
    }

    @FuzzTest(maxDuration = "5m")
    @Timeout(10)
    void yamlTree(FuzzedDataProvider data) {
        StringBuilder yaml = new StringBuilder();
        mapping(data, yaml, 0, TOP);
        load(yaml.toString());
    }

    private static void load(String text) {
        long lines = text.lines().count() + 1;
        Config config;
        try {
            config = ConfigLoader.parse(text, SOURCE, ConfigLoaderFuzzTest::secondHalf);
        } catch (ConfigException refused) {
            assertThat(refused.problems()).isNotEmpty();
            for (ConfigProblem p : refused.problems()) {
                assertThat(p.file()).isEqualTo(SOURCE.toString());
                assertThat(p.line()).as(p.toString()).isBetween(1, (int) Math.max(lines, 1));
                assertThat(p.keyPath()).isNotBlank();
                assertThat(p.message()).isNotBlank();
            }
            return;
        }
        assertThat(EffectiveConfig.render(config)).isNotBlank();
    }

    /** What {@code check-config} adds to the loader's checks, less the file system. */
    private static void secondHalf(Config config, List<ConfigProblem> problems) {
        LocalIdentities.from(config, problems);
        CertificateVerifier.authorities(config, problems);
        PolicyCompiler.compile(config, NO_DNS, List::of, problems);
    }

    // --- a small YAML generator: keys of the config file, values near the edges of what is valid ---

    private static final String[] TOP = {"listen", "host_keys", "host_certificate", "crypto", "proxy_protocol",
        "identity", "policy", "limits", "audit", "admin"};
    private static final String[] NESTED = {"local", "users", "keys", "roles", "iam", "enabled", "region", "refresh",
        "max_staleness", "allow_groups", "allow_tag", "group_roles", "key_tag_prefix", "roles_tag", "certificates",
        "authorities", "name", "public_key", "grantable_roles", "max_validity", "clock_skew", "revoked", "allow",
        "private_networks", "deny", "unsafe_allow_loopback", "min_rsa_bits", "allow_public_targets", "trusted_sources",
        "max_unauthenticated", "max_unauthenticated_per_source", "login_grace_time", "max_auth_attempts",
        "auth_failure_penalty", "noauth_penalty", "penalty_exempt", "max_tunnels_per_session", "max_tunnels_per_user",
        "resolve_timeout", "memory_high_water", "idle_timeout", "max_session_duration", "max_sessions_per_user",
        "stdout", "file", "cloudwatch", "log_group", "log_stream", "create_log_group", "endpoint", "spool_dir",
        "spool_max_bytes", "on_spool_full", "socket", "metrics_listen", "alice", "ops", "dev", "path_prefix"};
    private static final String[] SCALARS = {"0.0.0.0:22", "[::]:22", "127.0.0.1:9810", "0x7f.1:22", "localhost:22",
        "10.0.0.0/8", "10.0.3.0/16", "fd00::/8", "::ffff:10.0.0.0/104", "0.0.0.0/0", "*.internal.corp:22",
        "10.0.0.0/16:22,2222", "[fd00::/8]:8000-8100", "*:22", "db-?.internal.corp:5432", "30s", "15m", "12h", "7d",
        "0s", "999999999d", "1.5h", "85%", "100%", "9%", "64MiB", "0KiB", "999999999TiB", "modern", "compat", "true",
        "false", "yes", "~", "null", "''", "\"\"", "0", "1", "-1", "2048", "99999999999999999999", "0x10", "1_000",
        "1e3", ".inf", "ops", "dev", "alice", "us-east-1", "https://logs.us-east-1.amazonaws.com", "/var/lib/sallyport",
        "relative/path", "block", "drop", "sallyport-", "\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzF x\"",
        "\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ2lRyb7mNiTsIrtSTqPzWUCbX9ZuHCqoOjdKlYPlO1x alice\"",
        "\"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAAQC7 short\"", "&anchor x", "*anchor", "!!binary AAAA", "\"\\u0000\"",
        "'a: b'", "[]", "{}", "\"\\xff\""};

    private static void mapping(FuzzedDataProvider data, StringBuilder out, int depth, String[] keys) {
        int entries = data.consumeInt(0, depth == 0 ? 6 : 4);
        if (entries == 0) {
            out.append(depth == 0 ? "" : " {}\n");
            return;
        }
        if (depth > 0) {
            out.append('\n');
        }
        for (int i = 0; i < entries; i++) {
            indent(out, depth);
            out.append(data.consumeBoolean() ? data.pickValue(keys) : data.pickValue(NESTED)).append(':');
            value(data, out, depth + 1);
        }
    }

    private static void value(FuzzedDataProvider data, StringBuilder out, int depth) {
        int kind = depth > 5 ? 0 : data.consumeInt(0, 3);
        switch (kind) {
            case 0 -> out.append(' ').append(data.consumeBoolean() ? data.pickValue(SCALARS) : data.consumeString(24)
                    .replace('\n', ' ')).append('\n');
            case 1 -> mapping(data, out, depth, NESTED);
            case 2 -> {
                int items = data.consumeInt(0, 3);
                out.append(items == 0 ? " []\n" : "\n");
                for (int i = 0; i < items; i++) {
                    indent(out, depth);
                    out.append("-");
                    value(data, out, depth + 1);
                }
            }
            default -> {
                out.append(" [");
                int items = data.consumeInt(0, 3);
                for (int i = 0; i < items; i++) {
                    out.append(i == 0 ? "" : ", ").append(data.pickValue(SCALARS));
                }
                out.append("]\n");
            }
        }
    }

    private static void indent(StringBuilder out, int depth) {
        out.append("  ".repeat(depth));
    }
}
