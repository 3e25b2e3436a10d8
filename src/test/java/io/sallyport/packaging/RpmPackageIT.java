package io.sallyport.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.testing.HostTool;
import io.sallyport.testing.RpmRoot;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The RPM that {@code mvn package} builds, read with the real {@code rpm} tool and installed into a
 * scratch root: SPEC §7's files with their owners, modes and flags, the requirements, and the
 * scriptlets as shipped. (Scriptlet behaviour: {@link ScriptletsIT}; upgrades: {@link RpmUpgradeIT}.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RpmPackageIT {
    private Path rpmFile;
    private RpmRoot root;

    @BeforeAll
    void install() {
        rpmFile = BuiltPackage.rpm();
        root = RpmRoot.create();
        root.install(rpmFile);
    }

    @AfterAll
    void cleanUp() {
        if (root != null) {
            root.close();
        }
    }

    @Test
    void packageContentsRequirementsAndFileAttributesMatchTheGoldenManifest() {
        Golden.assertMatches("rpm-manifest.golden", manifest());
    }

    @Test
    void configIsNoReplaceConfigSoUpgradesKeepEdits() {
        assertThat(fileLine("/etc/sallyport/sallyport.yaml"))
                .as("%config(noreplace): flags c (config) and n (noreplace)")
                .isEqualTo("-rw-r----- root:sallyport cn /etc/sallyport/sallyport.yaml");
    }

    @Test
    void logrotatePolicyIsNoReplaceConfigAsInTheCheckoutAndLogrotateIsRecommended() {
        assertThat(fileLine("/etc/logrotate.d/sallyport"))
                .isEqualTo("-rw-r--r-- root:root cn /etc/logrotate.d/sallyport");
        assertThat(root.path("/etc/logrotate.d/sallyport")).hasSameTextualContentAs(BuiltPackage.source("packaging/logrotate.conf"));
        assertThat(query("[%{RECOMMENDNAME}\\n]").stdout().lines()).containsExactly("logrotate");
    }

    @Test
    void stateAndLogDirectoriesBelongToTheServiceUserOnly() {
        assertThat(fileLine("/var/lib/sallyport")).isEqualTo("drwx------ sallyport:sallyport - /var/lib/sallyport");
        assertThat(fileLine("/var/log/sallyport")).isEqualTo("drwxr-x--- sallyport:sallyport - /var/log/sallyport");
    }

    @Test
    void requiresAJava17OrNewerRuntimeThatAmazonLinux2023Provides() {
        HostTool.Result r = query("[%{REQUIRENAME}\\n]");
        assertThat(r.stdout().lines())
                .contains("(java-17-amazon-corretto-headless or java-21-amazon-corretto-headless or java-25-amazon-corretto-headless)",
                        "rpmlib(RichDependencies)", "systemd");
    }

    @Test
    void scriptletsAreThePackagingScriptsAsTheyAreInTheCheckout() {
        Map<String, String> tags = Map.of("PREIN", "pre.sh", "POSTIN", "post.sh", "PREUN", "preun.sh", "POSTUN", "postun.sh");
        tags.forEach((tag, file) -> {
            String shipped = query("%{" + tag + "}").stdout();
            String source = BuiltPackage.read(BuiltPackage.source("packaging/scriptlets/" + file)).strip();
            assertThat(shipped.strip()).as("%%%s scriptlet vs packaging/scriptlets/%s", tag, file).isEqualTo(source);
            assertThat(query("%{" + tag + "PROG}").stdout().strip()).as("%s interpreter", tag).isEqualTo("/bin/sh");
        });
    }

    @Test
    void installedFilesHaveTheOwnersAndModesRpmPromised() throws Exception {
        assertOwnerAndMode("/usr/bin/sallyport", 0, 0, "rwxr-xr-x");
        assertOwnerAndMode("/usr/share/sallyport/sallyport.jar", 0, 0, "rw-r--r--");
        assertOwnerAndMode("/etc/sallyport", 0, RpmRoot.SALLYPORT_GID, "rwxr-x---");
        assertOwnerAndMode("/etc/sallyport/sallyport.yaml", 0, RpmRoot.SALLYPORT_GID, "rw-r-----");
        assertOwnerAndMode("/usr/lib/systemd/system/sallyport.service", 0, 0, "rw-r--r--");
        assertOwnerAndMode("/var/lib/sallyport", RpmRoot.SALLYPORT_UID, RpmRoot.SALLYPORT_GID, "rwx------");
        assertOwnerAndMode("/var/log/sallyport", RpmRoot.SALLYPORT_UID, RpmRoot.SALLYPORT_GID, "rwxr-x---");

        // rpm -V compares every installed file with the package: digests, sizes, modes, owners.
        HostTool.Result verify = root.rpm("-V", "--nodeps", "--noscripts", "sallyport");
        assertThat(verify.exitCode()).as(verify.toString()).isZero();
        assertThat(verify.stdout()).as(verify.toString()).isEmpty();
    }

    @Test
    void licenseIsApache2AndItsTextIsInstalledAsTheLicenseFile() {
        assertThat(query("%{LICENSE}").stdout().strip()).isEqualTo("Apache-2.0");
        assertThat(fileLine("/usr/share/licenses/sallyport/LICENSE"))
                .as("%%license: flag l")
                .isEqualTo("-rw-r--r-- root:root l /usr/share/licenses/sallyport/LICENSE");
        assertThat(root.path("/usr/share/licenses/sallyport/LICENSE")).hasSameTextualContentAs(BuiltPackage.source("LICENSE"));
        assertThat(BuiltPackage.read(BuiltPackage.source("LICENSE")))
                .contains("Apache License", "Version 2.0, January 2004", "END OF TERMS AND CONDITIONS");
    }

    @Test
    void sbomIsInstalledAsDocumentationBesideTheReadme() {
        assertThat(fileLine("/usr/share/doc/sallyport/sallyport.cdx.json"))
                .isEqualTo("-rw-r--r-- root:root d /usr/share/doc/sallyport/sallyport.cdx.json");
        assertThat(root.path("/usr/share/doc/sallyport/sallyport.cdx.json"))
                .hasSameBinaryContentAs(rpmFile.resolveSibling("sallyport.cdx.json"));
    }

    @Test
    void installedFilesAreTheBuiltOnes() {
        assertThat(root.path("/usr/share/sallyport/sallyport.jar"))
                .hasSameBinaryContentAs(rpmFile.resolveSibling("sallyport.jar"));
        assertThat(root.path("/usr/bin/sallyport")).hasSameTextualContentAs(BuiltPackage.source("packaging/sallyport"));
        assertThat(root.path("/usr/lib/systemd/system/sallyport.service"))
                .hasSameTextualContentAs(BuiltPackage.source("systemd/sallyport.service"));
        assertThat(root.path("/usr/lib/sysusers.d/sallyport.conf"))
                .hasSameTextualContentAs(BuiltPackage.source("packaging/sysusers.conf"));
    }

    /**
     * The installed sysusers file, applied as at boot, makes the service user and the group whose
     * members may use the admin socket; the unit lets the server give its socket to that group.
     */
    @Test
    void installedSysusersFileCreatesTheServiceUserAndTheAdminGroup() throws Exception {
        Path scratch = Files.createTempDirectory("sysusers");
        try {
            Files.createDirectories(scratch.resolve("etc"));
            HostTool.Result r = HostTool.require("systemd-sysusers", "systemd").run("--root=" + scratch,
                    root.path("/usr/lib/sysusers.d/sallyport.conf").toString());
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(Files.readAllLines(scratch.resolve("etc/group")))
                    .anyMatch(l -> l.startsWith("sallyport-admin:"))
                    .anyMatch(l -> l.startsWith("sallyport:"));
            assertThat(Files.readAllLines(scratch.resolve("etc/passwd"))).anyMatch(l -> l.startsWith("sallyport:"));
        } finally {
            try (var files = Files.walk(scratch)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        assertThat(Files.readAllLines(root.path("/usr/lib/systemd/system/sallyport.service")))
                .contains("RuntimeDirectory=sallyport", "SupplementaryGroups=sallyport-admin");
    }

    @Test
    void shippedConfigPassesCheckConfigAndLetsNobodyReachAnything() {
        Path config = root.path("/etc/sallyport/sallyport.yaml");
        HostTool.Result r = HostTool.exec(
                List.of(root.path("/usr/bin/sallyport").toString(), "check-config", "-c", config.toString()),
                InstalledLauncher.environment(root), null, java.time.Duration.ofSeconds(60));

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).as(r.toString())
                .contains("listen                    0.0.0.0:22")
                .contains("roles                     none: nobody may reach anything")
                .contains("file                      /var/log/sallyport/audit.jsonl")
                .contains("host keys                 /var/lib/sallyport/ssh_host_ed25519_key")
                .contains(config + ": OK");
    }

    @Test
    void launcherPassesShellcheck() {
        HostTool shellcheck = HostTool.require("shellcheck", "shellcheck");
        HostTool.Result r = shellcheck.run(root.path("/usr/bin/sallyport").toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
    }

    // ------------------------------------------------------------------------------------------

    /** Header facts, requirements and every file, version and release left out (they change per build). */
    private String manifest() {
        List<String> lines = new ArrayList<>();
        lines.add("# sallyport RPM: rpm -qp queries, version and release left out");
        lines.add(query("name: %{NAME}\\narch: %{ARCH}\\nlicense: %{LICENSE}\\nsummary: %{SUMMARY}\\n").stdout().strip());
        query("[requires: %{REQUIRENAME}%{REQUIREFLAGS:depflags}%{REQUIREVERSION} (%{REQUIREFLAGS:deptype})\\n]")
                .stdout().lines().forEach(lines::add);
        query("[provides: %{PROVIDENAME}\\n]").stdout().lines().forEach(lines::add);
        lines.add("# files: mode owner:group flags (c config, n noreplace, d doc, l license) path");
        lines.addAll(fileLines().values());
        return String.join("\n", lines) + "\n";
    }

    /** {@code MODE OWNER:GROUP FLAGS PATH}, flags {@code -} when none. */
    private String fileLine(String path) {
        String line = fileLines().get(path);
        if (line == null) {
            throw new AssertionError(path + " is not in the package");
        }
        return line;
    }

    private Map<String, String> fileLines;

    private Map<String, String> fileLines() {
        if (fileLines == null) {
            Map<String, String> lines = new java.util.LinkedHashMap<>();
            String q = "[%{FILENAMES}\\t%{FILEMODES:perms}\\t%{FILEUSERNAME}:%{FILEGROUPNAME}\\t%{FILEFLAGS:fflags}\\n]";
            query(q).stdout().lines().forEach(l -> {
                String[] f = l.split("\t", -1);
                lines.put(f[0], f[1] + " " + f[2] + " " + (f[3].isEmpty() ? "-" : f[3]) + " " + f[0]);
            });
            fileLines = lines;
        }
        return fileLines;
    }

    private HostTool.Result query(String queryFormat) {
        HostTool.Result r = HostTool.require("rpm", "rpm").run("-qp", "--qf", queryFormat, rpmFile.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }

    private void assertOwnerAndMode(String path, int uid, int gid, String perms) throws Exception {
        Path p = root.path(path);
        assertThat(p).exists();
        assertThat(Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).as("owner of %s", path).isEqualTo(uid);
        assertThat(Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS)).as("group of %s", path).isEqualTo(gid);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)))
                .as("mode of %s", path).isEqualTo(perms);
    }
}
