package io.sallyport.audit;

/**
 * Why the server ended a session ({@code session.terminate}), each with the name the audit event
 * carries as its {@code reason}. A session the server ended closes with the same reason.
 */
public enum TerminationReason {
    IDLE("idle"),
    MAX_DURATION("max_duration"),
    CERT_EXPIRED("cert_expired"),
    REVOKED("revoked"),
    ADMIN("admin"),
    SHUTDOWN("shutdown"),
    MAX_SESSIONS_PER_USER("max_sessions_per_user"),
    MAX_SESSION_CHANNELS("max_session_channels"),
    MAX_UNAUTHENTICATED("max_unauthenticated"),
    MAX_UNAUTHENTICATED_PER_SOURCE("max_unauthenticated_per_source"),
    AUTH_PENALTY("auth_penalty"),
    NOAUTH_PENALTY("noauth_penalty"),
    /** A reload left the session's client address outside {@code limits.allow_sources}. */
    ALLOW_SOURCES("allow_sources"),
    /**
     * A PROXY header from a peer outside {@code proxy_protocol.trusted_sources}, or (as
     * {@code connection.refuse}) a trusted peer's missing, malformed or late header.
     */
    PROXY_PROTOCOL("proxy_protocol");

    private final String wireName;

    TerminationReason(String wireName) {
        this.wireName = wireName;
    }

    /** The {@code reason} in the audit JSON. */
    public String wireName() {
        return wireName;
    }

    @Override
    public String toString() {
        return wireName;
    }
}
