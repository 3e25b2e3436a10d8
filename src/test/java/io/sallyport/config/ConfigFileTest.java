package io.sallyport.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What {@code -c FILE} may name: a regular file of sane size, nothing that fills the heap or blocks. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ConfigFileTest {
    @TempDir
    Path dir;

    @Test
    void devZeroIsRefusedInOneLineNotReadUntilTheHeapIsFull() {
        assertThatThrownBy(() -> ConfigLoader.load(Path.of("/dev/zero")))
                .isInstanceOf(IOException.class)
                .hasMessage("not a regular file (a device, FIFO or socket); write the config to a file");
    }

    @Test
    void fifoWithoutAWriterIsRefusedWithoutBlocking() throws Exception {
        Path fifo = dir.resolve("sallyport.yaml");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(mkfifo.exitValue()).isZero();

        assertThatThrownBy(() -> ConfigLoader.load(fifo)).isInstanceOf(IOException.class).hasMessageStartingWith("not a regular file");
    }

    @Test
    void stdinAndOtherSpecialFilesAreRefused() {
        for (String special : new String[] {"/dev/stdin", "/dev/null", "/dev/urandom"}) {
            assertThatThrownBy(() -> ConfigLoader.load(Path.of(special))).as(special)
                    .isInstanceOf(IOException.class).hasMessageStartingWith("not a regular file");
        }
    }

    @Test
    void fileOverOneMebibyteIsRefusedWithItsSize() throws Exception {
        Path big = dir.resolve("sallyport.yaml");
        Files.writeString(big, "# " + "x".repeat(ConfigLoader.MAX_CONFIG_BYTES) + "\n");

        assertThatThrownBy(() -> ConfigLoader.load(big)).isInstanceOf(IOException.class)
                .hasMessage("it is 1048579 bytes, over the 1MiB a config file may be"
                        + " (a config with hundreds of users and rules is a few dozen KiB)");
    }

    @Test
    void fileOfExactlyTheLimitIsRead() throws Exception {
        Path file = dir.resolve("sallyport.yaml");
        String text = "# " + "x".repeat(ConfigLoader.MAX_CONFIG_BYTES - 3) + "\n";
        Files.writeString(file, text);
        assertThat(Files.size(file)).isEqualTo(ConfigLoader.MAX_CONFIG_BYTES);

        assertThat(ConfigLoader.load(file).warnings()).isEmpty();
    }

    @Test
    void symbolicLinkToARegularFileIsFollowed() throws Exception {
        Path real = Files.writeString(dir.resolve("real.yaml"), "crypto: compat\n");
        Path link = Files.createSymbolicLink(dir.resolve("sallyport.yaml"), real);

        assertThat(ConfigLoader.load(link).crypto()).isEqualTo(Config.CryptoProfile.COMPAT);
    }

    @Test
    void deeplyNestedYamlIsAProblemNotAStackOverflow() {
        String nested = "a: " + "[".repeat(100_000);

        assertThatThrownBy(() -> ConfigLoader.parse(nested, ConfigFixtures.SOURCE)).isInstanceOf(ConfigException.class);
    }
}
