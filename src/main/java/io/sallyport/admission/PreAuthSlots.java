package io.sallyport.admission;

import io.sallyport.audit.TerminationReason;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The connections that have not logged in yet, each holding one slot: at most {@code max} in all
 * ({@code limits.max_unauthenticated}, cf. OpenSSH's {@code MaxStartups}) and at most
 * {@code maxPerSource} from one {@link Source} ({@code limits.max_unauthenticated_per_source}, cf.
 * {@code PerSourceMaxStartups}; exempt sources are not capped).
 *
 * <p><b>Fair share when full.</b> A per-source cap alone still lets a flood from
 * {@code max / maxPerSource} addresses take every slot. So when all slots are taken, a newcomer
 * whose share block holds fewer slots than the largest holder takes a slot from it: one of the
 * largest holder's connections is displaced (the caller ends it). A flood from many addresses thus
 * crowds out only itself. Fair share is judged by {@link Source#shareBlock} — for IPv6 the /48,
 * not the /64 the per-source cap counts — so one attacker with a /56 or a /48 (256 or 65,536 /64s)
 * counts as one holder and cannot hold more than anyone else.
 *
 * <p><b>Who is displaced.</b> Of the largest holder's connections, the oldest that has not offered
 * a key yet ({@link #keyOffered}); a connection that has offered one — an engineer mid-login — is
 * displaced only when no holder large enough has any other. Exempt sources (an office NAT) are
 * never displaced and are counted apart from the non-exempt addresses of their block; a newcomer
 * from one counts as holding nothing, and nobody is displaced for a source at its cap.
 *
 * <p><b>Resizing.</b> {@link #resize} applies to admissions from then on. A connection holding a slot
 * keeps it: after a shrink, more than {@code max} (or {@code maxPerSource}) may be held until enough
 * leave, and until then a newcomer is refused, or admitted only by displacing a connection as
 * above, so a shrink never adds a slot and never ends a holder by itself.
 *
 * <p>Memory is bounded by {@code max} (after a shrink, by the former {@code max} until holders
 * leave): only sources holding a slot are remembered. Thread-safe.
 *
 * @param <T> the connection
 */
public final class PreAuthSlots<T> {

    /** The decision on a new connection. */
    public sealed interface Admission<T> {
        /** Holds a slot now; {@code displaced} lost its slot to it and must be ended. */
        record Admitted<T>(Optional<T> displaced) implements Admission<T> {}

        /** Holds no slot and must be ended; {@code reason} names the quota. */
        record Refused<T>(TerminationReason reason) implements Admission<T> {}
    }

    private static final class Held<T> {
        final T connection;
        final Source source;
        final long order;
        boolean offered;

        Held(T connection, Source source, long order) {
            this.connection = connection;
            this.source = source;
            this.order = order;
        }
    }

    /** Guarded by {@code this}, as is everything below. */
    private int max;
    private int maxPerSource;
    /** Slots held per {@link #blockKey}. */
    private final Map<String, Integer> perBlock = new HashMap<>();
    /** Slots held per {@link #shareKey}, oldest first. */
    private final Map<String, ArrayDeque<Held<T>>> perShare = new HashMap<>();
    private final Map<T, Held<T>> holders = new HashMap<>();
    private long admitted;

    public PreAuthSlots(int max, int maxPerSource) {
        checkLimits(max, maxPerSource);
        this.max = max;
        this.maxPerSource = maxPerSource;
    }

    /**
     * New caps for the admissions from now on. Connections already holding a slot keep it, however
     * far over the new caps they leave the count: nobody is ended by a shrink.
     */
    public synchronized void resize(int max, int maxPerSource) {
        checkLimits(max, maxPerSource);
        this.max = max;
        this.maxPerSource = maxPerSource;
    }

    private static void checkLimits(int max, int maxPerSource) {
        if (max < 1 || maxPerSource < 1) {
            throw new IllegalArgumentException("slot limits must be positive");
        }
    }

    public synchronized Admission<T> admit(Source source, T connection) {
        if (holders.containsKey(connection)) {
            return new Admission.Admitted<>(Optional.empty());
        }
        int own = perBlock.getOrDefault(blockKey(source), 0);
        if (!source.exempt() && own >= maxPerSource) {
            return new Admission.Refused<>(TerminationReason.MAX_UNAUTHENTICATED_PER_SOURCE);
        }
        Optional<T> displaced = Optional.empty();
        if (holders.size() >= max) {
            ArrayDeque<Held<T>> share = perShare.get(shareKey(source));
            Optional<T> victim = victim(source.exempt() || share == null ? 0 : share.size());
            if (victim.isEmpty()) {
                return new Admission.Refused<>(TerminationReason.MAX_UNAUTHENTICATED);
            }
            release(victim.get());
            displaced = victim;
        }
        Held<T> held = new Held<>(connection, source, admitted++);
        perBlock.merge(blockKey(source), 1, Integer::sum);
        perShare.computeIfAbsent(shareKey(source), k -> new ArrayDeque<>()).addLast(held);
        holders.put(connection, held);
        return new Admission.Admitted<>(displaced);
    }

    /**
     * The connection has offered a key: it is displaced only when no holder large enough has a
     * connection that has not. Idempotent; ignored for a connection holding no slot.
     */
    public synchronized void keyOffered(T connection) {
        Held<T> held = holders.get(connection);
        if (held != null) {
            held.offered = true;
        }
    }

    /**
     * Gives the connection's slot back (it logged in or closed). Idempotent.
     *
     * @return whether it held one
     */
    public synchronized boolean release(T connection) {
        Held<T> held = holders.remove(connection);
        if (held == null) {
            return false;
        }
        perBlock.computeIfPresent(blockKey(held.source), (k, n) -> n <= 1 ? null : n - 1);
        ArrayDeque<Held<T>> q = perShare.get(shareKey(held.source));
        q.remove(held);
        if (q.isEmpty()) {
            perShare.remove(shareKey(held.source));
        }
        return true;
    }

    /** Connections from {@code source} holding a slot now, oldest first. */
    public synchronized List<T> holdersFrom(Source source) {
        ArrayDeque<Held<T>> q = perShare.get(shareKey(source));
        List<T> out = new ArrayList<>();
        if (q != null) {
            q.stream().filter(h -> blockKey(h.source).equals(blockKey(source))).forEach(h -> out.add(h.connection));
        }
        return out;
    }

    /** Slots held now. */
    public synchronized int held() {
        return holders.size();
    }

    /** Sources holding a slot now. */
    public synchronized int sources() {
        return perBlock.size();
    }

    /** Exempt connections are counted apart from the rest of their block (an exempt /128 inside a /64). */
    private static String blockKey(Source source) {
        return source.exempt() ? "exempt " + source.block() : source.block();
    }

    private static String shareKey(Source source) {
        return source.exempt() ? "exempt " + source.shareBlock() : source.shareBlock();
    }

    /**
     * The connection to displace for a newcomer whose share block holds {@code newcomerHolds}:
     * from the non-exempt share blocks holding more, largest first (of equals, the one holding the
     * oldest connection), the oldest connection that has not offered a key; failing that, the
     * oldest connection of the largest. A scan of the connections held (at most {@code max} but
     * after a shrink), only when full.
     */
    private Optional<T> victim(int newcomerHolds) {
        List<ArrayDeque<Held<T>>> larger = new ArrayList<>();
        for (ArrayDeque<Held<T>> q : perShare.values()) {
            if (!q.peekFirst().source.exempt() && q.size() > newcomerHolds) {
                larger.add(q);
            }
        }
        if (larger.isEmpty()) {
            return Optional.empty();
        }
        larger.sort(Comparator.<ArrayDeque<Held<T>>>comparingInt(ArrayDeque::size).reversed()
                .thenComparingLong(q -> q.peekFirst().order));
        for (ArrayDeque<Held<T>> q : larger) {
            for (Held<T> h : q) {
                if (!h.offered) {
                    return Optional.of(h.connection);
                }
            }
        }
        return Optional.of(larger.get(0).peekFirst().connection);
    }
}
