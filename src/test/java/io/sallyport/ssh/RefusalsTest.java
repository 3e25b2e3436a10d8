package io.sallyport.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RefusalsTest {

    @Test
    void floodOfRefusalsWhileTheAuditIsStuckNeverBlocksTheCallerAndClosesTheRestAtOnce() throws Exception {
        CountDownLatch auditStuck = new CountDownLatch(1);
        CountDownLatch firstStarted = new CountDownLatch(1);
        AtomicInteger ended = new AtomicInteger();
        AtomicInteger closedAtOnce = new AtomicInteger();
        try (Refusals refusals = new Refusals(4)) {
            refusals.submit(() -> {
                firstStarted.countDown();
                await(auditStuck);
                ended.incrementAndGet();
            }, closedAtOnce::incrementAndGet);
            assertThat(firstStarted.await(5, TimeUnit.SECONDS)).isTrue();

            for (int i = 0; i < 100; i++) {
                refusals.submit(() -> {
                    await(auditStuck);
                    ended.incrementAndGet();
                }, closedAtOnce::incrementAndGet);
            }

            // Four wait their turn; the other 96 are closed by the caller, which never waited on the audit.
            assertThat(closedAtOnce.get()).isEqualTo(96);
            assertThat(refusals.summarised()).isEqualTo(96);
            auditStuck.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (ended.get() < 5 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(ended.get()).isEqualTo(5);
        }
    }

    @Test
    void refusalsRunOffTheCallersThread() throws Exception {
        CountDownLatch ran = new CountDownLatch(1);
        String[] where = new String[1];
        try (Refusals refusals = new Refusals(4)) {
            refusals.submit(() -> {
                where[0] = Thread.currentThread().getName();
                ran.countDown();
            }, () -> { });
            assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
        }

        assertThat(where[0]).isEqualTo("sallyport-refusals");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
