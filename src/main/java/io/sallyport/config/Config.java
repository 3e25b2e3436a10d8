package io.sallyport.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The validated, immutable runtime configuration. Built only by {@link ConfigLoader}; every value
 * here has passed validation, and every collection is unmodifiable.
 *
 * <p>Values that the operator wrote and that later rooms must report back with a line number
 * (allow rules, key lines) are kept as {@link Located} so that a later validation step can still
 * point at {@code FILE:LINE}.
 *
 * <p>{@code warnings} lists what the file was accepted with but probably does not mean (an allow
 * rule the deny list makes dead), in file order.
 */
public record Config(
        Path source,
        List<HostPort> listen,
        List<Path> hostKeys,
        Optional<Path> hostCertificate,
        CryptoProfile crypto,
        ProxyProtocol proxyProtocol,
        Identity identity,
        Policy policy,
        Limits limits,
        Audit audit,
        Admin admin,
        List<ConfigProblem> warnings) {

    /** Warnings are what the file was accepted with: shown by {@code check-config}, logged by {@code run}. */
    public Config {
        warnings = List.copyOf(warnings);
    }

    Config withWarnings(List<ConfigProblem> found) {
        return new Config(source, listen, hostKeys, hostCertificate, crypto, proxyProtocol, identity, policy, limits, audit,
                admin, found);
    }

    /** A {@code host:port} pair as written; {@code host} has IPv6 brackets removed. */
    public record HostPort(String host, int port) {
        @Override
        public String toString() {
            return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
        }
    }

    /** A value together with where it was written, for error messages after parsing. */
    public record Located<T>(T value, int line, String keyPath) {}

    public enum CryptoProfile {
        MODERN, PQ_ONLY, COMPAT;

        /** The spelling used in the config file: {@code modern}, {@code pq-only}, {@code compat}. */
        public String configName() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /** Only these CIDRs may send a PROXY header. Cidrs are kept as written; validated by the loader. */
    public record ProxyProtocol(boolean enabled, List<String> trustedSources) {}

    /** @param maxKeyAge plain keys older than this are refused ({@code identity.max_key_age}); empty: no limit */
    public record Identity(Map<String, LocalUser> localUsers, Iam iam, Certificates certificates, Optional<Duration> maxKeyAge) {}

    /** A user of {@code identity.local.users}; {@code keys} are OpenSSH public key lines. */
    public record LocalUser(String name, List<String> roles, List<Located<String>> keys) {}

    public record Iam(
            boolean enabled,
            Optional<String> endpoint,
            String region,
            Duration refresh,
            Duration maxStaleness,
            String pathPrefix,
            String allowTag,
            List<String> allowGroups,
            String rolesTag,
            String keyTagPrefix,
            Map<String, List<String>> groupRoles) {}

    /** {@code revoked} keeps its line: the file is read when the server is assembled, and its problems point here. */
    public record Certificates(
            Duration maxValidity,
            Duration clockSkew,
            Optional<Located<Path>> revoked,
            List<Authority> authorities) {}

    public record Authority(String name, Located<String> publicKey, List<String> grantableRoles) {}

    /**
     * {@code allow} rules are kept as written (with their lines). This room knows no rule syntax:
     * the policy room checks them ({@code PolicyCompiler.check}, a {@link ConfigCheck} the loader runs).
     */
    /**
     * @param from    CIDRs (as written): the role applies only to logins from these; empty: from anywhere
     * @param require what the login's key must prove for the role; empty: any accepted key
     */
    public record Role(String name, List<Located<String>> allow, List<String> from, List<Requirement> require) {
        public Role(String name, List<Located<String>> allow) {
            this(name, allow, List.of(), List.of());
        }
    }

    /** A role's {@code require}: what the login's signature must carry. */
    public enum Requirement {
        /** a FIDO key (sk-*) whose signature on this login has the user-presence flag */
        FIDO,
        /** as {@link #FIDO}, and the user-verification flag too (PIN or biometric) */
        FIDO_VERIFIED;

        /** The spelling in the config file: {@code fido}, {@code fido-verified}. */
        public String configName() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }

        /** What it asks of a login, in words for operators. */
        public String meaning() {
            return switch (this) {
                case FIDO -> "a FIDO key, with user presence on the login's signature";
                case FIDO_VERIFIED -> "a FIDO key, with user presence and verification (PIN, biometric) on the login's signature";
            };
        }
    }

    /**
     * @param allowPublicTargets whether allow rules may reach outside {@code privateNetworks}; off, such
     *                           a rule is a config error (an open proxy to the internet by mistake)
     */
    public record Policy(
            Map<String, Role> roles,
            boolean allowPublicTargets,
            List<String> privateNetworks,
            List<String> deny,
            boolean unsafeAllowLoopback,
            int minRsaBits,
            int maxSessionsPerUser,
            Duration idleTimeout,
            Duration maxSessionDuration) {}

    /**
     * What one client may make the server hold, per source before login and per session, per user
     * and per process after it.
     *
     * @param penaltyExempt        CIDRs (as written) never penalised nor capped per source
     * @param memoryHighWaterPercent share of the maximum heap above which new logins and tunnels are refused
     * @param allowSources         CIDRs (as written) connections may come from; empty: from anywhere
     */
    public record Limits(
            int maxUnauthenticated,
            int maxUnauthenticatedPerSource,
            Duration loginGraceTime,
            int maxAuthAttempts,
            Duration authFailurePenalty,
            Duration noauthPenalty,
            List<String> penaltyExempt,
            int maxTunnelsPerSession,
            int maxTunnelsPerUser,
            Duration resolveTimeout,
            int memoryHighWaterPercent,
            List<String> allowSources) {}

    public enum SpoolFullAction { REFUSE_NEW_SESSIONS, DROP_OLDEST }

    /**
     * @param spoolMaxBytes disk the spool may use before {@code onSpoolFull} applies
     */
    public record Audit(
            Optional<Path> file,
            boolean stdout,
            Path spoolDir,
            long spoolMaxBytes,
            SpoolFullAction onSpoolFull,
            CloudWatch cloudwatch) {}

    public record CloudWatch(
            boolean enabled,
            Optional<String> endpoint,
            Optional<String> region,
            String logGroup,
            String logStream,
            boolean createLogGroup) {}

    public record Admin(Path socket, Optional<HostPort> metricsListen) {}
}
