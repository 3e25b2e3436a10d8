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
    static final String DEFAULT_CONFIG = "/etc/sallyport/sallyport.yaml";

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Config file (default: ${DEFAULT-VALUE}).",
            defaultValue = DEFAULT_CONFIG)
    Path config;

    @Override
    public Integer call() throws Exception {
        Config c = ServerAssembly.load(config);
        ServerAssembly.Validated v = ServerAssembly.validate(c, TargetResolver.system());
        Auditor auditor = ServerAssembly.auditor(c, System.out, List.of());
        BastionServer server = ServerAssembly.server(v, auditor);
        // Before start: a SIGTERM that lands while starting still stops in order and lets the
        // audit shipper drain, instead of ending the JVM with no hook at all.
        CountDownLatch done = stopOnSignal(server, auditor);
        server.start();
        done.await();
        return Main.OK;
    }

    /** Blocks until SIGTERM/SIGINT, then shuts down in order: sessions, listener, audit. */
    static void runUntilStopped(BastionServer server, Auditor auditor) throws InterruptedException {
        stopOnSignal(server, auditor).await();
    }

    /** Installs the shutdown hook; the latch opens once sessions, listener and audit are shut down. */
    private static CountDownLatch stopOnSignal(BastionServer server, Auditor auditor) {
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop("shutdown");
            auditor.close();
            done.countDown();
        }, "sallyport-shutdown"));
        return done;
    }
}
