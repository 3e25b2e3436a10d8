package io.sallyport.admin;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.sallyport.audit.AuditEvent;
import java.util.function.Consumer;

/**
 * The counters that tell what happened, counted from the audit events themselves: attached to the
 * {@link io.sallyport.audit.Auditor} with {@code observe}, each counter moves exactly when its
 * event is recorded, so the metrics agree with the audit trail. Reason labels are bounded by
 * {@link MetricsReason}.
 */
public final class MetricsCounters implements Consumer<AuditEvent> {
    private final Counter events;
    private final Counter connectionsOpened;
    private final Counter connectionsClosed;
    private final Counter loginsAccepted;
    private final Counter loginsRefused;
    private final Counter sessionsTerminated;
    private final Counter tunnelsOpened;
    private final Counter tunnelsRefused;
    private final Counter tunnelsClosed;
    private final Counter tunnelBytes;
    private final Counter requestsRefused;
    private final Counter quotaRefusals;
    private final Counter tunnelsClosedByPolicy;
    private final Counter reloads;

    public MetricsCounters(PrometheusRegistry registry) {
        events = Counter.builder().name("sallyport_audit_events_total")
                .help("Audit events recorded, by event type").labelNames("event").register(registry);
        connectionsOpened = Counter.builder().name("sallyport_connections_opened_total")
                .help("SSH connections accepted (session.open)").register(registry);
        connectionsClosed = Counter.builder().name("sallyport_connections_closed_total")
                .help("SSH connections ended (session.close)").register(registry);
        loginsAccepted = Counter.builder().name("sallyport_logins_accepted_total")
                .help("Logins accepted (auth.accept), by identity source").labelNames("source").register(registry);
        loginsRefused = Counter.builder().name("sallyport_logins_refused_total")
                .help("Keys refused at login (auth.reject), by reason").labelNames("reason").register(registry);
        sessionsTerminated = Counter.builder().name("sallyport_sessions_terminated_total")
                .help("Connections ended by the server (session.terminate), by reason").labelNames("reason")
                .register(registry);
        tunnelsOpened = Counter.builder().name("sallyport_tunnels_opened_total")
                .help("Tunnels opened (forward.open)").register(registry);
        tunnelsRefused = Counter.builder().name("sallyport_tunnels_refused_total")
                .help("Tunnels refused (forward.reject), by reason").labelNames("reason").register(registry);
        tunnelsClosed = Counter.builder().name("sallyport_tunnels_closed_total")
                .help("Tunnels closed (forward.close)").register(registry);
        tunnelBytes = Counter.builder().name("sallyport_tunnel_bytes_total")
                .help("Bytes carried by closed tunnels (forward.close bytes_up / bytes_down)")
                .labelNames("direction").register(registry);
        requestsRefused = Counter.builder().name("sallyport_requests_refused_total")
                .help("Requests refused: shells, commands, other channel types and global requests (request.reject)")
                .register(registry);
        quotaRefusals = Counter.builder().name("sallyport_quota_refusals_total")
                .help("Logins, tunnels and connections refused or ended by a quota, by quota").labelNames("quota")
                .register(registry);
        tunnelsClosedByPolicy = Counter.builder().name("sallyport_tunnels_closed_by_policy_total")
                .help("Open tunnels closed because a reload, an IAM refresh or a revocation refused them (forward.close"
                        + " with a reason), by reason").labelNames("reason").register(registry);
        reloads = Counter.builder().name("sallyport_config_reloads_total")
                .help("Reloads of the config, the revocation file and the host certificate (config.reload), by trigger"
                        + " and result").labelNames("trigger", "result").register(registry);
    }

    @Override
    public void accept(AuditEvent event) {
        events.labelValues(event.name()).inc();
        if (event instanceof AuditEvent.SessionOpen) {
            connectionsOpened.inc();
        } else if (event instanceof AuditEvent.SessionClose) {
            connectionsClosed.inc();
        } else if (event instanceof AuditEvent.AuthAccept a) {
            loginsAccepted.labelValues(a.auth().source().orElse("none")).inc();
        } else if (event instanceof AuditEvent.AuthReject r) {
            loginsRefused.labelValues(refusal(r.reason())).inc();
        } else if (event instanceof AuditEvent.SessionTerminate t) {
            sessionsTerminated.labelValues(refusal(t.reason().wireName())).inc();
        } else if (event instanceof AuditEvent.ForwardOpen) {
            tunnelsOpened.inc();
        } else if (event instanceof AuditEvent.ForwardReject r) {
            tunnelsRefused.labelValues(refusal(r.reason())).inc();
        } else if (event instanceof AuditEvent.ForwardClose c) {
            tunnelsClosed.inc();
            tunnelBytes.labelValues("up").inc(c.bytesUp());
            tunnelBytes.labelValues("down").inc(c.bytesDown());
            // Our own words, few: "role withdrawn", "rule removed", "denied: <policy reason>" counted as "denied".
            c.reason().ifPresent(r -> tunnelsClosedByPolicy.labelValues(r.startsWith("denied") ? "denied" : r).inc());
        } else if (event instanceof AuditEvent.ConfigReload r) {
            reloads.labelValues(r.trigger(), r.applied() ? "applied" : "refused").inc();
        } else if (event instanceof AuditEvent.RequestReject) {
            requestsRefused.inc();
        }
    }

    /** The reason's label; a quota's refusal is also counted under its quota. */
    private String refusal(String reason) {
        String label = MetricsReason.label(reason);
        if (MetricsReason.isQuota(label)) {
            quotaRefusals.labelValues(label).inc();
        }
        return label;
    }
}
