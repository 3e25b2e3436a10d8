package io.sallyport.audit;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Real time, except that sleeps take (almost) none: the clock jumps ahead by the sleep instead. */
final class SkippingSpoolClock implements SpoolClock {
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicInteger sleeps = new AtomicInteger();
    private final AtomicBoolean interruptNext = new AtomicBoolean();

    @Override
    public long nanoTime() {
        return System.nanoTime() + skipped.get();
    }

    @Override
    public void sleep(Duration d) throws InterruptedException {
        sleeps.incrementAndGet();
        if (interruptNext.getAndSet(false)) {
            throw new InterruptedException("sleep interrupted"); // as Thread.sleep: the flag is cleared
        }
        skipped.addAndGet(d.toNanos());
        Thread.sleep(2); // a retry loop still yields the CPU
    }

    /** The next sleep ends at once with an {@link InterruptedException}, as an interrupted thread's would. */
    void interruptNextSleep() {
        interruptNext.set(true);
    }

    /** Sleeps begun so far. */
    int sleeps() {
        return sleeps.get();
    }

    /** Time skipped by sleeps so far. */
    Duration skipped() {
        return Duration.ofNanos(skipped.get());
    }
}
