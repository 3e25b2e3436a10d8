package io.sallyport.cli;

import io.sallyport.config.Config;
import io.sallyport.identity.Identity;
import io.sallyport.net.IpLiterals;
import io.sallyport.net.Printable;
import io.sallyport.net.TargetResolver;
import io.sallyport.policy.Decision;
import io.sallyport.policy.RoleConditions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Prints the policy decision for one user and target, exactly as the server would take it: the
 * same {@link io.sallyport.policy.ForwardingPolicy}, the same resolver, the same {@link Decision}.
 * Exit 0 whether allowed or denied: the answer is the output.
 */
@Command(name = "explain", description = "Show the policy decision for one user and target, with the rule or the reason.")
final class ExplainCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE", defaultValue = RunCommand.DEFAULT_CONFIG,
            description = "Config file (default: ${DEFAULT-VALUE}).")
    Path config;

    @Option(names = "--user", required = true, paramLabel = "U", description = "SSH user name.")
    String user;

    @Option(names = "--target", required = true, paramLabel = "HOST:PORT", description = "Target as the client would send it.")
    String target;

    @Option(names = "--from", paramLabel = "IP", description = "Client address the login comes from (decides the roles' from).")
    String from;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        int colon = target.lastIndexOf(':');
        if (colon <= 0 || colon == target.length() - 1 || !target.substring(colon + 1).matches("[0-9]{1,5}")) {
            throw new Main.UsageException("--target must be HOST:PORT, e.g. 10.0.3.17:22 or db.internal.corp:5432");
        }
        String host = target.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = Integer.parseInt(target.substring(colon + 1));
        if (from != null && IpLiterals.parse(from).isEmpty()) {
            throw new Main.UsageException("--from must be an IP address, not '" + Printable.forTerminal(from) + "'");
        }

        Config c = ServerAssembly.load(config);
        ServerAssembly.Validated v = ServerAssembly.validate(c, TargetResolver.system());
        PrintWriter out = spec.commandLine().getOut();
        // The user name and host are typed or pasted (from a log, a ticket): shown escaped, decided on as given.
        out.printf("user:     %s%n", Printable.forTerminal(user));
        out.printf("target:   %s%n", Printable.forTerminal(new Config.HostPort(host, port).toString()));
        if (from != null) {
            out.printf("from:     %s%n", IpLiterals.format(IpLiterals.parse(from).get()));
        }
        out.printf("identity: config only (%s)%n", Printable.forTerminal(c.source().toString()));

        Optional<Identity> identity = v.local().lookup(user);
        if (identity.isEmpty()) {
            out.println("decision: DENY");
            out.printf(c.identity().iam().enabled()
                    ? "reason:   no user '%s' in identity.local; IAM users are known only to the running server"
                            + " (identity.iam is on), and explain reads the config alone%n"
                    : "reason:   no user '%s' in identity.local; no login, so no tunnel%n", Printable.forTerminal(user));
            out.flush();
            return Main.OK;
        }
        List<String> given = identity.get().roles();
        out.printf("roles:    %s%n", given.isEmpty() ? "(none)" : Printable.forTerminal(String.join(", ", given)));
        // The roles' from (judged on --from) and require (a condition on the login's key, shown).
        RoleConditions.Explained conditions = v.policy().conditions().explain(given,
                Optional.ofNullable(from).flatMap(IpLiterals::parse));
        for (RoleConditions.Dropped dropped : conditions.dropped()) {
            out.printf("dropped:  %s (%s)%n", Printable.forTerminal(dropped.role()), Printable.forTerminal(dropped.reason()));
        }
        for (String condition : conditions.pending()) {
            out.printf("requires: %s%n", Printable.forTerminal(condition));
        }
        List<String> roles = conditions.kept();
        Decision d = v.policy().decide(roles, host, port);
        if (d instanceof Decision.Allow allow) {
            out.println("decision: ALLOW");
            out.printf("rule:     %s (role %s)%n", Printable.forTerminal(allow.rule()), Printable.forTerminal(allow.role()));
            String ip = IpLiterals.format(allow.address());
            out.printf("connects: %s%n", ip.indexOf(':') >= 0 ? "[" + ip + "]:" + port : ip + ":" + port);
        } else {
            Decision.Deny deny = (Decision.Deny) d;
            out.println("decision: DENY");
            out.printf("reason:   %s%n", Printable.forTerminal(deny.reason()));
        }
        out.flush();
        return Main.OK;
    }
}
