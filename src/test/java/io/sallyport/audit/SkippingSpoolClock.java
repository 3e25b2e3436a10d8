package io.sallyport.audit;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** Real time, except that sleeps take (almost) none: the clock jumps ahead by the sleep instead. */
final class SkippingSpoolClock implements SpoolClock {
    private final AtomicLong skipped = new AtomicLong();

    @Override
    public long nanoTime() {
        return System.nanoTime() + skipped.get();
    }

    @Override
    public void sleep(Duration d) throws InterruptedException {
        skipped.addAndGet(d.toNanos());
        Thread.sleep(2); // a retry loop still yields the CPU
    }
}
