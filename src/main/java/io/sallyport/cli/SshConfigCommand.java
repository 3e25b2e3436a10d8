package io.sallyport.cli;

import io.sallyport.admin.AdminProtocol;
import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.admin.AdminSocketClient;
import io.sallyport.config.Config;
import io.sallyport.identity.Identity;
import io.sallyport.identity.KeyAgeLimit;
import io.sallyport.identity.SshCertificate;
import io.sallyport.identity.SshPublicKey;
import io.sallyport.net.Printable;
import io.sallyport.net.TargetResolver;
import io.sallyport.policy.AllowRule;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Prints what an engineer pastes to reach the private hosts their roles allow: a
 * {@code ~/.ssh/config} block ({@code Host bastion}, then one {@code Host} line with
 * {@code ProxyJump bastion} per allow rule that {@link HostPatterns} can express exactly) and the
 * {@code known_hosts} lines that let OpenSSH trust the bastion at first contact.
 *
 * <p>Like {@code explain}, it asks the running server over its admin socket who the user is now
 * (IAM users and their current roles included); the rules are those of the config file. When no
 * server answers, the user must be in {@code identity.local}, and the block says that IAM users'
 * roles are known only to the running server. A certificate holder's roles are in the certificate.
 */
@Command(name = "ssh-config", description = "Print the ~/.ssh/config block and known_hosts lines an engineer pastes"
        + " to reach, through this bastion, the private hosts their roles allow.")
final class SshConfigCommand implements Callable<Integer> {
    /** The alias every printed {@code ProxyJump} names. */
    static final String ALIAS = "bastion";
    /** The line between the two parts of the output; what comes after it goes into known_hosts. */
    static final String KNOWN_HOSTS_HEADER = "# --- append to ~/.ssh/known_hosts ---";

    /** {@code -c FILE}: the rules and the socket; {@code --socket PATH} the socket. */
    @CommandLine.Mixin
    AdminSocketOption admin;

    @Option(names = "--user", required = true, paramLabel = "U", description = "SSH user name (identity.local).")
    String user;

