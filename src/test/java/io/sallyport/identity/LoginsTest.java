package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The one door for logins: key policy first, then the identity sources in order. */
class LoginsTest {
    private static final KeyPolicy KEY_POLICY = new KeyPolicy(2048);

    private final List<String> calls = new ArrayList<>();

    /** A source that knows one user with one key, and records every question it is asked. */
    private IdentitySource source(String name, String user, SshPublicKey key, List<String> roles) {
        return (u, k) -> {
            calls.add(name + ":" + u);
            if (!u.equals(user)) {
                return new AuthDecision.UnknownUser();
            }
            if (!k.equals(key)) {
                return new AuthDecision.Reject("key " + k.fingerprint() + " is not one of " + u + "'s keys");
            }
            return new AuthDecision.Accept(new Identity(u, roles, name, Optional.empty()));
        };
    }

    @Test
    void keyPolicyIsCheckedBeforeAnySourceIsAsked() {
        SshPublicKey shortRsa = TestKeys.rsa1024().parsed();
        Logins logins = new Logins(KEY_POLICY, List.of(source("local", "alice", shortRsa, List.of("admin"))));

        assertThat(logins.authenticate("alice", shortRsa))
                .isEqualTo(new AuthDecision.Reject("RSA key of 1024 bits is shorter than policy.min_rsa_bits 2048"));
        assertThat(calls).isEmpty();
    }

    @Test
    void dsaKeyIsRefusedEvenWhenASourceListsIt() {
        SshPublicKey dsa = SshPublicKey.fromBlob(TestKeys.dsaBlob());
        Logins logins = new Logins(KEY_POLICY, List.of(source("local", "alice", dsa, List.of("admin"))));

        assertThat(logins.authenticate("alice", dsa)).isInstanceOfSatisfying(AuthDecision.Reject.class,
                r -> assertThat(r.reason()).startsWith("DSA keys are refused"));
        assertThat(calls).isEmpty();
    }

    @Test
    void rightKeyIsAcceptedWithTheUsersRoles() {
        SshPublicKey key = TestKeys.ed25519().parsed();
        Logins logins = new Logins(KEY_POLICY, List.of(source("local", "alice", key, List.of("admin", "db"))));

        assertThat(logins.authenticate("alice", key))
                .isEqualTo(new AuthDecision.Accept(new Identity("alice", List.of("admin", "db"), "local", Optional.empty())));
    }

    @Test
    void wrongKeyIsRejectedWithTheSourcesReason() {
        Logins logins = new Logins(KEY_POLICY, List.of(source("local", "alice", TestKeys.ed25519().parsed(), List.of("admin"))));

        assertThat(logins.authenticate("alice", TestKeys.ecdsa256().parsed())).isEqualTo(new AuthDecision.Reject(
                "key " + TestKeys.ecdsa256().fingerprint() + " is not one of alice's keys"));
    }

    @Test
    void unknownUserIsRejected() {
        SshPublicKey key = TestKeys.ed25519().parsed();
        Logins logins = new Logins(KEY_POLICY, List.of(
                source("local", "alice", key, List.of("admin")),
                source("iam", "bob", key, List.of("db"))));

        assertThat(logins.authenticate("mallory", key)).isEqualTo(new AuthDecision.Reject("unknown user"));
        assertThat(calls).containsExactly("local:mallory", "iam:mallory");
    }

    @Test
    void noSourcesMeansNobodyLogsIn() {
        Logins logins = new Logins(KEY_POLICY, List.of());

        assertThat(logins.authenticate("alice", TestKeys.ed25519().parsed())).isEqualTo(new AuthDecision.Reject("unknown user"));
    }

    @Test
    void laterSourceIsAskedWhenEarlierOnesDoNotKnowTheUser() {
        SshPublicKey key = TestKeys.ed25519().parsed();
        Logins logins = new Logins(KEY_POLICY, List.of(
                source("local", "alice", key, List.of("admin")),
                source("iam", "bob", key, List.of("db"))));

        assertThat(logins.authenticate("bob", key))
                .isEqualTo(new AuthDecision.Accept(new Identity("bob", List.of("db"), "iam", Optional.empty())));
    }

    @Test
    void specificReasonIsKeptOverALaterUnknownUser() {
        Logins logins = new Logins(KEY_POLICY, List.of(
                source("local", "alice", TestKeys.ed25519().parsed(), List.of("admin")),
                source("iam", "bob", TestKeys.ed25519().parsed(), List.of("db"))));

        assertThat(logins.authenticate("alice", TestKeys.ecdsa256().parsed())).isInstanceOfSatisfying(AuthDecision.Reject.class,
                r -> assertThat(r.reason()).contains("is not one of alice's keys"));
    }

    /**
     * Logins' contract: "the first source that knows the user decides". A user the local file knows
     * must not be logged in by a second source that happens to have a user of the same name (and
     * other roles) under another key.
     */
    @Test
    void firstSourceThatKnowsTheUserDecides() {
        SshPublicKey localKey = TestKeys.ed25519().parsed();
        SshPublicKey otherKey = TestKeys.ecdsa256().parsed();
        Logins logins = new Logins(KEY_POLICY, List.of(
                source("local", "alice", localKey, List.of("viewer")),
                source("iam", "alice", otherKey, List.of("admin"))));

        assertThat(logins.authenticate("alice", otherKey)).isInstanceOf(AuthDecision.Reject.class);
        assertThat(calls).containsExactly("local:alice");
    }

    @Test
    void revokedPlainKeyIsRefusedBeforeAnySourceIsAsked() {
        SshPublicKey key = TestKeys.ed25519().parsed();
        RevocationList revoked = RevocationList.parse((TestKeys.ed25519().line() + "\n").getBytes());
        Logins logins = new Logins(KEY_POLICY, List.of(source("local", "alice", key, List.of("admin"))),
                CertificateVerifier.none(KEY_POLICY), () -> revoked);

        assertThat(logins.authenticate("alice", key))
                .isEqualTo(new AuthDecision.Reject("revoked: key " + key.fingerprint() + " is revoked"));
        assertThat(logins.revocationOf(key)).isPresent();
        assertThat(calls).isEmpty();
    }

    @Test
    void certificatesAreJudgedByTheVerifierNotByTheSources() {
        long now = java.time.Instant.now().getEpochSecond();
        SshPublicKey cert = new CertBlob(now - 60, now + 60).key();
        SshPublicKey ca = SshPublicKey.fromBlob(CertBlob.ed25519Key(9));
        CertificateVerifier verifier = new CertificateVerifier(List.of(new CertificateAuthority("corp", ca, List.of())),
                java.time.Duration.ofHours(1), java.time.Duration.ofSeconds(5), KEY_POLICY, () -> RevocationList.EMPTY,
                java.time.Clock.systemUTC());
        Logins logins = new Logins(KEY_POLICY, List.of(source("local", "alice", cert, List.of("admin"))), verifier,
                () -> RevocationList.EMPTY);

        assertThat(logins.authenticate("alice", cert)).isInstanceOfSatisfying(AuthDecision.Accept.class,
                a -> assertThat(a.identity()).isEqualTo(new Identity("alice", List.of(), "ca", Optional.empty())));
        assertThat(calls).isEmpty();
    }

    @Test
    void withoutAuthoritiesEveryCertificateIsRefused() {
        Logins logins = new Logins(KEY_POLICY, List.of());

        assertThat(logins.authenticate("alice", new CertBlob(0, 1).key())).isInstanceOfSatisfying(AuthDecision.Reject.class,
                r -> assertThat(r.reason()).isEqualTo("certificate logins are off: identity.certificates.authorities is empty"));
    }
}
