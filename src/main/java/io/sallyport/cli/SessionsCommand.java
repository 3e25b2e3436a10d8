package io.sallyport.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.admin.AdminProtocol;
import io.sallyport.admin.AdminSocketClient;
import io.sallyport.config.Config;
import io.sallyport.net.Printable;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Lists the running server's live sessions, through the admin socket. */
@Command(name = "sessions", description = "List live sessions of the running server (admin socket).")
final class SessionsCommand implements Callable<Integer> {
    @CommandLine.Mixin
    AdminSocketOption admin;

    @Option(names = "--json", description = "One JSON object, as the admin socket sends it (docs/operations.md).")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        JsonNode response = AdminSocketClient.call(admin.socket(), new AdminProtocol.Request.Sessions());
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(response);
        } else {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"ID", "USER", "CLIENT", "AUTH", "STARTED", "TUNNELS", "BYTES UP/DOWN"});
            for (JsonNode s : response.path("sessions")) {
                rows.add(row(s));
            }
            print(out, rows);
        }
        out.flush();
        return Main.OK;
    }

    private static String[] row(JsonNode s) {
        JsonNode auth = s.path("auth");
        String authText = auth.isMissingNode() ? "-"
                : auth.path("source").asText("?") + "/" + auth.path("method").asText("?") + roles(auth.path("roles"));
        List<String> tunnels = new ArrayList<>();
        for (JsonNode t : s.path("tunnels")) {
            JsonNode target = t.path("target");
            tunnels.add(new Config.HostPort(target.path("host").asText(), target.path("port").asInt()).toString());
        }
        return new String[] {
            s.path("id").asText(),
            s.has("user") ? s.path("user").asText() : "-",
            new Config.HostPort(s.path("client").path("ip").asText(), s.path("client").path("port").asInt()).toString(),
            authText,
            s.path("started").asText(),
            tunnels.isEmpty() ? "-" : String.join(",", tunnels),
            s.path("bytes_up").asLong() + "/" + s.path("bytes_down").asLong()
        };
    }

    private static String roles(JsonNode roles) {
        List<String> r = new ArrayList<>();
        roles.forEach(n -> r.add(n.asText()));
        return r.isEmpty() ? "" : " [" + String.join(",", r) + "]";
    }

    /** Columns padded to their widest cell; every cell escaped, as user names and hosts come from clients. */
    private static void print(PrintWriter out, List<String[]> rows) {
        int columns = rows.get(0).length;
        int[] width = new int[columns];
        for (String[] row : rows) {
            for (int i = 0; i < columns; i++) {
                row[i] = Printable.forTerminal(row[i]);
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < columns; i++) {
                line.append(i == columns - 1 ? row[i] : String.format("%-" + width[i] + "s  ", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
