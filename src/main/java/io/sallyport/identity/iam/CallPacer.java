package io.sallyport.identity.iam;

import java.time.Duration;

/**
 * Spreads a refresh's IAM calls out in time (a token bucket): IAM's read quotas are per account,
 * shared with every other tool in it, and cannot be raised, so the bastion must not spend them in
 * a burst. A refresh of 300 allowed users at 10 calls a second takes about 30 seconds.
 */
final class CallPacer {
    private final double perSecond;
    private final double burst;
    private double tokens;
    private long lastNanos;

    private CallPacer(double perSecond, int burst) {
        this.perSecond = perSecond;
        this.burst = burst;
        this.tokens = burst;
        this.lastNanos = System.nanoTime();
    }

    static CallPacer perSecond(double perSecond, int burst) {
        return new CallPacer(perSecond, burst);
    }

    /** No pacing: for tests whose fake IAM has no quota. */
    static CallPacer unlimited() {
        return new CallPacer(Double.POSITIVE_INFINITY, 1);
    }

    /** Waits until one more call fits the rate. */
    synchronized void acquire() throws InterruptedException {
        if (Double.isInfinite(perSecond)) {
            return;
        }
        long now = System.nanoTime();
        tokens = Math.min(burst, tokens + (now - lastNanos) / 1e9 * perSecond);
        lastNanos = now;
        if (tokens < 1) {
            long waitNanos = (long) ((1 - tokens) / perSecond * 1e9);
            Thread.sleep(Duration.ofNanos(waitNanos).toMillis(), (int) (waitNanos % 1_000_000));
            tokens = 1;
            lastNanos = System.nanoTime();
        }
        tokens -= 1;
    }

    @Override
    public String toString() {
        return Double.isInfinite(perSecond) ? "unlimited" : perSecond + " calls/s (burst " + (int) burst + ")";
    }
}
