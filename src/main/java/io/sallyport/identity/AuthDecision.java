package io.sallyport.identity;

import java.util.Optional;

/** What an identity source says about one (user, key) pair. */
public sealed interface AuthDecision {

    /**
     * @param certificate   the certificate the login was made with, when it was one
     * @param keyAgeWarning the plain key is near {@code identity.max_key_age} ({@link KeyAgeLimit})
     */
    record Accept(Identity identity, Optional<CertificateLogin> certificate, Optional<String> keyAgeWarning)
            implements AuthDecision {
        public Accept(Identity identity) {
            this(identity, Optional.empty());
        }

        public Accept(Identity identity, Optional<CertificateLogin> certificate) {
            this(identity, certificate, Optional.empty());
        }
    }

    /**
     * The source knows the user and refuses: final.
     *
     * @param reason      for the {@code auth.reject} event
     * @param certificate what is known of the certificate refused, when it was one that could be read
     */
    record Reject(String reason, Optional<CertificateLogin> certificate) implements AuthDecision {
        public Reject(String reason) {
            this(reason, Optional.empty());
        }
    }

    /** The source has no such user; the next source may. */
    record UnknownUser() implements AuthDecision {}
}
