package io.sallyport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code explain} shows, with {@code identity.max_key_age}, what each key's age does to a login. */
class ExplainKeyAgeTest {
    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPhlNw/TTmIPZ+PV8b763uEY14SoFN6MOXkbMgtE8K+L";

    @TempDir
    Path dir;

    private String explain(String keyComment) throws Exception {
        Path file = dir.resolve("sallyport.yaml");
        Files.writeString(file, String.join("\n",
                "identity:",
                "  max_key_age: 90d",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [ops]",
                "        keys: [\"" + KEY + " " + keyComment + "\"]",
                "policy:",
                "  roles:",
                "    ops:",
                "      allow: [\"10.0.0.0/16:22\"]",
                ""));
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new ExplainCommand());
        cli.setOut(new PrintWriter(out));
        int exit = cli.execute("-c", file.toString(), "--user", "alice", "--target", "10.0.3.17:22");
        assertThat(exit).as(out.toString()).isZero();
        return out.toString();
    }

    private static String daysAgo(int days) {
        return LocalDate.now(ZoneOffset.UTC).minusDays(days).toString();
    }

    @Test
    void keyNearMaxKeyAgeIsShownWithTheWarning() throws Exception {
        assertThat(explain("alice@laptop date=" + daysAgo(85))).containsPattern(
                "key age:  SHA256:\\S+ WARNING: key dated \\S+ \\(date= in the key line\\) is 85d old; refused from ");
    }

    @Test
    void keyPastMaxKeyAgeIsShownRefused() throws Exception {
        assertThat(explain("alice@laptop date=" + daysAgo(100))).contains("REFUSED: max_key_age: key dated ");
    }

    @Test
    void freshKeyIsShownWithItsDate() throws Exception {
        assertThat(explain("date=" + daysAgo(3))).contains("ok: date= in the key line " + daysAgo(3) + ", within identity.max_key_age");
    }
}
