package io.sallyport.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

/**
 * {@link Cidr#parse} reads {@code private_networks}, {@code deny}, {@code trusted_sources} and
 * the address part of allow rules. Contract: a block or an {@link IllegalArgumentException},
 * nothing else; a block prints as text that parses back to the same block and contains its own
 * network address. Corpus and how to fuzz: docs/fuzzing.md.
 */
class CidrFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void block(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        Cidr block;
        try {
            block = Cidr.parse(text);
        } catch (IllegalArgumentException refused) {
            assertThat(refused.getMessage()).isNotBlank();
            return;
        }
        int bits = block.isIpv4() ? 32 : 128;
        assertThat(block.prefix()).isBetween(0, bits);
        assertThat(Cidr.parse(block.toString())).isEqualTo(block);

        String network = block.toString().substring(0, block.toString().indexOf('/'));
        InetAddress address = IpLiterals.parse(network).orElseThrow();
        assertThat(block.contains(address)).isTrue();
        assertThat(Cidr.of(address, block.prefix())).isEqualTo(block);
    }
}
