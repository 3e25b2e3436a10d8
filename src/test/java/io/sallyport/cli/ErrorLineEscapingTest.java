package io.sallyport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** One-line errors quote what they could not take (an argument, a path): escaped, never raw on the terminal. */
class ErrorLineEscapingTest {

    private static String report(Exception e) {
        StringWriter out = new StringWriter();
        Main.report(e, new PrintWriter(out), false);
        return out.toString();
    }

    @Test
    void usageErrorQuotingAnArgumentIsEscaped() {
        assertThat(report(new Main.UsageException("--from must be an IP address, not '\u001b[2J\u009b'")))
                .isEqualTo("sallyport: --from must be an IP address, not '\\u001b[2J\\u009b'" + System.lineSeparator());
    }

    @Test
    void runtimeErrorIsEscaped() {
        assertThat(report(new java.io.IOException("cannot open /tmp/x\ny: gone")))
                .isEqualTo("sallyport: error: cannot open /tmp/x\\ny: gone" + System.lineSeparator());
    }

    @Test
    void unknownOptionQuotedByPicocliIsEscaped() {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream saved = System.err;
        int code;
        try {
            System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
            code = Main.execute("version", "--\u001b]0;owned\u0007");
        } finally {
            System.setErr(saved);
        }

        assertThat(code).isEqualTo(2);
        assertThat(err.toString(java.nio.charset.StandardCharsets.UTF_8)).doesNotContain("\u001b", "\u0007")
                .contains("\\u001b]0;owned\\u0007");
    }
}
