package io.sallyport.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.admin.AdminProtocol;
import io.sallyport.admin.AdminSocketClient;
import io.sallyport.config.Config;
import io.sallyport.net.Printable;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Ends live sessions of the running server, through the admin socket; each is audited as
 * {@code session.terminate}, reason {@code admin}. Exit 1 when an id names no live session; a
 * user with no live session is not an error (a fleet-wide {@code kill --user} finds most
 * instances without one).
 */
@Command(name = "kill", description = "End live sessions by id, or every session of a user (admin socket).")
final class KillCommand implements Callable<Integer> {
    @CommandLine.Mixin
    AdminSocketOption admin;

    @Option(names = "--user", paramLabel = "U", description = "End every session of this user.")
    String user;

    @Parameters(paramLabel = "ID", arity = "0..*", description = "Session ids, as `sallyport sessions` lists them.")
    List<String> ids;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        boolean byId = ids != null && !ids.isEmpty();
        if (byId == (user != null)) {
            throw new Main.UsageException("kill takes session ids or --user U, not both nor neither");
        }
        if (byId && ids.size() > AdminProtocol.MAX_IDS) {
            throw new Main.UsageException("at most " + AdminProtocol.MAX_IDS + " session ids at once");
        }
        if (byId) {
            for (String id : ids) {
                if (!id.matches("[0-9a-f]{1,64}")) {
                    throw new Main.UsageException("not a session id: '" + Printable.forTerminal(id) + "'");
                }
            }
        } else if (user.isEmpty() || user.length() > AdminProtocol.MAX_USER_CHARS) {
            throw new Main.UsageException("--user must be a user name");
        }
        AdminProtocol.Request request = byId ? new AdminProtocol.Request.KillIds(ids) : new AdminProtocol.Request.KillUser(user);
        JsonNode response = AdminSocketClient.call(admin.socket(), request);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        for (JsonNode s : response.path("ended")) {
            out.println(Printable.forTerminal("ended " + s.path("id").asText() + " (" + s.path("user").asText("not logged in")
                    + " from " + new Config.HostPort(s.path("client").path("ip").asText(),
                    s.path("client").path("port").asInt()) + ")"));
        }
        int code = Main.OK;
        for (JsonNode id : response.path("unknown")) {
            err.println("sallyport: no live session " + Printable.forTerminal(id.asText()));
            code = Main.FAILURE;
        }
        if (!byId && response.path("ended").isEmpty()) {
            out.println("no live session of " + Printable.forTerminal(user));
        }
        out.flush();
        err.flush();
        return code;
    }
}
