package io.sallyport.identity;

import java.util.List;
import java.util.Optional;

/**
 * The one door for login decisions: the key policy first (it holds whoever vouches for a key),
 * then each identity source in order; the first source that knows the user decides.
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
        AuthDecision last = new AuthDecision.Reject("unknown user");
        for (IdentitySource source : sources) {
            AuthDecision d = source.authenticate(user, key);
            if (d instanceof AuthDecision.Accept) {
                return d;
            }
            // Prefer a source's specific reason ("key is not one of alice's keys") over "unknown user".
            if (!(last instanceof AuthDecision.Reject r && !r.reason().equals("unknown user"))) {
                last = d;
            }
        }
        return last;
    }
}
