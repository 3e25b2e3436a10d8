package io.sallyport.cli;

import io.sallyport.admin.MetricsEndpoint;
import io.sallyport.admin.MetricsSources;
import io.sallyport.audit.AuditSink;
import io.sallyport.audit.Auditor;
import io.sallyport.audit.CloudWatchShipper;
import io.sallyport.aws.AwsClients;
import io.sallyport.aws.InstanceMetadata;
import io.sallyport.audit.JsonLinesFileSink;
import io.sallyport.audit.StdoutSink;
import io.sallyport.aws.IamClients;
import io.sallyport.config.Config;
import io.sallyport.config.ConfigException;
import io.sallyport.config.ConfigProblem;
import io.sallyport.identity.CertificateAuthority;
import io.sallyport.identity.CertificateVerifier;
import io.sallyport.identity.IdentitySource;
import io.sallyport.identity.KeyPolicy;
import io.sallyport.identity.LocalIdentities;
import io.sallyport.identity.Logins;
import io.sallyport.identity.RevocationFile;
import io.sallyport.identity.RevocationList;
import io.sallyport.identity.iam.IamIdentities;
import io.sallyport.identity.iam.IamRefresher;
import io.sallyport.net.OwnAddresses;
import io.sallyport.net.TargetResolver;
import io.sallyport.policy.ForwardingPolicy;
import io.sallyport.policy.PolicyCompiler;
import io.sallyport.ssh.BastionServer;
import io.sallyport.ssh.HostCertificateFile;
import io.sallyport.ssh.HostKeyStore;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a runnable server from a loaded {@link Config}: the second half of validation (key lines,
 * rules) and the wiring of identity, policy, audit and SSH. {@code run}, {@code demo} and the
 * integration tests all go through here, so they run the same server.
 */
public final class ServerAssembly {
    private static final Logger log = LoggerFactory.getLogger(ServerAssembly.class);
    private static final Duration IMDS_TIMEOUT = Duration.ofSeconds(1);

    private ServerAssembly() {}

    /**
     * Everything derived from the config that can be checked without side effects.
     *
     * @param revoked the revocation file, loaded, when {@code identity.certificates.revoked} is set
     * @param iam     the IAM identity source, not yet refreshed, when {@code identity.iam.enabled}
     */
    public record Validated(Config config, Logins logins, ForwardingPolicy policy, LocalIdentities local,
                            Optional<RevocationFile> revoked, Optional<IamIdentities> iam) {}

    /**
     * The checks of this second half, for {@link io.sallyport.config.ConfigLoader#load}: key lines
     * and rules are then reported in the same run as the loader's own problems.
     */
    public static void check(Config config, List<ConfigProblem> problems) {
        parts(config, TargetResolver.system(), problems);
    }

    /** Loads a config file with every check, as {@code run}, {@code check-config} and {@code explain} do. */
    public static Config load(Path file) throws ConfigException, IOException, Main.UsageException {
        try {
            return io.sallyport.config.ConfigLoader.load(file, ServerAssembly::check);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new Main.UsageException("cannot read config " + file + ": no such file");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new Main.UsageException("cannot read config " + file + ": permission denied");
        } catch (IOException e) {
            throw new Main.UsageException("cannot read config " + file + ": "
                    + (java.nio.file.Files.isDirectory(file) ? "it is a directory" : e.getMessage()));
        }
    }

    /** What the config compiles into; one list of steps for {@link #check} and {@link #validate}. */
    private record Parts(LocalIdentities local, List<CertificateAuthority> authorities, Optional<RevocationFile> revoked,
                         ForwardingPolicy policy) {}

    private static Parts parts(Config config, TargetResolver resolver, List<ConfigProblem> problems) {
        LocalIdentities local = LocalIdentities.from(config, problems);
        List<CertificateAuthority> authorities = CertificateVerifier.authorities(config, problems);
        Optional<RevocationFile> revoked = revocationFile(config, problems);
        List<InetAddress> listening = new ArrayList<>();
        for (Config.HostPort hp : config.listen()) {
            try {
                listening.add(InetAddress.getByName(hp.host()));
            } catch (UnknownHostException e) {
                // the loader only lets IP literals through; nothing to add
            }
        }
        ForwardingPolicy policy = PolicyCompiler.compile(config, resolver, new OwnAddresses(listening), problems);
        return new Parts(local, authorities, revoked, policy);
    }

    /** @throws ConfigException with every problem found, each with its file and line */
    public static Validated validate(Config config, TargetResolver resolver) throws ConfigException {
        return validate(config, resolver, config.identity().iam().enabled()
                ? Optional.of(new IamIdentities(config, Clock.systemUTC())) : Optional.empty());
    }

