package io.sallyport.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SourcePenaltiesTest {
    private static final Source ATTACKER = new Source("198.51.100.9", false);
    private static final Source OTHER = new Source("198.51.100.10", false);
    private static final Source OFFICE = new Source("203.0.113.1", true);

    private final FakeTicker ticker = new FakeTicker();
    private final SourcePenalties penalties = new SourcePenalties(3, Duration.ofSeconds(30), Duration.ofSeconds(10), 100, ticker);

    @Test
    void failuresBelowTheLimitRefuseNothing() {
        assertThat(penalties.authFailure(ATTACKER)).isEmpty();
        assertThat(penalties.authFailure(ATTACKER)).isEmpty();

        assertThat(penalties.inForce(ATTACKER)).isEmpty();
    }

    @Test
    void theFailureThatReachesTheLimitStartsThePenaltyAtOnce() {
        penalties.authFailure(ATTACKER);
        penalties.authFailure(ATTACKER);
        Optional<SourcePenalties.Penalty> started = penalties.authFailure(ATTACKER);

        assertThat(started).isPresent();
        assertThat(started.get().reason().wireName()).isEqualTo("auth_penalty");
        assertThat(started.get().remaining()).isEqualTo(Duration.ofSeconds(30));
        assertThat(penalties.inForce(ATTACKER)).isPresent();
        assertThat(penalties.inForce(OTHER)).isEmpty();
    }

    @Test
    void authPenaltyEndsAfterItsDurationAndIsNotLengthenedByWhatItRefuses() {
        for (int i = 0; i < 3; i++) {
            penalties.authFailure(ATTACKER);
        }
        ticker.advance(Duration.ofSeconds(20));
        assertThat(penalties.authFailure(ATTACKER)).isEmpty();
        assertThat(penalties.inForce(ATTACKER).orElseThrow().remaining()).isEqualTo(Duration.ofSeconds(10));

        ticker.advance(Duration.ofSeconds(10));
        assertThat(penalties.inForce(ATTACKER)).isEmpty();
    }

    @Test
    void failuresOutsideTheWindowAreForgotten() {
        penalties.authFailure(ATTACKER);
        penalties.authFailure(ATTACKER);
        ticker.advance(Duration.ofSeconds(31));

        assertThat(penalties.authFailure(ATTACKER)).isEmpty();
        assertThat(penalties.authFailure(ATTACKER)).isEmpty();
        assertThat(penalties.authFailure(ATTACKER)).isPresent();
    }

    // A login used to forgive the whole record; it now forgives the noauth debt only.
    @Test
    void aLoginForgivesTheNoauthDebt() {
        for (int i = 0; i < SourcePenalties.NOAUTH_FREE; i++) {
            penalties.noauthEnd(ATTACKER);
        }
        penalties.loggedIn(ATTACKER);

        assertThat(penalties.noauthEnd(ATTACKER)).isEmpty();
        assertThat(penalties.tracked()).isEqualTo(1);
    }

    @Test
    void alternatingWrongKeysWithAGoodLoginBuysNoExtraGuesses() {
        penalties.authFailure(ATTACKER);
        penalties.authFailure(ATTACKER);
        penalties.loggedIn(ATTACKER);

        assertThat(penalties.authFailure(ATTACKER)).isPresent();
        penalties.loggedIn(ATTACKER);
        assertThat(penalties.inForce(ATTACKER)).isPresent();
    }

    @Test
    void engineerWhoseSshStoppedAtHostKeyVerificationAndRetriedIsNotRefused() {
        for (int i = 0; i < 10; i++) {
            assertThat(penalties.noauthEnd(ATTACKER)).as("connection %d", i).isEmpty();
            ticker.advance(Duration.ofMillis(500));
        }

        assertThat(penalties.inForce(ATTACKER)).isEmpty();
    }

    @Test
    void theEleventhConnectionWithoutAKeyInQuickSuccessionCostsOneNoauthPenalty() {
        for (int i = 0; i < 10; i++) {
            penalties.noauthEnd(ATTACKER);
        }
        Optional<SourcePenalties.Penalty> started = penalties.noauthEnd(ATTACKER);

        assertThat(started.orElseThrow().reason().wireName()).isEqualTo("noauth_penalty");
        assertThat(started.get().remaining()).isEqualTo(Duration.ofSeconds(10));
        ticker.advance(Duration.ofSeconds(10));
        assertThat(penalties.inForce(ATTACKER)).isEmpty();
    }

    @Test
    void oneConnectionWithoutAKeyPerNoauthPenaltyNeverAddsUp() {
        for (int i = 0; i < 20; i++) {
            assertThat(penalties.noauthEnd(ATTACKER)).as("connection %d", i).isEmpty();
            ticker.advance(Duration.ofSeconds(10));
        }
    }

    @Test
    void aFloodThatLetsItsConnectionsRunOutIsRefusedLongerUpToTheCap() {
        // Ten slots run out at the login grace time, twice.
        for (int i = 0; i < 20; i++) {
            penalties.noauthEnd(ATTACKER);
        }
        assertThat(penalties.inForce(ATTACKER).orElseThrow().remaining()).isEqualTo(Duration.ofSeconds(100));

        for (int i = 0; i < 1000; i++) {
            penalties.noauthEnd(ATTACKER);
        }
        assertThat(penalties.inForce(ATTACKER).orElseThrow().remaining()).isEqualTo(Duration.ofMinutes(10));
        ticker.advance(Duration.ofMinutes(10));
        assertThat(penalties.inForce(ATTACKER)).isEmpty();
    }

    @Test
    void exemptSourcesAreNeverPenalised() {
        for (int i = 0; i < 10; i++) {
            assertThat(penalties.authFailure(OFFICE)).isEmpty();
            assertThat(penalties.noauthEnd(OFFICE)).isEmpty();
        }
        assertThat(penalties.inForce(OFFICE)).isEmpty();
        assertThat(penalties.tracked()).isZero();
    }

    @Test
    void theTableIsBoundedAndForgetsTheSourceSeenLeastRecently() {
        SourcePenalties small = new SourcePenalties(2, Duration.ofSeconds(30), Duration.ofSeconds(10), 3, ticker);
        small.authFailure(ATTACKER);
        small.authFailure(ATTACKER);
        for (int i = 0; i < 1000; i++) {
            small.authFailure(new Source("2001:db8:" + Integer.toHexString(i) + "::/64", false));
            // The attacker keeps connecting, so it is looked up and stays.
            assertThat(small.inForce(ATTACKER)).isPresent();
        }

        assertThat(small.tracked()).isEqualTo(3);
        assertThat(small.forgotten()).isEqualTo(998);
        assertThat(small.inForce(ATTACKER)).isPresent();
    }

    @Test
    void sweepForgetsWhatHasRunOut() {
        penalties.authFailure(ATTACKER);
        penalties.noauthEnd(OTHER);
        ticker.advance(Duration.ofSeconds(9));
        penalties.sweep();
        assertThat(penalties.tracked()).isEqualTo(2);

        ticker.advance(Duration.ofSeconds(22));
        penalties.sweep();
        assertThat(penalties.tracked()).isZero();
    }

    @Test
    void anAbsurdlyLongPenaltyDoesNotOverflowIntoThePast() {
        SourcePenalties forever = new SourcePenalties(1, Duration.ofDays(999_999_999L), Duration.ofDays(999_999_999L), 10, ticker);

        assertThat(forever.authFailure(ATTACKER)).isPresent();
        for (int i = 0; i < 100; i++) {
            forever.noauthEnd(OTHER);
        }
        ticker.advance(Duration.ofDays(300));
        assertThat(forever.inForce(ATTACKER)).isPresent();
        assertThat(forever.inForce(OTHER).orElseThrow().reason().wireName()).isEqualTo("noauth_penalty");
    }

    @Test
    void clientMessageSaysWhenToComeBack() {
        for (int i = 0; i < 10; i++) {
            penalties.noauthEnd(ATTACKER);
        }

        assertThat(penalties.noauthEnd(ATTACKER).orElseThrow().clientMessage())
                .isEqualTo("too many connections from your address ended without a login attempt; try again in 10s");
    }

    @Test
    void aPenaltyInForceKeepsItsEndTimeWhenThePenaltiesAreRetuned() {
        for (int i = 0; i < 3; i++) {
            penalties.authFailure(ATTACKER);
        }
        for (int i = 0; i < 20; i++) {
            penalties.noauthEnd(OTHER);
        }

        penalties.retune(3, Duration.ofSeconds(5), Duration.ofSeconds(1));
        assertThat(penalties.inForce(ATTACKER).orElseThrow().remaining()).isEqualTo(Duration.ofSeconds(30));
        assertThat(penalties.inForce(OTHER).orElseThrow().remaining()).isEqualTo(Duration.ofSeconds(100));
        penalties.retune(3, Duration.ofMinutes(5), Duration.ofMinutes(1));
        assertThat(penalties.inForce(ATTACKER).orElseThrow().remaining()).isEqualTo(Duration.ofSeconds(30));
        assertThat(penalties.inForce(OTHER).orElseThrow().remaining()).isEqualTo(Duration.ofSeconds(100));

        ticker.advance(Duration.ofSeconds(100));
        assertThat(penalties.inForce(ATTACKER)).isEmpty();
        assertThat(penalties.inForce(OTHER)).isEmpty();
    }

    @Test
    void loweringMaxAuthFailuresLetsTheNextFailureStartTheNewPenalty() {
        penalties.authFailure(ATTACKER);
        penalties.authFailure(ATTACKER);

        penalties.retune(2, Duration.ofMinutes(1), Duration.ofSeconds(10));

        assertThat(penalties.inForce(ATTACKER)).as("a retune starts no penalty by itself").isEmpty();
        assertThat(penalties.authFailure(ATTACKER).orElseThrow().remaining()).isEqualTo(Duration.ofMinutes(1));
    }

    @Test
    void raisingMaxAuthFailuresGivesASourceTheNewNumberOfGuesses() {
        penalties.authFailure(ATTACKER);
        penalties.authFailure(ATTACKER);

        penalties.retune(5, Duration.ofSeconds(30), Duration.ofSeconds(10));

        assertThat(penalties.authFailure(ATTACKER)).isEmpty();
        assertThat(penalties.authFailure(ATTACKER)).isEmpty();
        assertThat(penalties.authFailure(ATTACKER)).isPresent();
    }

    @Test
    void connectionsWithoutAKeyAlreadyCountedKeepTheirNumberAtTheNewNoauthPenalty() {
        for (int i = 0; i < 5; i++) {
            penalties.noauthEnd(ATTACKER);
        }

        penalties.retune(3, Duration.ofSeconds(30), Duration.ofSeconds(1));

        // Five of the ten free ones are used, and drain now at one a second.
        for (int i = 0; i < 5; i++) {
            assertThat(penalties.noauthEnd(ATTACKER)).as("connection %d", 5 + i).isEmpty();
        }
        assertThat(penalties.noauthEnd(ATTACKER).orElseThrow().remaining()).isEqualTo(Duration.ofSeconds(1));
        ticker.advance(Duration.ofSeconds(11));
        assertThat(penalties.inForce(ATTACKER)).isEmpty();
        assertThat(penalties.noauthEnd(ATTACKER)).isEmpty();
    }

    @Test
    void aShorterNoauthPenaltyDoesNotLetTheNextConnectionShortenARefusalInForce() {
        for (int i = 0; i < 20; i++) {
            penalties.noauthEnd(ATTACKER);
        }

        penalties.retune(3, Duration.ofSeconds(30), Duration.ofSeconds(1));
        penalties.noauthEnd(ATTACKER);

        // 100 s were in force; the new cap of 60 noauth penalties is 60 s.
        assertThat(penalties.inForce(ATTACKER).orElseThrow().remaining()).isEqualTo(Duration.ofSeconds(100));
    }
}
