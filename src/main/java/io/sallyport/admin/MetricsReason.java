package io.sallyport.admin;

import io.sallyport.audit.TerminationReason;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The bounded label for a refusal or termination reason. Reasons are free text (they carry user
 * names, fingerprints, host names a client chose); a label made from them would let a client
 * create any number of series. A reason maps to the quota or limit it names (the part before the
 * first {@code ':'} when that is a known name), to one of a few fixed phrases, or to {@code other}.
 */
public final class MetricsReason {
    /** The limits of README's Limits table whose refusals are quota refusals. */
    public static final Set<String> QUOTAS = Set.of(
            "max_unauthenticated", "max_unauthenticated_per_source", "auth_penalty", "noauth_penalty",
            "max_sessions_per_user", "max_tunnels_per_session", "max_tunnels_per_user", "resolve_timeout",
            "memory_high_water");

    /**
     * Reasons that are names themselves: every reason the server ends a session for (taken from
     * {@link TerminationReason}, so a new one is never labelled {@code other}), and
     * {@code login_grace_time}, a reason of {@code session.close} only, and {@code max_key_age}, a
     * login refused for its key's age ({@code identity.max_key_age}).
     */
    private static final Set<String> NAMES = Stream.concat(
                    Arrays.stream(TerminationReason.values()).map(TerminationReason::wireName), Stream.of("login_grace_time", "max_key_age"))
            .collect(Collectors.toUnmodifiableSet());

    private record Phrase(String prefix, String label) {}

    /** Fixed texts the server writes, by how they start. */
    private static final List<Phrase> PHRASES = List.of(
            new Phrase("unknown user", "unknown_user"),
            new Phrase("key ", "key_not_authorized"),
            new Phrase("no rule of role", "no_rule"),
            new Phrase("no role left for this login", "no_role_left"),
            new Phrase("audit spool", "audit_spool"),
            new Phrase("IAM data is stale", "iam_stale"),
            new Phrase("no IAM data", "iam_stale"),
            new Phrase("session closed before the tunnel opened", "session_closed"),
            new Phrase("malformed certificate", "bad_certificate"),
            new Phrase("certificate", "bad_certificate"));

    public static final String OTHER = "other";

    private MetricsReason() {}

    /** The label for {@code reason}: a quota or limit name, a fixed phrase's label, or {@code other}. */
    public static String label(String reason) {
        if (reason == null || reason.isEmpty()) {
            return OTHER;
        }
        int colon = reason.indexOf(':');
        String head = (colon < 0 ? reason : reason.substring(0, colon)).trim();
        if (QUOTAS.contains(head) || NAMES.contains(head)) {
            return head;
        }
        for (Phrase p : PHRASES) {
            if (reason.startsWith(p.prefix())) {
                return p.label();
            }
        }
        return OTHER;
    }

    /** Whether {@code label} names a quota, so the refusal also counts as a quota refusal. */
    public static boolean isQuota(String label) {
        return QUOTAS.contains(label);
    }
}
