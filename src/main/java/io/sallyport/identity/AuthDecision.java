package io.sallyport.identity;

/** What an identity source says about one (user, key) pair. */
public sealed interface AuthDecision {
    record Accept(Identity identity) implements AuthDecision {}

    /** @param reason why, for the {@code auth.reject} event; never sent to the client */
    record Reject(String reason) implements AuthDecision {}
}
