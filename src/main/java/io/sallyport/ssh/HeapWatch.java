package io.sallyport.ssh;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code limits.memory_high_water}: above it, new logins and new tunnels are refused until the heap
 * in use falls again; live tunnels go on.
 *
 * <p>Threat: the launcher runs the JVM with {@code -XX:+ExitOnOutOfMemoryError}, so a heap that
 * fills up takes every user's sessions down at once. The per-session and per-user quotas bound one
 * principal; this bounds all of them together.
 *
 * <p>What is measured: the heap in use after the last garbage collection (reported by the JVM's GC
 * notifications), so that garbage does not trip it, plus a reserve of {@code reservePerAdmission}
 * bytes for each tunnel and login admitted since that collection, and for each tunnel still being
 * set up (deciding, connecting: its buffers are not allocated yet, so a collection in the middle
 * does not see them). So a burst between two collections cannot run far past the mark before the
 * next measurement. While refusing, the heap in use right now is read at most once a second: it is
 * never less than the live heap, so when it is below the mark the refusals can stop without
 * waiting for a collection.
 *
 * <p>Once a flood is gone, its garbage sits in the old generation until the collector gets round
 * to it, and an idle server allocates too little to make it: refusals would go on. So while
 * refusing, G1 is asked for a periodic concurrent collection ({@code G1PeriodicGCInterval}, a
 * flag the JVM lets a running program set) every {@value #PERIODIC_COLLECTION_MILLIS} ms without
 * other collections, and the flag is put back once the heap is below the mark. No full, stop-the-world
 * collection is ever requested.
 *
 * <p>{@link #highWater} moves the mark for the checks from then on. What is held stays: live tunnels
 * and logins go on however low the new mark; above it, new ones are refused as above, and
 * refusals under way stop at once when the heap is below a raised mark.
 *
 * <p>The check on the hot path ({@link #admit}) is a few volatile reads, an add and a multiply.
 */
final class HeapWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HeapWatch.class);
    /**
     * Live heap one more tunnel takes: about 40 KiB measured (a 32 KiB read buffer for the target
     * socket, MINA's channel, windows and futures, our counters), rounded up for what a login or
     * pending decision adds. docs/configuration.md, "How the limits were sized".
     */
    static final long RESERVE_PER_ADMISSION = 64 * 1024;
    private static final long RECHECK_NANOS = 1_000_000_000L;
    static final long PERIODIC_COLLECTION_MILLIS = 5_000;

    /** The high water mark, in percent of {@link #maxHeap}; I/O threads read it on every check. */
    private volatile int percent;
    private final long maxHeap;
    private final long onePercent;
    private final long reservePerAdmission;
    private final LongSupplier heapInUseNow;
    private final LongSupplier nanoTime;
    private final AtomicLong admittedSinceMeasure = new AtomicLong();
    /** Admissions counted in the period before the last measure. */
    private volatile long admittedBeforeMeasure;
    /** Tunnels admitted and not yet open or refused. */
    private final AtomicLong unsettled = new AtomicLong();
    private volatile long measured;
    private volatile long lastRecheck;
    private final List<Runnable> unregister = new ArrayList<>();
    /** Told true when refusals start and false when they stop. */
    private volatile Consumer<Boolean> onRefusing = refusing -> { };
    private final AtomicBoolean refusing = new AtomicBoolean();

    /**
     * @param percent             the high water mark, in percent of {@code maxHeap}
     * @param heapInUseNow        the heap in use right now, garbage included
     * @param nanoTime            a monotonic clock
     */
    HeapWatch(int percent, long maxHeap, long reservePerAdmission, LongSupplier heapInUseNow, LongSupplier nanoTime) {
        if (maxHeap <= 0) {
            throw new IllegalArgumentException("maxHeap must be positive");
        }
        checkPercent(percent);
        this.percent = percent;
        this.maxHeap = maxHeap;
        this.onePercent = maxHeap / 100;
        this.reservePerAdmission = reservePerAdmission;
        this.heapInUseNow = heapInUseNow;
        this.nanoTime = nanoTime;
        this.lastRecheck = nanoTime.getAsLong();
    }

    /**
     * Moves the high water mark to {@code percent} of the max heap for the checks from now on.
     * Nothing admitted is ended by a lower mark; when refusing and the heap is below a raised one,
     * refusals stop now rather than at the next measure.
     */
    void highWater(int percent) {
        checkPercent(percent);
        this.percent = percent;
        long counted = admittedBeforeMeasure + admittedSinceMeasure.get() + unsettled.get();
        stopRefusingIfBelow(measured, counted);
    }

    private static void checkPercent(int percent) {
        if (percent < 1 || percent > 100) {
            throw new IllegalArgumentException("percent must be 1-100");
        }
    }

    /** The mark in bytes now. */
    private long limit() {
        return onePercent * percent;
    }

    /** Watches this JVM's heap through its garbage collectors' notifications. */
    static HeapWatch ofThisJvm(int percent) {
        Runtime rt = Runtime.getRuntime();
        java.lang.management.MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        HeapWatch watch = new HeapWatch(percent, rt.maxMemory(), RESERVE_PER_ADMISSION,
                () -> memory.getHeapMemoryUsage().getUsed(), System::nanoTime);
        watch.measured(memory.getHeapMemoryUsage().getUsed());
        Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName).collect(Collectors.toSet());
        NotificationListener listener = (notification, handback) -> watch.onCollection(notification, heapPools);
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener(listener, null, null);
                watch.unregister.add(() -> {
                    try {
                        emitter.removeNotificationListener(listener);
                    } catch (ListenerNotFoundException ignored) {
                        // already gone
                    }
                });
            }
        }
        watch.onRefusing = g1PeriodicCollections();
        if (watch.unregister.isEmpty()) {
            log.warn("no garbage collector reports its collections: memory_high_water measures the heap in use, garbage included");
        }
        return watch;
    }

    /**
     * Turns G1's periodic collections on while refusing, unless the operator set an interval
     * already (then theirs stands) or the flag is not there (another collector, another JVM).
     */
    private static Consumer<Boolean> g1PeriodicCollections() {
        try {
            HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            boolean g1 = ManagementFactory.getGarbageCollectorMXBeans().stream().anyMatch(gc -> gc.getName().startsWith("G1 "));
            if (hotspot == null || !g1 || !"0".equals(hotspot.getVMOption("G1PeriodicGCInterval").getValue())) {
                return refusing -> { };
            }
            return refusing -> {
                try {
                    hotspot.setVMOption("G1PeriodicGCInterval", refusing ? Long.toString(PERIODIC_COLLECTION_MILLIS) : "0");
                } catch (RuntimeException e) {
                    log.warn("setting G1PeriodicGCInterval: {}", e.toString());
                }
            };
        } catch (RuntimeException e) {
            return refusing -> { };
        }
    }

    /** For tests: what to do when refusals start ({@code true}) and stop ({@code false}). */
    void onRefusing(Consumer<Boolean> hook) {
        this.onRefusing = hook;
    }

    private void onCollection(Notification n, Set<String> heapPools) {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
            return;
        }
        try {
            GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
            long used = 0;
            for (Map.Entry<String, MemoryUsage> pool : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                if (heapPools.contains(pool.getKey())) {
                    used += pool.getValue().getUsed();
                }
            }
            measured(used);
        } catch (RuntimeException e) {
            log.warn("reading a garbage collection notification: {}", e.toString());
        }
    }

    /**
     * A new measurement of the heap in use that is at least the live heap (after a collection, or
     * the heap in use right now); admissions counted before it are in it.
     */
    void measured(long heapInUse) {
        // The notification of a collection arrives a little after it: admissions counted in between
        // are not in the measure. Carrying the last period's count over to the next (counting
        // those before the collection twice) keeps them counted, at the price of refusing a
        // little early during a burst.
        admittedBeforeMeasure = admittedSinceMeasure.getAndSet(0);
        measured = heapInUse;
        stopRefusingIfBelow(heapInUse, admittedBeforeMeasure + unsettled.get());
    }

    /** Ends refusals when {@code heapInUse} and the reserve of {@code counted} admissions are below the mark. */
    private void stopRefusingIfBelow(long heapInUse, long counted) {
        if (refusing.get() && heapInUse + counted * reservePerAdmission <= limit()
                && refusing.compareAndSet(true, false)) {
            log.info("heap below limits.memory_high_water again ({} of {}): new logins and tunnels are admitted",
                    mib(heapInUse), mib(maxHeap));
            onRefusing.accept(false);
        }
    }

    /**
     * Admits one more login, counting its reserve until the heap is next measured, or says why not.
     *
     * @return empty when admitted; else the reason, starting {@code memory_high_water:}
     */
    Optional<String> admit() {
        Optional<String> refused = check();
        if (refused.isEmpty()) {
            admittedSinceMeasure.incrementAndGet();
        }
        return refused;
    }

    /**
     * Admits a tunnel, whose reserve then stays counted until {@link #settled} (its buffers are
     * allocated once it connects, so a collection before that does not see them), or says why not.
     */
    Optional<String> admitTunnel() {
        Optional<String> refused = check();
        if (refused.isEmpty()) {
            unsettled.incrementAndGet();
        }
        return refused;
    }

    /**
     * A tunnel admitted by {@link #admitTunnel} is open (its reserve now counts until the heap is
     * next measured) or was refused (its reserve is given back). Call once per admitted tunnel.
     */
    void settled(boolean opened) {
        if (opened) {
            admittedSinceMeasure.incrementAndGet();
        }
        unsettled.decrementAndGet();
    }

    private Optional<String> check() {
        int mark = percent;
        long limit = onePercent * mark;
        long counted = admittedBeforeMeasure + admittedSinceMeasure.get() + unsettled.get();
        if (measured + counted * reservePerAdmission <= limit) {
            return Optional.empty();
        }
        long now = nanoTime.getAsLong();
        if (now - lastRecheck >= RECHECK_NANOS) {
            lastRecheck = now;
            long inUse = heapInUseNow.getAsLong();
            if (inUse < measured + (admittedBeforeMeasure + admittedSinceMeasure.get()) * reservePerAdmission) {
                // Read now, not reported after a collection: everything admitted so far is in it.
                measured(inUse);
                admittedBeforeMeasure = 0;
                if (inUse + unsettled.get() * reservePerAdmission <= limit) {
                    return Optional.empty();
                }
            }
        }
        String reason = reason(measured, admittedBeforeMeasure + admittedSinceMeasure.get() + unsettled.get(), mark);
        if (refusing.compareAndSet(false, true)) {
            log.warn("refusing new logins and tunnels: {}", reason);
            onRefusing.accept(true);
        }
        return Optional.of(reason);
    }

    private String reason(long heapInUse, long admitted, int percent) {
        return "memory_high_water: " + mib(heapInUse) + " of the heap's " + mib(maxHeap) + " in use"
                + (admitted > 0 ? " at the last measure, and " + admitted + " logins and tunnels admitted or being set up since" : "")
                + " (limit " + percent + "%)";
    }

    private static String mib(long bytes) {
        return (bytes + 512 * 1024) / (1024 * 1024) + " MiB";
    }

    @Override
    public void close() {
        unregister.forEach(Runnable::run);
        unregister.clear();
        if (refusing.compareAndSet(true, false)) {
            onRefusing.accept(false);
        }
    }
}
