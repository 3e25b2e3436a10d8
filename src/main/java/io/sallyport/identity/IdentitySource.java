package io.sallyport.identity;

/**
 * Decides whether a public key may log in as a user. Implementations answer from memory: they are
 * called on SSH I/O threads during authentication, so they never block on the network.
 */
public interface IdentitySource {

    /** @param user the SSH user name exactly as the client sent it (hostile input) */
    AuthDecision authenticate(String user, SshPublicKey key);

    /**
     * Whether a live session that logged in as {@code who} with {@code key} would still be let in,
     * and with which roles now: asked after a reload, a refresh or a revocation. Answers from what
     * the source last knew; a source that can only serve logins while fresh (IAM) still answers
     * from its last good data here, since a stale source refuses new logins but ends no session.
     */
    default AuthDecision recheck(Identity who, SshPublicKey key) {
        return authenticate(who.user(), key);
    }

    /** The identity {@code user} would have after logging in with one of their keys, for {@code explain}. */
    default java.util.Optional<Identity> lookup(String user) {
        return java.util.Optional.empty();
    }

    /**
     * Why this source would refuse {@code user} now whatever key they present, for {@code explain}:
     * a source that cannot serve logins at the moment (IAM data too old, or not loaded yet) refuses
     * every user that reaches it; a source may also hold a user it does not let in. Empty when a
     * key of the user's could log in, and for users the source does not know.
     */
    default java.util.Optional<String> loginRefusal(String user) {
        return java.util.Optional.empty();
    }
}
