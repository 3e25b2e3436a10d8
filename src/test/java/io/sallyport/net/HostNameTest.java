package io.sallyport.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** Only letters-digits-hyphen host names ever reach the resolver. */
class HostNameTest {

    @ParameterizedTest
    @CsvSource({
            "db-1.internal.corp, db-1.internal.corp",
            "DB-1.Internal.CORP., db-1.internal.corp",
            "localhost, localhost",
            "xn--bcher-kva.example, xn--bcher-kva.example",
            "ip-10-0-3-17.ec2.internal, ip-10-0-3-17.ec2.internal",
            "3com.net, 3com.net",
            "1.2.3.x4, 1.2.3.x4",
    })
    void validNamesAreLowerCasedWithoutTheTrailingDot(String written, String normalised) {
        assertThat(HostName.normalise(written)).hasValue(normalised);
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {".", "..", ".a:b", "a:b", "a..b", ".a", "a.b..", "-a.b", "a-.b", "a_b.c", "a b", "a\tb", "1.2.3.4",
            "10.0.3.256", "0x0a.0", "\u212Aelvin.x", "b\u00fccher.example", "\uFF41.example", "a.b\u0000", "a/b", "a*b"})
    void everythingElseIsNotAHostName(String text) {
        assertThat(HostName.normalise(text)).isEmpty();
    }

    @Test
    void labelAndNameLengthLimits() {
        assertThat(HostName.normalise("a".repeat(63) + ".corp")).isPresent();
        assertThat(HostName.normalise("a".repeat(64) + ".corp")).isEmpty();
        String name253 = ("a".repeat(63) + ".").repeat(3) + "a".repeat(61);
        assertThat(name253).hasSize(253);
        assertThat(HostName.normalise(name253)).isPresent();
        assertThat(HostName.normalise(name253 + ".")).isPresent();
        assertThat(HostName.normalise(name253 + "a")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {".a:b", "a b.corp", "\u212Aelvin.x", "1.2.3", "-x.corp"})
    void systemResolverRefusesWhatIsNotAHostNameWithoutLookingItUp(String text) {
        // "not a host name" comes from the gate; a lookup that failed would say something else.
        assertThatThrownBy(() -> TargetResolver.system().resolve(text))
                .isInstanceOf(UnknownHostException.class)
                .hasMessageStartingWith("not a host name: ");
    }
}
