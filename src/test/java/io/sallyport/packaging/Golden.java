package io.sallyport.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Golden files: what a package artefact looks like, kept in
 * {@code src/test/resources/io/sallyport/packaging/}, so that any change to it shows up as a diff in
 * review. After an intended change, rewrite them and review that diff:
 *
 * <pre>mvn verify -Dsallyport.golden.update=true</pre>
 */
final class Golden {
    private Golden() {
    }

    static void assertMatches(String name, String actual) {
        Path file = BuiltPackage.source("src/test/resources/io/sallyport/packaging/" + name);
        try {
            if (Boolean.getBoolean("sallyport.golden.update")) {
                Files.createDirectories(file.getParent());
                Files.writeString(file, actual, StandardCharsets.UTF_8);
                return;
            }
            assertThat(file).as("golden file %s is missing; create it with -Dsallyport.golden.update=true", file)
                    .isRegularFile();
            assertThat(actual)
                    .as("%s differs from its golden file %s (after an intended change: mvn verify -Dsallyport.golden.update=true, then review the diff)",
                            name, file)
                    .isEqualTo(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
