package io.sallyport.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The target host of every {@code direct-tcpip} request goes through {@link IpLiterals#parse}
 * first, so it reads text a client chose. Its contract, checked here on every input: it never
 * throws, it answers only for text made of literal characters (a name is never looked up), and
 * what it answers is canonical (no IPv4-mapped IPv6) and survives {@link IpLiterals#format} and
 * back, through IpLiterals and through the JDK's {@code InetAddress.getByName} alike. Corpus and
 * how to fuzz: docs/fuzzing.md.
 */
class IpLiteralsFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void literal(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        Optional<InetAddress> parsed = IpLiterals.parse(text);
        assertThat(IpLiterals.isLiteral(text)).isEqualTo(parsed.isPresent());
        if (parsed.isEmpty()) {
            return;
        }
        InetAddress address = parsed.get();
        // A literal is spelt with digits, hex letters, x, dots, colons and brackets; anything else
        // answered here would have come from a resolver.
        assertThat(text).matches("[0-9a-fA-FxX.:\\[\\]]+");
        assertThat(address.getAddress()).hasSize(address instanceof Inet4Address ? 4 : 16);
        assertThat(IpLiterals.canonical(address)).isEqualTo(address);

        String formatted = IpLiterals.format(address);
        assertThat(IpLiterals.parse(formatted)).contains(address);
        assertThat(IpLiterals.parse("[" + formatted + "]")).contains(address);
        // The connect path hands the formatted literal to the JDK: it must read it as the same address.
        try {
            assertThat(InetAddress.getByName(formatted)).isEqualTo(address);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError("the JDK does not read " + formatted, e);
        }
        if (address instanceof Inet6Address) {
            assertThat(formatted).contains(":").doesNotContain(":::");
        } else {
            assertThat(formatted).matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
        }
    }
}
