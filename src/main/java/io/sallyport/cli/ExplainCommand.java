package io.sallyport.cli;

import io.sallyport.admin.AdminProtocol;
import io.sallyport.admin.AdminSocketClient;
import io.sallyport.admin.Explainer;
import io.sallyport.admin.Explanation;
import io.sallyport.config.Config;
import io.sallyport.identity.Identity;
import io.sallyport.identity.IdentitySource;
import io.sallyport.identity.KeyPolicy;
import io.sallyport.identity.Logins;
import io.sallyport.net.IpLiterals;
import io.sallyport.net.Printable;
import io.sallyport.net.TargetResolver;
import io.sallyport.policy.Decision;
import io.sallyport.ssh.Rules;
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
 * Asks the running server first, over its admin socket, so IAM users and their current roles are
 * known; when no server answers there, decides from the config alone and says so. Exit 0 whether
 * allowed or denied: the answer is the output.
 */
@Command(name = "explain", description = "Show the policy decision for one user and target, with the rule or the reason"
        + " (from the running server when its admin socket answers, else from the config alone).")
final class ExplainCommand implements Callable<Integer> {
    /** {@code -c FILE} names the socket and, when no server answers there, the rules; {@code --socket PATH} the socket. */
    @CommandLine.Mixin
    AdminSocketOption admin;

    @Option(names = "--user", required = true, paramLabel = "U", description = "SSH user name.")
    String user;

    @Option(names = "--target", required = true, paramLabel = "HOST:PORT", description = "Target as the client would send it.")
    String target;

    @Option(names = "--from", paramLabel = "IP", description = "Client address the login would come from.")
    String from;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        AdminProtocol.Request.Explain question = question();
        Path socketPath = admin.socket();
        Explanation answer;
        String identityLine;
        try {
            answer = AdminProtocol.explanation(AdminSocketClient.call(socketPath, question));
            identityLine = "live (the server answering on " + socketPath + ")";
        } catch (AdminSocketClient.NotAnswering e) {
            answer = fromConfigAlone(question);
            identityLine = "config only (no running server answered on " + socketPath + ")";
        }
        print(spec.commandLine().getOut(), answer, identityLine);
        return Main.OK;
    }

    /** The request as the server will parse it: a bad one is bad usage here, before any server is asked. */
    private AdminProtocol.Request.Explain question() throws Main.UsageException {
        Config.HostPort hp = AdminProtocol.hostPort(target).orElseThrow(() -> new Main.UsageException(
                "--target must be HOST:PORT, e.g. 10.0.3.17:22 or db.internal.corp:5432"));
        Optional<String> client = Optional.empty();
        if (from != null) {
            client = Optional.of(IpLiterals.format(IpLiterals.parse(from).orElseThrow(() -> new Main.UsageException(
                    "--from must be an IP address, not '" + Printable.forTerminal(from) + "'"))));
        }
        AdminProtocol.Request.Explain q = new AdminProtocol.Request.Explain(user, hp, client);
        try {
            return (AdminProtocol.Request.Explain) AdminProtocol.parse(AdminProtocol.encode(q));
        } catch (AdminProtocol.BadRequest e) {
            throw new Main.UsageException(e.getMessage());
        }
    }

    /**
     * The config's own rules with its local users as the only identity source: IAM users exist only
     * in a running server's memory, and a certificate only in its holder's hands.
     */
    private Explanation fromConfigAlone(AdminProtocol.Request.Explain question) throws Exception {
        Config c = ServerAssembly.load(admin.config);
        ServerAssembly.Validated v = ServerAssembly.validate(c, TargetResolver.system());
        Logins local = new Logins(new KeyPolicy(c.policy().minRsaBits()), List.<IdentitySource>of(v.local()));
        return Explainer.configOnly().explain(new Rules(c, local, v.policy()), question);
    }

    /** The same lines whoever answered; everything from outside escaped for the terminal. */
    static void print(PrintWriter out, Explanation x, String identityLine) {
        AdminProtocol.Request.Explain q = x.question();
        // The user name and host are typed or pasted (from a log, a ticket): shown escaped, decided on as given.
        out.printf("user:     %s%n", Printable.forTerminal(q.user()));
        out.printf("target:   %s%n", Printable.forTerminal(q.target().toString()));
        q.from().ifPresent(f -> out.printf("from:     %s%n", Printable.forTerminal(f)));
        out.printf("identity: %s%n", Printable.forTerminal(identityLine));
        if (x.identity().isPresent()) {
            Identity who = x.identity().get();
            out.printf("source:   %s%n", Printable.forTerminal(who.source()
                    + (who.iamArn().isPresent() ? " (" + who.iamArn().get() + ")"
                            : who.user().equals(q.user()) ? "" : " (as " + who.user() + ")")));
            out.printf("roles:    %s%n", who.roles().isEmpty() ? "(none)" : Printable.forTerminal(String.join(", ", who.roles())));
        }
        if (x.decision() instanceof Decision.Allow allow) {
            out.println("decision: ALLOW");
            out.printf("rule:     %s (role %s)%n", Printable.forTerminal(allow.rule()), Printable.forTerminal(allow.role()));
            out.printf("connects: %s%n", new Config.HostPort(IpLiterals.format(allow.address()), q.target().port()));
        } else {
            out.println("decision: DENY");
            out.printf("reason:   %s%n", Printable.forTerminal(((Decision.Deny) x.decision()).reason()));
        }
        for (String note : x.notes()) {
            out.printf("note:     %s%n", Printable.forTerminal(note));
        }
        out.flush();
    }
}
