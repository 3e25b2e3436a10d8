package io.sallyport.ssh;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code limits.max_tunnels_per_session} and {@code limits.max_tunnels_per_user}: how many tunnels
 * one connection, and one user across all their connections on this instance, may hold at once.
 *
 * <p>A tunnel counts from the moment its request arrives (while its decision is pending, and while
 * its connect is under way: each holds memory and maybe a thread or a socket) until it is refused or
 * closed. The {@link Ticket} given at admission is what gives the slot back, exactly once however
 * often it is released: MINA may report a channel closed twice.
 *
 * <p>{@link #resize} applies to requests from then on: tunnels already held are never closed by a
 * shrink; while a session or user holds the new limit or more, its requests are refused until
 * enough of them close.
 *
 * <p>Threat: without a bound, one login opened 2,000 tunnels in 3 s and ran a 64 MiB heap out of
 * memory, and {@code -XX:+ExitOnOutOfMemoryError} then dropped every session of every user.
 * MINA's own {@code MAX_CONCURRENT_CHANNELS} is no substitute: it tears the whole session down.
 */
final class TunnelQuota {
    /** Read once per request by I/O threads; written by {@link #resize}. */
    private volatile int perSession;
    private volatile int perUser;
    /** Tunnels per user; a user with none has no entry, so the map holds only users with tunnels. */
    private final Map<String, Integer> byUser = new ConcurrentHashMap<>();

    TunnelQuota(int perSession, int perUser) {
        checkQuotas(perSession, perUser);
        this.perSession = perSession;
        this.perUser = perUser;
    }

    /**
     * New limits for the requests from now on. Tunnels already held, pending ones included, keep
     * their slots: a shrink closes nothing, it only refuses the next request while the count is at
     * or above the new limit. A request being admitted while the limits change may still be judged
     * by the old ones.
     */
    void resize(int perSession, int perUser) {
        checkQuotas(perSession, perUser);
        this.perSession = perSession;
        this.perUser = perUser;
    }

    private static void checkQuotas(int perSession, int perUser) {
        if (perSession < 1 || perUser < 1) {
            throw new IllegalArgumentException("quotas must be at least 1");
        }
    }

    /** The answer to a tunnel request: a slot, or the quota it would exceed. */
    sealed interface Admission {
        record Granted(Ticket ticket) implements Admission {}

        /** @param reason names the quota, e.g. {@code max_tunnels_per_session: 64 tunnels open} */
        record Refused(String reason) implements Admission {}
    }

    /**
     * Takes a slot for one more tunnel of {@code user} on the session whose count is {@code session},
     * or says which quota is full. Both counts are taken or neither.
     */
    Admission admit(AtomicInteger session, String user) {
        int sessionLimit = perSession;
        int userLimit = perUser;
        int now;
        do {
            now = session.get();
            if (now >= sessionLimit) {
                return new Admission.Refused("max_tunnels_per_session: " + now + " tunnels open on this connection");
            }
        } while (!session.compareAndSet(now, now + 1));

        int[] held = {0};
        boolean[] granted = {false};
        byUser.compute(user, (u, n) -> {
            int count = n == null ? 0 : n;
            held[0] = count;
            if (count >= userLimit) {
                return n;
            }
            granted[0] = true;
            return count + 1;
        });
        if (!granted[0]) {
            session.decrementAndGet();
            return new Admission.Refused("max_tunnels_per_user: " + user + " has " + held[0] + " tunnels open");
        }
        return new Admission.Granted(new Ticket(session, user));
    }

    /** Tunnels {@code user} holds right now, pending ones included. */
    int heldBy(String user) {
        Integer n = byUser.get(user);
        return n == null ? 0 : n;
    }

    /** Users holding at least one tunnel (a bound check for tests: no entry outlives its tunnels). */
    int users() {
        return byUser.size();
    }

    /** One tunnel's slot; {@link #release} gives it back once, however often it is called. */
    final class Ticket {
        private final AtomicInteger session;
        private final String user;
        private final AtomicBoolean released = new AtomicBoolean();

        private Ticket(AtomicInteger session, String user) {
            this.session = session;
            this.user = user;
        }

        void release() {
            if (!released.compareAndSet(false, true)) {
                return;
            }
            session.decrementAndGet();
            byUser.computeIfPresent(user, (u, n) -> n <= 1 ? null : n - 1);
        }
    }
}
