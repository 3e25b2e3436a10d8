package io.sallyport.admin;

import io.sallyport.audit.CloudWatchShipper;
import io.sallyport.audit.Spool;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * Read-only views of the live state that gauges and the health check read at each scrape: small
 * suppliers, so this package depends neither on MINA nor on the AWS SDK (the command line wires
 * them from the server, the audit pipeline and the IAM refresher).
 *
 * @param openConnections      connections open now, logged in or not
 * @param openSessions         logged-in sessions open now
 * @param openTunnels          tunnels open now
 * @param acceptingLogins      whether the SSH port listens for logins
 * @param auditRefusal         why new sessions are refused for the audit trail's sake, or empty
 *                             ({@code Auditor.refusal()})
 * @param spool                the spool's numbers, with CloudWatch shipping on
 * @param shipper              the shipper's counters, with CloudWatch shipping on
 * @param iam                  the IAM source's freshness, with {@code identity.iam.enabled}
 * @param hostCertificateExpiry the earliest {@code valid_before} of the served host certificates
 * @param heapHighWater        {@code limits.memory_high_water} in force (a reload changes it) as a fraction of the maximum heap
 */
public record MetricsSources(IntSupplier openConnections, IntSupplier openSessions, IntSupplier openTunnels,
                             BooleanSupplier acceptingLogins, Supplier<Optional<String>> auditRefusal,
                             Optional<Supplier<Spool.Status>> spool, Optional<Supplier<CloudWatchShipper.Stats>> shipper,
                             Optional<Iam> iam, Supplier<Optional<Instant>> hostCertificateExpiry, java.util.function.DoubleSupplier heapHighWater,
                             Clock clock) {

    /**
     * @param lastRefresh     when the data in use was read from IAM
     * @param refreshDuration how long the last refresh took
     * @param refusal         why IAM logins are refused now (stale), or empty
     */
    public record Iam(Supplier<Optional<Instant>> lastRefresh, Supplier<Optional<Duration>> refreshDuration,
                      Supplier<Optional<String>> refusal) {}
}