    @Option(names = "--bastion", paramLabel = "HOST[:PORT]",
            description = "The name engineers reach the bastion by (default: the first listen address; port: its port).")
    String bastion;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // Written into ssh_config as User: nothing that could end the value or start another keyword.
        if (!user.matches("[A-Za-z0-9._@+-]{1,64}") || user.startsWith("-")) {
            throw new Main.UsageException("--user must be a user name (letters, digits, '.', '_', '@', '+', '-')");
        }
        Config c = ServerAssembly.load(admin.config);
        Config.HostPort where = bastionAddress(c);
        ServerAssembly.Validated v = ServerAssembly.validate(c, TargetResolver.system());
        Path socket = admin.socket();
        List<String> roles;
        List<String> about = new ArrayList<>();
        try {
            JsonNode answer = AdminSocketClient.call(socket, new AdminProtocol.Request.SshConfig(user));
            Optional<Identity> who = AdminProtocol.identity(answer);
            if (who.isEmpty()) {
                return unknown("the running server (on " + socket + ") knows no user '" + user + "'"
                        + (c.identity().certificates().authorities().isEmpty() ? ""
                                : "; a certificate holder's roles are in their certificate"));
            }
            roles = who.get().roles();
            about.add("# roles from the running server on " + socket + ": " + Printable.of(who.get().source()
                    + who.get().iamArn().map(arn -> " (" + arn + ")").orElse("")) + "; rules from " + admin.config);
            AdminProtocol.refused(answer).ifPresent(r -> about.add("# WARNING: a login as " + user + " is refused now: "
                    + Printable.of(r)));
        } catch (AdminSocketClient.NotAnswering e) {
            Config.LocalUser local = c.identity().localUsers().get(user);
            if (local == null) {
                return unknown("no user '" + user + "' in identity.local of " + admin.config + " and no running server answered on "
                        + socket + (c.identity().iam().enabled() ? " (IAM users are known only to the running server)" : ""));
            }
            roles = local.roles();
            about.add("# roles from identity.local in " + admin.config + " (no running server answered on " + socket
                    + "; IAM users' roles are known only to it)");
        }
        about.addAll(keyWarnings(v, user));
        PrintWriter out = spec.commandLine().getOut();
        out.print(render(c, user, roles, where, about, knownHosts(c, where)));
        out.flush();
        return Main.OK;
    }

    private int unknown(String message) {
        spec.commandLine().getErr().println("sallyport: " + Printable.forTerminal(message));
        spec.commandLine().getErr().flush();
        return Main.FAILURE;
    }

    /** {@code --bastion}, or the first listen address when it names one host. */
    private Config.HostPort bastionAddress(Config c) throws Main.UsageException {
        int listenPort = c.listen().isEmpty() ? 22 : c.listen().get(0).port();
        if (bastion == null) {
            Config.HostPort first = c.listen().isEmpty() ? new Config.HostPort("0.0.0.0", 22) : c.listen().get(0);
            if (first.host().equals("0.0.0.0") || first.host().equals("::")) {
                throw new Main.UsageException("--bastion HOST[:PORT] is needed: the server listens on " + first
                        + ", every address; name the one engineers reach");
            }
            return first;
        }
        Config.HostPort hp;
        if (bastion.startsWith("[") || bastion.chars().filter(ch -> ch == ':').count() == 1) {
            hp = AdminProtocol.hostPort(bastion).orElseThrow(() -> new Main.UsageException(
                    "--bastion must be HOST or HOST:PORT, not '" + Printable.forTerminal(bastion) + "'"));
        } else {
            hp = new Config.HostPort(bastion, listenPort);
        }
        // It is written into ssh_config and known_hosts: nothing there may start a new keyword or field.
        if (!hp.host().matches("[A-Za-z0-9.:-]{1,253}") || hp.host().startsWith("-")) {
            throw new Main.UsageException("--bastion must be a host name or IP address, not '" + Printable.forTerminal(bastion) + "'");
        }
        return hp;
    }

    /** One comment line per key of the user's that {@code identity.max_key_age} refuses now or soon. */
    static List<String> keyWarnings(ServerAssembly.Validated v, String user) {
        KeyAgeLimit limit = v.logins().keyAge();
        List<String> lines = new ArrayList<>();
        if (limit.max().isEmpty()) {
            return lines;
        }
        for (var key : v.local().keysOf(user)) {
            KeyAgeLimit.Verdict verdict = limit.judge(key.getValue());
            if (verdict instanceof KeyAgeLimit.Verdict.Refused r) {
                lines.add("# WARNING: key " + key.getKey().fingerprint() + " is REFUSED: " + Printable.of(r.reason()));
            } else if (verdict instanceof KeyAgeLimit.Verdict.Near n) {
                lines.add("# WARNING: key " + key.getKey().fingerprint() + ": " + Printable.of(n.warning()));
            }
        }
        return lines;
    }

    /**
     * The {@code @cert-authority} line when a host certificate is served (its CA, read from the
     * certificate), else the host keys' public halves; a comment where a file cannot be read.
     */
    static List<String> knownHosts(Config c, Config.HostPort where) {
        String pattern = where.port() == 22 ? where.host() : "[" + where.host() + "]:" + where.port();
        List<String> lines = new ArrayList<>();
        if (c.hostCertificate().isPresent()) {
            Path file = c.hostCertificate().get();
            try {
                SshPublicKey cert = SshPublicKey.parseLine(Files.readString(file).trim());
                SshCertificate parsed = SshCertificate.parse(cert.blob());
                lines.add("@cert-authority " + pattern + " " + parsed.signatureKey().toLine());
                return lines;
            } catch (IOException | RuntimeException e) {
                lines.add("# host_certificate " + file + " cannot be read (" + Printable.of(String.valueOf(e.getMessage()))
                        + "); the host keys follow");
            }
        }
        for (Path key : c.hostKeys()) {
            Path pub = key.resolveSibling(key.getFileName() + ".pub");
            try {
                lines.add(pattern + " " + SshPublicKey.parseLine(Files.readString(pub).trim()).toLine());
            } catch (java.nio.file.NoSuchFileException e) {
                lines.add("# host key " + pub + " does not exist yet: the server makes it when it first starts");
            } catch (IOException | RuntimeException e) {
                lines.add("# host key " + pub + " cannot be read (" + Printable.of(String.valueOf(e.getMessage())) + ")");
            }
        }
        return lines;
    }

    /** The whole output; pure, for tests. */
    static String render(Config c, String user, List<String> roles, Config.HostPort where, List<String> about,
                         List<String> knownHosts) {
        StringBuilder s = new StringBuilder();
        String nl = "\n";
        s.append("# ~/.ssh/config for ").append(user).append(", through the bastion ").append(where).append(nl);
        about.forEach(w -> s.append(w).append(nl));
        s.append("Host ").append(ALIAS).append(nl);
        s.append("    HostName ").append(where.host()).append(nl);
        s.append("    Port ").append(where.port()).append(nl);
        s.append("    User ").append(user).append(nl);
        boolean any = false;
        for (String roleName : roles) {
            Config.Role role = c.policy().roles().get(roleName);
            if (role == null) {
                s.append(nl).append("# role ").append(Printable.of(roleName)).append(": not in ").append(c.source())
                        .append(", so its rules are not known here").append(nl);
                continue;
            }
            s.append(nl).append("# role ").append(Printable.of(roleName)).append(nl);
            if (!role.from().isEmpty()) {
                s.append("# applies only to logins from ").append(String.join(", ", role.from())).append(nl);
            }
            for (Config.Requirement r : role.require()) {
                s.append("# requires ").append(r.configName()).append(": ").append(r.meaning()).append(nl);
            }
            for (Config.Located<String> allow : role.allow()) {
                AllowRule rule;
                try {
                    rule = AllowRule.parse(allow.value());
                } catch (IllegalArgumentException e) {
                    continue; // the loader refused the file already; never reached
                }
                Optional<List<String>> patterns = HostPatterns.of(rule);
                if (patterns.isEmpty()) {
                    s.append("# allow ").append(rule.text()).append(": no Host pattern says exactly this; reach its hosts with:"
                            + " ssh -J ").append(ALIAS).append(" USER@HOST").append(nl);
                    continue;
                }
                List<String> line = new ArrayList<>(patterns.get());
                // The bastion's own name must not jump through itself.
                if (patterns.get().stream().anyMatch(p -> HostPatterns.sshMatches(p, where.host().toLowerCase(java.util.Locale.ROOT)))) {
                    line.add("!" + where.host().toLowerCase(java.util.Locale.ROOT));
                }
                s.append("# allow ").append(rule.text()).append(nl);
                if (!rule.ports().contains(22)) {
                    s.append("# not port 22: forward a port instead, e.g. ssh -N -L PORT:HOST:PORT ").append(ALIAS).append(nl);
                }
                s.append("Host ").append(line.stream().collect(Collectors.joining(" "))).append(nl);
                s.append("    ProxyJump ").append(ALIAS).append(nl);
                any = true;
            }
        }
        if (!any) {
            s.append(nl).append("# no allow rule of ").append(user).append("'s roles has a Host pattern").append(nl);
        }
        s.append(nl).append(KNOWN_HOSTS_HEADER).append(nl);
        knownHosts.forEach(k -> s.append(k).append(nl));
        return s.toString();
    }
}
