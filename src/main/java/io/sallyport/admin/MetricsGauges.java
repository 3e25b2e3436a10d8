package io.sallyport.admin;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import io.sallyport.Version;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryUsage;
import java.time.Duration;

/**
 * The gauges (and the counters kept elsewhere, such as the shipper's), read from live state at each
 * scrape through {@link MetricsSources}. A series whose part is off (no spool, no IAM, no host
 * certificate) is not registered.
 */
public final class MetricsGauges {
    private MetricsGauges() {}

    public static void register(PrometheusRegistry registry, MetricsSources s) {
        GaugeWithCallback.builder().name("sallyport_build_info").help("The running version").labelNames("version")
                .callback(cb -> cb.call(1, Version.sallyport())).register(registry);
        GaugeWithCallback.builder().name("sallyport_connections_open").help("SSH connections open, logged in or not")
                .callback(cb -> cb.call(s.openConnections().getAsInt())).register(registry);
        GaugeWithCallback.builder().name("sallyport_sessions_open").help("Logged-in sessions open")
                .callback(cb -> cb.call(s.openSessions().getAsInt())).register(registry);
        GaugeWithCallback.builder().name("sallyport_tunnels_open").help("Tunnels open")
                .callback(cb -> cb.call(s.openTunnels().getAsInt())).register(registry);
        GaugeWithCallback.builder().name("sallyport_healthy")
                .help("1 when /healthz answers 200 (accepting logins, audit durable, identities fresh), else 0")
                .callback(cb -> cb.call(Health.of(s).ok() ? 1 : 0)).register(registry);
        spool(registry, s);
        iam(registry, s);
        GaugeWithCallback.builder().name("sallyport_host_certificate_expiry_seconds").unit(Unit.SECONDS)
                .help("Seconds until the earliest served host certificate expires (negative once expired)")
                .callback(cb -> s.hostCertificateExpiry().get().ifPresent(
                        t -> cb.call(seconds(Duration.between(s.clock().instant(), t)))))
                .register(registry);
        heap(registry, s);
    }

    private static void spool(PrometheusRegistry registry, MetricsSources s) {
        // One read of the spool's status (it reads the oldest record from disk) serves a scrape's six series.
        s.spool().map(Memo::new).ifPresent(status -> {
            GaugeWithCallback.builder().name("sallyport_audit_spool_unshipped_events")
                    .help("Audit events in the spool not yet shipped to CloudWatch Logs")
                    .callback(cb -> cb.call(status.get().unshippedEvents())).register(registry);
            GaugeWithCallback.builder().name("sallyport_audit_spool_size_bytes").unit(Unit.BYTES)
                    .help("Bytes the spool holds on disk").callback(cb -> cb.call(status.get().diskBytes()))
                    .register(registry);
            GaugeWithCallback.builder().name("sallyport_audit_spool_limit_bytes").unit(Unit.BYTES)
                    .help("audit.spool_max_bytes").callback(cb -> cb.call(status.get().maxBytes())).register(registry);
            GaugeWithCallback.builder().name("sallyport_audit_oldest_unshipped_seconds").unit(Unit.SECONDS)
                    .help("Age of the oldest audit event not yet shipped (0 when all are shipped)")
                    .callback(cb -> cb.call(status.get().oldestUnshipped()
                            .map(t -> Math.max(0, seconds(Duration.between(t, s.clock().instant())))).orElse(0.0)))
                    .register(registry);
            CounterWithCallback.builder().name("sallyport_audit_spool_dropped_events_total")
                    .help("Events dropped because the spool was full (on_spool_full: drop_oldest / refuse_new_sessions)")
                    .callback(cb -> cb.call(status.get().droppedEvents())).register(registry);
            CounterWithCallback.builder().name("sallyport_audit_spool_discarded_events_total")
                    .help("Events discarded from the spool unshipped to make room")
                    .callback(cb -> cb.call(status.get().discardedEvents())).register(registry);
        });
        s.shipper().ifPresent(stats -> {
            CounterWithCallback.builder().name("sallyport_cloudwatch_shipped_events_total")
                    .help("Audit events accepted by CloudWatch Logs").callback(cb -> cb.call(stats.get().shippedEvents()))
                    .register(registry);
            CounterWithCallback.builder().name("sallyport_cloudwatch_errors_total")
                    .help("Failed PutLogEvents attempts (throttling included)")
                    .callback(cb -> cb.call(stats.get().failedAttempts())).register(registry);
            CounterWithCallback.builder().name("sallyport_cloudwatch_throttled_total")
                    .help("PutLogEvents attempts CloudWatch throttled").callback(cb -> cb.call(stats.get().throttled()))
                    .register(registry);
            CounterWithCallback.builder().name("sallyport_cloudwatch_rejected_events_total")
                    .help("Events CloudWatch Logs rejected (too old, too new, expired)")
                    .callback(cb -> cb.call(stats.get().rejectedEvents())).register(registry);
        });
    }

    private static void iam(PrometheusRegistry registry, MetricsSources s) {
        s.iam().ifPresent(iam -> {
            GaugeWithCallback.builder().name("sallyport_iam_last_refresh_age_seconds").unit(Unit.SECONDS)
                    .help("Age of the IAM data logins are decided on (since its last successful refresh)")
                    .callback(cb -> iam.lastRefresh().get().ifPresent(
                            t -> cb.call(Math.max(0, seconds(Duration.between(t, s.clock().instant()))))))
                    .register(registry);
            GaugeWithCallback.builder().name("sallyport_iam_refresh_duration_seconds").unit(Unit.SECONDS)
                    .help("How long the last IAM refresh took, successful or not")
                    .callback(cb -> iam.refreshDuration().get().ifPresent(d -> cb.call(seconds(d))))
                    .register(registry);
            GaugeWithCallback.builder().name("sallyport_iam_stale")
                    .help("1 while IAM logins are refused because the data is older than identity.iam.max_staleness")
                    .callback(cb -> cb.call(iam.refusal().get().isPresent() ? 1 : 0)).register(registry);
        });
    }

    private static void heap(PrometheusRegistry registry, MetricsSources s) {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        GaugeWithCallback.builder().name("sallyport_heap_used_bytes").unit(Unit.BYTES).help("Java heap in use")
                .callback(cb -> cb.call(memory.getHeapMemoryUsage().getUsed())).register(registry);
        GaugeWithCallback.builder().name("sallyport_heap_max_bytes").unit(Unit.BYTES).help("Java heap maximum (-Xmx)")
                .callback(cb -> {
                    MemoryUsage u = memory.getHeapMemoryUsage();
                    cb.call(u.getMax() > 0 ? u.getMax() : u.getCommitted());
                }).register(registry);
        GaugeWithCallback.builder().name("sallyport_heap_high_water_ratio")
                .help("limits.memory_high_water: above this share of the heap, new logins and tunnels are refused")
                .callback(cb -> cb.call(s.heapHighWater().getAsDouble())).register(registry);
    }

    /** The last value for a moment, so one scrape reads its source once. */
    private static final class Memo<T> implements java.util.function.Supplier<T> {
        private static final long FRESH_NANOS = 500_000_000L;
        private final java.util.function.Supplier<T> source;
        private T value;
        private long readAt;

        Memo(java.util.function.Supplier<T> source) {
            this.source = source;
        }

        @Override
        public synchronized T get() {
            long now = System.nanoTime();
            if (value == null || now - readAt > FRESH_NANOS) {
                value = source.get();
                readAt = now;
            }
            return value;
        }
    }

    private static double seconds(Duration d) {
        return d.toMillis() / 1000.0;
    }
}
