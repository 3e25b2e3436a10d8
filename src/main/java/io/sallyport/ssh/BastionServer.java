package io.sallyport.ssh;

import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.Auditor;
import io.sallyport.audit.TerminationReason;
import io.sallyport.config.Config;
import io.sallyport.identity.Logins;
import io.sallyport.identity.RevocationFile;
import io.sallyport.policy.ForwardingPolicy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.compression.BuiltinCompressions;
import org.apache.sshd.common.global.KeepAliveHandler;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.channel.RequestHandler;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.ServerBuilder;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.global.NoMoreSessionsHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jump server: MINA SSHD configured as nothing but a {@code direct-tcpip} relay.
 *
 * <p>What differs from {@code SshServer.setUpDefaultServer()}, and why: only {@code publickey}
 * authentication (no password, keyboard-interactive, host-based or GSSAPI); only the algorithms of
 * the configured crypto profile (no SHA-1, no zlib); no shell, exec, subsystem, SFTP, remote
 * forwarding, agent or X11 (each refused and audited); MINA's idle timeout off in favour of ours,
 * which counts tunnel bytes in both directions and is audited.
 */
public final class BastionServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BastionServer.class);
    /** How often the revocation list and host certificate files are checked for changes. */
    private static final Duration FILE_POLL = Duration.ofSeconds(1);
    /** {@code config.reload} triggers of the files the server polls. */
    static final String REVOCATION_FILE = "revocation file";
    static final String HOST_CERTIFICATE = "host certificate";

    private final Config config;
    private final Auditor auditor;
    private final SessionRegistry registry;
    private final DecisionQueue decisions;
    private final HeapWatch heap;
    private final Server sshd;
    private final TunnelQuota quota;
    /** The revocation file behind the rules' logins, polled for changes; a reload may replace it. */
    private volatile Optional<RevocationFile> revoked;
    /** Serialises reloads and the re-checks of live sessions that follow each change. */
    private final Object changeLock = new Object();
    private final Optional<HostCertificateFile> hostCertificate;
    private volatile boolean stopped;
    /** What logins and tunnels are decided by now; replaced whole by a reload. */
    private volatile Rules rules;
    private final List<AutoCloseable> closeOnStop = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** MINA's server, able to listen on more than one host:port pair. */
    private static final class Server extends SshServer {
        void bindMore(List<InetSocketAddress> more) throws IOException {
            for (InetSocketAddress a : more) {
                acceptor.bind(a);
            }
        }
    }

    public BastionServer(Config config, List<KeyPair> hostKeys, Logins logins, ForwardingPolicy policy, Auditor auditor) {
        this(config, hostKeys, Optional.empty(), logins, Optional.empty(), policy, auditor);
    }

    /**
     * @param hostCertificate served to clients next to the host keys, when configured
     * @param revoked         the revocation file behind {@code logins}, polled for changes; live
     *                        sessions it revokes are ended
     */
    public BastionServer(Config config, List<KeyPair> hostKeys, Optional<HostCertificateFile> hostCertificate,
                         Logins logins, Optional<RevocationFile> revoked, ForwardingPolicy policy, Auditor auditor) {
        this.config = config;
        this.auditor = auditor;
        this.revoked = revoked;
        this.hostCertificate = hostCertificate;
        this.rules = new Rules(config, logins, policy);
        this.registry = new SessionRegistry(auditor, config.limits(), this::rules, Clock.systemUTC());
        this.decisions = decisionQueue();
        this.heap = HeapWatch.ofThisJvm(config.limits().memoryHighWaterPercent());
        Config.Limits limits = config.limits();
        this.quota = new TunnelQuota(limits.maxTunnelsPerSession(), limits.maxTunnelsPerUser());
        BastionContext context = new BastionContext(auditor, this::rules, registry, decisions, quota, heap);

        BastionAuthenticator authenticator = new BastionAuthenticator(this::rules, auditor, registry, heap);
        Config.CryptoProfile crypto = config.crypto();
        ServerBuilder builder = ServerBuilder.builder()
                .factory(Server::new)
                .keyExchangeFactories(CryptoProfiles.serverKeyExchanges(crypto))
                .cipherFactories(new ArrayList<>(CryptoProfiles.ciphers(crypto)))
                .macFactories(new ArrayList<>(CryptoProfiles.macs(crypto)))
                .signatureFactories(new ArrayList<>(CryptoProfiles.signatures(crypto)))
                .compressionFactories(List.of(BuiltinCompressions.none))
                .channelFactories(channels(context))
                .globalRequestHandlers(globalRequests(context))
                .forwardingFilter(new PinnedAddressFilter(() -> rules.policy().denyList()))
                .publickeyAuthenticator(authenticator);
        Server server = (Server) builder.build();
        server.setUserAuthFactories(List.of(CertificatePublicKeyAuth.factory(authenticator)));
        server.setKeyboardInteractiveAuthenticator(null);
        server.setPasswordAuthenticator(null);
        server.setHostBasedAuthenticator(null);
        server.setGSSAuthenticator(null);
        server.setShellFactory(null);
        server.setCommandFactory(null);
        server.setSubsystemFactories(List.of());
        server.setKeyPairProvider(KeyPairProvider.wrap(hostKeys));
        hostCertificate.ifPresent(server::setHostKeyCertificateProvider);
        server.addSessionListener(registry);
        server.setSessionFactory(new SourceGate(server, registry));
        if (config.proxyProtocol().enabled()) {
            registry.trustProxies(config.proxyProtocol().trustedSources());
            server.setServerProxyAcceptor(new ProxyHeaderGate(registry));
        }

        loginLimits(server, config.limits());
        // Idle time is enforced by SessionRegistry, which sees tunnel bytes in both directions;
        // MINA's own idle timer only sees messages from the client.
        CoreModuleProperties.IDLE_TIMEOUT.set(server, java.time.Duration.ZERO);
        CoreModuleProperties.SERVER_IDENTIFICATION.set(server, "sallyport");
        CoreModuleProperties.TCP_NODELAY.set(server, true);
        CoreModuleProperties.SOCKET_KEEPALIVE.set(server, true);
        // MINA reads these on every socket read and write. A property the server's own map lacks
        // falls through to the system properties, building an "org.apache.sshd.config.*" string
        // per lookup: a profile of one tunnel showed it in the data path. Set to MINA's defaults.
        CoreModuleProperties.NIO2_READ_TIMEOUT.set(server, CoreModuleProperties.NIO2_READ_TIMEOUT.getRequiredDefault());
        CoreModuleProperties.NIO2_MIN_WRITE_TIMEOUT.set(server, CoreModuleProperties.NIO2_MIN_WRITE_TIMEOUT.getRequiredDefault());

        Config.HostPort first = config.listen().get(0);
        server.setHost(first.host());
        server.setPort(first.port());
        this.sshd = server;
    }

    /** MINA reads these when a connection starts: a reload's values apply to the next connections. */
    private static void loginLimits(SshServer server, Config.Limits limits) {
        CoreModuleProperties.AUTH_TIMEOUT.set(server, limits.loginGraceTime());
        CoreModuleProperties.MAX_AUTH_REQUESTS.set(server, limits.maxAuthAttempts());
    }

    private static List<ChannelFactory> channels(BastionContext context) {
        return List.of(
                ForwardingChannel.factory(context),
                RefusedSessionChannel.factory(context),
                RefusedChannelType.factory(context, "tun@openssh.com", "tun"),
                RefusedChannelType.factory(context, "direct-streamlocal@openssh.com", "streamlocal"));
    }

    private static List<RequestHandler<ConnectionService>> globalRequests(BastionContext context) {
        return List.of(KeepAliveHandler.INSTANCE, NoMoreSessionsHandler.INSTANCE, new RefusedGlobalRequests(context));
    }

    /**
     * Forwarding decisions, which may wait on DNS: at most 32 at once (so at most 32 threads stuck in
     * the system resolver), 2 per session and 8 per user, sessions served round-robin
     * ({@link DecisionQueue}). A session flooding requests for slow names holds 2 threads; another
     * user's decision starts at once while fewer than 4 users do that at the same time.
     */
    private static DecisionQueue decisionQueue() {
        return new DecisionQueue(32, 2, 8, "sallyport-decide");
    }

    /** Connections open now, logged in or not (for metrics). */
    public int openConnections() {
        return registry.liveCount();
    }

    /** Logged-in sessions open now (for metrics). */
    public int openSessions() {
        return registry.loggedInCount();
    }

    /** Tunnels open now, in all sessions (for metrics). */
    public int openTunnels() {
        return registry.openTunnels();
    }

    /** Whether the SSH port is listening for logins: started and not stopped (for the health check). */
    public boolean acceptingLogins() {
        return !stopped && sshd.isOpen() && !sshd.isClosing() && sshd.isStarted();
    }

    /** When the first of the served host certificates expires ({@code valid_before}), if one is configured. */
    public Optional<java.time.Instant> hostCertificateExpiry() {
        return hostCertificate.flatMap(HostCertificateFile::earliestExpiry);
    }

    /** What logins and tunnels are decided by now (for live {@code explain}). */
    public Rules rules() {
        return rules;
    }

    /** The live connections, for the admin socket: listed, and ended on an operator's word. */
    public LiveSessions liveSessions() {
        return new RegistryLiveSessions(registry);
    }

    /**
     * After each refresh of {@code source} (IAM), holds every live session to what it says now:
     * sessions it no longer lets in end ({@code revoked}), the others get their roles now, and
     * tunnels those roles no longer allow close.
     */
    public void followRefreshesOf(io.sallyport.identity.RevokingSource source) {
        source.onRefresh(() -> reconsider("IAM refresh"));
    }

    /** What a change did to the live sessions. */
    public record Followed(int sessionsEnded, int tunnelsClosed) {}

    /**
     * Makes {@code next} the rules in force, with {@code nextRevoked} the revocation file behind its
     * logins, and holds every live session to them ({@link SessionRegistry#reconsider}). The limits
     * of {@code next.config()} apply from now on to what is not yet held; nothing already held is
     * taken away by a limit. The caller has validated the config whole; what a reload cannot change
     * (listen, host keys, spool, sockets) is the caller's to report.
     *
     * @param swapped run just before {@code next} comes into force (the caller audits the reload
     *                there): every event {@code next} causes — a live session's tunnel closed, a
     *                tunnel or login refused on another thread — follows it
     * @throws IllegalStateException when the server is stopping or stopped: nothing is applied, and
     *                               {@code swapped} is not run (nothing may follow {@code server.stop})
     */
    public Followed apply(Rules next, Optional<RevocationFile> nextRevoked, Runnable swapped) {
        synchronized (changeLock) {
            if (stopped) {
                throw new IllegalStateException("the server is shutting down");
            }
            swapped.run();
            rules = next;
            revoked = nextRevoked;
            Config.Limits limits = next.config().limits();
            loginLimits(sshd, limits);
            registry.retune(limits);
            quota.resize(limits.maxTunnelsPerSession(), limits.maxTunnelsPerUser());
            heap.highWater(limits.memoryHighWaterPercent());
            Config.CryptoProfile crypto = next.config().crypto();
            sshd.setKeyExchangeFactories(CryptoProfiles.serverKeyExchanges(crypto));
            sshd.setCipherFactories(new ArrayList<>(CryptoProfiles.ciphers(crypto)));
            sshd.setMacFactories(new ArrayList<>(CryptoProfiles.macs(crypto)));
            sshd.setSignatureFactories(new ArrayList<>(CryptoProfiles.signatures(crypto)));
            return follow(registry.reconsider(next, "reload"));
        }
    }

    private Followed reconsider(String cause) {
        synchronized (changeLock) {
            if (stopped) {
                return new Followed(0, 0); // every session is being ended for the shutdown
            }
            return follow(registry.reconsider(rules, cause));
        }
    }

    private static Followed follow(SessionRegistry.Reconsidered r) {
        return new Followed(r.sessionsEnded(), r.tunnelsClosed());
    }

    /** Closes {@code resource} (an identity refresher) when the server stops, after its sessions ended. */
    public void closeOnStop(AutoCloseable resource) {
        closeOnStop.add(resource);
    }

    /**
     * Emits {@code server.start} first, so that it precedes the events of any client that connects
     * the moment the port opens; if binding then fails, {@code server.stop} says why.
     */
    public void start() throws IOException {
        auditor.emit(new AuditEvent.ServerStart(io.sallyport.Version.sallyport(), configDigest(config),
                config.listen().stream().map(Config.HostPort::toString).toList(), config.crypto().configName()));
        try {
            sshd.start();
            List<InetSocketAddress> more = new ArrayList<>();
            for (Config.HostPort hp : config.listen().subList(1, config.listen().size())) {
                more.add(new InetSocketAddress(InetAddress.getByName(hp.host()), hp.port()));
            }
            sshd.bindMore(more);
        } catch (IOException | RuntimeException e) {
            stop("failed to start: " + e.getMessage());
            throw e;
        }
        log.info("sallyport {} listening on {}", io.sallyport.Version.sallyport(), boundAddresses());
        revoked.ifPresent(r -> log.info("revocation list {}: {}", r.path(), r.current().description()));
        registry.every(FILE_POLL, "revocation list reload", () -> revoked.ifPresent(r -> report(r, r.reloadIfChanged())));
        hostCertificate.ifPresent(h -> {
            h.logServed("served");
            registry.every(FILE_POLL, "host certificate reload", () -> report(h, h.reloadIfChanged()));
        });
        if (config.policy().unsafeAllowLoopback()) {
            log.warn("policy.unsafe_allow_loopback is on: tunnels may reach this machine's loopback services."
                    + " Use it for demo and tests only, never in production.");
        }
    }

    /** A changed revocation file: audited as {@code config.reload}; a list that loaded is held against every live session. */
    private void report(RevocationFile file, RevocationFile.Outcome outcome) {
        if (outcome instanceof RevocationFile.Outcome.Loaded loaded) {
            log.info("revocation list reloaded: {}", loaded.list().description());
            auditor.emit(new AuditEvent.ConfigReload(REVOCATION_FILE, file.path().toString(), true, Optional.empty(),
                    List.of(), Optional.empty()));
            reconsider("revocation list change");
        } else if (outcome instanceof RevocationFile.Outcome.KeptPrevious kept) {
            log.warn("{}; keeping the previous revocation list ({})", kept.reason(), kept.previous().description());
            auditor.emit(new AuditEvent.ConfigReload(REVOCATION_FILE, file.path().toString(), false, Optional.empty(),
                    List.of(), Optional.of(kept.reason() + "; the previous list stays in force")));
        }
    }

    private void report(HostCertificateFile file, HostCertificateFile.Outcome outcome) {
        if (outcome instanceof HostCertificateFile.Outcome.Served) {
            auditor.emit(new AuditEvent.ConfigReload(HOST_CERTIFICATE, file.path().toString(), true, Optional.empty(),
                    List.of(), Optional.empty()));
        } else if (outcome instanceof HostCertificateFile.Outcome.KeptPrevious kept) {
            auditor.emit(new AuditEvent.ConfigReload(HOST_CERTIFICATE, file.path().toString(), false, Optional.empty(),
                    List.of(), Optional.of(kept.reason() + "; the previous certificate is still served")));
        }
    }

    /** SHA-256 over the effective configuration, so an audit reader can tell which config was live. */
    public static String configDigest(Config config) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(config.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "sha256:" + java.util.HexFormat.of().formatHex(d);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public List<InetSocketAddress> boundAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (SocketAddress a : sshd.getBoundAddresses()) {
            if (a instanceof InetSocketAddress i) {
                out.add(i);
            } else if (a instanceof SshdSocketAddress s) {
                out.add(s.toInetSocketAddress());
            }
        }
        return out;
    }

    /** Ends every live session (audited {@code shutdown}), stops listening, and emits {@code server.stop}. */
    public synchronized void stop(String reason) {
        if (stopped) {
            return;
        }
        stopped = true;
        synchronized (changeLock) {
            // A reload or re-check under way finishes first: its events precede the shutdown's, and
            // none begins after (see apply).
        }
        registry.terminateAll(TerminationReason.SHUTDOWN);
        try {
            sshd.stop(false);
        } catch (IOException e) {
            log.warn("stopping the SSH server: {}", e.toString());
        }
        decisions.close();
        heap.close();
        registry.close();
        for (AutoCloseable c : closeOnStop) {
            try {
                c.close();
            } catch (Exception e) {
                log.warn("stopping {}: {}", c, e.toString());
            }
        }
        auditor.emit(new AuditEvent.ServerStop(reason));
    }

    @Override
    public void close() {
        stop("shutdown");
    }
}
