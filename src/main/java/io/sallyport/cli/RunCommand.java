package io.sallyport.cli;

import io.sallyport.audit.Auditor;
import io.sallyport.config.Config;
import io.sallyport.net.TargetResolver;
import io.sallyport.ssh.BastionServer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "run", description = "Run the server in the foreground (what systemd starts).")
final class RunCommand implements Callable<Integer> {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RunCommand.class);
    static final String DEFAULT_CONFIG = "/etc/sallyport/sallyport.yaml";

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Config file (default: ${DEFAULT-VALUE}).",
            defaultValue = DEFAULT_CONFIG)
    Path config;

    @Override
    public Integer call() throws Exception {
        // First: the JVM's own answer to SIGHUP is to shut down, and systemd sends it to reload.
        HangUp hangUp = HangUp.install();
        Config c = ServerAssembly.load(config);
        c.warnings().forEach(w -> log.warn("{}", w));
        ServerAssembly.Validated v = ServerAssembly.validate(c, TargetResolver.system());
        Auditor auditor = ServerAssembly.auditor(c, System.out, List.of());
        BastionServer server = ServerAssembly.server(v, auditor);
        Reloader reloader = new Reloader(v, server, auditor, TargetResolver.system(), System.out);
        io.sallyport.admin.AdminSocket admin = ServerAssembly.adminSocket(c, server, auditor,
                () -> reloader.reload(Reloader.ADMIN));
        server.closeOnStop(admin);
        CountDownLatch stopped = stopOnSignal(server, auditor);
        server.start();
        hangUp.reloadWith(() -> reloader.reload(Reloader.SIGNAL));
        stopped.await();
        return Main.OK;
    }

    /**
     * Arranges an orderly shutdown on SIGTERM/SIGINT (sessions, listener, then {@code server.stop}
     * and the audit sinks). Call before {@link BastionServer#start}: a signal that arrives the
     * moment the server starts must still be audited as a stop.
     *
     * @return a latch that opens once the shutdown is done
     */
    static CountDownLatch stopOnSignal(BastionServer server, Auditor auditor) {
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop("shutdown");
            auditor.close();
            done.countDown();
        }, "sallyport-shutdown"));
        return done;
    }
}
