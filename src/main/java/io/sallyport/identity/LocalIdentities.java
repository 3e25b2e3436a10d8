package io.sallyport.identity;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigProblem;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Users and keys listed in {@code identity.local}: the embedded default for a laptop or a test. */
public final class LocalIdentities implements IdentitySource {
    private record Entry(Config.LocalUser user, List<SshPublicKey> keys) {}

    private final Map<String, Entry> users;

    private LocalIdentities(Map<String, Entry> users) {
        this.users = Map.copyOf(users);
    }

    /**
     * Parses every key line of {@code identity.local}; a line that is not a key, or a key the key
     * policy refuses, is a config problem (so a typo cannot silently lock a user out).
     */
    public static LocalIdentities from(Config config, List<ConfigProblem> problems) {
        KeyPolicy policy = new KeyPolicy(config.policy().minRsaBits());
        Map<String, Entry> users = new HashMap<>();
        for (Config.LocalUser u : config.identity().localUsers().values()) {
            List<SshPublicKey> keys = new ArrayList<>();
            for (Config.Located<String> line : u.keys()) {
                try {
                    SshPublicKey key = SshPublicKey.parseLine(line.value());
                    policy.refusal(key).ifPresentOrElse(
                            why -> problems.add(new ConfigProblem(config.source().toString(), line.line(), line.keyPath(), why)),
                            () -> keys.add(key));
                } catch (IllegalArgumentException e) {
                    problems.add(new ConfigProblem(config.source().toString(), line.line(), line.keyPath(), e.getMessage()));
                }
            }
            users.put(u.name(), new Entry(u, List.copyOf(keys)));
        }
        return new LocalIdentities(users);
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
