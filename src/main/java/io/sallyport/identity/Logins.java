package io.sallyport.identity;

import java.util.List;
import java.util.Optional;

/**
 * The one door for login decisions: the key policy first (it holds whoever vouches for a key),
 * then each identity source in order; the first source that knows the user decides, so a
 * second source can never add keys or roles to a user the first one owns.
 */
public final class Logins {
    private final KeyPolicy keyPolicy;
    private final List<IdentitySource> sources;

    public Logins(KeyPolicy keyPolicy, List<IdentitySource> sources) {
        this.keyPolicy = keyPolicy;
        this.sources = List.copyOf(sources);
    }

    public AuthDecision authenticate(String user, SshPublicKey key) {
        Optional<String> refused = keyPolicy.refusal(key);
        if (refused.isPresent()) {
            return new AuthDecision.Reject(refused.get());
        }
        for (IdentitySource source : sources) {
            AuthDecision d = source.authenticate(user, key);
            if (!(d instanceof AuthDecision.UnknownUser)) {
                return d;
            }
        }
        return new AuthDecision.Reject("unknown user");
    }
}
