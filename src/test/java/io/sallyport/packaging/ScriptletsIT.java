package io.sallyport.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.testing.HostTool;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RPM's scriptlets, taken from the built package and run by {@code /bin/sh} with the argument
 * rpm gives them ({@code $1}: how many copies of the package remain), against stand-ins for
 * {@code systemctl}, {@code systemd-sysusers}, {@code getent}, {@code groupadd} and {@code useradd}
 * that record how they were called. PATH holds only the stand-ins, so no real system is touched.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScriptletsIT {
    private static final List<String> ALL_STUBS = List.of("systemctl", "systemd-sysusers", "getent", "groupadd", "useradd");

    @TempDir
    static Path dir;

    private final Map<String, Path> scriptlets = new HashMap<>();

    @BeforeAll
    void extractScriptletsFromThePackage() throws IOException {
        HostTool rpm = HostTool.require("rpm", "rpm");
        for (String tag : List.of("PREIN", "POSTIN", "PREUN", "POSTUN")) {
            HostTool.Result r = rpm.run("-qp", "--qf", "%{" + tag + "}", BuiltPackage.rpm().toString());
            assertThat(r.exitCode()).as(r.toString()).isZero();
            Path file = dir.resolve(tag.toLowerCase() + ".sh");
            Files.writeString(file, r.stdout());
            scriptlets.put(tag, file);
        }
    }

    @Test
    void firstInstallCreatesTheUserWithSysusersThenAppliesThePreset() throws IOException {
        Run pre = run("PREIN", 1, ALL_STUBS, Map.of());
        Run post = run("POSTIN", 1, ALL_STUBS, Map.of());

        assertThat(pre.calls()).containsExactly(
                "systemd-sysusers --replace=/usr/lib/sysusers.d/sallyport.conf -",
                "  stdin: u sallyport - \"sallyport SSH jump server\" /var/lib/sallyport /usr/sbin/nologin",
                "  stdin: g sallyport-admin -");
        assertThat(post.calls()).containsExactly("systemctl --no-reload preset sallyport.service");
    }

    @Test
    void theLinesOfPreinstallAreTheShippedSysusersFile() {
        List<String> sysusers = BuiltPackage.read(BuiltPackage.source("packaging/sysusers.conf")).lines()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        assertThat(sysusers).hasSize(2);
        assertThat(BuiltPackage.read(scriptlets.get("PREIN")).lines()).containsSubsequence(sysusers);
    }

    @Test
    void withoutSysusersTheUserComesFromGroupaddAndUseradd() throws IOException {
        List<String> noSysusers = List.of("systemctl", "getent", "groupadd", "useradd");

        Run fresh = run("PREIN", 1, noSysusers, Map.of("STUB_GETENT_STATUS", "2"));
        assertThat(fresh.calls()).containsExactly(
                "getent group sallyport",
                "groupadd -r sallyport",
                "getent passwd sallyport",
                "useradd -r -g sallyport -d /var/lib/sallyport -s /usr/sbin/nologin -c sallyport SSH jump server sallyport",
                "getent group sallyport-admin",
                "groupadd -r sallyport-admin");

        Run existing = run("PREIN", 2, noSysusers, Map.of("STUB_GETENT_STATUS", "0"));
        assertThat(existing.calls()).containsExactly("getent group sallyport", "getent passwd sallyport",
                "getent group sallyport-admin");
    }

    @Test
    void upgradeReloadsSystemdButNeitherRestartsNorStopsTheServer() throws IOException {
        // rpm -U: new %pre(2), new %post(2), old %preun(1), old %postun(1).
        Run post = run("POSTIN", 2, ALL_STUBS, Map.of());
        Run preun = run("PREUN", 1, ALL_STUBS, Map.of());
        Run postun = run("POSTUN", 1, ALL_STUBS, Map.of("STUB_ACTIVE_STATUS", "0"));

        assertThat(post.calls()).isEmpty();
        assertThat(preun.calls()).isEmpty();
        assertThat(postun.calls()).containsExactly("systemctl daemon-reload", "systemctl is-active --quiet sallyport.service");
        assertThat(postun.stdout()).contains("systemctl restart sallyport").contains("ends live sessions");
    }

    @Test
    void removalStopsAndDisablesTheService() throws IOException {
        Run preun = run("PREUN", 0, ALL_STUBS, Map.of());
        Run postun = run("POSTUN", 0, ALL_STUBS, Map.of());

        assertThat(preun.calls()).containsExactly("systemctl --no-reload disable --now sallyport.service");
        assertThat(postun.calls()).containsExactly("systemctl daemon-reload");
    }

    @Test
    void withoutSystemdTheScriptletsDoNothingAndSucceed() throws IOException {
        // An image build in a container, say: no systemctl at all.
        List<String> none = List.of("getent", "groupadd", "useradd");
        assertThat(run("POSTIN", 1, none, Map.of()).calls()).isEmpty();
        assertThat(run("PREUN", 0, none, Map.of()).calls()).isEmpty();
        assertThat(run("POSTUN", 1, none, Map.of()).calls()).isEmpty();
    }

    @Test
    void scriptletsPassShellcheck() {
        HostTool shellcheck = HostTool.require("shellcheck", "shellcheck");
        for (Path file : scriptlets.values()) {
            HostTool.Result r = shellcheck.run("--shell=sh", file.toString());
            assertThat(r.exitCode()).as(r.toString()).isZero();
        }
    }

    // ------------------------------------------------------------------------------------------

    record Run(List<String> calls, String stdout) {
    }

    /** Runs one scriptlet with {@code $1 = arg}; fails unless it exits 0, as rpm would. */
    private Run run(String tag, int arg, List<String> stubs, Map<String, String> env) throws IOException {
        Path bin = Files.createTempDirectory(dir, "bin-");
        Path log = bin.resolve("calls.log");
        Files.createFile(log);
        for (String name : stubs) {
            Path stub = bin.resolve(name);
            Files.writeString(stub, stub(name), StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(stub, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Map<String, String> environment = new HashMap<>(env);
        environment.put("PATH", bin.toString());
        environment.put("STUB_LOG", log.toString());
        HostTool.Result r = HostTool.exec(List.of("/bin/sh", scriptlets.get(tag).toString(), Integer.toString(arg)),
                environment, null, Duration.ofSeconds(30));
        assertThat(r.exitCode()).as("%%%s %d: %s", tag, arg, r).isZero();
        return new Run(Files.readAllLines(log), r.stdout());
    }

    /** A stand-in that appends its name and arguments (and, for systemd-sysusers, its input) to $STUB_LOG. */
    private static String stub(String name) {
        StringBuilder sb = new StringBuilder("#!/bin/sh\n")
                .append("line=\"${0##*/}\"\n")
                .append("for a in \"$@\"; do line=\"$line $a\"; done\n")
                .append("printf '%s\\n' \"$line\" >> \"$STUB_LOG\"\n");
        if (name.equals("systemd-sysusers")) {
            sb.append("while IFS= read -r l; do printf '  stdin: %s\\n' \"$l\" >> \"$STUB_LOG\"; done\n");
        }
        if (name.equals("getent")) {
            sb.append("exit \"${STUB_GETENT_STATUS:-2}\"\n");
        }
        if (name.equals("systemctl")) {
            sb.append("[ \"$1\" = is-active ] && exit \"${STUB_ACTIVE_STATUS:-3}\"\n");
        }
        sb.append("exit 0\n");
        return sb.toString();
    }
}
