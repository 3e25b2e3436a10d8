package io.sallyport;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The product version and the versions it is built on, as the build recorded them. */
public final class Version {
    private static final Properties PROPS = load();

    private Version() {}

    public static String sallyport() {
        return PROPS.getProperty("version", "unknown");
    }

    public static String minaSshd() {
        return PROPS.getProperty("sshd", "unknown");
    }

    public static String java() {
        return System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")";
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // a build without the resource reports "unknown"
        }
        return p;
    }
}
