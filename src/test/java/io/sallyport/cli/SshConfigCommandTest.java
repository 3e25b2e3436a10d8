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

/** What {@code ssh-config} prints from the config alone, and its exit codes. */
class SshConfigCommandTest {
    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPhlNw/TTmIPZ+PV8b763uEY14SoFN6MOXkbMgtE8K+L";
    private static final String HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3Ld1vDSHqnM5d1EIw8gIcpy3YA4Pwp+KsdG2mFyLv";

    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {}

    private Run sshConfig(String keyComment, String... args) throws Exception {
        Path file = dir.resolve("sallyport.yaml");
        Files.writeString(file, String.join("\n",
                "listen: [\"0.0.0.0:22\"]",
                "host_keys: [\"" + dir.resolve("host_key") + "\"]",
                "admin: {socket: \"" + dir.resolve("no-server.sock") + "\"}",
                "identity:",
                "  max_key_age: 90d",
                "  local:",
                "    users:",
                "      alice:",
                "        roles: [ops, keys]",
                "        keys: [\"" + KEY + " " + keyComment + "\"]",
                "policy:",
                "  roles:",
                "    ops:",
                "      allow: [\"10.0.0.0/16:22\", \"*.internal.corp:22\", \"[fd00::/8]:22\", \"10.64.0.0/10:22\"]",
                "      from: [\"192.0.2.0/24\"]",
                "    keys:",
                "      allow: [\"10.9.9.9:22\", \"10.0.20.0/24:5432\"]",
                "      require: [fido-verified]",
                ""));
        Files.writeString(dir.resolve("host_key.pub"), HOST_KEY + " root@bastion\n");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new SshConfigCommand());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        cli.setExecutionExceptionHandler((e, c, p) -> Main.report(e, c.getErr(), false));
        String[] all = new String[args.length + 2];
        all[0] = "-c";
        all[1] = file.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        int exit = cli.execute(all);
        return new Run(exit, out.toString(), err.toString());
    }

    private String printed(String... args) throws Exception {
        Run r = sshConfig("alice@laptop date=" + LocalDate.now(ZoneOffset.UTC).minusDays(3), args);
        assertThat(r.exit()).as(r.toString()).isZero();
        return r.out();
    }

    @Test
    void theBastionBlockNamesTheHostPortAndUser() throws Exception {
        assertThat(printed("--user", "alice", "--bastion", "bastion.corp:2222"))
                .contains("Host bastion\n    HostName bastion.corp\n    Port 2222\n    User alice\n");
    }

    @Test
    void aBastionWithoutPortTakesTheListenPort() throws Exception {
        assertThat(printed("--user", "alice", "--bastion", "bastion.corp")).contains("    Port 22\n");
    }

    @Test
    void rulesBecomeHostPatternsWithProxyJumpOrCommentsWithSshJ() throws Exception {
        String out = printed("--user", "alice", "--bastion", "bastion.corp");
        assertThat(out).contains("# allow 10.0.0.0/16:22\nHost 10.0.*\n    ProxyJump bastion\n");
        assertThat(out).contains("# allow *.internal.corp:22\nHost *.internal.corp\n    ProxyJump bastion\n");
        assertThat(out).contains("# allow [fd00::/8]:22: no Host pattern says exactly this; reach its hosts with: ssh -J bastion USER@HOST");
        assertThat(out).contains("# allow 10.64.0.0/10:22: no Host pattern says exactly this");
        assertThat(out).doesNotContain("Host 10.*\n", "Host fd00");
    }

    @Test
    void aRuleWithoutPort22SaysHowToForwardItsPort() throws Exception {
        assertThat(printed("--user", "alice", "--bastion", "bastion.corp")).contains("# allow 10.0.20.0/24:5432\n"
                + "# not port 22: forward a port instead, e.g. ssh -N -L PORT:HOST:PORT bastion\nHost 10.0.20.*\n");
        assertThat(printed("--user", "alice", "--bastion", "bastion.corp")).containsOnlyOnce("# not port 22");
    }

    @Test
    void theBastionsOwnNameNeverJumpsThroughItself() throws Exception {
        assertThat(printed("--user", "alice", "--bastion", "bastion.internal.corp"))
                .contains("Host *.internal.corp !bastion.internal.corp\n");
    }

    @Test
    void rolesFromAndRequireAreComments() throws Exception {
        String out = printed("--user", "alice", "--bastion", "bastion.corp");
        assertThat(out).contains("# role ops\n# applies only to logins from 192.0.2.0/24\n");
        assertThat(out).contains("# role keys\n# requires fido-verified: a FIDO key, with user presence and verification");
    }

    @Test
    void theHostKeyIsTheKnownHostsLineForTheNameGiven() throws Exception {
        assertThat(printed("--user", "alice", "--bastion", "bastion.corp"))
                .endsWith("# --- append to ~/.ssh/known_hosts ---\nbastion.corp " + HOST_KEY + "\n");
        assertThat(printed("--user", "alice", "--bastion", "bastion.corp:2222")).endsWith("\n[bastion.corp]:2222 " + HOST_KEY + "\n");
    }

    @Test
    void theIamCaveatIsSaid() throws Exception {
        assertThat(printed("--user", "alice", "--bastion", "bastion.corp"))
                .contains("# roles from identity.local in " + dir.resolve("sallyport.yaml") + " (no running server answered on "
                        + dir.resolve("no-server.sock") + "; IAM users' roles are known only to it)\n");
    }

    @Test
    void aKeyNearMaxKeyAgeIsAWarningComment() throws Exception {
        Run r = sshConfig("alice@laptop date=" + LocalDate.now(ZoneOffset.UTC).minusDays(85), "--user", "alice", "--bastion", "b.corp");
        assertThat(r.out()).containsPattern("(?m)^# WARNING: key SHA256:\\S+: key dated \\S+ \\(date= in the key line\\) is 85d old; refused from ");
        Run old = sshConfig("alice@laptop date=" + LocalDate.now(ZoneOffset.UTC).minusDays(100), "--user", "alice", "--bastion", "b.corp");
        assertThat(old.out()).containsPattern("(?m)^# WARNING: key SHA256:\\S+ is REFUSED: max_key_age: ");
        assertThat(printed("--user", "alice", "--bastion", "b.corp")).doesNotContain("WARNING");
    }

    @Test
    void anUnknownUserIsExitOne() throws Exception {
        Run r = sshConfig("date=" + LocalDate.now(ZoneOffset.UTC), "--user", "mallory", "--bastion", "bastion.corp");
        assertThat(r.exit()).isEqualTo(Main.FAILURE);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).isEqualTo("sallyport: no user 'mallory' in identity.local of " + dir.resolve("sallyport.yaml")
                + " and no running server answered on " + dir.resolve("no-server.sock") + "\n");
    }

    @Test
    void aWildcardListenWithoutBastionIsBadUsage() throws Exception {
        Run r = sshConfig("date=" + LocalDate.now(ZoneOffset.UTC), "--user", "alice");
        assertThat(r.exit()).isEqualTo(Main.USAGE);
        assertThat(r.err()).contains("--bastion HOST[:PORT] is needed");
    }

    @Test
    void aBastionOrUserThatWouldInjectSshConfigIsBadUsage() throws Exception {
        assertThat(sshConfig("date=" + LocalDate.now(ZoneOffset.UTC), "--user", "alice", "--bastion", "b.corp\n  ProxyCommand evil").exit()).isEqualTo(Main.USAGE);
        assertThat(sshConfig("date=" + LocalDate.now(ZoneOffset.UTC), "--user", "alice", "--bastion", "-oProxyCommand=evil").exit()).isEqualTo(Main.USAGE);
        assertThat(sshConfig("date=" + LocalDate.now(ZoneOffset.UTC), "--user", "alice bob", "--bastion", "b.corp").exit()).isEqualTo(Main.USAGE);
    }
}
