package io.sallyport.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.testing.HostTool;
import io.sallyport.testing.RpmRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * What docs/packaging.md promises about upgrading in place and rolling back, with the real rpm
 * tool: an operator's config edits and the server's state (host key, audit log) survive an upgrade
 * to the next release, a rollback to the previous one, and even removal. The next release is the
 * same build packaged one release later (pom.xml, execution rpm-next-release-for-tests).
 */
class RpmUpgradeIT {
    private static final String EDITED = "# edited by the operator\n";

    @Test
    void upgradeAndRollbackKeepEditedConfigAndState() throws Exception {
        Path current = BuiltPackage.rpm();
        Path next = BuiltPackage.nextRelease();
        try (RpmRoot root = RpmRoot.create()) {
            root.install(current);
            String installed = release(root);
            Path config = root.path("/etc/sallyport/sallyport.yaml");
            Path hostKey = root.path("/var/lib/sallyport/ssh_host_ed25519_key");
            Path auditLog = root.path("/var/log/sallyport/audit.jsonl");
            String editedConfig = Files.readString(config) + EDITED;
            Files.writeString(config, editedConfig);
            Files.writeString(hostKey, "host key of this instance\n");
            Files.writeString(auditLog, "{\"event\":\"server.start\"}\n");

            root.install(next, "-U");
            assertThat(release(root)).as("upgraded").isNotEqualTo(installed).isEqualTo(release(next));
            assertKept(root, config, editedConfig, hostKey, auditLog);
            assertThat(root.path("/etc/sallyport/sallyport.yaml.rpmnew"))
                    .as("the default config did not change between the releases, so no .rpmnew").doesNotExist();

            root.install(current, "-U", "--oldpackage");
            assertThat(release(root)).as("rolled back").isEqualTo(installed);
            assertKept(root, config, editedConfig, hostKey, auditLog);

            HostTool.Result erase = root.rpm("-e", "--nodeps", "--noscripts", "sallyport");
            assertThat(erase.exitCode()).as(erase.toString()).isZero();
            assertThat(root.path("/usr/share/sallyport/sallyport.jar")).doesNotExist();
            assertThat(root.path("/etc/sallyport/sallyport.yaml.rpmsave"))
                    .as("an edited config is saved on removal").hasContent(editedConfig);
            assertThat(hostKey).as("state is never removed with the package").exists();
            assertThat(auditLog).exists();
        }
    }

    private static void assertKept(RpmRoot root, Path config, String editedConfig, Path hostKey, Path auditLog) {
        assertThat(config).hasContent(editedConfig);
        assertThat(hostKey).hasContent("host key of this instance\n");
        assertThat(auditLog).hasContent("{\"event\":\"server.start\"}\n");
        assertThat(root.path("/usr/share/sallyport/sallyport.jar")).isRegularFile();
    }

    private static String release(RpmRoot root) {
        HostTool.Result r = root.rpm("-q", "--qf", "%{VERSION}-%{RELEASE}", "sallyport");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r.stdout().strip();
    }

    private static String release(Path rpmFile) {
        HostTool.Result r = HostTool.require("rpm", "rpm").run("-qp", "--qf", "%{VERSION}-%{RELEASE}", rpmFile.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r.stdout().strip();
    }
}
