package io.sallyport.config;

import io.sallyport.net.Printable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The human-readable summary {@code sallyport check-config} prints: what this config lets whom
 * reach, and where the audit trail goes, with every default filled in. Keys are counted, never
 * printed; allow rules are printed exactly as written, as audit events will quote them, except that
 * control and format characters are escaped so that the file cannot drive the terminal.
 */
public final class EffectiveConfig {
    private static final int LABEL_WIDTH = 28;

    private final StringBuilder out = new StringBuilder();

    private EffectiveConfig() {}

    /** Renders {@code config} as aligned plain text, one setting a line, ending with a newline. */
    public static String render(Config config) {
        EffectiveConfig r = new EffectiveConfig();
        r.write(config);
        return r.out.toString();
    }

    private void write(Config c) {
        out.append("sallyport configuration from ").append(Printable.forTerminal(c.source().toString())).append('\n');
        if (c.policy().unsafeAllowLoopback()) {
            out.append('\n')
                    .append("!!! WARNING: policy.unsafe_allow_loopback is true: users may reach loopback addresses\n")
                    .append("!!! (127.0.0.0/8, ::1) through this bastion, including services on the bastion itself.\n")
                    .append("!!! Meant for `sallyport demo` and tests only.\n");
        }

        heading("Server");
        row(1, "listen", join(c.listen()));
        row(1, "host keys", join(c.hostKeys()));
        row(1, "host certificate", c.hostCertificate().map(Path::toString).orElse("none"));
        row(1, "crypto", c.crypto().configName());
        row(1, "proxy protocol", c.proxyProtocol().enabled()
                ? "on, trusted sources: " + join(c.proxyProtocol().trustedSources()) : "off");

        writeIdentity(c.identity());
        writePolicy(c.policy());

        Config.Limits l = c.limits();
        heading("Limits");
        row(1, "allow sources", l.allowSources().isEmpty() ? "anywhere" : join(l.allowSources()) + " (others closed at accept)");
        row(1, "max unauthenticated", l.maxUnauthenticated() + ", " + l.maxUnauthenticatedPerSource() + " per source");
        row(1, "login grace time", duration(l.loginGraceTime()));
        row(1, "max auth attempts", String.valueOf(l.maxAuthAttempts()));
        row(1, "auth failure penalty", duration(l.authFailurePenalty()));
        row(1, "noauth penalty", duration(l.noauthPenalty()));
        row(1, "penalty exempt", l.penaltyExempt().isEmpty() ? "none" : join(l.penaltyExempt()));
        row(1, "tunnels", l.maxTunnelsPerSession() + " per session, " + l.maxTunnelsPerUser() + " per user");
        row(1, "resolve timeout", duration(l.resolveTimeout()));
        row(1, "memory high water", l.memoryHighWaterPercent() + "% of the heap");

        writeAudit(c.audit());

        heading("Admin");
        row(1, "socket", c.admin().socket().toString());
        row(1, "metrics", c.admin().metricsListen().map(Object::toString).orElse("off"));
    }

    private void writeIdentity(Config.Identity id) {
        heading("Identity");
        Map<String, Config.LocalUser> users = id.localUsers();
        row(1, "local users", users.isEmpty() ? "none" : String.valueOf(users.size()));
        for (Config.LocalUser u : users.values()) {
            int keys = u.keys().size();
            row(2, u.name(), "roles: " + (u.roles().isEmpty() ? "none" : String.join(", ", u.roles()))
                    + "; " + keys + (keys == 1 ? " key" : " keys") + (keys == 0 ? " (cannot log in)" : ""));
        }

        Config.Iam iam = id.iam();
        row(1, "iam", iam.enabled() ? "on" : "off");
        if (iam.enabled()) {
            row(2, "region", iam.region());
            iam.endpoint().ifPresent(e -> row(2, "endpoint", e));
            row(2, "refresh", "every " + duration(iam.refresh()) + ", serve stale for up to " + duration(iam.maxStaleness()));
            row(2, "path prefix", iam.pathPrefix());
            row(2, "allowed by", "tag " + iam.allowTag() + "=true"
                    + (iam.allowGroups().isEmpty() ? "" : " or group " + String.join(", ", iam.allowGroups())));
            row(2, "roles tag", iam.rolesTag());
            row(2, "key tags", iam.keyTagPrefix() + ", " + iam.keyTagPrefix() + "-2, ...");
            iam.groupRoles().forEach((group, roles) -> row(2, "group " + group, "roles: " + String.join(", ", roles)));
        }

        Config.Certificates certs = id.certificates();
        row(1, "certificate authorities", certs.authorities().isEmpty() ? "none" : String.valueOf(certs.authorities().size()));
        for (Config.Authority ca : certs.authorities()) {
            String keyType = ca.publicKey().value().split("\\s+")[0];
            row(2, ca.name(), keyType + "; may grant: "
                    + (ca.grantableRoles().isEmpty() ? "nothing" : String.join(", ", ca.grantableRoles())));
        }
        if (!certs.authorities().isEmpty()) {
            row(2, "max validity", duration(certs.maxValidity()));
            row(2, "clock skew", duration(certs.clockSkew()));
        }
        // The revocation list applies to plain keys too (as OpenSSH's RevokedKeys does).
        row(1, "revoked keys", certs.revoked().map(r -> r.value().toString()).orElse("none"));
        row(1, "max key age", id.maxKeyAge().map(a -> duration(a) + " (plain keys; undated keys refused)").orElse("none"));
    }

