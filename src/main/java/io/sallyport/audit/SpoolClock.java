package io.sallyport.audit;

import java.time.Duration;

/**
 * The spool's sense of time: how long an event has waited, and the pause between write retries.
 * {@link #SYSTEM} in production; tests pass one whose sleeps take no time.
 */
interface SpoolClock {
    SpoolClock SYSTEM = new SpoolClock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void sleep(Duration d) throws InterruptedException {
            Thread.sleep(d.toMillis());
        }
    };

    /** A monotonic reading, as {@link System#nanoTime()}. */
    long nanoTime();

    void sleep(Duration d) throws InterruptedException;
}
