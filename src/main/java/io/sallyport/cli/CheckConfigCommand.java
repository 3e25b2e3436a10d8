package io.sallyport.cli;

import io.sallyport.config.Config;
import io.sallyport.config.EffectiveConfig;
import io.sallyport.net.Printable;
import io.sallyport.net.TargetResolver;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "check-config",
        description = "Validate the config and print the effective policy; exit 2 listing every problem as FILE:LINE: key: message."
                + " Warnings (FILE:LINE: key: warning: message) go to stderr and leave the exit status 0.")
final class CheckConfigCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Config file (default: ${DEFAULT-VALUE}).",
            defaultValue = RunCommand.DEFAULT_CONFIG)
    Path config;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Config c = ServerAssembly.load(config);
        ServerAssembly.validate(c, TargetResolver.system());
        // Like a compiler's: on stderr, in the same FILE:LINE form as errors, and the exit status stays 0.
        c.warnings().forEach(spec.commandLine().getErr()::println);
        spec.commandLine().getErr().flush();
        spec.commandLine().getOut().print(EffectiveConfig.render(c));
        spec.commandLine().getOut().println(Printable.forTerminal(config.toString()) + ": OK");
        spec.commandLine().getOut().flush();
        return Main.OK;
    }
}
