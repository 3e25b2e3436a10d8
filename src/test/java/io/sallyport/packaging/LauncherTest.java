package io.sallyport.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.testing.HostTool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher ({@code packaging/sallyport}, installed as {@code /usr/bin/sallyport}) with a stand-in
 * {@code java} that reports the arguments it was given and whether SIGHUP reached it ignored. The real
 * JVM runs in {@link InstalledLauncherIT}.
 */
class LauncherTest {
    private static final Path LAUNCHER = BuiltPackage.source("packaging/sallyport");

    @TempDir
    Path dir;

    private Path javaHome;
    private Path home;

    @BeforeEach
    void fakeJavaAndJar() throws IOException {
        javaHome = dir.resolve("jdk");
        Path java = Files.createDirectories(javaHome.resolve("bin")).resolve("java");
        // SigIgn is a hex mask of ignored signals; SIGHUP is bit 0.
        Files.writeString(java, """
                #!/bin/sh
                case " $* " in
                  *" -XX:+PrintSharedArchiveAndExit "*) printf '%s' "${FAKE_CDS_CHECK:-}"; exit "${FAKE_CDS_CHECK_STATUS:-0}" ;;
                esac
                for a in "$@"; do echo "arg $a"; done
                hex=$(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status)
                if [ $(( 0x$hex & 1 )) -eq 1 ]; then echo "sighup ignored"; else echo "sighup default"; fi
                """);
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        home = Files.createDirectories(dir.resolve("share"));
        Files.writeString(home.resolve("sallyport.jar"), "not really a jar");
    }

    @Test
    void runGetsTheServerFlagsAndLeavesSighupToTheServerWhichReloadsOnIt() {
        List<String> out = launch(Map.of(), "run", "-c", "/etc/sallyport/sallyport.yaml");

        assertThat(args(out)).containsSubsequence("-XX:+UseG1GC", "-XX:MaxRAMPercentage=50", "-XX:+ExitOnOutOfMemoryError",
                "-jar", home.resolve("sallyport.jar").toString(), "run", "-c", "/etc/sallyport/sallyport.yaml");
        assertThat(args(out)).contains("-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30");
        assertThat(args(out)).contains("-Xlog:disable", "-Xlog:all=warning:stderr", "-XX:+DisplayVMOutputToStderr",
                "-Dfile.encoding=UTF-8");
        // Never inherited ignored: a signal the JVM starts with ignored can never be handled by it.
        assertThat(out).contains("sighup default");
    }

    @Test
    void runAfterAGlobalOptionIsStillTheServer() {
        List<String> out = launch(Map.of(), "--debug", "run");

        assertThat(args(out)).contains("-XX:+UseG1GC").doesNotContain("-XX:+UseSerialGC");
        assertThat(out).contains("sighup default");
    }

    @Test
    void oneShotCommandsStartSmallAndKeepTheDefaultSighup() {
        List<String> out = launch(Map.of(), "check-config");

        assertThat(args(out)).contains("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Dfile.encoding=UTF-8")
                .doesNotContain("-XX:+UseG1GC");
        assertThat(out).contains("sighup default");
    }

    @Test
    void operatorOptionsComeAfterTheDefaultsSoTheyWin() {
        List<String> out = launch(Map.of("SALLYPORT_JAVA_OPTS", "-XX:MaxRAMPercentage=70 -Xss512k"), "run");

        assertThat(args(out)).containsSubsequence("-XX:MaxRAMPercentage=50", "-XX:MaxRAMPercentage=70", "-Xss512k", "-jar");
    }

    @Test
    void withoutAJavaRuntimeItSaysWhatToInstall() {
        HostTool.Result r = run(Map.of("JAVA_HOME", dir.resolve("no-such-jdk").toString(), "SALLYPORT_HOME", home.toString()),
                "version");

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("no Java runtime").contains("java-17-amazon-corretto-headless");
    }

