package io.sallyport.ssh;

import io.sallyport.net.Printable;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.sshd.common.util.buffer.Buffer;

/**
 * A request a client sent on a {@code session} channel, as the {@code request.reject} event names
 * it. Every such request is refused; this decides which deserve an event and what it says.
 *
 * <p>Audited: what asks the server to run or forward something — {@code shell}, {@code exec},
 * {@code subsystem}, {@code agent}, {@code x11}, {@code pty} ({@code ssh -t}), {@code env}
 * ({@code SendEnv}/{@code SetEnv}) — and {@code other}, any request type this list does not know.
 * Not audited: {@code window-change}, {@code signal}, {@code break} and {@code eow@openssh.com},
 * which only make sense for a shell or command that was already refused (and audited), and
 * {@code keepalive@openssh.com} and PuTTY's {@code winadj@}/{@code simple@}, which are liveness
 * and flow-control pings every client of that kind sends.
 *
 * <p>Never recorded: commands sent with {@code exec} and the values of {@code env} (either may
 * hold secrets). An {@code env} variable's name is kept when it looks like one.
 *
 * @param request the name the audit event uses ({@code request} field)
 * @param detail  what the reason shows of it: the request name, or with a subsystem or variable name
 */
record SessionChannelRequest(String request, String detail) {
    private static final Map<String, String> AUDITED = Map.of(
            "shell", "shell",
            "exec", "exec",
            "subsystem", "subsystem",
            "auth-agent-req@openssh.com", "agent",
            "auth-agent-req", "agent",
            "x11-req", "x11",
            "pty-req", "pty",
            "env", "env");

    private static final Set<String> QUIET = Set.of(
            "window-change", "signal", "break", "eow@openssh.com",
            "keepalive@openssh.com", "winadj@putty.projects.tartarus.org", "simple@putty.projects.tartarus.org");

    /** What a shell would accept as a variable name; anything else is not recorded. */
    private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");

    /**
     * @param type    the request type as sent (hostile: any bytes)
     * @param payload the request's data, positioned after {@code want-reply}
     * @return the event to emit, or empty for a request refused without one
     */
    static Optional<SessionChannelRequest> of(String type, Buffer payload) {
        if (QUIET.contains(type)) {
            return Optional.empty();
        }
        String request = AUDITED.get(type);
        if (request == null) {
            return Optional.of(new SessionChannelRequest("other", "session request '" + Printable.of(type) + "'"));
        }
        return Optional.of(new SessionChannelRequest(request, switch (request) {
            case "subsystem" -> "subsystem " + firstString(payload).map(Printable::of).orElse("(unreadable name)");
            case "env" -> "env " + firstString(payload).filter(n -> VARIABLE_NAME.matcher(n).matches())
                    .orElse("(a variable whose name is not recorded)");
            default -> request;
        }));
    }

    String reason() {
        return detail + " is not available on a jump server; use ssh -J or ssh -W";
    }

    private static Optional<String> firstString(Buffer payload) {
        try {
            return Optional.of(payload.getString());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
