package io.sallyport.it;

import io.sallyport.audit.Auditor;
import io.sallyport.audit.CloudWatchShipper;
import io.sallyport.cli.ServerAssembly;
import io.sallyport.config.Config;
import io.sallyport.config.ConfigLoader;
import io.sallyport.net.TargetResolver;
import io.sallyport.ssh.BastionServer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A real sallyport server in the test JVM, built the way {@code sallyport run} builds it (same
 * config loader, same assembly), listening on 127.0.0.1 on a free port, with its audit events
 * recorded and DNS answered by the test.
 */
public final class BastionFixture implements AutoCloseable {
    private final BastionServer server;
    private final RecordingAuditSink audit = new RecordingAuditSink();
    private final Path configFile;
    private final Auditor auditor;

    private BastionFixture(Path dir, String yaml, TargetResolver resolver, CloudWatchShipper.Tuning tuning) throws Exception {
        configFile = dir.resolve("sallyport.yaml");
        Files.writeString(configFile, yaml);
        Config loaded = ConfigLoader.load(configFile);
        // A test that wants metrics names admin.metrics_listen; the others must not all reach for
        // the default 127.0.0.1:9810, which only the first fixture on the machine would get.
        Config config = yaml.contains("metrics_listen") ? loaded : withoutMetrics(loaded);
        ServerAssembly.Validated v = ServerAssembly.validate(config, resolver);
        auditor = ServerAssembly.auditor(config, new PrintStream(PrintStream.nullOutputStream()), List.of(audit), tuning);
        server = ServerAssembly.server(v, auditor);
        server.start();
    }

    private static Config withoutMetrics(Config c) {
        return new Config(c.source(), c.listen(), c.hostKeys(), c.hostCertificate(), c.crypto(), c.proxyProtocol(),
                c.identity(), c.policy(), c.limits(), c.audit(), new Config.Admin(c.admin().socket(), java.util.Optional.empty()),
                c.warnings());
    }

    /**
     * @param yamlBody config without {@code listen} and {@code host_keys}, which the fixture sets
     */
    public static BastionFixture start(Path dir, String yamlBody, TargetResolver resolver) throws Exception {
        return start(dir, yamlBody, resolver, CloudWatchShipper.Tuning.DEFAULTS);
    }

    /** @param tuning the CloudWatch shipper's timing (tests shorten backoff and linger) */
    public static BastionFixture start(Path dir, String yamlBody, TargetResolver resolver, CloudWatchShipper.Tuning tuning)
            throws Exception {
        String yaml = "listen: [\"127.0.0.1:" + freePort() + "\"]\n"
                + "host_keys: [\"" + dir.resolve("host_key") + "\"]\n"
                + yamlBody;
        return new BastionFixture(dir, yaml, resolver, tuning);
    }

    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public int port() {
        return server.boundAddresses().get(0).getPort();
    }

    /** The host key line for known_hosts, as generated on first start. */
    public String hostKeyLine() throws Exception {
        String line = Files.readString(configFile.resolveSibling("host_key.pub")).trim();
        String[] f = line.split("\\s+");
        return f[0] + " " + f[1];
    }

    /** The server itself, for what a test drives directly (a reload, say). */
    public BastionServer server() {
        return server;
    }

    /** The server's audit pipeline (spool and shipper when CloudWatch is on). */
    public Auditor auditor() {
        return auditor;
    }

    public RecordingAuditSink audit() {
        return audit;
    }

    public Path configFile() {
        return configFile;
    }

    @Override
    public void close() {
        server.close();
        auditor.close();
    }
}
