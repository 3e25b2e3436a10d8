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
        assertThat(w.admit()).hasValueSatisfying(r -> assertThat(r).contains("6 logins and tunnels admitted since"));
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
    void refusalsStopWithoutACollectionOnceEvenTheHeapInUseIsBelowTheMark() {
        HeapWatch w = watch();
        w.measured(90 * MIB);
        inUseNow.set(60 * MIB);
        assertThat(w.admit()).as("re-read at most once a second").isPresent();

        clock.addAndGet(1_000_000_000L);

        assertThat(w.admit()).isEmpty();
    }

    @Test
    void thisJvmsWatchStartsBelowAnyReasonableMark() {
        try (HeapWatch w = HeapWatch.ofThisJvm(99)) {
            assertThat(w.admit()).isEmpty();
        }
    }
}
