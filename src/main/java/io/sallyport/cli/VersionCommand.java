package io.sallyport.cli;

import io.sallyport.Version;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "version", description = "Print the sallyport, MINA SSHD and Java versions.")
final class VersionCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static String[] lines() {
        return new String[] {
            "sallyport " + Version.sallyport(),
            "Apache MINA SSHD " + Version.minaSshd(),
            "Java " + Version.java()
        };
    }

    @Override
    public Integer call() {
        for (String line : lines()) {
            spec.commandLine().getOut().println(line);
        }
        spec.commandLine().getOut().flush();
        return Main.OK;
    }

    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return lines();
        }
    }
}