    /**
     * As {@link #validate(Config, TargetResolver)}, with {@code iam} as the IAM source: for a reload,
     * the running server's, which keeps the users it has loaded (whether IAM is on at all, and where
     * it is reached, are fixed at start).
     */
    static Validated validate(Config config, TargetResolver resolver, Optional<IamIdentities> iam) throws ConfigException {
        List<ConfigProblem> problems = new ArrayList<>();
        Parts parts = parts(config, resolver, problems);
        if (problems.stream().anyMatch(ConfigProblem::isError)) { // warnings were reported by the loader
            throw new ConfigException(problems);
        }
        LocalIdentities local = parts.local();
        Optional<RevocationFile> revoked = parts.revoked();
        ForwardingPolicy policy = parts.policy();
        // Local users first: a name in the config file is the operator's explicit word.
        List<IdentitySource> sources = new ArrayList<>(List.of(local));
        iam.ifPresent(sources::add);
        KeyPolicy keyPolicy = new KeyPolicy(config.policy().minRsaBits());
        Supplier<RevocationList> revocations = revoked.isPresent() ? revoked.get() : () -> RevocationList.EMPTY;
        Config.Certificates certs = config.identity().certificates();
        CertificateVerifier verifier = new CertificateVerifier(parts.authorities(), certs.maxValidity(), certs.clockSkew(),
                keyPolicy, revocations, Clock.systemUTC());
        Logins logins = new Logins(keyPolicy, sources, verifier, revocations,
                new io.sallyport.identity.KeyAgeLimit(config.identity().maxKeyAge(), Clock.systemUTC()));
        return new Validated(config, logins, policy, local, revoked, iam);
    }

    /**
     * Reads {@code identity.certificates.revoked}. A file that is missing or malformed is a problem
     * at that key's line: starting without the revocations an operator asked for would be fail-open.
     */
    private static Optional<RevocationFile> revocationFile(Config config, List<ConfigProblem> problems) {
        Optional<Config.Located<Path>> revoked = config.identity().certificates().revoked();
        if (revoked.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(RevocationFile.load(revoked.get().value()));
        } catch (IllegalArgumentException e) {
            problems.add(new ConfigProblem(config.source().toString(), revoked.get().line(), revoked.get().keyPath(),
                    e.getMessage()));
            return Optional.empty();
        }
    }

    /** The audit sinks the config asks for, plus any given (tests add a recording sink). */
    public static Auditor auditor(Config config, PrintStream stdout, List<AuditSink> extra) throws IOException {
        return auditor(config, stdout, extra, CloudWatchShipper.Tuning.DEFAULTS);
    }

    /**
     * The audit pipeline: local sinks, and with {@code audit.cloudwatch.enabled} the durable spool
     * and its shipper (started here). The instance id and, unless configured, the region come from
     * the instance metadata service (IMDSv2).
     *
     * @throws IOException when the spool cannot be opened, or no region can be found
     */
    public static Auditor auditor(Config config, PrintStream stdout, List<AuditSink> extra, CloudWatchShipper.Tuning tuning)
            throws IOException {
        List<AuditSink> sinks = new ArrayList<>(extra);
        if (config.audit().file().isPresent()) {
            sinks.add(new JsonLinesFileSink(config.audit().file().get()));
        }
        if (config.audit().stdout()) {
            sinks.add(new StdoutSink(stdout));
        }
        Config.Audit audit = config.audit();
        Config.CloudWatch cw = audit.cloudwatch();
        String hostname = instanceName();
        if (!cw.enabled()) {
            return new Auditor(hostname, Clock.systemUTC(), sinks);
        }
        InstanceMetadata.Answer imds = InstanceMetadata.fromEnvironment(System.getenv(), IMDS_TIMEOUT).lookup();
        imds.problem().ifPresent(p -> log.info("{}; {}", p, cw.region().isPresent()
                ? "using the configured region" + (imds.instanceId().isEmpty() ? " and the host name as instance" : "")
                : "no region"));
        String region = cw.region().or(imds::region).orElseThrow(() -> new IOException(
                "audit.cloudwatch.region is not set and the instance metadata service gave none ("
                        + imds.problem().orElse("no region") + "); set audit.cloudwatch.region in " + config.source()));
        String instance = imds.instanceId().orElse(hostname);
        Auditor auditor = Auditor.withSpool(instance, Clock.systemUTC(), sinks, audit.spoolDir(), audit.spoolMaxBytes(),
                audit.onSpoolFull());
        try {
            CloudWatchShipper shipper = new CloudWatchShipper(auditor.spool().orElseThrow(),
                    AwsClients.cloudWatchLogs(region, cw.endpoint(), tuning.attemptTimeout()),
                    new CloudWatchShipper.Destination(cw.logGroup(), cw.logStream(), cw.createLogGroup(), instance, hostname),
                    tuning, Clock.systemUTC());
            auditor.shipWith(shipper);
            shipper.start();
        } catch (RuntimeException e) {
            auditor.close();
            throw new IOException("cannot set up CloudWatch Logs shipping: " + e.getMessage(), e);
        }
        return auditor;
    }

