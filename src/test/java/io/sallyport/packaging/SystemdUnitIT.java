package io.sallyport.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.testing.HostTool;
import io.sallyport.testing.RpmRoot;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The systemd unit as the RPM installs it, checked by systemd's own tools: {@code systemd-analyze
 * verify} must have nothing to say, and {@code systemd-analyze security --offline=true} must rate the
 * sandbox 1.5 or lower (SPEC §7).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SystemdUnitIT {
    private static final String UNIT = "/usr/lib/systemd/system/sallyport.service";
    private static final BigDecimal MAX_EXPOSURE = new BigDecimal("1.5");
    private static final Pattern OVERALL = Pattern.compile("Overall exposure level for sallyport\\.service: (\\d+\\.\\d)");

    private HostTool systemdAnalyze;
    private RpmRoot root;
    private Path unit;

    @BeforeAll
    void install() throws IOException {
        systemdAnalyze = HostTool.require("systemd-analyze", "systemd");
        root = RpmRoot.create();
        root.install(BuiltPackage.rpm());
        unit = root.path(UNIT);
        addWhatTheOsProvides();
    }

    @AfterAll
    void cleanUp() {
        if (root != null) {
            root.close();
        }
    }

    @Test
    void unitVerifiesWithoutAnyWarning() {
        HostTool.Result r = systemdAnalyze.run("verify", "--root=" + root.root(), "sallyport.service");

        // verify exits 0 even for unknown keys and bad values (it only warns), so any output fails.
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout() + r.stderr()).as(r.toString()).isEmpty();
    }

    @Test
    void sandboxIsRatedOneAndAHalfOrLower() {
        HostTool.Result r = systemdAnalyze.run("security", "--offline=true", "--no-pager",
                "--threshold=" + MAX_EXPOSURE.movePointRight(1).intValueExact(), unit.toString());

        Matcher m = OVERALL.matcher(r.stdout());
        assertThat(m.find()).as("no overall exposure level in: %s", r).isTrue();
        BigDecimal exposure = new BigDecimal(m.group(1));
        String exposed = String.join("\n", r.stdout().lines().filter(l -> l.startsWith("✗")).toList());
        assertThat(exposure).as("exposure %s above %s; what is exposed:\n%s", exposure, MAX_EXPOSURE, exposed)
                .isLessThanOrEqualTo(MAX_EXPOSURE);
        assertThat(r.exitCode()).as("--threshold exit status: %s", r).isZero();
    }

    @Test
    void unitMatchesItsGoldenFile() throws IOException {
        // Directives only: comments explain them and may change freely.
        String directives = String.join("\n", Files.readAllLines(unit).stream()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#") && !l.startsWith(";"))
                .toList()) + "\n";
        Golden.assertMatches("sallyport.service.golden", directives);
    }

    @Test
    void theAdminSocketDirectoryIsMadeForItAndTheServerMayGiveTheSocketToTheAdminGroup() throws IOException {
        assertThat(directive("RuntimeDirectory")).containsExactly("sallyport");
        assertThat(directive("RuntimeDirectoryMode")).as("searchable, so the socket's own 0660 decides").containsExactly("0755");
        assertThat(directive("SupplementaryGroups")).containsExactly("sallyport-admin");
        assertThat(directive("RestrictAddressFamilies").get(0)).contains("AF_UNIX");
    }

    @Test
    void runsAsSallyportAndBindsPort22ThroughNetBindServiceAlone() throws IOException {
        assertThat(directive("User")).containsExactly("sallyport");
        assertThat(directive("AmbientCapabilities")).containsExactly("CAP_NET_BIND_SERVICE");
        assertThat(directive("CapabilityBoundingSet")).containsExactly("CAP_NET_BIND_SERVICE");
        assertThat(directive("NoNewPrivileges")).containsExactly("yes");
        assertThat(directive("ExecStart")).containsExactly("/usr/bin/sallyport run -c /etc/sallyport/sallyport.yaml");
    }

    @Test
    void restartsOnFailureReloadsWithSighupAndCountsAnOrderlyStopAsSuccess() throws IOException {
        assertThat(directive("Restart")).containsExactly("on-failure");
        assertThat(directive("ExecReload")).containsExactly("/bin/kill -HUP $MAINPID");
        // What the JVM exits with after its shutdown on SIGTERM (InstalledLauncherIT sees it).
        assertThat(directive("SuccessExitStatus")).containsExactly("143");
        assertThat(Integer.parseInt(directive("LimitNOFILE").get(0))).as("descriptors for thousands of sessions")
                .isGreaterThanOrEqualTo(65536);
    }

    @Test
    void directoriesSystemdCreatesHaveTheModesThePackageGivesThem() throws IOException {
        // systemd re-applies these modes on every start, so a mismatch would flip them back and forth.
        assertThat(directive("StateDirectory")).containsExactly("sallyport");
        assertThat(directive("LogsDirectory")).containsExactly("sallyport");
        assertThat(directive("StateDirectoryMode")).containsExactly(mode("/var/lib/sallyport"));
        assertThat(directive("LogsDirectoryMode")).containsExactly(mode("/var/log/sallyport"));
        assertThat(mode("/var/lib/sallyport")).as("SPEC §7: /var/lib/sallyport is 0700").isEqualTo("0700");
    }

    // ------------------------------------------------------------------------------------------

    /**
     * verify resolves the unit's dependencies (sysinit.target, network-online.target, ...) and checks
     * that ExecReload's /bin/kill exists, as on the real OS. The scratch root has only the package, so
     * it gets this machine's systemd units and kill, with /bin a link to /usr/bin as on Amazon Linux.
     */
    private void addWhatTheOsProvides() throws IOException {
        Path units = Path.of("/usr/lib/systemd/system"); // there with systemd-analyze: both come with systemd
        Path target = root.path("/usr/lib/systemd/system");
        try (Stream<Path> files = Files.list(units)) {
            for (Path f : files.toList()) {
                Path dest = target.resolve(f.getFileName().toString());
                if (!Files.exists(dest, LinkOption.NOFOLLOW_LINKS) && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                    Files.copy(f, dest, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        Path kill = HostTool.require("kill", "procps").path();
        Files.copy(kill, root.path("/usr/bin/kill"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.createSymbolicLink(root.path("/bin"), Path.of("usr/bin"));
    }

    /** Every value of a directive in the installed unit (systemd allows repeating most of them). */
    private List<String> directive(String key) throws IOException {
        List<String> values = new ArrayList<>();
        for (String line : Files.readAllLines(unit)) {
            String l = line.strip();
            if (l.startsWith(key + "=")) {
                values.add(l.substring(key.length() + 1));
            }
        }
        return values;
    }

    private String mode(String dir) throws IOException {
        String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(root.path(dir)));
        int bits = 0;
        for (char c : perms.toCharArray()) {
            bits = (bits << 1) | (c == '-' ? 0 : 1);
        }
        return String.format("%04o", bits);
    }
}
