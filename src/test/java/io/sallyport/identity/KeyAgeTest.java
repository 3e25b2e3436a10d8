package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigLoader;
import io.sallyport.config.ConfigProblem;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code identity.max_key_age}: how a key is dated, and what its age decides. */
class KeyAgeTest {
    private static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final KeyAgeLimit NINETY_DAYS = new KeyAgeLimit(Optional.of(Duration.ofDays(90)), CLOCK);

    private static String keyLine(String comment) {
        String[] f = TestKeys.ed25519().line().split("\\s+");
        return f[0] + " " + f[1] + (comment.isEmpty() ? "" : " " + comment);
    }

    private static KeyDate.Known day(String date) {
        return new KeyDate.Known(Instant.parse(date + "T00:00:00Z"), "date= in the key line");
    }

    // ---- dating --------------------------------------------------------------------------------

    @Test
    void keyLineIsDatedByTheDateWordOfItsComment() {
        assertThat(KeyDate.ofKeyLine(keyLine("alice@laptop date=2026-09-01"), "tag sallyport:ssh-key"))
                .isEqualTo(new KeyDate.Known(Instant.parse("2026-09-01T00:00:00Z"), "date= in tag sallyport:ssh-key"));
        assertThat(KeyDate.ofKeyLine(keyLine("date=2026-09-01 alice@laptop"), "x")).isInstanceOf(KeyDate.Known.class);
    }

    @Test
    void keyLineWithoutADateWordIsUndated() {
        assertThat(KeyDate.ofKeyLine(keyLine("alice@laptop"), "tag sallyport:ssh-key-2"))
                .isEqualTo(new KeyDate.Unknown("tag sallyport:ssh-key-2 has no date=YYYY-MM-DD in its comment"));
        assertThat(KeyDate.ofKeyLine(keyLine(""), "x")).isInstanceOf(KeyDate.Unknown.class);
        // a date in the base64 or the type is not a comment word
        assertThat(KeyDate.ofKeyLine(keyLine("mydate=2026-09-01"), "x")).isInstanceOf(KeyDate.Unknown.class);
    }

    @Test
    void malformedOrRepeatedDateWordIsUndated() {
        assertThat(KeyDate.ofKeyLine(keyLine("date=2026-13-01"), "x")).isEqualTo(
                new KeyDate.Unknown("x: the date= in its comment is not a date YYYY-MM-DD"));
        assertThat(KeyDate.ofKeyLine(keyLine("date=2026-9-1"), "x")).isInstanceOf(KeyDate.Unknown.class);
        assertThat(KeyDate.ofKeyLine(keyLine("date=2026-02-30"), "x")).isInstanceOf(KeyDate.Unknown.class);
        assertThat(KeyDate.ofKeyLine(keyLine("date=2026-09-01 date=2026-10-01"), "x")).isEqualTo(
                new KeyDate.Unknown("x has more than one date= in its comment"));
    }

    // ---- judging -------------------------------------------------------------------------------

    @Test
    void noLimitJudgesEveryKeyFreshEvenUndated() {
        assertThat(KeyAgeLimit.none().judge(new KeyDate.Unknown("no date"))).isInstanceOf(KeyAgeLimit.Verdict.Fresh.class);
    }

    @Test
    void keyWithinTheLimitAndBeforeTheWarningIsFresh() {
        assertThat(NINETY_DAYS.judge(day("2026-10-01"))).isInstanceOf(KeyAgeLimit.Verdict.Fresh.class);
    }

    @Test
    void keyPastMaxKeyAgeIsRefusedWithItsDateAndAge() {
        assertThat(NINETY_DAYS.judge(day("2026-08-01"))).isEqualTo(new KeyAgeLimit.Verdict.Refused(
                "max_key_age: key dated 2026-08-01 (date= in the key line) is 123d old, beyond identity.max_key_age 90d;"
                        + " rotate it", true));
    }

    @Test
    void keyInTheLastFourteenDaysLogsInWithAWarningSayingWhen() {
        assertThat(NINETY_DAYS.judge(day("2026-09-10"))).isEqualTo(new KeyAgeLimit.Verdict.Near(
                "key dated 2026-09-10 (date= in the key line) is 83d old; refused from 2026-12-09T00:00:00Z"
                        + " (identity.max_key_age 90d); rotate it"));
        assertThat(NINETY_DAYS.judge(day("2026-09-20"))).isInstanceOf(KeyAgeLimit.Verdict.Fresh.class);
    }

    @Test
    void warningWindowIsAQuarterOfAShortLimit() {
        assertThat(NINETY_DAYS.warningWindow()).isEqualTo(Duration.ofDays(14));
        assertThat(new KeyAgeLimit(Optional.of(Duration.ofDays(28)), CLOCK).warningWindow()).isEqualTo(Duration.ofDays(7));
    }

    @Test
    void undatedKeyIsRefusedWhenALimitIsSet() {
        assertThat(NINETY_DAYS.judge(new KeyDate.Unknown("tag sallyport:ssh-key has no date=YYYY-MM-DD in its comment")))
                .isEqualTo(new KeyAgeLimit.Verdict.Refused("max_key_age: the key's date is unknown (tag sallyport:ssh-key"
                        + " has no date=YYYY-MM-DD in its comment); identity.max_key_age 90d refuses a key it cannot date", false));
    }

