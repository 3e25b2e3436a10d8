package io.sallyport.config;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Reads the {@code audit} section: local sinks, the spool and the CloudWatch shipper. */
final class AuditReader {
    static final long DEFAULT_SPOOL_MAX_BYTES = 1L << 30;
    /** Below this a spool holds too few events to ride out even a short CloudWatch outage. */
    static final long MIN_SPOOL_MAX_BYTES = 64L << 10;
    static final long MAX_SPOOL_MAX_BYTES = 1L << 40;

    private AuditReader() {}

    static Config.Audit read(MappingReader audit, PathResolver paths) {
        Map<String, Config.SpoolFullAction> actions = new LinkedHashMap<>();
        for (Config.SpoolFullAction a : Config.SpoolFullAction.values()) {
            actions.put(a.name().toLowerCase(Locale.ROOT), a);
        }
        return new Config.Audit(
                audit.optionalScalar("file", paths::resolve),
                audit.bool("stdout", false),
                audit.scalar("spool_dir", Path.of("/var/lib/sallyport/spool"), paths::resolve),
                audit.scalar("spool_max_bytes", DEFAULT_SPOOL_MAX_BYTES, ConfigSize.between(MIN_SPOOL_MAX_BYTES, MAX_SPOOL_MAX_BYTES)),
                audit.scalar("on_spool_full", Config.SpoolFullAction.REFUSE_NEW_SESSIONS, Choices.among(actions)),
                cloudwatch(audit.section("cloudwatch")));
    }

    private static Config.CloudWatch cloudwatch(MappingReader cw) {
        return new Config.CloudWatch(
                cw.bool("enabled", false),
                cw.optionalScalar("endpoint", AwsNames::endpoint),
                cw.optionalScalar("region", AwsNames::region),
                cw.scalar("log_group", "/sallyport/audit", AwsNames::logGroup),
                cw.scalar("log_stream", "{instance_id}", AwsNames::logStream),
                cw.bool("create_log_group", true));
    }
}
