package io.sallyport.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RefusalDigestTest {
    private final FakeTicker ticker = new FakeTicker();
    private final RefusalDigest digest = new RefusalDigest(3, RefusalDigest.WINDOW, ticker);

    @Test
    void firstRefusalFromASourceIsAuditedAtOnce() {
        assertThat(digest.refused("198.51.100.7", "198.51.100.7", 40000))
                .contains(new RefusalDigest.Line("198.51.100.7", "198.51.100.7", 40000, 1));
    }

    @Test
    void twentyRefusalsInAMinuteAreOneLineThenOneSummary() {
        List<RefusalDigest.Line> lines = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            digest.refused("198.51.100.7", "198.51.100.7", 40000 + i).ifPresent(lines::add);
            ticker.advance(Duration.ofSeconds(2));
            lines.addAll(digest.sweep());
        }
        assertThat(lines).hasSize(1);

        ticker.advance(Duration.ofSeconds(21));
        lines.addAll(digest.sweep());

        assertThat(lines).hasSize(2);
        assertThat(lines.get(1)).isEqualTo(new RefusalDigest.Line("198.51.100.7", "198.51.100.7", 40019, 19));
        assertThat(lines.stream().mapToLong(RefusalDigest.Line::count).sum()).isEqualTo(20);
    }

    @Test
    void aSteadyScanGivesAtMostOneLinePerMinute() {
        List<RefusalDigest.Line> lines = new ArrayList<>();
        // one refusal a second for ten minutes
        for (int i = 0; i < 600; i++) {
            digest.refused("198.51.100.7", "198.51.100.7", 1).ifPresent(lines::add);
            lines.addAll(digest.sweep());
            ticker.advance(Duration.ofSeconds(1));
        }
        lines.addAll(digest.flush());

        assertThat(lines).hasSizeLessThanOrEqualTo(11);
        assertThat(lines.stream().mapToLong(RefusalDigest.Line::count).sum()).isEqualTo(600);
    }

    @Test
    void aQuietSourceIsForgottenWhenItsWindowEnds() {
        digest.refused("198.51.100.7", "198.51.100.7", 1);
        ticker.advance(Duration.ofSeconds(61));

        assertThat(digest.sweep()).isEmpty();
        assertThat(digest.tracked()).isZero();
        assertThat(digest.refused("198.51.100.7", "198.51.100.7", 2)).map(RefusalDigest.Line::count).contains(1L);
    }

    @Test
    void aRefusalAfterTheWindowCarriesTheCountNotYetReported() {
        digest.refused("198.51.100.7", "198.51.100.7", 1);
        digest.refused("198.51.100.7", "198.51.100.7", 2);
        digest.refused("198.51.100.7", "198.51.100.7", 3);
        ticker.advance(Duration.ofSeconds(60));

        // no sweep ran in between: the next refusal's line carries the two counted ones
        assertThat(digest.refused("198.51.100.7", "198.51.100.7", 4)).map(RefusalDigest.Line::count).contains(3L);
    }

    @Test
    void scanFromManyAddressesIsBoundedByTheTrackedSources() {
        List<RefusalDigest.Line> lines = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            digest.refused("203.0.113." + (i % 250) + "/" + i, "203.0.113." + (i % 250), i).ifPresent(lines::add);
        }

        // three sources tracked, the rest counted together under "*"
        assertThat(digest.tracked()).isEqualTo(4);
        assertThat(lines).hasSize(4);
        assertThat(lines.get(3).source()).isEqualTo(RefusalDigest.OTHER_SOURCES);
        lines.addAll(digest.flush());
        assertThat(lines.stream().mapToLong(RefusalDigest.Line::count).sum()).isEqualTo(1000);
    }

    @Test
    void aLineThatCouldNotBeAuditedIsReportedWithTheNext() {
        Optional<RefusalDigest.Line> first = digest.refused("198.51.100.7", "198.51.100.7", 1);
        digest.unreported(first.orElseThrow());
        ticker.advance(Duration.ofSeconds(60));

        assertThat(digest.sweep()).containsExactly(new RefusalDigest.Line("198.51.100.7", "198.51.100.7", 1, 1));
    }

    @Test
    void flushReportsEveryPendingCountAndForgetsAll() {
        digest.refused("a", "198.51.100.7", 1);
        digest.refused("a", "198.51.100.7", 2);
        digest.refused("b", "198.51.100.8", 3);

        assertThat(digest.flush()).containsExactly(new RefusalDigest.Line("a", "198.51.100.7", 2, 1));
        assertThat(digest.tracked()).isZero();
    }
}
