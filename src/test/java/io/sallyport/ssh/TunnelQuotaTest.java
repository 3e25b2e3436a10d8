package io.sallyport.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TunnelQuotaTest {

    private static TunnelQuota.Ticket granted(TunnelQuota.Admission a) {
        assertThat(a).isInstanceOf(TunnelQuota.Admission.Granted.class);
        return ((TunnelQuota.Admission.Granted) a).ticket();
    }

    private static String refused(TunnelQuota.Admission a) {
        assertThat(a).isInstanceOf(TunnelQuota.Admission.Refused.class);
        return ((TunnelQuota.Admission.Refused) a).reason();
    }

    @Test
    void tunnelBeyondMaxTunnelsPerSessionIsRefusedWithTheQuotaNamed() {
        TunnelQuota quota = new TunnelQuota(3, 100);
        AtomicInteger session = new AtomicInteger();
        for (int i = 0; i < 3; i++) {
            granted(quota.admit(session, "alice"));
        }

        assertThat(refused(quota.admit(session, "alice")))
                .isEqualTo("max_tunnels_per_session: 3 tunnels open on this connection");
        assertThat(session.get()).isEqualTo(3);
        assertThat(quota.heldBy("alice")).isEqualTo(3);
    }

    @Test
    void tunnelBeyondMaxTunnelsPerUserIsRefusedAcrossTheirSessions() {
        TunnelQuota quota = new TunnelQuota(10, 4);
        AtomicInteger first = new AtomicInteger();
        AtomicInteger second = new AtomicInteger();
        granted(quota.admit(first, "alice"));
        granted(quota.admit(first, "alice"));
        granted(quota.admit(second, "alice"));
        granted(quota.admit(second, "alice"));

        assertThat(refused(quota.admit(second, "alice"))).isEqualTo("max_tunnels_per_user: alice has 4 tunnels open");
        // The refused request took no session slot either.
        assertThat(second.get()).isEqualTo(2);
        // Another user is not affected.
        granted(quota.admit(new AtomicInteger(), "bob"));
    }

    @Test
    void releasingATicketTwiceGivesBackOneSlot() {
        TunnelQuota quota = new TunnelQuota(2, 2);
        AtomicInteger session = new AtomicInteger();
        TunnelQuota.Ticket a = granted(quota.admit(session, "alice"));
        granted(quota.admit(session, "alice"));

        a.release();
        a.release(); // MINA reports some channels closed twice

        assertThat(session.get()).isEqualTo(1);
        assertThat(quota.heldBy("alice")).isEqualTo(1);
        granted(quota.admit(session, "alice"));
        refused(quota.admit(session, "alice"));
    }

    @Test
    void userWithNoTunnelsLeftLeavesNoEntry() {
        TunnelQuota quota = new TunnelQuota(5, 5);
        TunnelQuota.Ticket t = granted(quota.admit(new AtomicInteger(), "alice"));
        t.release();
        assertThat(quota.users()).isZero();
    }

    @Test
    void concurrentRequestsNeverExceedEitherQuota() throws Exception {
        TunnelQuota quota = new TunnelQuota(50, 120);
        List<AtomicInteger> sessions = List.of(new AtomicInteger(), new AtomicInteger(), new AtomicInteger(), new AtomicInteger());
        List<TunnelQuota.Ticket> tickets = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            AtomicInteger session = sessions.get(i % sessions.size());
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int n = 0; n < 100; n++) {
                    if (quota.admit(session, "alice") instanceof TunnelQuota.Admission.Granted g) {
                        tickets.add(g.ticket());
                    }
                }
            });
            t.start();
            threads.add(t);
        }
        go.countDown();
        for (Thread t : threads) {
            t.join(10_000);
        }

        assertThat(tickets).hasSize(120);
        assertThat(sessions).allSatisfy(s -> assertThat(s.get()).isLessThanOrEqualTo(50));
        assertThat(sessions.stream().mapToInt(AtomicInteger::get).sum()).isEqualTo(120);
        tickets.forEach(TunnelQuota.Ticket::release);
        assertThat(quota.heldBy("alice")).isZero();
        assertThat(sessions).allSatisfy(s -> assertThat(s.get()).isZero());
    }

    @Test
    void shrinkingThePerSessionLimitKeepsOpenTunnelsAndRefusesTheNextUntilBelowIt() {
        TunnelQuota quota = new TunnelQuota(5, 100);
        AtomicInteger session = new AtomicInteger();
        List<TunnelQuota.Ticket> open = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            open.add(granted(quota.admit(session, "alice")));
        }

        quota.resize(2, 100);

        assertThat(session.get()).isEqualTo(4);
        assertThat(refused(quota.admit(session, "alice"))).isEqualTo("max_tunnels_per_session: 4 tunnels open on this connection");
        open.get(0).release();
        open.get(1).release();
        assertThat(refused(quota.admit(session, "alice"))).isEqualTo("max_tunnels_per_session: 2 tunnels open on this connection");
        open.get(2).release();
        granted(quota.admit(session, "alice"));
        assertThat(session.get()).isEqualTo(2);
    }

    @Test
    void shrinkingThePerUserLimitKeepsTheirTunnelsAndRefusesTheNextUntilBelowIt() {
        TunnelQuota quota = new TunnelQuota(10, 10);
        AtomicInteger first = new AtomicInteger();
        AtomicInteger second = new AtomicInteger();
        TunnelQuota.Ticket a = granted(quota.admit(first, "alice"));
        granted(quota.admit(first, "alice"));
        granted(quota.admit(second, "alice"));

        quota.resize(10, 2);

        assertThat(quota.heldBy("alice")).isEqualTo(3);
        assertThat(refused(quota.admit(second, "alice"))).isEqualTo("max_tunnels_per_user: alice has 3 tunnels open");
        assertThat(second.get()).isEqualTo(1);
        granted(quota.admit(new AtomicInteger(), "bob"));
        a.release();
        assertThat(refused(quota.admit(second, "alice"))).isEqualTo("max_tunnels_per_user: alice has 2 tunnels open");
    }

    @Test
    void raisingThePerUserLimitLetsTheNextTunnelIn() {
        TunnelQuota quota = new TunnelQuota(10, 2);
        AtomicInteger session = new AtomicInteger();
        granted(quota.admit(session, "alice"));
        granted(quota.admit(session, "alice"));
        refused(quota.admit(session, "alice"));

        quota.resize(10, 3);

        granted(quota.admit(session, "alice"));
        assertThat(refused(quota.admit(session, "alice"))).isEqualTo("max_tunnels_per_user: alice has 3 tunnels open");
    }

    @Test
    void raisingThePerSessionLimitLetsTheNextTunnelIn() {
        TunnelQuota quota = new TunnelQuota(1, 10);
        AtomicInteger session = new AtomicInteger();
        granted(quota.admit(session, "alice"));
        refused(quota.admit(session, "alice"));

        quota.resize(2, 10);

        granted(quota.admit(session, "alice"));
        assertThat(session.get()).isEqualTo(2);
    }
}
