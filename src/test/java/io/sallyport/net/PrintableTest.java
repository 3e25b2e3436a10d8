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

    @Test
    void forTerminalEscapesWhatWouldDriveATerminalAndKeepsTheRest() {
        assertThat(Printable.forTerminal("a\nb\r\t\u001b[2J\u0007\u007f\u009b31m")).isEqualTo("a\\nb\\r\\t\\u001b[2J\\u0007\\u007f\\u009b31m");
        assertThat(Printable.forTerminal("admin\u202egnp.exe\u200b\u2028\ufeff")).isEqualTo("admin\\u202egnp.exe\\u200b\\u2028\\ufeff");
        assertThat(Printable.forTerminal("J\u00fcrgen \u212Aelvin \uD83D\uDD11 db.internal.corp")).isEqualTo("J\u00fcrgen \u212Aelvin \uD83D\uDD11 db.internal.corp");
        assertThat(Printable.forTerminal("lone \uD83D and \uDD11")).isEqualTo("lone \\ud83d and \\udd11");
        assertThat(Printable.forTerminal("x".repeat(1000))).hasSize(1000);
        assertThat(Printable.forTerminal(null)).isEmpty();
    }

    @Test
    void escapedAsciiShowsWhatWasSentInPlainAscii() {
        assertThat(Printable.escapedAscii("\u212Aelvin.x")).isEqualTo("\\u212aelvin.x");
        assertThat(Printable.escapedAscii("\uFF11\uFF10.0.3.17\n")).isEqualTo("\\uff11\\uff10.0.3.17\\u000a");
        assertThat(Printable.escapedAscii("\u00e9".repeat(1000))).endsWith("...").hasSizeLessThanOrEqualTo(128 + 6 + 3);
    }
}
