package io.sallyport.cli;

import io.sallyport.admin.ReloadResult;
import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.AuditSink;
import io.sallyport.audit.Auditor;
import io.sallyport.audit.JsonLinesFileSink;
import io.sallyport.audit.StdoutSink;
import io.sallyport.config.Config;
import io.sallyport.config.ConfigException;
import io.sallyport.config.ConfigProblem;
import io.sallyport.net.TargetResolver;
import io.sallyport.ssh.BastionServer;
import io.sallyport.ssh.Rules;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sallyport reload} and SIGHUP: re-reads the file the server started with, checks it whole
 * exactly as {@code run} and {@code check-config} do, and either applies it at once or changes
 * nothing. Both outcomes are audited as {@code config.reload}; a refusal's reason lists every
 * problem. Applying swaps the rules (roles, rules, identities, CAs, revocation list, limits,
 * crypto for new connections) and the audit file and stdout sinks, and holds every live session
 * to the new rules; the keys {@link RestartNeeded}
 * names keep their running values and are reported.
 */
final class Reloader {
    private static final Logger log = LoggerFactory.getLogger(Reloader.class);
    /** {@code config.reload} triggers. */
    static final String ADMIN = "admin";
    static final String SIGNAL = "signal";
    /** Bound on the audited reason: a file with a thousand problems is still one readable event. */
    private static final int MAX_REASON_CHARS = 4000;

    private final ServerAssembly.Validated started;
    private final BastionServer server;
    private final Auditor auditor;
    private final TargetResolver resolver;
    private final java.io.PrintStream stdout;
    /** The audit sinks in force: the config's at start, then each applied reload's. */
    private Config.Audit sinksInForce;

    /** @param stdout where {@code audit.stdout} writes, when a reload turns it on */
    Reloader(ServerAssembly.Validated started, BastionServer server, Auditor auditor, TargetResolver resolver,
             java.io.PrintStream stdout) {
        this.started = started;
        this.server = server;
        this.auditor = auditor;
        this.resolver = resolver;
        this.stdout = stdout;
        this.sinksInForce = started.config().audit();
    }

    /** Reloads now; one reload at a time. Never throws: a failure is a refused result. */
    synchronized ReloadResult reload(String trigger) {
        Config running = started.config();
        Path file = running.source().toAbsolutePath();
        Config next;
        ServerAssembly.Validated v;
        try {
            next = ServerAssembly.load(file);
            v = ServerAssembly.validate(next, resolver, started.iam());
        } catch (ConfigException e) {
            return refused(trigger, file, e.problems().stream().map(ConfigProblem::toString).toList());
        } catch (Main.UsageException | IOException | RuntimeException e) {
            return refused(trigger, file, List.of(String.valueOf(e.getMessage())));
        }
        Config.Audit audit = next.audit();
        boolean newFile = !audit.file().equals(sinksInForce.file());
        boolean newStdout = audit.stdout() != sinksInForce.stdout();
        List<AuditSink> sinks = new ArrayList<>();
        if (newFile && audit.file().isPresent()) {
            try {
                sinks.add(new JsonLinesFileSink(audit.file().get()));
            } catch (IOException | RuntimeException e) {
                return refused(trigger, file, List.of(file + ": audit.file: cannot open " + audit.file().get() + ": "
                        + e.getMessage()));
            }
        }
        if (newStdout && audit.stdout()) {
            sinks.add(new StdoutSink(stdout));
        }
        next.warnings().forEach(w -> log.warn("{}", w));
        List<String> restart = RestartNeeded.between(running, next);
        String digest = BastionServer.configDigest(next);
        BastionServer.Followed followed;
        try {
            followed = server.apply(new Rules(next, v.logins(), v.policy()), v.revoked(), () -> {
                // In the trail the sinks had: a file being replaced ends with the reload that replaced it.
                auditor.emit(new AuditEvent.ConfigReload(trigger, file.toString(), true, Optional.of(digest), restart,
                        Optional.empty()));
                // Here, under the server's change lock: a refresh under the new IAM rules is re-checked
                // against the new policy, never the old one.
                if (next.identity().iam().enabled()) {
                    started.iam().ifPresent(iam -> iam.reconfigure(next));
                }
                if (newFile || newStdout) {
                    auditor.replaceSinks(s -> (newFile && s instanceof JsonLinesFileSink)
                            || (newStdout && s instanceof StdoutSink), sinks);
                }
            });
        } catch (IllegalStateException e) {
            // The server stopped meanwhile: nothing applied, and no event may follow server.stop.
            closeAll(sinks);
            log.warn("config {} not reloaded ({}): {}", file, trigger, e.getMessage());
            return ReloadResult.refused(file.toString(), List.of(e.getMessage()));
        }
        sinksInForce = audit;
        log.info("config {} reloaded ({}, {}){}; {} session(s) ended, {} tunnel(s) closed", file, trigger, digest,
                restart.isEmpty() ? "" : "; needs a restart to apply: " + String.join(", ", restart),
                followed.sessionsEnded(), followed.tunnelsClosed());
        return new ReloadResult(true, file.toString(), Optional.of(digest), restart, List.of(), followed.sessionsEnded(),
                followed.tunnelsClosed());
    }

    private static void closeAll(List<AuditSink> sinks) {
        for (AuditSink s : sinks) {
            try {
                s.close();
            } catch (Exception e) {
                log.warn("closing audit sink {}: {}", s.getClass().getSimpleName(), e.toString());
            }
        }
    }

    private ReloadResult refused(String trigger, Path file, List<String> problems) {
        log.error("config {} not reloaded ({}); the running configuration stays in force:{}", file, trigger,
                problems.stream().map(p -> "\n  " + p).reduce("", String::concat));
        String reason = String.join("; ", problems);
        if (reason.length() > MAX_REASON_CHARS) {
            reason = reason.substring(0, MAX_REASON_CHARS) + "… (" + problems.size() + " problems)";
        }
        auditor.emit(new AuditEvent.ConfigReload(trigger, file.toString(), false, Optional.empty(), List.of(),
                Optional.of(reason)));
        return ReloadResult.refused(file.toString(), problems);
    }
}
