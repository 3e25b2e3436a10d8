package io.sallyport.identity;

/** What an identity source says about one (user, key) pair. */
public sealed interface AuthDecision {
    record Accept(Identity identity) implements AuthDecision {}

    /** The source knows the user and refuses: final. @param reason for the {@code auth.reject} event */
    record Reject(String reason) implements AuthDecision {}

    /** The source has no such user; the next source may. */
    record UnknownUser() implements AuthDecision {}
}
