package io.sallyport.identity;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The one door for login decisions. A certificate is judged by the {@link CertificateVerifier}
 * alone: it carries its own user name and roles, vouched for by a CA. A plain key goes through the
 * key policy first (it holds whoever vouches for a key), then the revocation list, then each
 * identity source in order; the first source that knows the user decides, so a second source can
 * never add keys or roles to a user the first one owns.
 */
public final class Logins {
    private final KeyPolicy keyPolicy;
    private final List<IdentitySource> sources;
    private final CertificateVerifier certificates;
    private final Supplier<RevocationList> revoked;
    private final KeyAgeLimit keyAge;

    /** Plain keys only: every certificate is refused and nothing is revoked. */
    public Logins(KeyPolicy keyPolicy, List<IdentitySource> sources) {
        this(keyPolicy, sources, CertificateVerifier.none(keyPolicy), () -> RevocationList.EMPTY);
    }

    /** @param revoked the revocation list in force ({@code identity.certificates.revoked}); it applies to plain keys too, as OpenSSH's RevokedKeys does */
    public Logins(KeyPolicy keyPolicy, List<IdentitySource> sources, CertificateVerifier certificates,
                  Supplier<RevocationList> revoked) {
        this(keyPolicy, sources, certificates, revoked, KeyAgeLimit.none());
    }

    /** @param keyAge {@code identity.max_key_age}, applied to plain keys only */
    public Logins(KeyPolicy keyPolicy, List<IdentitySource> sources, CertificateVerifier certificates,
                  Supplier<RevocationList> revoked, KeyAgeLimit keyAge) {
        this.keyPolicy = keyPolicy;
        this.sources = List.copyOf(sources);
        this.certificates = certificates;
        this.revoked = revoked;
        this.keyAge = keyAge;
    }

    /** {@code identity.max_key_age} as these logins apply it (for {@code explain}). */
    public KeyAgeLimit keyAge() {
        return keyAge;
    }

    /**
     * A plain key the source accepted, held to {@code identity.max_key_age}: refused when too old
     * or of unknown age, accepted with a warning when near the limit.
     */
    private AuthDecision aged(IdentitySource source, AuthDecision decision, SshPublicKey key) {
        if (!(decision instanceof AuthDecision.Accept accept) || keyAge.max().isEmpty()) {
            return decision;
        }
        KeyAgeLimit.Verdict v = keyAge.judge(source.keyDate(accept.identity(), key));
        if (v instanceof KeyAgeLimit.Verdict.Refused r) {
            return new AuthDecision.Reject(r.reason());
        }
        if (v instanceof KeyAgeLimit.Verdict.Near n) {
            return new AuthDecision.Accept(accept.identity(), accept.certificate(), Optional.of(n.warning()));
        }
        return decision;
    }

    public AuthDecision authenticate(String user, SshPublicKey key) {
        if (key.isCertificate()) {
            return certificates.authenticate(user, key);
        }
        return plainKey(key, source -> source.authenticate(user, key));
    }

    /**
     * Whether a live session that logged in as {@code who} with {@code presented} would be let in
     * now, and as whom (its roles now): the same checks as {@link #authenticate}, except that each
     * source answers from what it last knew ({@link IdentitySource#recheck}).
     */
    public AuthDecision recheck(Identity who, SshPublicKey presented) {
        if (presented.isCertificate()) {
            return certificates.authenticate(who.user(), presented);
        }
        return plainKey(presented, source -> source.recheck(who, presented));
    }

    /**
     * A plain key: the key policy, then the revocation list, then each source in order ({@code ask}
     * puts the question); the first source that knows the user decides, and the key's age is judged
     * on what it accepted.
     */
    private AuthDecision plainKey(SshPublicKey key, java.util.function.Function<IdentitySource, AuthDecision> ask) {
        Optional<String> refused = keyPolicy.refusal(key);
        if (refused.isPresent()) {
            return new AuthDecision.Reject(refused.get());
        }
        Optional<String> revocation = revoked.get().revocationOf(key);
        if (revocation.isPresent()) {
            return new AuthDecision.Reject("revoked: " + revocation.get());
        }
        for (IdentitySource source : sources) {
            AuthDecision d = ask.apply(source);
            if (!(d instanceof AuthDecision.UnknownUser)) {
                return aged(source, d, key);
            }
        }
        return new AuthDecision.Reject("unknown user");
    }

    /** The identity {@code user} would have after a login with a plain key: the first source that knows them. */
    public Optional<Identity> lookup(String user) {
        for (IdentitySource source : sources) {
            Optional<Identity> found = source.lookup(user);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    /**
     * Why a plain-key login as {@code user} would be refused now whatever the key, or empty: the
     * sources are asked in the order {@link #authenticate} asks them, and the first that refuses, or
     * knows the user, has the last word (as a source that refuses ends a login there).
     */
    public Optional<String> loginRefusal(String user) {
        for (IdentitySource source : sources) {
            Optional<String> refused = source.loginRefusal(user);
            if (refused.isPresent() || source.lookup(user).isPresent()) {
                return refused;
            }
        }
        return Optional.empty();
    }

    /**
     * Why a live session logged in with {@code presented} (a plain key or a certificate) must end
     * under the revocation list in force now, or empty.
     */
    public Optional<String> revocationOf(SshPublicKey presented) {
        if (presented.isCertificate()) {
            try {
                return certificates.revocationOf(SshCertificate.parse(presented.blob()));
            } catch (IllegalArgumentException e) {
                return Optional.empty(); // it parsed at login; nothing new to say
            }
        }
        return revoked.get().revocationOf(presented);
    }
}
