package io.sallyport.identity;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;

/**
 * {@code identity.max_key_age}: a plain key older than this is refused at login, and a key near
 * it logs in with a warning. Certificates are not judged here: their lifetime is
 * {@code max_validity}. A key whose date is unknown is refused (fail closed): the operator who set
 * a limit asked for keys to be rotated, and a key of unknown age may be the oldest there is.
 *
 * <p>The warning starts {@link #warningWindow} before the limit: 14 days, or a quarter of the limit
 * when that is shorter (a 90d limit warns in its last 14 days, a 28d one in its last 7).
 */
public final class KeyAgeLimit {
    /** The longest warning before the limit: two weeks, time for an engineer to rotate between two sprints. */
    public static final Duration MAX_WARNING = Duration.ofDays(14);
    /**
     * A date this far in the future is still taken as today: a comment's day is a UTC day, and the
     * operator who wrote it may be ahead of UTC. Later is refused, so a far-future date cannot
     * make a key forever young.
     */
    public static final Duration FUTURE_SLACK = Duration.ofDays(1);

    /** What the limit says about one key. */
    public sealed interface Verdict {
        record Fresh() implements Verdict {}

        /** @param warning for the {@code auth.accept} event's {@code key_age_warning} */
        record Near(String warning) implements Verdict {}

        /**
         * @param reason for the {@code auth.reject} event
         * @param tooOld the key was good once and has aged past the limit; false when its date is
         *               unknown or in the future (it could never log in)
         */
        record Refused(String reason, boolean tooOld) implements Verdict {}
    }

    private static final KeyAgeLimit NONE = new KeyAgeLimit(Optional.empty(), Clock.systemUTC());

    private final Optional<Duration> max;
    private final Clock clock;

    public KeyAgeLimit(Optional<Duration> max, Clock clock) {
        this.max = max;
        this.clock = clock;
    }

    /** No limit: every key is {@link Verdict.Fresh}. */
    public static KeyAgeLimit none() {
        return NONE;
    }

    public Optional<Duration> max() {
        return max;
    }

    /** How long before the limit a key is {@link Verdict.Near}. */
    public Duration warningWindow() {
        return max.map(m -> m.dividedBy(4).compareTo(MAX_WARNING) < 0 ? m.dividedBy(4) : MAX_WARNING).orElse(Duration.ZERO);
    }

    public Verdict judge(KeyDate date) {
        if (max.isEmpty()) {
            return new Verdict.Fresh();
        }
        Duration limit = max.get();
        if (date instanceof KeyDate.Unknown u) {
            return new Verdict.Refused("max_key_age: the key's date is unknown (" + u.why() + "); identity.max_key_age "
                    + days(limit) + " refuses a key it cannot date", false);
        }
        KeyDate.Known k = (KeyDate.Known) date;
        Instant now = clock.instant();
        if (k.date().isAfter(now.plus(FUTURE_SLACK))) {
            return new Verdict.Refused("max_key_age: key dated " + day(k.date()) + " (" + k.from() + ") is in the future", false);
        }
        Duration age = Duration.between(k.date(), now);
        Instant refusedFrom = k.date().plus(limit);
        if (age.compareTo(limit) > 0) {
            return new Verdict.Refused("max_key_age: key dated " + day(k.date()) + " (" + k.from() + ") is " + days(age)
                    + " old, beyond identity.max_key_age " + days(limit) + "; rotate it", true);
        }
        if (age.compareTo(limit.minus(warningWindow())) > 0) {
            return new Verdict.Near("key dated " + day(k.date()) + " (" + k.from() + ") is " + days(age)
                    + " old; refused from " + refusedFrom + " (identity.max_key_age " + days(limit) + "); rotate it");
        }
        return new Verdict.Fresh();
    }

    private static String day(Instant t) {
        return t.atOffset(ZoneOffset.UTC).toLocalDate().toString();
    }

    /** {@code 80d}, or hours below a day, as operators write durations. */
    private static String days(Duration d) {
        Duration positive = d.isNegative() ? Duration.ZERO : d;
        return positive.toDays() >= 1 ? positive.toDays() + "d" : positive.toHours() + "h";
    }
}
