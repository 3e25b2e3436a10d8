package io.sallyport.admin;

import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.Auditor;
import io.sallyport.audit.TerminationReason;
import io.sallyport.ssh.LiveSessions;
import io.sallyport.ssh.Rules;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Carries out the admin socket's commands for a caller the kernel named, and audits each one as
 * {@code admin.command}, refusals included. Sessions ended here are {@code session.terminate}
 * with reason {@code admin}. {@code explain} answers by the server's rules as they are at the
 * moment it is asked.
 */
public final class AdminCommands {
    static final TerminationReason REASON = TerminationReason.ADMIN;

    private final LiveSessions sessions;
    private final Auditor auditor;
    private final Supplier<ReloadResult> reload;
    private final Supplier<Rules> rules;
    private final Explainer explainer = Explainer.live();

    /** Refused {@code reload}, audited with it: there is no file to re-read, which is not a bad file. */
    static final String NO_RELOAD = "reload is not available: this server was not started from a config file";

    /**
     * Without reload and explain (a server assembled without its config file, in tests): both are
     * refused as commands ({@code ok: false}), audited with the reason.
     */
    public AdminCommands(LiveSessions sessions, Auditor auditor) {
        this(sessions, auditor, noReload());
    }

    /** @param reload re-reads the server's config file, never throws; null: refused. {@code explain} is refused. */
    public AdminCommands(LiveSessions sessions, Auditor auditor, Supplier<ReloadResult> reload) {
        this(sessions, auditor, reload, () -> null);
    }

    /**
     * @param reload re-reads the server's config file; never throws
     * @param rules  what the server decides by now, read afresh for each {@code explain} (a reload replaces it)
     */
    public AdminCommands(LiveSessions sessions, Auditor auditor, Supplier<ReloadResult> reload, Supplier<Rules> rules) {
        this.sessions = sessions;
        this.auditor = auditor;
        this.reload = reload;
        this.rules = rules;
    }

    /** For a server that has no config file to re-read: {@code reload} is refused ({@value #NO_RELOAD}). */
    public static Supplier<ReloadResult> noReload() {
        return null;
    }

    /** Who is on the other end of the socket, from {@code SO_PEERCRED}. */
    public record Caller(long uid, String user) {}

    /** Parses and carries out one request line; returns the response line. Never throws. */
    public String handle(String line, Caller caller) {
        AdminProtocol.Request request;
        try {
            request = AdminProtocol.parse(line);
        } catch (AdminProtocol.BadRequest e) {
            return refuse(e.command(), caller, "bad request: " + e.getMessage());
        }
        if (request instanceof AdminProtocol.Request.Explain e) {
            return explain(e, caller);
        }
        if (request instanceof AdminProtocol.Request.SshConfig c) {
            return sshConfig(c, caller);
        }
        if (request instanceof AdminProtocol.Request.Reload && reload == null) {
            return refuse(request.command(), caller, NO_RELOAD);
        }
        // Audited before it takes effect: the admin.command precedes the session.terminate it causes.
        auditor.emit(new AuditEvent.AdminCommand(request.command(), request.args(), caller.uid(), caller.user(),
                Optional.empty()));
        if (request instanceof AdminProtocol.Request.Sessions) {
            return AdminProtocol.sessions(sessions.list());
        } else if (request instanceof AdminProtocol.Request.KillIds k) {
            List<LiveSessions.Session> ended = new ArrayList<>();
            List<String> unknown = new ArrayList<>();
            for (String id : k.ids()) {
                sessions.terminate(id, REASON).ifPresentOrElse(ended::add, () -> unknown.add(id));
            }
            return AdminProtocol.killed(ended, unknown);
        } else if (request instanceof AdminProtocol.Request.KillUser u) {
            return AdminProtocol.killed(sessions.terminateUser(u.user(), REASON), List.of());
        } else if (request instanceof AdminProtocol.Request.Reload) {
            return AdminProtocol.reloaded(reload.get());
        }
        throw new IllegalStateException("unhandled request " + request);
    }

    /**
     * Answers with the decision the server would take now, by the rules in force now. Changes
     * nothing, so it is audited once answered: with the refusal's reason when it could not be.
     * Bounded in time by {@link Explainer}, whatever the resolver does.
     */
    private String explain(AdminProtocol.Request.Explain e, Caller caller) {
        Rules now = rules.get();
        if (now == null) {
            return refuse(e.command(), e.args(), caller, "explain is not served here");
        }
        String answer;
        try {
            answer = AdminProtocol.explained(explainer.explain(now, e));
        } catch (Explainer.Busy busy) {
            return refuse(e.command(), e.args(), caller, busy.getMessage());
        } catch (RuntimeException failed) {
            return refuse(e.command(), e.args(), caller, "explain failed: " + failed.getClass().getSimpleName());
        }
        auditor.emit(new AuditEvent.AdminCommand(e.command(), e.args(), caller.uid(), caller.user(), Optional.empty()));
        return answer;
    }

    /** Who the user is to the server now, by the identity sources in force now; changes nothing, audited once answered. */
    private String sshConfig(AdminProtocol.Request.SshConfig c, Caller caller) {
        Rules now = rules.get();
        if (now == null) {
            return refuse(c.command(), c.args(), caller, "ssh-config is not served here");
        }
        String answer = AdminProtocol.identified(c.user(), now.logins().lookup(c.user()), now.logins().loginRefusal(c.user()));
        auditor.emit(new AuditEvent.AdminCommand(c.command(), c.args(), caller.uid(), caller.user(), Optional.empty()));
        return answer;
    }

    /** Refuses a connection before or instead of its command; audited. */
    public String refuse(String command, Caller caller, String reason) {
        return refuse(command, List.of(), caller, reason);
    }

    private String refuse(String command, List<String> args, Caller caller, String reason) {
        auditor.emit(new AuditEvent.AdminCommand(command, args, caller.uid(), caller.user(), Optional.of(reason)));
        return AdminProtocol.error(reason);
    }
}
