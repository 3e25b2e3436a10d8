package io.sallyport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HangUpTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void sighupWhileTheServerStartsIsAppliedOnceItIsUp() throws Exception {
        HangUp hangUp = new HangUp();
        hangUp.received(); // the operator edited the file after the server read it, and reloaded
        hangUp.received();
        AtomicInteger reloads = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);

        hangUp.reloadWith(() -> {
            reloads.incrementAndGet();
            done.countDown();
        });

        assertThat(done.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        Thread.sleep(200);
        assertThat(reloads.get()).isEqualTo(1);
    }

    @Test
    void aBurstOfSighupsDuringAReloadIsOneMoreReload() throws Exception {
        HangUp hangUp = new HangUp();
        AtomicInteger reloads = new AtomicInteger();
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch second = new CountDownLatch(2);
        hangUp.reloadWith(() -> {
            reloads.incrementAndGet();
            running.countDown();
            second.countDown();
            try {
                release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });

        hangUp.received();
        assertThat(running.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        for (int i = 0; i < 10; i++) {
            hangUp.received();
        }
        release.countDown();

        assertThat(second.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        Thread.sleep(200);
        assertThat(reloads.get()).isEqualTo(2);
    }
}
