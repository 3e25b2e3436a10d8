package io.sallyport.identity;

/**
 * Decides whether a public key may log in as a user. Implementations answer from memory: they are
 * called on SSH I/O threads during authentication, so they never block on the network.
 */
public interface IdentitySource {

    /** @param user the SSH user name exactly as the client sent it (hostile input) */
    AuthDecision authenticate(String user, SshPublicKey key);
}
