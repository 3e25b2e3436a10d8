package io.sallyport.admin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The health decision, a value: the server is healthy when it accepts logins, the audit trail is
 * durable (the spool can persist what new sessions do) and identities are fresh (IAM, when on,
 * within {@code max_staleness}). Each failing check carries its reason, for the 503 body.
 *
 * @param checks each check's outcome, in a fixed order: {@code logins}, {@code audit},
 *               {@code identities}; {@code "ok"} or the reason it fails
 */
public record Health(Map<String, String> checks) {
    public static final String OK = "ok";

    public Health {
        checks = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(checks));
    }

    /**
     * @param acceptingLogins whether the SSH port listens
     * @param auditRefusal    why the audit trail refuses new sessions, or empty
     * @param iamRefusal      why IAM logins are refused (stale), or empty; empty without IAM
     */
    public static Health decide(boolean acceptingLogins, Optional<String> auditRefusal, Optional<String> iamRefusal) {
        Map<String, String> checks = new LinkedHashMap<>();
        checks.put("logins", acceptingLogins ? OK : "not accepting logins: the SSH listener is not open");
        checks.put("audit", auditRefusal.map(r -> "audit trail not durable: " + r).orElse(OK));
        checks.put("identities", iamRefusal.map(r -> "identities not fresh: " + r).orElse(OK));
        return new Health(checks);
    }

    /** The decision on the live state. */
    public static Health of(MetricsSources s) {
        Optional<String> audit = s.auditRefusal().get().or(() -> s.spool()
                .filter(status -> status.get().writeFailing())
                .map(status -> "audit spool cannot write to disk (on_spool_full: drop_oldest keeps logins open)"));
        return decide(s.acceptingLogins().getAsBoolean(), audit, s.iam().flatMap(i -> i.refusal().get()));
    }

    public boolean ok() {
        return checks.values().stream().allMatch(OK::equals);
    }

    /** The reasons of the failing checks, in order. */
    public List<String> failing() {
        return checks.values().stream().filter(v -> !OK.equals(v)).toList();
    }

    /** 200 when healthy, 503 otherwise. */
    public int httpStatus() {
        return ok() ? 200 : 503;
    }

    /** The body: {@code {"status":"ok","checks":{...}}}, or {@code "failing"} with the reasons. */
    public Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", ok() ? "ok" : "failing");
        if (!ok()) {
            m.put("failing", failing());
        }
        m.put("checks", checks);
        return m;
    }
}
