package io.sallyport.config;

import io.sallyport.net.Cidr;
import io.sallyport.policy.AllowRule;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** Reads the {@code policy} section: roles and their allow rules, networks, session limits. */
final class PolicyReader {
    static final Pattern ROLE_NAME = Pattern.compile("[A-Za-z0-9_.-]+");

    static final List<String> DEFAULT_PRIVATE_NETWORKS =
            List.of("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7");

    private PolicyReader() {}

    static Config.Policy read(MappingReader policy) {
        return new Config.Policy(
                roles(policy.section("roles", "a mapping of role name to its allow list (e.g. admin: {allow: [\"10.0.0.0/16:22\"]})")),
                policy.bool("allow_public_targets", false),
                policy.listOr("private_networks", DEFAULT_PRIVATE_NETWORKS, PolicyReader::cidr),
                policy.listOr("deny", List.of(), PolicyReader::cidr),
                policy.bool("unsafe_allow_loopback", false),
                policy.integer("min_rsa_bits", 2048, 2048, 16_384),
                policy.integer("max_sessions_per_user", 10, 1, 10_000),
                policy.scalar("idle_timeout", Duration.ofMinutes(30), ConfigDuration::parse),
                policy.scalar("max_session_duration", Duration.ofHours(12), ConfigDuration::parse));
    }

    /**
     * Every role written in the file is returned, even one with a bad name: users that name it
     * should not collect a second, misleading "not defined" problem. The loader never returns a
     * config that has problems, so a bad role never reaches policy.
     */
    private static Map<String, Config.Role> roles(MappingReader roles) {
        Map<String, Config.Role> out = new LinkedHashMap<>();
        for (YamlNode.Entry e : roles.entries()) {
            String name = e.key();
            String rolePath = roles.pathOf(name);
            if (!ROLE_NAME.matcher(name).matches()) {
                roles.problems().add(e.line(), rolePath, "'" + name + "' is not a role name (letters, digits, '_', '.', '-')");
            }
            MappingReader role = roles.section(name,
                    "a mapping with an allow list (e.g. " + name + ": {allow: [\"10.0.0.0/16:22\"]})");
            Optional<List<Config.Located<String>>> allow = role.list("allow", PolicyReader::allowRule);
            boolean shapeAlreadyReported = !(e.value() instanceof YamlNode.Mapping)
                    && !(e.value() instanceof YamlNode.Scalar s && s.isNull());
            if (allow.isEmpty() && !shapeAlreadyReported) {
                // An explicit list, even empty, shows the role grants exactly what the operator meant.
                roles.problems().add(e.line(), rolePath, "role '" + name + "' needs an allow list (it may be empty: allow: [])");
            }
            out.put(name, new Config.Role(name, allow.orElse(List.of())));
        }
        return Collections.unmodifiableMap(out);
    }

    /** Checked here for syntax and kept as written: audit events and explain print the rule as the operator wrote it. */
    private static String allowRule(String text) {
        AllowRule.parse(text);
        return text;
    }

    static String cidr(String text) {
        Cidr.parse(text);
        return text;
    }
}
