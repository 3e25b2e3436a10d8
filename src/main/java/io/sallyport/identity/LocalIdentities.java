package io.sallyport.identity;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigProblem;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Users and keys listed in {@code identity.local}: the embedded default for a laptop or a test. */
public final class LocalIdentities implements IdentitySource {
    private record Entry(Config.LocalUser user, List<SshPublicKey> keys, Map<SshPublicKey, KeyDate> dates) {}

    private final Map<String, Entry> users;

    private LocalIdentities(Map<String, Entry> users) {
        this.users = Map.copyOf(users);
    }

    /**
     * Parses every key line of {@code identity.local}; a line that is not a key, or a key the key
     * policy refuses, is a config problem (so a typo cannot silently lock a user out). With
     * {@code identity.max_key_age} set, a key line without a usable {@code date=YYYY-MM-DD} in its
     * comment, or dated in the future, is a problem too (it could never log in), and a key already
     * past the limit is a warning.
     */
    public static LocalIdentities from(Config config, List<ConfigProblem> problems) {
        return from(config, problems, java.time.Clock.systemUTC());
    }

    static LocalIdentities from(Config config, List<ConfigProblem> problems, java.time.Clock clock) {
        KeyPolicy policy = new KeyPolicy(config.policy().minRsaBits());
        KeyAgeLimit keyAge = new KeyAgeLimit(config.identity().maxKeyAge(), clock);
        String file = config.source().toString();
        Map<String, Entry> users = new HashMap<>();
        for (Config.LocalUser u : config.identity().localUsers().values()) {
            List<SshPublicKey> keys = new ArrayList<>();
            Map<SshPublicKey, KeyDate> dates = new HashMap<>();
            for (Config.Located<String> line : u.keys()) {
                try {
                    SshPublicKey key = SshPublicKey.parseLine(line.value());
                    Optional<String> refused = policy.refusal(key);
                    if (refused.isPresent()) {
                        problems.add(new ConfigProblem(file, line.line(), line.keyPath(), refused.get()));
                        continue;
                    }
                    keys.add(key);
                    KeyDate date = KeyDate.ofKeyLine(line.value(), "the key line");
                    dates.put(key, date);
                    if (keyAge.judge(date) instanceof KeyAgeLimit.Verdict.Refused r) {
                        // A key that aged out is the operator's to rotate; one that can never log in is a mistake.
                        problems.add(r.tooOld()
                                ? ConfigProblem.warning(file, line.line(), line.keyPath(), r.reason() + " (refused at login)")
                                : new ConfigProblem(file, line.line(), line.keyPath(), r.reason()));
                    }
                } catch (IllegalArgumentException e) {
                    problems.add(new ConfigProblem(file, line.line(), line.keyPath(), e.getMessage()));
                }
            }
            users.put(u.name(), new Entry(u, List.copyOf(keys), Map.copyOf(dates)));
        }
        return new LocalIdentities(users);
    }

    @Override
    public KeyDate keyDate(Identity who, SshPublicKey key) {
        Entry e = users.get(who.user());
        KeyDate d = e == null ? null : e.dates().get(key);
        return d != null ? d : new KeyDate.Unknown("the key is not in identity.local");
    }

    /** The keys of a local user with their dates, in the order written (for {@code explain}). */
    public List<Map.Entry<SshPublicKey, KeyDate>> keysOf(String user) {
        Entry e = users.get(user);
        if (e == null) {
            return List.of();
        }
        return e.keys().stream().map(k -> Map.entry(k, e.dates().get(k))).toList();
    }

    /** The identity a local user would have after logging in; for {@code explain}. */
    @Override
    public java.util.Optional<Identity> lookup(String user) {
        Entry e = users.get(user);
        return e == null ? java.util.Optional.empty()
                : java.util.Optional.of(new Identity(e.user().name(), e.user().roles(), "local", java.util.Optional.empty()));
    }

    @Override
    public AuthDecision authenticate(String user, SshPublicKey key) {
        Entry e = users.get(user);
        if (e == null) {
            return new AuthDecision.UnknownUser();
        }
        if (!e.keys().contains(key)) {
            return new AuthDecision.Reject("key " + key.fingerprint() + " is not one of " + user + "'s keys");
        }
        return new AuthDecision.Accept(lookup(user).orElseThrow());
    }
}
