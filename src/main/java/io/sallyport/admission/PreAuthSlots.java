package io.sallyport.admission;

import java.util.ArrayDeque;
import java.util.ArrayList;
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
 * whose source holds fewer slots than the largest holder takes a slot from it: the largest
 * holder's oldest connection is displaced (the caller ends it). A flood from many addresses thus
 * crowds out only itself, and an address holding a single slot — an engineer logging in — is
 * displaced only when every holder is down to one slot, i.e. by a flood from more than
 * {@code max} addresses. Exempt sources (an office NAT) are never displaced; a newcomer from one
 * counts as holding nothing, and nobody is displaced for a source at its cap.
 *
 * <p>Memory is bounded by {@code max}: only sources holding a slot are remembered. Thread-safe.
 *
 * @param <T> the connection
 */
public final class PreAuthSlots<T> {
    public static final String MAX_UNAUTHENTICATED = "max_unauthenticated";
    public static final String MAX_UNAUTHENTICATED_PER_SOURCE = "max_unauthenticated_per_source";

    /** The decision on a new connection. */
    public sealed interface Admission<T> {
        /** Holds a slot now; {@code displaced} lost its slot to it and must be ended. */
        record Admitted<T>(Optional<T> displaced) implements Admission<T> {}

        /** Holds no slot and must be ended; {@code reason} names the quota. */
        record Refused<T>(String reason) implements Admission<T> {}
    }

    private record Held<T>(T connection, long order) {}

    private final int max;
    private final int maxPerSource;
    /** Guarded by {@code this}, as is everything below. */
    private final Map<String, ArrayDeque<Held<T>>> bySource = new HashMap<>();
    private final Map<T, Source> holders = new HashMap<>();
    private long admitted;

    public PreAuthSlots(int max, int maxPerSource) {
        if (max < 1 || maxPerSource < 1) {
            throw new IllegalArgumentException("slot limits must be positive");
        }
        this.max = max;
        this.maxPerSource = maxPerSource;
    }

    public synchronized Admission<T> admit(Source source, T connection) {
        if (holders.containsKey(connection)) {
            return new Admission.Admitted<>(Optional.empty());
        }
        int own = countOf(source.block());
        if (!source.exempt() && own >= maxPerSource) {
            return new Admission.Refused<>(MAX_UNAUTHENTICATED_PER_SOURCE);
        }
        Optional<T> displaced = Optional.empty();
        if (holders.size() >= max) {
            Optional<String> victim = largestHolder(source.exempt() ? 0 : own);
            if (victim.isEmpty()) {
                return new Admission.Refused<>(MAX_UNAUTHENTICATED);
            }
            T oldest = bySource.get(victim.get()).peekFirst().connection();
            release(oldest);
            displaced = Optional.of(oldest);
        }
        bySource.computeIfAbsent(source.block(), k -> new ArrayDeque<>()).addLast(new Held<>(connection, admitted++));
        holders.put(connection, source);
        return new Admission.Admitted<>(displaced);
    }

    /**
     * Gives the connection's slot back (it logged in or closed). Idempotent.
     *
     * @return whether it held one
     */
    public synchronized boolean release(T connection) {
        Source source = holders.remove(connection);
        if (source == null) {
            return false;
        }
        ArrayDeque<Held<T>> q = bySource.get(source.block());
        q.removeIf(h -> h.connection() == connection);
        if (q.isEmpty()) {
            bySource.remove(source.block());
        }
        return true;
    }

    /** Connections from {@code source} holding a slot now, oldest first. */
    public synchronized List<T> holdersFrom(Source source) {
        ArrayDeque<Held<T>> q = bySource.get(source.block());
        List<T> out = new ArrayList<>();
        if (q != null) {
            q.forEach(h -> out.add(h.connection()));
        }
        return out;
    }

    /** Slots held now. */
    public synchronized int held() {
        return holders.size();
    }

    /** Sources holding a slot now. */
    public synchronized int sources() {
        return bySource.size();
    }

    private int countOf(String block) {
        ArrayDeque<Held<T>> q = bySource.get(block);
        return q == null ? 0 : q.size();
    }

    /**
     * The non-exempt source with the most slots, more than {@code newcomerHolds}; of equals, the
     * one holding the oldest connection. A scan of at most {@code max} sources, only when full.
     */
    private Optional<String> largestHolder(int newcomerHolds) {
        String best = null;
        int bestCount = newcomerHolds;
        long bestOrder = Long.MAX_VALUE;
        for (Map.Entry<String, ArrayDeque<Held<T>>> e : bySource.entrySet()) {
            ArrayDeque<Held<T>> q = e.getValue();
            if (holders.get(q.peekFirst().connection()).exempt()) {
                continue;
            }
            long order = q.peekFirst().order();
            if (q.size() > bestCount || (best != null && q.size() == bestCount && order < bestOrder)) {
                best = e.getKey();
                bestCount = q.size();
                bestOrder = order;
            }
        }
        return Optional.ofNullable(best);
    }
}
