package io.sallyport.admission;

import java.time.Duration;
import java.util.function.LongSupplier;

/** A ticker the test moves by hand; starts near the wrap-around of {@code long}, as nanoTime may. */
final class FakeTicker implements LongSupplier {
    private long now = Long.MAX_VALUE - Duration.ofSeconds(5).toNanos();

    @Override
    public long getAsLong() {
        return now;
    }

    void advance(Duration d) {
        now += d.toNanos();
    }
}
