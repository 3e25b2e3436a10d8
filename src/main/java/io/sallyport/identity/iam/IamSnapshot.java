package io.sallyport.identity.iam;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything one complete refresh learnt from IAM: the users who may log in, and why the other
 * users under {@code path_prefix} may not. Immutable; a refresh that fails part-way produces none,
 * so the previous one keeps serving.
 *
 * @param asOf     when the refresh started: no datum in it is older
 * @param allowed  by lower-cased user name (IAM user names are unique regardless of case)
 * @param refused  users under {@code path_prefix} who are not allowed, lower-cased name to reason
 * @param problems data the refresh skipped (a tag that is not a key line, a role nobody defined)
 */
record IamSnapshot(Instant asOf, Map<String, IamUser> allowed, Map<String, String> refused,
                   List<String> problems, RefreshStats stats) {
    IamSnapshot {
        allowed = Map.copyOf(allowed);
        refused = Map.copyOf(refused);
        problems = List.copyOf(problems);
    }

    Optional<IamUser> user(String name) {
        return Optional.ofNullable(allowed.get(IamAccessRules.lower(name)));
    }

    Optional<String> refusal(String name) {
        return Optional.ofNullable(refused.get(IamAccessRules.lower(name)));
    }
}
