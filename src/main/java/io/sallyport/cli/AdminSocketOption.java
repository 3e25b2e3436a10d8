package io.sallyport.cli;

import io.sallyport.config.ConfigLoader;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Where a command finds the running server's admin socket: {@code --socket}, else the config's
 * {@code admin.socket}. Only that key is read, leniently: the rest of the file is the server's
 * business (an operator may be allowed the socket without being able to resolve every name in the
 * rules), and {@code sallyport reload} must reach the server when the file has problems, so that
 * the server reports every one of them.
 */
final class AdminSocketOption {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE", defaultValue = RunCommand.DEFAULT_CONFIG,
            description = "Config file naming admin.socket (default: ${DEFAULT-VALUE}).")
    Path config;

    @Option(names = "--socket", paramLabel = "PATH", description = "The admin socket, instead of the config's admin.socket.")
    Path socket;

    Path socket() throws Exception {
        if (socket != null) {
            return socket;
        }
        try {
            return ConfigLoader.adminSocket(config);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new Main.UsageException("cannot read config " + config + ": no such file (or name the socket with --socket)");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new Main.UsageException("cannot read config " + config + ": permission denied (or name the socket with --socket)");
        } catch (IOException e) {
            throw new Main.UsageException("cannot read config " + config + ": " + e.getMessage());
        }
    }
}
