package io.sallyport.config;

import io.sallyport.net.Cidr;
import java.time.Duration;
import java.util.ArrayList;
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

    /** The address space no one routes on the internet: RFC 1918, CGNAT (RFC 6598) and IPv6 ULA. */
    private static final List<Cidr> PRIVATE_USE = DEFAULT_PRIVATE_NETWORKS.stream().map(Cidr::parse).toList();

    private static final MappingReader.ScalarParser<Config.Requirement> REQUIREMENT = Choices.among(
            java.util.Arrays.stream(Config.Requirement.values()).collect(java.util.stream.Collectors.toMap(
                    Config.Requirement::configName, r -> r, (a, b) -> a, LinkedHashMap::new)));

    private PolicyReader() {}

    static Config.Policy read(MappingReader policy) {
        Map<String, Config.Role> roles =
                roles(policy.section("roles", "a mapping of role name to its allow list (e.g. admin: {allow: [\"10.0.0.0/16:22\"]})"));
        boolean allowPublicTargets = policy.bool("allow_public_targets", false);
        return new Config.Policy(
                roles,
                allowPublicTargets,
                privateNetworks(policy, allowPublicTargets),
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
            // Kept as written; policy checks their syntax (PolicyCompiler, a ConfigCheck) and reports at these lines.
            Optional<List<Config.Located<String>>> allow = role.list("allow", text -> text);
            boolean shapeAlreadyReported = !(e.value() instanceof YamlNode.Mapping)
                    && !(e.value() instanceof YamlNode.Scalar s && s.isNull());
            if (allow.isEmpty() && !shapeAlreadyReported) {
                // An explicit list, even empty, shows the role grants exactly what the operator meant.
                roles.problems().add(e.line(), rolePath, "role '" + name + "' needs an allow list (it may be empty: allow: [])");
            }
            List<String> from = role.listOr("from", List.of(), PolicyReader::cidr);
            List<Config.Requirement> require = role.listOr("require", List.of(), REQUIREMENT);
            out.put(name, new Config.Role(name, allow.orElse(List.of()), from, require.stream().distinct().toList()));
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * {@code private_networks} is where names may resolve to, and where allow rules must stay. A
     * public block written there is an open proxy in disguise ({@code 0.0.0.0/0} makes every rule
     * "private"), so each block must lie inside the private-use ranges unless
     * {@code allow_public_targets} says public targets are meant.
     */
    private static List<String> privateNetworks(MappingReader policy, boolean allowPublicTargets) {
        Optional<List<Config.Located<String>>> written = policy.list("private_networks", PolicyReader::cidr);
        if (written.isEmpty()) {
            return DEFAULT_PRIVATE_NETWORKS;
        }
        List<String> kept = new ArrayList<>();
        for (Config.Located<String> network : written.get()) {
            Cidr block = Cidr.parse(network.value());
            boolean privateUse = PRIVATE_USE.stream().anyMatch(p -> p.containsAll(block));
            if (privateUse || allowPublicTargets) {
                kept.add(network.value());
                continue;
            }
            String what = block.prefix() == 0
                    ? "is every " + (block.isIpv4() ? "IPv4" : "IPv6") + " address, not a private network"
                    : "is not private address space";
            policy.problems().add(network.line(), network.keyPath(), "'" + network.value().trim() + "' " + what
                    + " (private: " + String.join(", ", DEFAULT_PRIVATE_NETWORKS) + "); names resolving into it and"
                    + " rules inside it would reach the internet. Set policy.allow_public_targets: true if that is meant");
        }
        // Left out, as bad items are, so rules are judged against the private part alone; when nothing
        // is left, against the default, so that a refused 0.0.0.0/0 does not make every good rule an error too.
        return kept.isEmpty() && !written.get().isEmpty() ? DEFAULT_PRIVATE_NETWORKS : List.copyOf(kept);
    }

    static String cidr(String text) {
        Cidr.parse(text);
        return text;
    }
}
