package io.sallyport.identity.iam;

import io.sallyport.config.Config;
import io.sallyport.identity.AuthDecision;
import io.sallyport.identity.Identity;
import io.sallyport.identity.RevokingSource;
import io.sallyport.identity.SshPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * IAM users as identities (docs/iam.md). Answers logins from the last complete refresh held in memory,
 * never from IAM: {@link IamRefresher} fetches in the background and {@link #publish publishes}
 * whole snapshots.
 *
 * <p>Fail closed: before the first refresh succeeds, and once the last success is older than
 * {@code max_staleness}, every user that reaches this source is refused with the reason (and the
 * last IAM error) in the {@code auth.reject} event. A user IAM does not have, or has outside
 * {@code path_prefix}, is {@link AuthDecision.UnknownUser} while the data is fresh.
 */
public final class IamIdentities implements RevokingSource {
    private static final Logger log = LoggerFactory.getLogger(IamIdentities.class);

    /** What is known right now: the last good snapshot (null before the first) and the last error since. */
    private record State(IamSnapshot snapshot, String lastError, Instant lastErrorAt) {}

    /** Replaced by {@link #reconfigure}; a refresh reads them once, at its start. */
    private volatile Config.Iam config;
    private volatile IamAccessRules rules;
    private final Clock clock;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    /** Asks the refresher for a refresh out of schedule; set by {@link IamRefresher}. */
    private volatile Runnable refreshRequest = () -> {};
    private volatile State state = new State(null, null, null);

    public IamIdentities(Config config, Clock clock) {
        this.config = config.identity().iam();
        this.rules = new IamAccessRules(this.config, config.policy().roles().keySet());
        this.clock = clock;
    }

    /**
     * Takes a reloaded config's IAM rules (allow tag and groups, roles tag, group roles, key tag
     * prefix, the roles policy defines, refresh and staleness). They apply from the next refresh
     * on, which this asks the refresher for at once; the snapshot in use was read under the old rules and serves
     * until then. The IAM endpoint and region are the client's: a change of those needs a restart.
     */
    public void reconfigure(Config next) {
        Config.Iam iam = next.identity().iam();
        this.rules = new IamAccessRules(iam, next.policy().roles().keySet());
        this.config = iam;
        refreshRequest.run();
    }

    void refreshWith(Runnable request) {
        this.refreshRequest = request;
    }

    Config.Iam config() {
        return config;
    }

    IamAccessRules rules() {
        return rules;
    }

    Clock clock() {
        return clock;
    }

    // ---- the login path: memory only ---------------------------------------------------------

    @Override
    public AuthDecision authenticate(String user, SshPublicKey key) {
        State s = state;
        Optional<String> unusable = unusable(s);
        if (unusable.isPresent()) {
            return new AuthDecision.Reject(unusable.get());
        }
        return decide(s.snapshot(), user, key);
    }

    /**
     * From the last good snapshot even when it is stale: staleness refuses new logins (fail
     * closed) but ends no live session; a refresh that fails changes nothing already decided.
     */
    @Override
    public AuthDecision recheck(Identity who, SshPublicKey key) {
        IamSnapshot snapshot = state.snapshot();
        return snapshot == null ? new AuthDecision.UnknownUser() : decide(snapshot, who.user(), key);
    }

    private static AuthDecision decide(IamSnapshot snapshot, String user, SshPublicKey key) {
        Optional<IamUser> found = snapshot.user(user);
        if (found.isEmpty()) {
            return snapshot.refusal(user).<AuthDecision>map(AuthDecision.Reject::new).orElseGet(AuthDecision.UnknownUser::new);
        }
        IamUser u = found.get();
        Optional<IamUser.KeyState> k = u.key(key);
        if (k.isEmpty()) {
            return new AuthDecision.Reject("key " + key.fingerprint() + " is not one of IAM user " + u.name() + "'s active keys");
        }
        if (!k.get().active()) {
            return new AuthDecision.Reject("key " + key.fingerprint() + " of IAM user " + u.name() + " is "
                    + k.get().status() + " (" + k.get().origin() + ")");
        }
        return new AuthDecision.Accept(new Identity(u.name(), u.roles(), "iam", Optional.of(u.arn())));
    }

    /** Why no IAM login can be decided now (never loaded, or too old); empty when the data is usable. */
    private Optional<String> unusable(State s) {
        if (s.snapshot() == null) {
            return Optional.of("IAM identities are not loaded yet"
                    + (s.lastError() == null ? " (first refresh still running)" : "; last refresh failed: " + s.lastError()));
        }
        Duration age = Duration.between(s.snapshot().asOf(), clock.instant());
        if (age.compareTo(config.maxStaleness()) > 0) {
            return Optional.of("IAM data is stale: last successful refresh " + stamp(s.snapshot().asOf()) + ", "
                    + human(age) + " ago, beyond identity.iam.max_staleness " + human(config.maxStaleness())
                    + (s.lastError() == null ? "" : "; last refresh failed: " + s.lastError()));
        }
        return Optional.empty();
    }

    // ---- explain: memory only ------------------------------------------------------------------

    /**
     * The user as the last good snapshot has them, with their roles as of that refresh, even when
     * the snapshot is too old to serve logins: {@link #loginRefusal} says so.
     */
    @Override
    public Optional<Identity> lookup(String user) {
        IamSnapshot snapshot = state.snapshot();
        return snapshot == null ? Optional.empty()
                : snapshot.user(user).map(u -> new Identity(u.name(), u.roles(), "iam", Optional.of(u.arn())));
    }

    /** Stale or not loaded (every user refused), a user IAM has but does not allow, or one with no active key. */
    @Override
    public Optional<String> loginRefusal(String user) {
        State s = state;
        Optional<String> unusable = unusable(s);
        if (unusable.isPresent()) {
            return unusable;
        }
        Optional<IamUser> u = s.snapshot().user(user);
        if (u.isEmpty()) {
            return s.snapshot().refusal(user);
        }
        return u.get().keys().values().stream().anyMatch(IamUser.KeyState::active) ? Optional.empty()
                : Optional.of("IAM user " + u.get().name() + " has no active key");
    }

    @Override
    public void onRefresh(Runnable listener) {
        listeners.add(listener);
    }

    // ---- fed by the refresher ------------------------------------------------------------------

    /** Makes {@code snapshot} the one logins are decided on, then lets listeners re-check live sessions. */
    void publish(IamSnapshot snapshot) {
        state = new State(snapshot, null, null);
        for (Runnable l : listeners) {
            try {
                l.run();
            } catch (RuntimeException e) {
                log.error("IAM refresh listener failed: {}", e.toString());
            }
        }
    }

    /**
     * Records a failed refresh; nothing already known changes.
     *
     * @return the failure in operational terms, for the log: what is served now and until when
     */
    String failed(String error) {
        State s = state;
        state = new State(s.snapshot(), error, clock.instant());
        if (s.snapshot() == null) {
            return "IAM refresh failed: " + error + "; no IAM data loaded yet, IAM logins are refused";
        }
        Instant asOf = s.snapshot().asOf();
        Duration age = Duration.between(asOf, clock.instant());
        String serving = age.compareTo(config.maxStaleness()) > 0
                ? "IAM logins refused: last good data from " + stamp(asOf) + " is " + human(age)
                        + " old, beyond max_staleness " + human(config.maxStaleness())
                : "serving keys from " + stamp(asOf) + ", " + human(age) + " old, stale after " + human(config.maxStaleness());
        return "IAM refresh failed: " + error + "; " + serving;
    }

    /** Why IAM logins are refused now (stale, or nothing loaded yet), or empty: for the health check. */
    public Optional<String> refusal() {
        return unusable(state);
    }

    /** When the data in use was read from IAM (its last successful refresh), for metrics. */
    public Optional<Instant> lastRefresh() {
        return snapshot().map(IamSnapshot::asOf);
    }

    /** Whether IAM logins are being refused for staleness (or nothing was ever loaded). */
    public boolean failingClosed() {
        return unusable(state).isPresent();
    }

    /** The snapshot in use, for tests and status views. */
    Optional<IamSnapshot> snapshot() {
        return Optional.ofNullable(state.snapshot());
    }

    static String stamp(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** {@code 4m 10s}, {@code 15m}, {@code 900ms}: how operators read ages. */
    static String human(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) {
            return ms + "ms";
        }
        long s = d.getSeconds();
        long h = s / 3600;
        long m = (s % 3600) / 60;
        long sec = s % 60;
        StringBuilder b = new StringBuilder();
        if (h > 0) {
            b.append(h).append('h');
        }
        if (m > 0) {
            b.append(b.length() > 0 ? " " : "").append(m).append('m');
        }
        if (sec > 0 || b.length() == 0) {
            b.append(b.length() > 0 ? " " : "").append(sec).append('s');
        }
        return b.toString();
    }
}
