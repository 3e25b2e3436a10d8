package io.sallyport.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.admin.AdminProtocol;
import io.sallyport.admin.AdminSocketClient;
import io.sallyport.net.Printable;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Asks the running server to re-read its config file (the one it was started with; {@code -c} only
 * finds the admin socket). Exit 0 when applied, listing what still needs a restart; exit 2 with
 * every problem, as {@code check-config} prints them, when the file was refused and nothing
 * changed; exit 1 when no server answers.
 */
@Command(name = "reload", description = "Re-read the running server's config and identities without dropping live sessions (same as SIGHUP).")
final class ReloadCommand implements Callable<Integer> {
    @CommandLine.Mixin
    AdminSocketOption admin;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        JsonNode r = AdminSocketClient.call(admin.socket(), new AdminProtocol.Request.Reload());
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String file = Printable.forTerminal(r.path("config").asText());
        if (!r.path("applied").asBoolean(false)) {
            for (JsonNode p : r.path("problems")) {
                err.println(Printable.forTerminal(p.asText()));
            }
            err.println("sallyport: " + file + " not reloaded: the running server keeps its configuration");
            err.flush();
            return Main.USAGE;
        }
        out.println("reloaded " + file + " (" + Printable.forTerminal(r.path("digest").asText()) + ")");
        for (JsonNode key : r.path("restart_needed")) {
            out.println("needs a restart: " + Printable.forTerminal(key.asText()));
        }
        int ended = r.path("sessions_ended").asInt();
        int closed = r.path("tunnels_closed").asInt();
        if (ended > 0 || closed > 0) {
            out.println("live sessions: " + ended + " ended, " + closed + " tunnel(s) closed by the new policy");
        }
        out.flush();
        return Main.OK;
    }
}
