package io.sallyport.identity.iam;

import io.sallyport.testing.OpenSsh;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Public key lines made by the stock {@code ssh-keygen}, once per test JVM and name. */
final class IamTestKeys {
    private static final Map<String, String> LINES = new ConcurrentHashMap<>();
    private static Path dir;

    private IamTestKeys() {}

    static String rsa(String name) {
        return line(name, "rsa", 2048);
    }

    static String ed25519(String name) {
        return line(name, "ed25519", 0);
    }

    private static String line(String name, String type, int bits) {
        return LINES.computeIfAbsent(name + "/" + type, k -> OpenSsh.publicKeyLine(OpenSsh.keygen(dir(), name + "-" + type, type, bits)));
    }

    private static synchronized Path dir() {
        if (dir == null) {
            OpenSsh.requireClient();
            try {
                dir = Files.createTempDirectory("sallyport-iam-keys");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dir;
    }
}
