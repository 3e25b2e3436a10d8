package io.sallyport.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * {@link PortSet#parse} reads the ports of allow rules. Contract: a set or an
 * {@link IllegalArgumentException}; a set holds only ports 1-65535, and its text parses back to
 * the same ports. Corpus and how to fuzz: docs/fuzzing.md.
 */
class PortSetFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void ports(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        PortSet ports;
        try {
            ports = PortSet.parse(text);
        } catch (IllegalArgumentException refused) {
            assertThat(refused.getMessage()).isNotBlank();
            return;
        }
        assertThat(ports.contains(0)).isFalse();
        assertThat(ports.contains(65_536)).isFalse();
        assertThat(ports.contains(-1)).isFalse();
        PortSet again = PortSet.parse(ports.toString());
        for (int port : new int[] {1, 22, 80, 443, 2222, 5432, 8000, 8100, 65_535}) {
            assertThat(again.contains(port)).as("port %d", port).isEqualTo(ports.contains(port));
        }
    }
}
