package io.sallyport.admission;

import io.sallyport.audit.TerminationReason;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Sources refused for a while because of what their connections did: failed logins
 * ({@code auth_failure_penalty}) and connections that ended without offering a key
 * ({@code noauth_penalty}). cf. OpenSSH's {@code PerSourcePenalties}.
 *
 * <p><b>Failed logins.</b> Every refused key counts the moment it is refused. Failures count in a
 * window as long as the penalty, opened by the first; the {@code maxAuthFailures}-th in it refuses
 * the source for {@code authFailurePenalty}.
 *
 * <p><b>Connections without a key.</b> Each adds {@code noauthPenalty} to the source's debt, which
 * drains in real time. The source is refused while its debt exceeds {@link #NOAUTH_FREE} of them:
 * the eleventh such connection in quick succession starts a refusal of {@code noauthPenalty}, and
 * each further one lengthens it by as much, up to {@link #NOAUTH_MAX_REFUSALS} × {@code noauthPenalty}.
 * One such connection per {@code noauthPenalty} never adds up. An engineer whose ssh stopped at
 * host-key verification, a few retries, an {@code ssh-keyscan} (a connection per key type) are
 * never refused; a flood that lets its connections run out at the login grace time piles up debt
 * by the batch and stays refused. Connections refused at accept are not counted: a refusal is not
 * lengthened by what it refuses.
 *
 * <p>A login from the source clears its noauth debt (it holds a key we accept) but not its failed
 * logins nor a refusal in force. Exempt sources are never recorded.
 *
 * <p><b>Retuning.</b> {@link #retune} applies to what is counted from then on; a refusal already in
 * force keeps its end time, failures already counted stay counted in their window, and connections
 * without a key already counted keep their number, now draining at the new {@code noauthPenalty}.
 *
 * <p><b>Memory.</b> At most {@code maxSources} sources are remembered; beyond that the one seen
 * least recently is forgotten. A source that keeps connecting is looked up each time, so it stays;
 * forgetting a quiet one costs at most its remaining penalty. Thread-safe.
 */
public final class SourcePenalties {
    /**
     * Connections without a key that a source may end in quick succession before it is refused:
     * a source may fill its default ten pre-auth slots and let them all run out once.
     */
    public static final int NOAUTH_FREE = 10;
    /** The longest refusal for connections without a key, in units of {@code noauth_penalty}. */
    public static final int NOAUTH_MAX_REFUSALS = 60;

    /** A refusal in force: which penalty, and for how much longer. */
    public record Penalty(TerminationReason reason, Duration remaining) {
        /** What the client is told when disconnected. */
        public String clientMessage() {
            long s = Math.max(1, (remaining.toMillis() + 999) / 1000);
            return (reason == TerminationReason.AUTH_PENALTY ? "too many failed logins from your address"
                    : "too many connections from your address ended without a login attempt")
                    + "; try again in " + s + "s";
        }
    }

    /** Times are ticker values; a new record starts with all of them at "now" (nothing owed). */
    private static final class Record {
        int failures;
        long failureWindowEnds;
        long authRefusedUntil;
        /** When the noauth debt is paid off; the debt now is {@code max(0, noauthDebtEnds - now)}. */
        long noauthDebtEnds;

        Record(long now) {
            failureWindowEnds = now;
            authRefusedUntil = now;
            noauthDebtEnds = now;
        }

        boolean expired(long now) {
            return failureWindowEnds - now <= 0 && authRefusedUntil - now <= 0 && noauthDebtEnds - now <= 0;
        }
    }

    /** Guarded by {@code this}, as are {@link #sources} and {@link #forgotten}. */
    private int maxAuthFailures;
    private long authPenalty;
    private long noauthPenalty;
    private final int maxSources;
    private final LongSupplier ticker;
    /** Access order: the eldest entry is the source seen least recently. Guarded by {@code this}. */
    private final LinkedHashMap<String, Record> sources = new LinkedHashMap<>(64, 0.75f, true);
    private long forgotten;

    /**
     * @param maxAuthFailures {@code limits.max_auth_attempts}
     * @param maxSources      bound on remembered sources
     * @param ticker          nanoseconds, monotonic ({@code System::nanoTime})
     */
    public SourcePenalties(int maxAuthFailures, Duration authFailurePenalty, Duration noauthPenalty, int maxSources,
                           LongSupplier ticker) {
        if (maxAuthFailures < 1 || maxSources < 1) {
            throw new IllegalArgumentException("maxAuthFailures and maxSources must be positive");
        }
        this.maxAuthFailures = maxAuthFailures;
        this.authPenalty = nanos(authFailurePenalty);
        this.noauthPenalty = nanos(noauthPenalty);
        this.maxSources = maxSources;
        this.ticker = ticker;
    }

    /**
     * New limits for what is counted from now on. A refusal in force keeps its end time. Failures
     * counted in an open window stay counted until it closes, against the new
     * {@code maxAuthFailures} (so the next failure may start the penalty, of the new length). The
     * connections without a key counted so far keep their number: each now drains in the new
     * {@code noauthPenalty}. A pass over the remembered sources, under the lock.
     */
    public synchronized void retune(int maxAuthFailures, Duration authFailurePenalty, Duration noauthPenalty) {
        if (maxAuthFailures < 1) {
            throw new IllegalArgumentException("maxAuthFailures must be positive");
        }
        long now = ticker.getAsLong();
        long oldNoauth = this.noauthPenalty;
        long newNoauth = nanos(noauthPenalty);
        if (newNoauth != oldNoauth) {
            for (Record r : sources.values()) {
                r.noauthDebtEnds = now + rescaledDebt(Math.max(0, r.noauthDebtEnds - now), oldNoauth, newNoauth);
            }
        }
        this.maxAuthFailures = maxAuthFailures;
        this.authPenalty = nanos(authFailurePenalty);
        this.noauthPenalty = newNoauth;
    }

    /**
     * A noauth debt counted in units of {@code from}, in units of {@code to}: the same number of
     * connections; beyond the free ones (a refusal in force), the refusal's remaining time is kept.
     */
    private static long rescaledDebt(long debt, long from, long to) {
        if (from <= 0) {
            return 0;
        }
        long free = from * NOAUTH_FREE;
        if (debt > free) {
            return debt - free + to * NOAUTH_FREE;
        }
        // debt is at most ten times from, and to at most a year: their product may not fit a long.
        return (long) ((double) debt * to / from);
    }

    /** The refusal in force against {@code source}, if any. */
    public synchronized Optional<Penalty> inForce(Source source) {
        if (source.exempt()) {
            return Optional.empty();
        }
        Record r = sources.get(source.block());
        return r == null ? Optional.empty() : inForce(r, ticker.getAsLong());
    }

    /**
     * Counts a refused key from {@code source}.
     *
     * @return the penalty, when this failure started it
     */
    public synchronized Optional<Penalty> authFailure(Source source) {
        if (source.exempt()) {
            return Optional.empty();
        }
        long now = ticker.getAsLong();
        Record r = record(source, now);
        if (r.authRefusedUntil - now > 0) {
            return Optional.empty(); // already refused; a refusal is not lengthened by what it refuses
        }
        if (r.failureWindowEnds - now <= 0) {
            r.failures = 0;
            r.failureWindowEnds = now + authPenalty;
        }
        r.failures++;
        if (r.failures < maxAuthFailures) {
            return Optional.empty();
        }
        r.failures = 0;
        r.failureWindowEnds = now;
        r.authRefusedUntil = now + authPenalty;
        return inForce(r, now);
    }

    /**
     * Counts a connection from {@code source} that ended without offering a key.
     *
     * @return the penalty, when this connection started or lengthened it
     */
    public synchronized Optional<Penalty> noauthEnd(Source source) {
        if (source.exempt()) {
            return Optional.empty();
        }
        long now = ticker.getAsLong();
        Record r = record(source, now);
        long owed = Math.max(0, r.noauthDebtEnds - now);
        long debt = owed + noauthPenalty;
        // Never shortened: after a retune to a shorter noauthPenalty, what is owed may exceed the cap.
        r.noauthDebtEnds = now + Math.max(owed, Math.min(debt, noauthPenalty * (NOAUTH_FREE + NOAUTH_MAX_REFUSALS)));
        return debt > noauthPenalty * NOAUTH_FREE ? inForce(r, now) : Optional.empty();
    }

    /**
     * A login from {@code source} succeeded: its noauth debt is forgiven (the source holds a key we
     * accept). Its failed logins are not: they keep counting in their window, so alternating wrong
     * keys with a good login buys no extra guesses.
     */
    public synchronized void loggedIn(Source source) {
        Record r = sources.get(source.block());
        if (r != null) {
            r.noauthDebtEnds = ticker.getAsLong();
        }
    }

    /** Forgets the sources whose windows and refusals have all run out; call now and then. */
    public synchronized void sweep() {
        long now = ticker.getAsLong();
        sources.values().removeIf(r -> r.expired(now));
    }

    /** Sources remembered now. */
    public synchronized int tracked() {
        return sources.size();
    }

    /** Sources forgotten because the table was full (a sign of a wide flood). */
    public synchronized long forgotten() {
        return forgotten;
    }

    private Record record(Source source, long now) {
        Record r = sources.get(source.block());
        if (r == null) {
            if (sources.size() >= maxSources) {
                Iterator<Map.Entry<String, Record>> eldest = sources.entrySet().iterator();
                eldest.next();
                eldest.remove();
                forgotten++;
            }
            r = new Record(now);
            sources.put(source.block(), r);
        }
        return r;
    }

    private Optional<Penalty> inForce(Record r, long now) {
        long auth = r.authRefusedUntil - now;
        long noauth = r.noauthDebtEnds - noauthPenalty * NOAUTH_FREE - now;
        if (auth <= 0 && noauth <= 0) {
            return Optional.empty();
        }
        return Optional.of(auth >= noauth
                ? new Penalty(TerminationReason.AUTH_PENALTY, Duration.ofNanos(auth))
                : new Penalty(TerminationReason.NOAUTH_PENALTY, Duration.ofNanos(noauth)));
    }

    /**
     * A config duration in nanoseconds, at most a year: {@code 999999999d}, even times
     * {@link #NOAUTH_FREE} + {@link #NOAUTH_MAX_REFUSALS}, must not overflow into the past.
     */
    static long nanos(Duration d) {
        Duration year = Duration.ofDays(365);
        return d.compareTo(year) > 0 ? year.toNanos() : d.toNanos();
    }
}
