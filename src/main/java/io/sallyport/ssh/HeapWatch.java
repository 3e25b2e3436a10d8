package io.sallyport.ssh;

import com.sun.management.GarbageCollectionNotificationInfo;
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
import java.util.concurrent.atomic.AtomicLong;
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
 * bytes for each tunnel and login admitted since that collection, so that a burst between two
 * collections cannot run far past the mark before the next measurement. While refusing, the heap in
 * use right now is read at most once a second: it is never less than the live heap, so when it is
 * below the mark the refusals can stop without waiting for a collection.
 *
 * <p>The check on the hot path ({@link #admit}) is two volatile reads and an add.
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

    private final int percent;
    private final long maxHeap;
    private final long limit;
    private final long reservePerAdmission;
    private final LongSupplier heapInUseNow;
    private final LongSupplier nanoTime;
    private final AtomicLong admittedSinceMeasure = new AtomicLong();
    private volatile long measured;
    private volatile long lastRecheck;
    private final List<Runnable> unregister = new ArrayList<>();

    /**
     * @param percent             the high water mark, in percent of {@code maxHeap}
     * @param heapInUseNow        the heap in use right now, garbage included
     * @param nanoTime            a monotonic clock
     */
    HeapWatch(int percent, long maxHeap, long reservePerAdmission, LongSupplier heapInUseNow, LongSupplier nanoTime) {
        if (percent < 1 || percent > 100 || maxHeap <= 0) {
            throw new IllegalArgumentException("percent must be 1-100 and maxHeap positive");
        }
        this.percent = percent;
        this.maxHeap = maxHeap;
        this.limit = maxHeap / 100 * percent;
        this.reservePerAdmission = reservePerAdmission;
        this.heapInUseNow = heapInUseNow;
        this.nanoTime = nanoTime;
        this.lastRecheck = nanoTime.getAsLong();
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
        if (watch.unregister.isEmpty()) {
            log.warn("no garbage collector reports its collections: memory_high_water measures the heap in use, garbage included");
        }
        return watch;
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
        admittedSinceMeasure.set(0);
        measured = heapInUse;
    }

    /**
     * Admits one more login or tunnel, counting its reserve, or says why not.
     *
     * @return empty when admitted; else the reason, starting {@code memory_high_water:}
     */
    Optional<String> admit() {
        long admitted = admittedSinceMeasure.get();
        long projected = measured + admitted * reservePerAdmission;
        if (projected <= limit) {
            admittedSinceMeasure.incrementAndGet();
            return Optional.empty();
        }
        long now = nanoTime.getAsLong();
        if (now - lastRecheck >= RECHECK_NANOS) {
            lastRecheck = now;
            long inUse = heapInUseNow.getAsLong();
            if (inUse < projected) {
                measured(inUse);
                if (inUse <= limit) {
                    admittedSinceMeasure.incrementAndGet();
                    return Optional.empty();
                }
                return Optional.of(reason(inUse, 0));
            }
        }
        return Optional.of(reason(measured, admitted));
    }

    private String reason(long heapInUse, long admitted) {
        return "memory_high_water: " + mib(heapInUse) + " of the heap's " + mib(maxHeap) + " in use"
                + (admitted > 0 ? " at the last measure, and " + admitted + " logins and tunnels admitted since" : "")
                + " (limit " + percent + "%)";
    }

    private static String mib(long bytes) {
        return (bytes + 512 * 1024) / (1024 * 1024) + " MiB";
    }

    @Override
    public void close() {
        unregister.forEach(Runnable::run);
        unregister.clear();
    }
}
