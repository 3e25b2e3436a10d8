package io.sallyport.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The CycloneDX SBOM that ships with the RPM ({@code target/sallyport.cdx.json}, installed as
 * {@code /usr/share/doc/sallyport/sallyport.cdx.json}) describes the shaded jar: every library
 * inside it, at the version inside it, and nothing that only the tests use.
 */
class SbomIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A jar in the local Maven repository: {@code .../GROUP/PATH/ARTIFACT/VERSION/ARTIFACT-VERSION.jar}. */
    private static final Pattern REPO_JAR = Pattern.compile(".*/repository/(.+)/([^/]+)/([^/]+)/\\2-\\3\\.jar$");

    private final Path jar = BuiltPackage.rpm().resolveSibling("sallyport.jar");
    private final Path sbomFile = BuiltPackage.rpm().resolveSibling("sallyport.cdx.json");

    @Test
    void sbomIsCycloneDxJsonDescribingSallyportAsAnApplication() throws IOException {
        JsonNode sbom = JSON.readTree(sbomFile.toFile());
        assertThat(sbom.path("bomFormat").asText()).isEqualTo("CycloneDX");
        assertThat(sbom.path("specVersion").asText()).isNotEmpty();
        JsonNode self = sbom.path("metadata").path("component");
        assertThat(self.path("type").asText()).isEqualTo("application");
        assertThat(self.path("group").asText() + ":" + self.path("name").asText()).isEqualTo("io.sallyport:sallyport");
        assertThat(self.path("version").asText()).isNotEmpty();
        for (JsonNode c : sbom.path("components")) {
            assertThat(c.path("purl").asText()).as("package URL of %s (scanners match on it)", c.path("name").asText())
                    .startsWith("pkg:maven/" + c.path("group").asText() + "/" + c.path("name").asText() + "@" + c.path("version").asText());
        }
    }

    @Test
    void everyLibraryInsideTheShadedJarIsInTheSbomAtItsVersion() throws IOException {
        Set<String> byPomProperties = librariesNamedInsideShadedJar();
        assertThat(byPomProperties).as("libraries found in %s by their META-INF/maven/*/*/pom.properties", jar)
                .anyMatch(c -> c.startsWith("org.apache.sshd:sshd-core:"))
                .hasSizeGreaterThan(10);
        Set<String> byClasses = classPathLibraries(true);
        assertThat(byClasses).as("libraries of the class path whose classes are inside %s", jar)
                .anyMatch(c -> c.startsWith("org.bouncycastle:bcprov-jdk18on:"))
                .anyMatch(c -> c.startsWith("info.picocli:picocli:"));
        Set<String> sbom = sbomLibraries();
        assertThat(sbom).as("SBOM components").containsAll(byPomProperties).containsAll(byClasses);
    }

    @Test
    void sbomListsNoLibraryThatOnlyTheTestsUse() throws IOException {
        Set<String> testOnly = classPathLibraries(false);
        assertThat(testOnly).as("libraries on the test class path that the shaded jar does not hold")
                .anyMatch(c -> c.startsWith("org.junit.jupiter:junit-jupiter-api:"))
                .anyMatch(c -> c.startsWith("org.assertj:assertj-core:"));
        Set<String> sbom = sbomLibraries();
        assertThat(testOnly).as("test-only libraries listed in the SBOM").noneMatch(sbom::contains);
        Set<String> sbomNames = new TreeSet<>();
        sbom.forEach(c -> sbomNames.add(c.substring(0, c.lastIndexOf(':'))));
        assertThat(sbomNames).as("the SBOM names no test library at any version")
                .doesNotContain("org.junit.jupiter:junit-jupiter-api", "org.assertj:assertj-core", "org.opentest4j:opentest4j");
    }

    /**
     * {@code group:artifact:version} of the jars on this test's class path (failsafe's: the
     * project's dependencies of every scope) that are, or are not, inside the shaded jar: a jar is
     * inside when its classes are.
     */
    private Set<String> classPathLibraries(boolean inside) throws IOException {
        Set<String> shaded = entries(jar);
        Set<String> out = new TreeSet<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Matcher m = REPO_JAR.matcher(entry.replace(File.separatorChar, '/'));
            if (!m.matches()) {
                continue;
            }
            Set<String> classes = new TreeSet<>(entries(Path.of(entry)));
            classes.removeIf(n -> !n.endsWith(".class") || n.endsWith("module-info.class"));
            if (classes.isEmpty()) {
                continue;
            }
            if (shaded.containsAll(classes) == inside) {
                out.add(m.group(1).replace('/', '.') + ":" + m.group(2) + ":" + m.group(3));
            }
        }
        return out;
    }

    private static Set<String> entries(Path jarFile) throws IOException {
        Set<String> names = new TreeSet<>();
        try (JarFile j = new JarFile(jarFile.toFile())) {
            j.stream().map(JarEntry::getName).forEach(names::add);
        }
        return names;
    }

    /** {@code group:artifact:version} of every component of the SBOM (without sallyport itself). */
    private Set<String> sbomLibraries() throws IOException {
        JsonNode sbom = JSON.readTree(sbomFile.toFile());
        Set<String> out = new TreeSet<>();
        for (JsonNode c : sbom.path("components")) {
            out.add(c.path("group").asText() + ":" + c.path("name").asText() + ":" + c.path("version").asText());
        }
        return out;
    }

    private Set<String> librariesNamedInsideShadedJar() throws IOException {
        assertThat(jar).isRegularFile();
        Set<String> out = new TreeSet<>();
        try (JarFile j = new JarFile(jar.toFile())) {
            Enumeration<JarEntry> entries = j.entries();
            while (entries.hasMoreElements()) {
                JarEntry e = entries.nextElement();
                if (!e.getName().matches("META-INF/maven/[^/]+/[^/]+/pom\\.properties")) {
                    continue;
                }
                Properties p = new Properties();
                try (InputStream in = j.getInputStream(e)) {
                    p.load(in);
                }
                String coordinates = p.getProperty("groupId") + ":" + p.getProperty("artifactId") + ":" + p.getProperty("version");
                if (!coordinates.startsWith("io.sallyport:sallyport:")) {
                    out.add(coordinates);
                }
            }
        }
        return out;
    }
}
