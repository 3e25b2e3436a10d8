package io.sallyport.identity.iam;

import io.sallyport.config.Config;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * How an IAM user's tags and groups become a bastion identity (docs/iam.md, {@code identity.iam}):
 * whether the user is allowed at all, which roles they get, which tag values are key lines.
 * Pure: plain strings in, decisions out, so the rules are tested without IAM.
 *
 * <p>Names are compared the way IAM compares them: tag keys on users and group names are
 * case-insensitive, so {@code Sallyport:Allow} is the allow tag and {@code Bastion-Users} is the
 * group {@code bastion-users}.
 */
final class IamAccessRules {
    private final Config.Iam iam;
    private final Set<String> definedRoles;
    private final Set<String> allowGroups;
    private final Map<String, List<String>> groupRoles;
    private final Pattern keyTag;

    IamAccessRules(Config.Iam iam, Set<String> definedRoles) {
        this.iam = iam;
        this.definedRoles = Set.copyOf(definedRoles);
        this.allowGroups = iam.allowGroups().stream().map(IamAccessRules::lower).collect(Collectors.toUnmodifiableSet());
        Map<String, List<String>> byGroup = new LinkedHashMap<>();
        iam.groupRoles().forEach((group, roles) -> byGroup.put(lower(group), roles));
        this.groupRoles = byGroup;
        this.keyTag = Pattern.compile(Pattern.quote(lower(iam.keyTagPrefix())) + "(-[0-9]{1,3})?");
    }

    /** A user's tags, found by key regardless of case (IAM keeps at most one per spelling). */
    record Tags(Map<String, Map.Entry<String, String>> byLowerKey) {
        static Tags of(Map<String, String> tags) {
            Map<String, Map.Entry<String, String>> m = new LinkedHashMap<>();
            tags.forEach((k, v) -> m.put(lower(k), Map.entry(k, v == null ? "" : v)));
            return new Tags(m);
        }

        Optional<String> get(String key) {
            return Optional.ofNullable(byLowerKey.get(lower(key))).map(Map.Entry::getValue);
        }
    }

    /** @return why {@code user} may not use the bastion; empty when the allow tag or an allowed group lets them */
    Optional<String> refusal(String user, Tags tags, List<String> groups) {
        boolean tagged = tags.get(iam.allowTag()).map(v -> v.trim().equalsIgnoreCase("true")).orElse(false);
        if (tagged || groups.stream().map(IamAccessRules::lower).anyMatch(allowGroups::contains)) {
            return Optional.empty();
        }
        String want = "tag " + iam.allowTag() + "=true";
        if (!iam.allowGroups().isEmpty()) {
            want += " or membership of " + String.join(", ", iam.allowGroups());
        }
        return Optional.of("IAM user " + user + " is not allowed to use the bastion (needs " + want + ")");
    }

    /**
     * The roles of the {@code roles_tag} (whitespace-separated; IAM tag values allow no commas)
     * and of {@code group_roles}, in that order, without duplicates. A role that
     * {@code policy.roles} does not define grants nothing; it is dropped and reported.
     */
    List<String> roles(String user, Tags tags, List<String> groups, List<String> problems) {
        Set<String> out = new LinkedHashSet<>();
        for (String role : tags.get(iam.rolesTag()).map(v -> v.trim().split("\\s+")).orElse(new String[0])) {
            if (role.isEmpty()) {
                continue;
            }
            if (definedRoles.contains(role)) {
                out.add(role);
            } else {
                problems.add("IAM user " + user + ": role '" + role + "' in tag " + iam.rolesTag()
                        + " is not defined in policy.roles; ignored");
            }
        }
        for (String group : groups) {
            out.addAll(groupRoles.getOrDefault(lower(group), List.of()));
        }
        return List.copyOf(out);
    }

    /**
     * The tags that hold public key lines: {@code key_tag_prefix} itself and {@code PREFIX-N}, as
     * (tag key as IAM spells it, value), ordered by N.
     */
    List<Map.Entry<String, String>> keyTags(Tags tags) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        tags.byLowerKey().forEach((lowerKey, tag) -> {
            if (keyTag.matcher(lowerKey).matches()) {
                out.add(tag);
            }
        });
        out.sort(Comparator.comparingInt(t -> suffix(t.getKey())));
        return out;
    }

    private static int suffix(String tagKey) {
        int dash = tagKey.lastIndexOf('-');
        try {
            return dash < 0 ? 1 : Integer.parseInt(tagKey.substring(dash + 1));
        } catch (NumberFormatException e) {
            return 1; // the bare prefix, which itself contains a dash
        }
    }

    boolean inPath(String path) {
        return path != null && path.startsWith(iam.pathPrefix());
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
