package io.sallyport.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code mvn package} built, as failsafe passes it to the packaging tests (pom.xml), and the
 * checkout's sources of it ({@code packaging/}, {@code systemd/}, {@code ami/}).
 */
final class BuiltPackage {
    private BuiltPackage() {
    }

    /** The sallyport RPM of this build. */
    static Path rpm() {
        return file("sallyport.rpm");
    }

    /** The same package one release later, built only for the upgrade tests. */
    static Path nextRelease() {
        return file("sallyport.rpm.nextRelease");
    }

    /** The checkout. */
    static Path basedir() {
        String dir = System.getProperty("sallyport.basedir");
        return dir == null ? Path.of("").toAbsolutePath() : Path.of(dir);
    }

    static Path source(String relative) {
        return basedir().resolve(relative);
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path file(String property) {
        String value = System.getProperty(property);
        assertThat(value).as("system property %s (set by failsafe in pom.xml; run mvn verify)", property).isNotNull();
        Path p = Path.of(value);
        assertThat(p).as("%s: the RPM plugin runs in the package phase, before the integration tests", property)
                .isRegularFile();
        return p;
    }
}
