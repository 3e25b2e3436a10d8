package io.sallyport.cli;

import io.sallyport.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The keys a reload cannot apply, and which of them a new config changes: what the server listens
 * on (SSH, admin socket, metrics), the host keys and certificate file it serves, the audit spool and
 * its CloudWatch destination (the audit file and stdout are swapped by the reload), and whether and where IAM is reached. Each keeps its running value
 * until a restart; everything else in the file is applied by the reload.
 */
final class RestartNeeded {
    private RestartNeeded() {}

    /** The keys whose value differs between {@code running} (the config the server started with) and {@code next}. */
    static List<String> between(Config running, Config next) {
        List<String> out = new ArrayList<>();
        check(out, "listen", running.listen(), next.listen());
        check(out, "host_keys", running.hostKeys(), next.hostKeys());
        check(out, "host_certificate", running.hostCertificate(), next.hostCertificate());
        check(out, "proxy_protocol", running.proxyProtocol(), next.proxyProtocol());
        Config.Audit a = running.audit();
        Config.Audit b = next.audit();
        // The spool and CloudWatch settings are read only with shipping on: with it off before and
        // after, a change to them changes nothing, and a restart would not either.
        if (a.cloudwatch().enabled() || b.cloudwatch().enabled()) {
            check(out, "audit.spool_dir", a.spoolDir(), b.spoolDir());
            check(out, "audit.spool_max_bytes", a.spoolMaxBytes(), b.spoolMaxBytes());
            check(out, "audit.on_spool_full", a.onSpoolFull(), b.onSpoolFull());
            check(out, "audit.cloudwatch", a.cloudwatch(), b.cloudwatch());
        }
        check(out, "admin.socket", running.admin().socket(), next.admin().socket());
        check(out, "admin.metrics_listen", running.admin().metricsListen(), next.admin().metricsListen());
        Config.Iam i = running.identity().iam();
        Config.Iam j = next.identity().iam();
        check(out, "identity.iam.enabled", i.enabled(), j.enabled());
        if (i.enabled() || j.enabled()) {
            check(out, "identity.iam.endpoint", i.endpoint(), j.endpoint());
            check(out, "identity.iam.region", i.region(), j.region());
        }
        return out;
    }

    private static void check(List<String> out, String key, Object running, Object next) {
        if (!Objects.equals(running, next)) {
            out.add(key);
        }
    }
}
