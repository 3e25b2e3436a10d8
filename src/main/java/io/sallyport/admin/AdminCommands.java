package io.sallyport.admin;

import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.Auditor;
import io.sallyport.audit.TerminationReason;
import io.sallyport.ssh.LiveSessions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Carries out the admin socket's commands for a caller the kernel named, and audits each one as
 * {@code admin.command}, refusals included. Sessions ended here are {@code session.terminate}
 * with reason {@code admin}.
 */
public final class AdminCommands {
    static final TerminationReason REASON = TerminationReason.ADMIN;

    private final LiveSessions sessions;
    private final Auditor auditor;
    private final java.util.function.Supplier<ReloadResult> reload;

    /** Refused {@code reload}, audited with it: there is no file to re-read, which is not a bad file. */
    static final String NO_RELOAD = "reload is not available: this server was not started from a config file";

    /**
     * Without reload (a server assembled without its config file, in tests): {@code reload} is
     * refused as a command ({@code ok: false}, {@value #NO_RELOAD}), audited with that reason.
     */
    public AdminCommands(LiveSessions sessions, Auditor auditor) {
        this.sessions = sessions;
        this.auditor = auditor;
        this.reload = null;
    }

    /** @param reload re-reads the server's config file; never throws */
    public AdminCommands(LiveSessions sessions, Auditor auditor, java.util.function.Supplier<ReloadResult> reload) {
        this.sessions = sessions;
        this.auditor = auditor;
        this.reload = java.util.Objects.requireNonNull(reload);
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

    /** Refuses a connection before or instead of its command; audited. */
    public String refuse(String command, Caller caller, String reason) {
        auditor.emit(new AuditEvent.AdminCommand(command, List.of(), caller.uid(), caller.user(), Optional.of(reason)));
        return AdminProtocol.error(reason);
    }
}
