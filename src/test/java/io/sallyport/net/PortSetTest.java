package io.sallyport.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PortSetTest {

    @Test
    void singlePort() {
        PortSet p = PortSet.parse("22");
        assertThat(p.contains(22)).isTrue();
        assertThat(p.contains(21)).isFalse();
        assertThat(p.contains(23)).isFalse();
        assertThat(p.contains(2222)).isFalse();
    }

    @Test
    void listOfPorts() {
        PortSet p = PortSet.parse("22,2222");
        assertThat(p.contains(22)).isTrue();
        assertThat(p.contains(2222)).isTrue();
        assertThat(p.contains(222)).isFalse();
    }

    @Test
    void rangeIncludesBothEnds() {
        PortSet p = PortSet.parse("8000-8100");
        assertThat(p.contains(7999)).isFalse();
        assertThat(p.contains(8000)).isTrue();
        assertThat(p.contains(8050)).isTrue();
        assertThat(p.contains(8100)).isTrue();
        assertThat(p.contains(8101)).isFalse();
    }

    @Test
    void starIsEveryPortAndNothingElse() {
        PortSet p = PortSet.parse("*");
        assertThat(p.contains(1)).isTrue();
        assertThat(p.contains(65535)).isTrue();
        assertThat(p.contains(0)).isFalse();
        assertThat(p.contains(65536)).isFalse();
        assertThat(p.contains(-1)).isFalse();
    }

    @Test
    void mixOfPortsAndRangesWithSpaces() {
        PortSet p = PortSet.parse(" 22 , 8000-8100, 5432 ");
        assertThat(p.contains(22)).isTrue();
        assertThat(p.contains(8080)).isTrue();
        assertThat(p.contains(5432)).isTrue();
        assertThat(p.contains(443)).isFalse();
        assertThat(p).hasToString("22 , 8000-8100, 5432");
    }

    @Test
    void portsAtTheEdgesAreValid() {
        assertThat(PortSet.parse("1").contains(1)).isTrue();
        assertThat(PortSet.parse("65535").contains(65535)).isTrue();
        assertThat(PortSet.parse("1-65535").contains(443)).isTrue();
        assertThat(PortSet.parse("22-22").contains(22)).isTrue();
    }

    @ParameterizedTest(name = "''{0}'' -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "0          | port 0 is outside 1-65535",
            "65536      | port 65536 is outside 1-65535",
            "99999      | port 99999 is outside 1-65535",
            "0-22       | port 0 is outside 1-65535",
            "100-50     | port range '100-50' runs backwards",
            "abc        | 'abc' in 'abc' is not a port (use 22, 22,2222, 8000-8100 or *)",
            "22,abc     | 'abc' in '22,abc' is not a port (use 22, 22,2222, 8000-8100 or *)",
            "-1         | '' in '-1' is not a port (use 22, 22,2222, 8000-8100 or *)",
            "22,        | '' in '22,' is not a port (use 22, 22,2222, 8000-8100 or *)",
            "22-        | '' in '22-' is not a port (use 22, 22,2222, 8000-8100 or *)",
            "1-2-3      | '2-3' in '1-2-3' is not a port (use 22, 22,2222, 8000-8100 or *)",
            "*,22       | '*' in '*,22' is not a port (use 22, 22,2222, 8000-8100 or *)",
            "123456     | '123456' in '123456' is not a port (use 22, 22,2222, 8000-8100 or *)",
            "2 2        | '2 2' in '2 2' is not a port (use 22, 22,2222, 8000-8100 or *)",
    })
    void badPortsAreRefusedWithAClearMessage(String text, String message) {
        assertThatThrownBy(() -> PortSet.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void emptyPortListIsRefused() {
        assertThatThrownBy(() -> PortSet.parse(""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no ports given (use 22, 22,2222, 8000-8100 or *)");
        assertThatThrownBy(() -> PortSet.parse("  "))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no ports given (use 22, 22,2222, 8000-8100 or *)");
    }
}