    private void writePolicy(Config.Policy p) {
        heading("Policy");
        if (p.roles().isEmpty()) {
            row(1, "roles", "none: nobody may reach anything");
        } else {
            row(1, "roles", String.valueOf(p.roles().size()));
        }
        for (Config.Role role : p.roles().values()) {
            List<String> lines = new java.util.ArrayList<>();
            if (role.allow().isEmpty()) {
                lines.add("(no allow rules: grants nothing)");
            }
            role.allow().forEach(rule -> lines.add("allow " + rule.value()));
            if (!role.from().isEmpty()) {
                lines.add("from " + join(role.from()) + " only (a login from elsewhere does not get this role)");
            }
            for (Config.Requirement r : role.require()) {
                lines.add("require " + r.configName() + " (" + r.meaning() + ")");
            }
            String label = role.name();
            for (String line : lines) {
                row(2, label, line);
                label = "";
            }
        }
        row(1, "private networks", join(p.privateNetworks()));
        row(1, "public targets", p.allowPublicTargets()
                ? "ALLOWED (allow_public_targets: true): rules may reach outside the private networks"
                : "refused (rules must stay inside the private networks)");
        row(1, "extra deny", p.deny().isEmpty() ? "none (built-in deny list only)" : join(p.deny()));
        row(1, "loopback", p.unsafeAllowLoopback()
                ? "ALLOWED (unsafe_allow_loopback: true) -- demo and tests only" : "denied");
        row(1, "min RSA bits", String.valueOf(p.minRsaBits()));
        row(1, "sessions per user", String.valueOf(p.maxSessionsPerUser()));
        row(1, "idle timeout", duration(p.idleTimeout()));
        row(1, "max session duration", duration(p.maxSessionDuration()));
    }

    private void writeAudit(Config.Audit a) {
        heading("Audit");
        row(1, "file", a.file().map(Path::toString).orElse("none"));
        row(1, "stdout", a.stdout() ? "on" : "off");
        Config.CloudWatch cw = a.cloudwatch();
        if (cw.enabled()) {
            row(1, "spool", a.spoolDir() + ", up to " + ConfigSize.format(a.spoolMaxBytes())
                    + " (when full: " + a.onSpoolFull().name().toLowerCase(java.util.Locale.ROOT) + ")");
        } else {
            row(1, "spool", "off (the spool feeds the CloudWatch shipper)");
        }
        row(1, "cloudwatch", cw.enabled() ? "on" : "off");
        if (cw.enabled()) {
            row(2, "region", cw.region().orElse("from instance metadata"));
            cw.endpoint().ifPresent(e -> row(2, "endpoint", e));
            row(2, "log group", cw.logGroup() + (cw.createLogGroup() ? " (created when missing)" : ""));
            row(2, "log stream", cw.logStream());
        }
    }

    private void heading(String title) {
        out.append('\n').append(title).append('\n');
    }

    /** Labels and values carry what the file says (user, role and group names, rules, paths): escaped for the terminal. */
    private void row(int depth, String label, String value) {
        String indented = "  ".repeat(depth) + Printable.forTerminal(label);
        out.append(indented);
        out.append(" ".repeat(Math.max(1, LABEL_WIDTH - indented.length())));
        out.append(Printable.forTerminal(value)).append('\n');
    }

    private static String join(List<?> values) {
        return values.isEmpty() ? "none" : values.stream().map(Object::toString).collect(Collectors.joining(", "));
    }

    private static String duration(Duration d) {
        return ConfigDuration.format(d);
    }
}
