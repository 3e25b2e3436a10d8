package io.sallyport.packaging;

import io.sallyport.testing.RpmRoot;
import java.util.Map;

/** How the tests run the launcher the RPM installed, from the scratch root instead of {@code /}. */
final class InstalledLauncher {
    private InstalledLauncher() {
    }

    /**
     * The launcher's own production defaults stay untouched: only SALLYPORT_HOME (the jar directory)
     * and SALLYPORT_STATE (the state directory, where the class-data archive is kept) move into the
     * scratch root, and JAVA_HOME names this test's Java 17+ runtime.
     */
    static Map<String, String> environment(RpmRoot root) {
        return Map.of(
                "SALLYPORT_HOME", root.path("/usr/share/sallyport").toString(),
                "SALLYPORT_STATE", root.path("/var/lib/sallyport").toString(),
                "JAVA_HOME", System.getProperty("java.home"));
    }
}
