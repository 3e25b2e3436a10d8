package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigLoader;
import io.sallyport.config.ConfigProblem;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A live session's login judged again under a reloaded config ({@link Logins#recheck}), with the
 * {@link Logins} a reload builds from the new file: refused now means the session ends, accepted
 * gives it the roles it would get now.
 */
class LoginsRecheckTest {
    private static final KeyPolicy KEY_POLICY = new KeyPolicy(2048);

    private final SshPublicKey laptop = TestKeys.ed25519().parsed();
    private final SshPublicKey desktop = TestKeys.ecdsa256().parsed();
    private final Identity aliceAsAdmin = new Identity("alice", List.of("admin"), "local", Optional.empty());

    /** The Logins a config gives, as the server assembles them: local users, then {@code more}. */
    private static Logins logins(String users, RevocationList revoked, IdentitySource... more) throws Exception {
        Config c = ConfigLoader.parse("""
                policy:
                  roles:
                    admin:
                      allow: ["10.0.0.0/16:22"]
                    db:
                      allow: ["10.0.20.0/24:5432"]
                identity:
                  local:
                    users:
                """ + users, Path.of("/etc/sallyport/sallyport.yaml"));
        List<ConfigProblem> problems = new ArrayList<>();
        List<IdentitySource> sources = new ArrayList<>(List.of(LocalIdentities.from(c, problems)));
        sources.addAll(List.of(more));
        assertThat(problems).isEmpty();
        return new Logins(KEY_POLICY, sources, CertificateVerifier.none(KEY_POLICY), () -> revoked);
    }

    private static String user(String name, List<String> roles, SshPublicKey... keys) {
        StringBuilder b = new StringBuilder("      " + name + ":\n        roles: [" + String.join(", ", roles) + "]\n        keys:\n");
        for (SshPublicKey k : keys) {
            b.append("          - \"").append(k.type()).append(' ')
                    .append(java.util.Base64.getEncoder().encodeToString(k.blob())).append("\"\n");
        }
        return b.toString();
    }

    @Test
    void theSameConfigLetsTheSessionStayAsItWas() throws Exception {
        Logins same = logins(user("alice", List.of("admin"), laptop, desktop), RevocationList.EMPTY);

        assertThat(same.recheck(aliceAsAdmin, laptop)).isEqualTo(new AuthDecision.Accept(aliceAsAdmin));
    }

    @Test
    void plainKeyRemovedFromALocalUserRefusesTheSessionLoggedInWithIt() throws Exception {
        Logins reloaded = logins(user("alice", List.of("admin"), desktop), RevocationList.EMPTY);

        assertThat(reloaded.recheck(aliceAsAdmin, laptop))
                .isEqualTo(new AuthDecision.Reject("key " + laptop.fingerprint() + " is not one of alice's keys"));
        assertThat(reloaded.recheck(aliceAsAdmin, desktop)).as("a session on the key kept stays")
                .isInstanceOf(AuthDecision.Accept.class);
    }

    @Test
    void localUserRemovedRefusesTheirSessions() throws Exception {
        Logins reloaded = logins(user("bob", List.of("db"), laptop), RevocationList.EMPTY);

        assertThat(reloaded.recheck(aliceAsAdmin, laptop)).isEqualTo(new AuthDecision.Reject("unknown user"));
    }

    @Test
    void rolesChangedGiveTheSessionItsNewRoles() throws Exception {
        Logins reloaded = logins(user("alice", List.of("db"), laptop), RevocationList.EMPTY);

        assertThat(reloaded.recheck(aliceAsAdmin, laptop))
                .isEqualTo(new AuthDecision.Accept(new Identity("alice", List.of("db"), "local", Optional.empty())));
    }

    @Test
    void keyRevokedByTheNewListRefusesTheSessionEvenThoughTheUserStillListsIt() throws Exception {
        RevocationList revoked = RevocationList.parse((TestKeys.ed25519().line() + "\n").getBytes());
        Logins reloaded = logins(user("alice", List.of("admin"), laptop), revoked);

        assertThat(reloaded.recheck(aliceAsAdmin, laptop))
                .isEqualTo(new AuthDecision.Reject("revoked: key " + laptop.fingerprint() + " is revoked"));
    }

    @Test
    void certificateSessionIsRefusedOnceNoAuthorityIsTrusted() throws Exception {
        long now = java.time.Instant.now().getEpochSecond();
        SshPublicKey cert = new CertBlob(now - 60, now + 3600).key();
        Logins reloaded = logins(user("alice", List.of("admin"), laptop), RevocationList.EMPTY);

        assertThat(reloaded.recheck(new Identity("alice", List.of(), "ca", Optional.empty()), cert))
                .isInstanceOfSatisfying(AuthDecision.Reject.class, r -> assertThat(r.reason())
                        .isEqualTo("certificate logins are off: identity.certificates.authorities is empty"));
    }

    /** A source that can still vouch for a live session when it refuses new logins (IAM while stale). */
    @Test
    void eachSourceIsAskedItsRecheckNotALogin() throws Exception {
        IdentitySource staleButKnown = new IdentitySource() {
            @Override
            public AuthDecision authenticate(String user, SshPublicKey key) {
                return new AuthDecision.Reject("IAM data is stale");
            }

            @Override
            public AuthDecision recheck(Identity who, SshPublicKey key) {
                return new AuthDecision.Accept(new Identity(who.user(), List.of("db"), "iam", Optional.empty()));
            }
        };
        Logins reloaded = logins(user("alice", List.of("admin"), laptop), RevocationList.EMPTY, staleButKnown);
        Identity carol = new Identity("carol", List.of("admin"), "iam", Optional.empty());

        assertThat(reloaded.authenticate("carol", desktop)).isEqualTo(new AuthDecision.Reject("IAM data is stale"));
        assertThat(reloaded.recheck(carol, desktop))
                .isEqualTo(new AuthDecision.Accept(new Identity("carol", List.of("db"), "iam", Optional.empty())));
        assertThat(reloaded.recheck(aliceAsAdmin, desktop)).as("the first source that knows the user still decides")
                .isEqualTo(new AuthDecision.Reject("key " + desktop.fingerprint() + " is not one of alice's keys"));
    }
}
