package io.sallyport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sallyport explain} with roles that have a {@code from} and a {@code require}, from the config alone. */
class ExplainRoleConditionsTest {
    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

    @TempDir
    Path dir;

    private Path config() throws Exception {
        return Files.writeString(dir.resolve("sallyport.yaml"), String.join("\n",
                "admin:",
                "  socket: " + dir.resolve("no-server.sock"),
                "identity:",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [prod, dev]",
                "        keys: [\"" + KEY + " alice@laptop\"]",
                "policy:",
                "  roles:",
                "    prod:",
                "      allow: [\"10.0.0.0/16:22\"]",
                "      from: [203.0.113.0/24]",
                "      require: [fido]",
                "    dev:",
                "      allow: [\"10.0.0.0/8:22\"]",
                ""));
    }

    private List<String> explain(String... args) throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(new StringWriter()));
        List<String> all = new ArrayList<>(List.of("explain", "-c", config().toString()));
        all.addAll(List.of(args));
        assertThat(cli.execute(all.toArray(String[]::new))).isZero();
        return out.toString().lines().map(l -> l.replaceAll("\\s+", " ")).toList();
    }

    @Test
    void fromAnAddressOutsideARolesFromTheRoleIsDroppedWithTheReasonAndTheDecisionUsesTheRest() throws Exception {
        List<String> out = explain("--user", "alice", "--target", "10.0.3.17:22", "--from", "198.51.100.7");

        assertThat(out).contains("note: role prod does not apply: from: 198.51.100.7 is not in 203.0.113.0/24");
        assertThat(out).contains("decision: ALLOW", "rule: 10.0.0.0/8:22 (role dev)");
        assertThat(out).noneMatch(l -> l.contains("applies only"));
    }

    @Test
    void fromInsideTheRoleAppliesAndItsRequireIsShownAsAConditionOnTheLogin() throws Exception {
        List<String> out = explain("--user", "alice", "--target", "10.0.3.17:22", "--from", "::ffff:203.0.113.9");

        assertThat(out).noneMatch(l -> l.contains("does not apply"));
        assertThat(out).contains("note: role prod applies only to a login that meets: require fido (a FIDO key, with user presence"
                + " on the login's signature)");
        assertThat(out).contains("decision: ALLOW", "rule: 10.0.0.0/16:22 (role prod)");
    }

    @Test
    void withoutAnAddressTheFromIsShownAsAConditionNotJudged() throws Exception {
        List<String> out = explain("--user", "alice", "--target", "10.0.3.17:22");

        assertThat(out).contains("note: role prod applies only to a login that meets: from 203.0.113.0/24 only"
                + " (not judged: no client address given)");
        assertThat(out).contains("decision: ALLOW", "rule: 10.0.0.0/16:22 (role prod)");
    }
}
