package io.sallyport.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the {@code identity} section: local users, the IAM source and certificate authorities.
 * Every role they name must be defined in {@code policy.roles}: a misspelt role would otherwise
 * grant nothing, silently, and the operator would debug the network instead of the config.
 */
final class IdentityReader {
    /** What OpenSSH and IAM both accept in a user name; IAM adds {@code +=,@}. */
    private static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9._@+=,-]{1,64}");

    private final Set<String> definedRoles;
    private final PathResolver paths;
    private final ProblemList problems;

    private IdentityReader(Set<String> definedRoles, PathResolver paths, ProblemList problems) {
        this.definedRoles = definedRoles;
        this.paths = paths;
        this.problems = problems;
    }

    static Config.Identity read(MappingReader identity, Set<String> definedRoles, PathResolver paths) {
        IdentityReader reader = new IdentityReader(definedRoles, paths, identity.problems());
        return new Config.Identity(
                reader.localUsers(identity.section("local").section("users", "a mapping of user name to {roles, keys}")),
                reader.iam(identity.section("iam")),
                reader.certificates(identity.section("certificates")),
                identity.optionalScalar("max_key_age", ConfigDuration::parse));
    }

    private Map<String, Config.LocalUser> localUsers(MappingReader users) {
        Map<String, Config.LocalUser> out = new LinkedHashMap<>();
        for (YamlNode.Entry e : users.entries()) {
            String name = e.key();
            if (!USER_NAME.matcher(name).matches()) {
                problems.add(e.line(), users.pathOf(name),
                        "'" + name + "' is not a user name (1-64 of A-Z a-z 0-9 . _ @ + = , -)");
            }
            MappingReader user = users.section(name, "a mapping with roles and keys");
            List<String> roles = roleNames(user, "roles");
            List<Config.Located<String>> keys = user.list("keys", IdentityReader::publicKeyLine).orElse(List.of());
            out.put(name, new Config.LocalUser(name, roles, List.copyOf(keys)));
        }
        return Collections.unmodifiableMap(out);
    }

    private Config.Iam iam(MappingReader iam) {
        MappingReader groupRoles = iam.section("group_roles", "a mapping of IAM group to roles (e.g. dba: [db])");
        Map<String, List<String>> byGroup = new LinkedHashMap<>();
        for (YamlNode.Entry e : groupRoles.entries()) {
            try {
                AwsNames.iamGroup(e.key());
            } catch (IllegalArgumentException bad) {
                problems.add(e.line(), groupRoles.pathOf(e.key()), bad.getMessage());
            }
            byGroup.put(e.key(), roleNames(groupRoles, e.key()));
        }
        Duration refresh = iam.scalar("refresh", Duration.ofSeconds(60), ConfigDuration::parse);
        Duration maxStaleness = iam.scalar("max_staleness", Duration.ofMinutes(15), ConfigDuration::parse);
        if (maxStaleness.compareTo(refresh.multipliedBy(2)) < 0) {
            // One slow or failed refresh would then lock every IAM user out.
            int line = iam.entry("max_staleness").or(() -> iam.entry("refresh")).map(YamlNode.Entry::line).orElse(iam.line());
            problems.add(line, iam.pathOf("max_staleness"), ConfigDuration.format(maxStaleness)
                    + " is shorter than twice identity.iam.refresh (" + ConfigDuration.format(refresh)
                    + "): a single failed refresh would refuse every IAM login");
        }
        return new Config.Iam(
                iam.bool("enabled", false),
                iam.optionalScalar("endpoint", AwsNames::endpoint),
                iam.scalar("region", "us-east-1", AwsNames::region),
                refresh,
                maxStaleness,
                iam.scalar("path_prefix", "/", AwsNames::iamPath),
                iam.scalar("allow_tag", "sallyport:allow", AwsNames::tagKey),
                iam.listOr("allow_groups", List.of(), AwsNames::iamGroup),
                iam.scalar("roles_tag", "sallyport:roles", AwsNames::tagKey),
                iam.scalar("key_tag_prefix", "sallyport:ssh-key", AwsNames::keyTagPrefix),
                Collections.unmodifiableMap(byGroup));
    }

    private Config.Certificates certificates(MappingReader certs) {
        return new Config.Certificates(
                certs.scalar("max_validity", Duration.ofHours(24), ConfigDuration::parse),
                certs.scalar("clock_skew", Duration.ofSeconds(60), ConfigDuration::parse),
                certs.optionalLocated("revoked", paths::resolve),
                authorities(certs));
    }

    private List<Config.Authority> authorities(MappingReader certs) {
        List<Config.Authority> out = new ArrayList<>();
        Map<String, Integer> firstLineByName = new HashMap<>();
        List<YamlNode> items = certs.items("authorities");
        for (int i = 0; i < items.size(); i++) {
            String itemPath = KeyPath.item(certs.pathOf("authorities"), i);
            MappingReader ca = certs.nested(items.get(i), itemPath, "a mapping with name, public_key and grantable_roles");
            Optional<Config.Located<String>> name = ca.optionalLocated("name", IdentityReader::authorityName);
            Optional<Config.Located<String>> publicKey = ca.optionalLocated("public_key", IdentityReader::publicKeyLine);
            List<String> grantable = roleNames(ca, "grantable_roles");
            if (isMissing(ca, "name")) {
                problems.add(items.get(i).line(), itemPath, "an authority needs a name");
            }
            if (isMissing(ca, "public_key")) {
                problems.add(items.get(i).line(), itemPath, "an authority needs a public_key (the CA's OpenSSH public key line)");
            }
            name.ifPresent(n -> {
                Integer first = firstLineByName.putIfAbsent(n.value(), n.line());
                if (first != null) {
                    problems.add(n.line(), n.keyPath(), "authority name '" + n.value() + "' is already used at line " + first);
                }
            });
            if (name.isPresent() && publicKey.isPresent()) {
                out.add(new Config.Authority(name.get().value(), publicKey.get(), grantable));
            }
        }
        return List.copyOf(out);
    }

    private static boolean isMissing(MappingReader section, String key) {
        return section.entry(key).map(e -> e.value() instanceof YamlNode.Scalar s && s.isNull()).orElse(true);
    }

    /** Reads a list of role names and reports every one that {@code policy.roles} does not define. */
    private List<String> roleNames(MappingReader section, String key) {
        List<Config.Located<String>> roles = section.list(key, IdentityReader::nonBlank).orElse(List.of());
        List<String> out = new ArrayList<>();
        for (Config.Located<String> role : roles) {
            if (!definedRoles.contains(role.value())) {
                problems.add(role.line(), role.keyPath(), "role '" + role.value() + "' is not defined in policy.roles"
                        + ClosestName.hint(role.value(), definedRoles));
            } else if (!out.contains(role.value())) {
                out.add(role.value());
            }
        }
        return List.copyOf(out);
    }

    /**
     * Only the shape is checked here ({@code TYPE BASE64 [COMMENT]}); decoding the key and judging
     * its algorithm and size belongs to the identity room, which knows the key rules.
     */
    private static String publicKeyLine(String text) {
        if (text.trim().split("\\s+").length < 2) {
            throw new IllegalArgumentException("'" + text + "' is not an OpenSSH public key line"
                    + " (expected TYPE BASE64 [COMMENT], as in a .pub file)");
        }
        return text.trim();
    }

    private static String authorityName(String text) {
        if (!PolicyReader.ROLE_NAME.matcher(text).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not an authority name (letters, digits, '_', '.', '-')");
        }
        return text;
    }

    private static String nonBlank(String text) {
        if (text.isBlank()) {
            throw new IllegalArgumentException("expected a role name, got an empty string");
        }
        return text;
    }
}