    @Test
    void farFutureDateCannotMakeAKeyForeverYoung() {
        assertThat(NINETY_DAYS.judge(day("2099-01-01"))).isInstanceOfSatisfying(KeyAgeLimit.Verdict.Refused.class,
                r -> assertThat(r.reason()).endsWith("is in the future"));
        // tomorrow, UTC, is an operator ahead of UTC writing today
        assertThat(NINETY_DAYS.judge(day("2026-12-03"))).isInstanceOf(KeyAgeLimit.Verdict.Fresh.class);
    }

    // ---- at the door ---------------------------------------------------------------------------

    /** A source that accepts alice's key and dates it {@code date}. */
    private static IdentitySource dated(SshPublicKey key, KeyDate date) {
        return new IdentitySource() {
            @Override
            public AuthDecision authenticate(String user, SshPublicKey k) {
                return user.equals("alice") && k.equals(key)
                        ? new AuthDecision.Accept(new Identity("alice", List.of("admin"), "iam", Optional.empty()))
                        : new AuthDecision.UnknownUser();
            }

            @Override
            public KeyDate keyDate(Identity who, SshPublicKey k) {
                return date;
            }
        };
    }

    private static Logins logins(IdentitySource source) {
        KeyPolicy policy = new KeyPolicy(2048);
        return new Logins(policy, List.of(source), CertificateVerifier.none(policy), () -> RevocationList.EMPTY, NINETY_DAYS);
    }

    @Test
    void loginWithAKeyPastMaxKeyAgeIsRefusedAndSoIsItsLiveRecheck() {
        SshPublicKey key = TestKeys.ed25519().parsed();
        Logins logins = logins(dated(key, new KeyDate.Known(Instant.parse("2026-01-05T10:00:00Z"), "IAM UploadDate of APKAX")));

        assertThat(logins.authenticate("alice", key)).isInstanceOfSatisfying(AuthDecision.Reject.class,
                r -> assertThat(r.reason()).startsWith("max_key_age: key dated 2026-01-05 (IAM UploadDate of APKAX) is 331d old"));
        assertThat(logins.recheck(new Identity("alice", List.of("admin"), "iam", Optional.empty()), key))
                .isInstanceOf(AuthDecision.Reject.class);
    }

    @Test
    void loginWithAKeyNearMaxKeyAgeCarriesTheWarning() {
        SshPublicKey key = TestKeys.ed25519().parsed();
        Logins logins = logins(dated(key, day("2026-09-05")));

        assertThat(logins.authenticate("alice", key)).isInstanceOfSatisfying(AuthDecision.Accept.class,
                a -> assertThat(a.keyAgeWarning()).hasValueSatisfying(w -> assertThat(w).contains("refused from 2026-12-04")));
    }

    @Test
    void otherUsersRefusalIsNotRewordedByTheKeyAge() {
        SshPublicKey key = TestKeys.ed25519().parsed();
        Logins logins = logins(dated(key, day("2020-01-01")));

        assertThat(logins.authenticate("bob", key)).isEqualTo(new AuthDecision.Reject("unknown user"));
    }

    // ---- identity.local ------------------------------------------------------------------------

    private static Config localConfig(String keyComment) throws Exception {
        String yaml = """
                identity:
                  max_key_age: 90d
                  local:
                    users:
                      alice:
                        roles: []
                        keys: ["%s"]
                """.formatted(keyLine(keyComment));
        return ConfigLoader.parse(yaml, Path.of("test.yaml"));
    }

    @Test
    void undatedLocalKeyIsAConfigErrorWhenMaxKeyAgeIsSet() throws Exception {
        List<ConfigProblem> problems = new ArrayList<>();
        LocalIdentities.from(localConfig("alice@laptop"), problems, CLOCK);

        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.isError()).isTrue();
            assertThat(p.line()).isEqualTo(7);
            assertThat(p.message()).contains("has no date=YYYY-MM-DD in its comment");
        });
    }

    @Test
    void localKeyPastMaxKeyAgeIsAWarningAndRefusedAtLogin() throws Exception {
        List<ConfigProblem> problems = new ArrayList<>();
        LocalIdentities local = LocalIdentities.from(localConfig("alice@laptop date=2026-01-01"), problems, CLOCK);

        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.isError()).isFalse();
            assertThat(p.message()).endsWith("(refused at login)");
        });
        KeyPolicy policy = new KeyPolicy(2048);
        Logins logins = new Logins(policy, List.of(local), CertificateVerifier.none(policy), () -> RevocationList.EMPTY, NINETY_DAYS);
        assertThat(logins.authenticate("alice", TestKeys.ed25519().parsed())).isInstanceOf(AuthDecision.Reject.class);
    }

    @Test
    void datedLocalKeyLogsIn() throws Exception {
        List<ConfigProblem> problems = new ArrayList<>();
        LocalIdentities local = LocalIdentities.from(localConfig("alice@laptop date=2026-11-01"), problems, CLOCK);

        assertThat(problems).isEmpty();
        KeyPolicy policy = new KeyPolicy(2048);
        Logins logins = new Logins(policy, List.of(local), CertificateVerifier.none(policy), () -> RevocationList.EMPTY, NINETY_DAYS);
        assertThat(logins.authenticate("alice", TestKeys.ed25519().parsed())).isEqualTo(
                new AuthDecision.Accept(new Identity("alice", List.of(), "local", Optional.empty())));
    }
}