    @Test
    void byDefaultTheJarIsTheInstalledOne() {
        Map<String, String> env = new java.util.HashMap<>();
        env.put("JAVA_HOME", javaHome.toString());
        env.put("SALLYPORT_HOME", null);
        HostTool.Result r = run(env, "version");

        if (Files.isReadable(Path.of("/usr/share/sallyport/sallyport.jar"))) {
            assertThat(r.stdout()).contains("arg /usr/share/sallyport/sallyport.jar");
        } else {
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.stderr()).contains("cannot read /usr/share/sallyport/sallyport.jar");
        }
    }

    @Test
    void withoutAClassDataArchiveRunAsksTheJvmToWriteOneAtExitAndOneShotCommandsDoNot() throws IOException {
        Path state = cdsReady();

        assertThat(args(launch(Map.of("SALLYPORT_CDS", "on", "SALLYPORT_STATE", state.toString()), "run")))
                .contains("-XX:ArchiveClassesAtExit=" + state.resolve(archiveName() + ".jsa.new"), "-Xlog:cds*=error:stderr")
                .noneMatch(a -> a.startsWith("-XX:SharedArchiveFile"));
        assertThat(args(launch(Map.of("SALLYPORT_CDS", "on", "SALLYPORT_STATE", state.toString()), "check-config")))
                .noneMatch(a -> a.contains("Archive"));
    }

    @Test
    void aWrittenArchiveThatPassesTheRuntimesCheckIsRenamedWithItsSizeAndUsed() throws IOException {
        Path state = cdsReady();
        Files.write(state.resolve(archiveName() + ".jsa.new"), new byte[1234]);

        List<String> out = launch(Map.of("SALLYPORT_CDS", "on", "SALLYPORT_STATE", state.toString(),
                "FAKE_CDS_CHECK", " 223: org.apache.sshd.common.io.nio2.Nio2Acceptor app_loader\narchive is valid\n"), "run");

        Path used = state.resolve(archiveName() + "-1234.jsa");
        assertThat(used).exists();
        assertThat(state.resolve(archiveName() + ".jsa.new")).doesNotExist();
        assertThat(args(out)).containsSubsequence("-XX:SharedArchiveFile=" + used, "-XX:+VerifySharedSpaces", "-jar")
                .noneMatch(a -> a.startsWith("-XX:ArchiveClassesAtExit"));
        // and the next start uses it as it is
        assertThat(args(launch(Map.of("SALLYPORT_CDS", "on", "SALLYPORT_STATE", state.toString()), "run"))).contains("-XX:SharedArchiveFile=" + used);
    }

    @Test
    void aWrittenArchiveThatFailsTheCheckOrLacksTheServerIsWrittenAgain() throws IOException {
        Path state = cdsReady();
        Path written = state.resolve(archiveName() + ".jsa.new");
        for (Map<String, String> check : List.of(
                Map.of("FAKE_CDS_CHECK", "# A fatal error has been detected (SIGBUS)", "FAKE_CDS_CHECK_STATUS", "134"),
                Map.of("FAKE_CDS_CHECK", " 1: io.sallyport.cli.Main app_loader\narchive is valid\n"))) { // a run that never listened
            Files.write(written, new byte[1234]);
            Map<String, String> env = new java.util.HashMap<>(check);
            env.put("SALLYPORT_STATE", state.toString());
            env.put("SALLYPORT_CDS", "on");

            assertThat(args(launch(env, "run"))).as("%s", check).contains("-XX:ArchiveClassesAtExit=" + written)
                    .noneMatch(a -> a.startsWith("-XX:SharedArchiveFile"));
            assertThat(state).isEmptyDirectory(); // the JVM writes the new one at exit
        }
    }

    @Test
    void anArchiveWhoseSizeChangedIsDeletedNotUsed() throws IOException {
        Path state = cdsReady();
        Path truncated = state.resolve(archiveName() + "-22544384.jsa");
        Files.write(truncated, new byte[4096]);

        assertThat(args(launch(Map.of("SALLYPORT_CDS", "on", "SALLYPORT_STATE", state.toString()), "run")))
                .noneMatch(a -> a.startsWith("-XX:SharedArchiveFile")).anyMatch(a -> a.startsWith("-XX:ArchiveClassesAtExit"));
        assertThat(truncated).doesNotExist();
    }

    @Test
    void archivesOfAnotherRuntimeOrJarAreRemovedWhenTheNewOneIsStarted() throws IOException {
        Path state = cdsReady();
        Path older = Files.write(state.resolve("cds-17.0.98+1-LTS-100-200-4.jsa"), new byte[4]);
        Path hostKey = Files.write(state.resolve("ssh_host_ed25519_key"), new byte[4]);

        launch(Map.of("SALLYPORT_CDS", "on", "SALLYPORT_STATE", state.toString()), "run");

        assertThat(older).doesNotExist();
        assertThat(hostKey).exists();
    }

    @Test
    void noArchiveUnlessTurnedOnOrWhenTheRuntimeHasNoReleaseFileOrTheStateDirectoryIsMissing() throws IOException {
        Path state = cdsReady();
        assertThat(args(launch(Map.of("SALLYPORT_STATE", state.toString()), "run")))
                .as("off unless asked for").noneMatch(a -> a.contains("Archive"));
        assertThat(args(launch(Map.of("SALLYPORT_STATE", state.toString(), "SALLYPORT_CDS", "off"), "run")))
                .noneMatch(a -> a.contains("Archive"));
        assertThat(args(launch(Map.of("SALLYPORT_CDS", "on", "SALLYPORT_STATE", dir.resolve("no-such-dir").toString()), "run")))
                .noneMatch(a -> a.contains("Archive"));
        assertThat(args(launch(Map.of("SALLYPORT_CDS", "on", "SALLYPORT_STATE", dir.resolve("with space").toString()), "run")))
                .noneMatch(a -> a.contains("Archive"));
        Files.delete(javaHome.resolve("release"));
        assertThat(args(launch(Map.of("SALLYPORT_CDS", "on", "SALLYPORT_STATE", state.toString()), "run"))).noneMatch(a -> a.contains("Archive"));
        assertThat(state).isEmptyDirectory();
    }

    /** A release file for the stand-in runtime, and an empty state directory. */
    private Path cdsReady() throws IOException {
        Files.writeString(javaHome.resolve("release"), "IMPLEMENTOR=\"Amazon.com Inc.\"\nJAVA_RUNTIME_VERSION=\"17.0.99+1-LTS\"\n"
                + "JAVA_VERSION=\"17.0.99\"\n");
        Files.createDirectories(dir.resolve("with space"));
        return Files.createDirectories(dir.resolve("state"));
    }

    /** The archive's name for the stand-in runtime and jar: runtime version, jar size and mtime. */
    private String archiveName() throws IOException {
        Path jar = home.resolve("sallyport.jar");
        return "cds-17.0.99+1-LTS-" + Files.size(jar) + "-" + Files.getLastModifiedTime(jar).to(java.util.concurrent.TimeUnit.SECONDS);
    }

    // ------------------------------------------------------------------------------------------

    private List<String> launch(Map<String, String> env, String... args) {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("JAVA_HOME", javaHome.toString());
        all.put("SALLYPORT_HOME", home.toString());
        HostTool.Result r = run(all, args);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r.stdout().lines().toList();
    }

    private HostTool.Result run(Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of("/bin/sh", LAUNCHER.toString()));
        command.addAll(List.of(args));
        Map<String, String> all = new java.util.HashMap<>(env);
        all.putIfAbsent("SALLYPORT_JAVA_OPTS", "");
        return HostTool.exec(command, all, null, Duration.ofSeconds(30));
    }

    private static List<String> args(List<String> out) {
        return out.stream().filter(l -> l.startsWith("arg ")).map(l -> l.substring(4)).toList();
    }
}
