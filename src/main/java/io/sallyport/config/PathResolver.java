package io.sallyport.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Resolves paths written in the config file against the file's own directory, so that a config
 * means the same thing whichever directory {@code sallyport} was started from (systemd starts it
 * in {@code /}, an operator testing it does not).
 */
record PathResolver(Path baseDir) {

    static PathResolver besideConfig(Path configFile) {
        Path parent = configFile.toAbsolutePath().normalize().getParent();
        return new PathResolver(parent == null ? configFile.toAbsolutePath().getRoot() : parent);
    }

    /** @throws IllegalArgumentException with a message fit for the operator */
    Path resolve(String text) {
        if (text.isBlank()) {
            throw new IllegalArgumentException("expected a file path, got an empty string");
        }
        try {
            return baseDir.resolve(Path.of(text)).normalize();
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("'" + text + "' is not a usable path: " + e.getReason());
        }
    }
}
