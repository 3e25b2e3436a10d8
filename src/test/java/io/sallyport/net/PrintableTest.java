package io.sallyport.net;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Client-supplied strings are hostile: they must not forge log lines or flood the audit trail. */
class PrintableTest {

    @Test
    void plainAsciiIsKept() {
        assertThat(Printable.of("db-1.internal.corp")).isEqualTo("db-1.internal.corp");
    }

    @Test
    void controlCharactersCannotForgeALogLine() {
        assertThat(Printable.of("x\n2026-01-01 auth.accept user=root\r\t\u001b[31m"))
                .isEqualTo("x?2026-01-01 auth.accept user=root???[31m")
                .doesNotContain("\n", "\r", "\u001b");
    }

    @Test
    void nonAsciiBecomesAQuestionMark() {
        assertThat(Printable.of("dЬ.corp\u202e\u0000\u007f")).isEqualTo("d?.corp???");
    }

    @Test
    void longStringsAreCutAndMarked() {
        String out = Printable.of("a".repeat(10_000));
        assertThat(out).hasSize(128 + 3).endsWith("...").startsWith("a".repeat(128));
        assertThat(Printable.of("a".repeat(128))).isEqualTo("a".repeat(128));
    }

    @Test
    void nullIsEmpty() {
        assertThat(Printable.of(null)).isEmpty();
    }
}
