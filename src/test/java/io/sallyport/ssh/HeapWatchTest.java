package io.sallyport.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HeapWatchTest {
    private static final long MIB = 1024 * 1024;
    private final AtomicLong inUseNow = new AtomicLong();
    private final AtomicLong clock = new AtomicLong();

    /** 100 MiB heap, high water 85%, 1 MiB reserved per admission. */
    private HeapWatch watch() {
        return new HeapWatch(85, 100 * MIB, MIB, inUseNow::get, clock::get);
    }

    @Test
    void belowHighWaterAdmits() {
        HeapWatch w = watch();
        w.measured(50 * MIB);
        assertThat(w.admit()).isEmpty();
    }

    @Test
    void aboveHighWaterAfterACollectionRefusesWithTheReason() {
        HeapWatch w = watch();
        w.measured(90 * MIB);
        inUseNow.set(95 * MIB);

        assertThat(w.admit()).hasValueSatisfying(r -> assertThat(r)
                .startsWith("memory_high_water: ").contains("90 MiB of the heap's 100 MiB in use").endsWith("(limit 85%)"));
    }

    @Test
    void aBurstBetweenCollectionsIsCountedAgainstTheMark() {
        HeapWatch w = watch();
        w.measured(80 * MIB);
        inUseNow.set(99 * MIB);
        int admitted = 0;
        while (w.admit().isEmpty() && admitted < 100) {
            admitted++;
        }
        // 80 MiB measured + 5 x 1 MiB reserved reaches 85 MiB: the sixth is refused before any collection.
        assertThat(admitted).isEqualTo(6);
        assertThat(w.admit()).hasValueSatisfying(r -> assertThat(r).contains("6 logins and tunnels admitted or being set up since"));
    }

    @Test
    void tunnelsStillBeingSetUpKeepTheirReserveAcrossACollection() {
        HeapWatch w = watch();
        w.measured(70 * MIB);
        for (int i = 0; i < 10; i++) {
            assertThat(w.admitTunnel()).isEmpty();
        }
        // A collection in the middle of their set-up has not seen their buffers yet.
        w.measured(76 * MIB);
        assertThat(w.admitTunnel()).as("76 MiB + 10 tunnels being set up reach 86 MiB").isPresent();

        for (int i = 0; i < 10; i++) {
            w.settled(true);
        }
        // Open now: counted until collections have seen their buffers.
        assertThat(w.admitTunnel()).isPresent();
        w.measured(80 * MIB);
        w.measured(80 * MIB);
        assertThat(w.admitTunnel()).isEmpty();
    }

    @Test
    void garbageDoesNotTripItOnlyWhatACollectionLeaves() {
        HeapWatch w = watch();
        // Heap full of garbage right now, but the last collection left 30 MiB.
        inUseNow.set(99 * MIB);
        w.measured(30 * MIB);
        assertThat(w.admit()).isEmpty();
    }

    @Test
    void refusalsStopWhenTheNextCollectionFindsTheHeapBelowTheMark() {
        HeapWatch w = watch();
        w.measured(90 * MIB);
        inUseNow.set(95 * MIB);
        assertThat(w.admit()).isPresent();

        w.measured(40 * MIB);

        assertThat(w.admit()).isEmpty();
    }

    @Test
    void admissionsJustBeforeAMeasureStayCountedUntilTheNext() {
        HeapWatch w = watch();
        w.measured(70 * MIB);
        for (int i = 0; i < 10; i++) {
            assertThat(w.admit()).isEmpty();
        }
        // Reported after a collection that may have happened before those ten were admitted.
        w.measured(76 * MIB);
        assertThat(w.admit()).as("76 MiB + 10 carried over reach 86 MiB").isPresent();

        w.measured(76 * MIB);
        assertThat(w.admit()).isEmpty();
    }

    @Test
    void refusalsStopWithoutACollectionOnceEvenTheHeapInUseIsBelowTheMark() {
        HeapWatch w = watch();
        w.measured(90 * MIB);
        inUseNow.set(60 * MIB);
        assertThat(w.admit()).as("re-read at most once a second").isPresent();

        clock.addAndGet(1_000_000_000L);

        assertThat(w.admit()).isEmpty();
    }

    @Test
    void refusingAsksForCollectionsUntilTheHeapIsBelowTheMarkAgain() {
        HeapWatch w = watch();
        java.util.List<Boolean> told = new java.util.ArrayList<>();
        w.onRefusing(told::add);
        w.measured(90 * MIB);
        inUseNow.set(95 * MIB);

        w.admit();
        w.admit();
        assertThat(told).containsExactly(true);

        w.measured(40 * MIB);
        assertThat(told).containsExactly(true, false);
    }

    @Test
    void thisJvmsWatchStartsBelowAnyReasonableMark() {
        try (HeapWatch w = HeapWatch.ofThisJvm(99)) {
            assertThat(w.admit()).isEmpty();
        }
    }

    @Test
    void loweringTheHighWaterRefusesTheNextLoginAtTheNewShare() {
        HeapWatch w = watch();
        w.measured(70 * MIB);
        assertThat(w.admitTunnel()).isEmpty();

        w.highWater(60);

        assertThat(w.admit()).hasValueSatisfying(r -> assertThat(r)
                .contains("70 MiB of the heap's 100 MiB in use").endsWith("(limit 60%)"));
        // The tunnel admitted before goes on being set up and settles as usual.
        w.settled(true);
        w.measured(55 * MIB);
        w.measured(55 * MIB);
        assertThat(w.admit()).isEmpty();
    }

    @Test
    void raisingTheHighWaterAboveTheHeapInUseEndsRefusalsAtOnce() {
        HeapWatch w = watch();
        java.util.List<Boolean> told = new java.util.ArrayList<>();
        w.onRefusing(told::add);
        w.measured(90 * MIB);
        inUseNow.set(95 * MIB);
        assertThat(w.admit()).isPresent();

        w.highWater(95);

        assertThat(told).containsExactly(true, false);
        assertThat(w.admit()).isEmpty();
    }

    @Test
    void raisingTheHighWaterNotAboveTheHeapInUseKeepsRefusing() {
        HeapWatch w = watch();
        java.util.List<Boolean> told = new java.util.ArrayList<>();
        w.onRefusing(told::add);
        w.measured(90 * MIB);
        inUseNow.set(95 * MIB);
        assertThat(w.admit()).isPresent();

        w.highWater(89);

        assertThat(told).containsExactly(true);
        assertThat(w.admit()).hasValueSatisfying(r -> assertThat(r).endsWith("(limit 89%)"));
    }
}