    public static BastionServer server(Validated v, Auditor auditor) throws IOException {
        List<KeyPair> hostKeys = HostKeyStore.loadOrGenerate(v.config().hostKeys());
        Optional<HostCertificateFile> hostCertificate = Optional.empty();
        if (v.config().hostCertificate().isPresent()) {
            hostCertificate = Optional.of(HostCertificateFile.load(v.config().hostCertificate().get(), hostKeys));
        }
        BastionServer server = new BastionServer(v.config(), hostKeys, hostCertificate, v.logins(), v.revoked(), v.policy(),
                auditor);
        Optional<IamRefresher> refresher = Optional.empty();
        if (v.iam().isPresent()) {
            refresher = Optional.of(startIam(v.iam().get(), v.config(), server));
        }
        startMetrics(v, auditor, server, refresher);
        return server;
    }

    /**
     * Serves {@code /metrics} and {@code /healthz} on {@code admin.metrics_listen}, stopped with the
     * server. A port that cannot be bound is logged and the SSH service goes on: engineers keep
     * their access, and the monitoring that scrapes it sees the target down.
     */
    private static void startMetrics(Validated v, Auditor auditor, BastionServer server, Optional<IamRefresher> refresher) {
        Optional<Config.HostPort> listen = v.config().admin().metricsListen();
        if (listen.isEmpty()) {
            return;
        }
        Optional<MetricsSources.Iam> iam = v.iam().map(i -> new MetricsSources.Iam(i::lastRefresh,
                () -> refresher.flatMap(IamRefresher::lastRefreshDuration), i::refusal));
        MetricsSources sources = new MetricsSources(server::openConnections, server::openSessions, server::openTunnels,
                server::acceptingLogins, auditor::refusal, auditor.spool().map(s -> s::status),
                auditor.shipper().map(s -> s::stats), iam, server::hostCertificateExpiry,
                () -> server.rules().config().limits().memoryHighWaterPercent() / 100.0, Clock.systemUTC());
        InetSocketAddress address = new InetSocketAddress(listen.get().host(), listen.get().port());
        try {
            server.closeOnStop(MetricsEndpoint.start(address, auditor, sources));
        } catch (IOException | RuntimeException e) {
            log.error("admin.metrics_listen {}: cannot listen ({}); running without metrics and /healthz",
                    listen.get(), e.toString());
        }
    }

    /**
     * Opens the admin socket ({@code admin.socket}) over the server's live sessions and the rules it
     * decides by now (for {@code explain}). A socket that
     * cannot be made, or that another server answers on, stops the start: an operator must always
     * be able to see and end the sessions of the server that runs.
     */
    public static io.sallyport.admin.AdminSocket adminSocket(Config config, BastionServer server, Auditor auditor)
            throws IOException {
        return adminSocket(config, server, auditor, io.sallyport.admin.AdminCommands.noReload());
    }

    /** As {@link #adminSocket(Config, BastionServer, Auditor)}, with {@code reload} behind the {@code reload} command. */
    static io.sallyport.admin.AdminSocket adminSocket(Config config, BastionServer server, Auditor auditor,
                                                      java.util.function.Supplier<io.sallyport.admin.ReloadResult> reload)
            throws IOException {
        return io.sallyport.admin.AdminSocket.open(config.admin().socket(),
                new io.sallyport.admin.AdminCommands(server.liveSessions(), auditor, reload, server::rules));
    }

    /**
     * Starts the IAM refresher (its first refresh before the server listens) and lets each refresh
     * end the sessions it revokes. The server stops the refresher when it stops.
     */
    private static IamRefresher startIam(IamIdentities iam, Config config, BastionServer server) throws IOException {
        IamRefresher refresher = new IamRefresher(IamClients.iam(config.identity().iam()), iam,
                IamRefresher.Settings.PRODUCTION, new java.util.Random());
        server.followRefreshesOf(iam);
        server.closeOnStop(refresher);
        try {
            refresher.start();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            refresher.close();
            throw new java.io.InterruptedIOException("interrupted while loading IAM identities");
        }
        return refresher;
    }

    /** Outside EC2 the instance is named by its host name. */
    static String instanceName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        try {
            return Files.readString(Path.of("/etc/hostname")).trim();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
