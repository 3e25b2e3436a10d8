package io.sallyport.cli;

import io.sallyport.config.ConfigException;
import io.sallyport.config.ConfigProblem;
import io.sallyport.net.Printable;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code sallyport} command. The only place that calls {@link System#exit}: 0 ok, 1 runtime
 * failure, 2 bad usage or bad config. Errors are one line each on stderr; stack traces only with
 * {@code --debug}.
 */
@Command(name = "sallyport",
        mixinStandardHelpOptions = true,
        versionProvider = VersionCommand.Provider.class,
        description = "SSH jump server: stock ssh -J to allowlisted private targets, fully audited.",
        subcommands = {RunCommand.class, DemoCommand.class, CheckConfigCommand.class, ExplainCommand.class, SshConfigCommand.class,
                SessionsCommand.class, KillCommand.class, ReloadCommand.class, VersionCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    static final int OK = 0;
    static final int FAILURE = 1;
    static final int USAGE = 2;

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces on errors.")
    boolean debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (run, demo, check-config, explain, ssh-config, sessions, kill, reload, version)");
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs a command line and returns its exit code (tests call this directly). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            boolean debug = parseResult.hasMatchedOption("--debug")
                    || parseResult.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--debug"));
            return report(e, commandLine.getErr(), debug);
        });
        cli.setParameterExceptionHandler((e, args1) -> {
            PrintWriter err = e.getCommandLine().getErr();
            String command = e.getCommandLine().getCommandName();
            // picocli quotes the argument it could not take: escaped, as every outside text on a terminal.
            err.println("sallyport: " + Printable.forTerminal(e.getMessage()) + " (see 'sallyport "
                    + (command.equals("sallyport") ? "" : command + " ") + "--help')");
            err.flush();
            return USAGE;
        });
        return cli.execute(args);
    }

    static int report(Exception e, PrintWriter err, boolean debug) {
        int code;
        if (e instanceof ConfigException ce) {
            for (ConfigProblem p : ce.problems()) {
                err.println(p);
            }
            code = USAGE;
        } else if (e instanceof UsageException) {
            err.println("sallyport: " + Printable.forTerminal(e.getMessage()));
            code = USAGE;
        } else {
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            err.println("sallyport: error: " + Printable.forTerminal(msg));
            code = FAILURE;
        }
        if (debug) {
            e.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    /** Bad usage discovered after parsing (a bad --target, say): exit 2. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }
}
