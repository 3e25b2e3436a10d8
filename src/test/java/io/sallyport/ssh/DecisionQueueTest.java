package io.sallyport.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DecisionQueueTest {
    private final CountDownLatch release = new CountDownLatch(1);
    private DecisionQueue queue;

    @AfterEach
    void stop() {
        release.countDown();
        if (queue != null) {
            queue.close();
        }
    }

    /** A decision stuck in a slow lookup until the test ends. */
    private Runnable stuck() {
        return () -> {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
    }

    private static void eventually(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within 5 s").isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    @Test
    void sessionFloodingSlowDecisionsDoesNotDelayAnotherSessionsDecision() throws Exception {
        queue = new DecisionQueue(4, 2, 8, "test-decide");
        for (int i = 0; i < 50; i++) {
            assertThat(queue.submit("flood", "mallory", stuck())).isTrue();
        }
        // Mallory's two threads first: waiting for "two running" after alice's decision could see
        // one of mallory's and alice's, before mallory's second had started.
        eventually(() -> queue.running() == 2);
        assertThat(queue.queued("flood")).as("mallory holds two threads; the rest of his requests wait").isEqualTo(48);
        CountDownLatch other = new CountDownLatch(1);

        queue.submit("honest", "alice", other::countDown);

        assertThat(other.await(2, TimeUnit.SECONDS)).as("alice's decision ran while mallory's were stuck").isTrue();
        eventually(() -> queue.running() == 2);
        assertThat(queue.queued("flood")).as("still two of mallory's running, the rest waiting").isEqualTo(48);
    }

    @Test
    void sessionsWithQueuedDecisionsAreServedInTurn() throws Exception {
        queue = new DecisionQueue(1, 1, 1, "test-decide");
        CountDownLatch gate = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        queue.submit("x", "x", () -> {
            started.countDown();
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
        List<String> order = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch all = new CountDownLatch(6);
        for (String name : List.of("a1", "a2", "a3", "b1", "c1", "c2")) {
            String session = name.substring(0, 1);
            queue.submit(session, "user-" + session, () -> {
                order.add(name);
                all.countDown();
            });
        }

        gate.countDown();

        assertThat(all.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(order).containsExactly("a1", "b1", "c1", "a2", "c2", "a3");
    }

    @Test
    void oneUsersSessionsTogetherHoldNoMoreThanThePerUserCap() throws Exception {
        queue = new DecisionQueue(8, 2, 3, "test-decide");
        for (String session : List.of("m1", "m2", "m3")) {
            for (int i = 0; i < 3; i++) {
                queue.submit(session, "mallory", stuck());
            }
        }
        CountDownLatch other = new CountDownLatch(1);

        queue.submit("a", "alice", other::countDown);

        assertThat(other.await(2, TimeUnit.SECONDS)).isTrue();
        eventually(() -> queue.running() == 3);
        Thread.sleep(100);
        assertThat(queue.running()).as("mallory's three sessions share his cap of 3").isEqualTo(3);
        assertThat(queue.queued("m1") + queue.queued("m2") + queue.queued("m3")).isEqualTo(6);
    }

    @Test
    void threadsThatMayBeStuckInTheResolverAreBounded() throws Exception {
        queue = new DecisionQueue(4, 2, 2, "test-decide");
        for (int i = 0; i < 20; i++) {
            queue.submit("s" + i, "u" + i, stuck());
        }

        eventually(() -> queue.running() == 4);
        Thread.sleep(100);
        assertThat(queue.threads()).isEqualTo(4);
        assertThat(queue.running()).isEqualTo(4);
    }

    @Test
    void decisionThatThrowsDoesNotStopTheQueue() throws Exception {
        queue = new DecisionQueue(1, 1, 1, "test-decide");
        queue.submit("a", "alice", () -> {
            throw new IllegalStateException("boom");
        });
        CountDownLatch next = new CountDownLatch(1);

        queue.submit("a", "alice", next::countDown);

        assertThat(next.await(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void closedQueueRefusesWorkAndEndsItsThreads() throws Exception {
        queue = new DecisionQueue(2, 1, 1, "test-decide");
        queue.submit("a", "alice", stuck());
        eventually(() -> queue.running() == 1);

        queue.close();

        assertThat(queue.submit("b", "bob", () -> { })).isFalse();
        eventually(() -> queue.threads() == 0);
    }

    @Test
    void deadlineRunsUnlessCancelled() throws Exception {
        queue = new DecisionQueue(1, 1, 1, "test-decide");
        CountDownLatch fired = new CountDownLatch(1);
        CountDownLatch cancelled = new CountDownLatch(1);

        queue.after(Duration.ofMillis(50), fired::countDown);
        queue.after(Duration.ofMillis(50), cancelled::countDown).cancel(false);

        assertThat(fired.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(cancelled.await(200, TimeUnit.MILLISECONDS)).isFalse();
    }
}
