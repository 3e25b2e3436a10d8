package io.sallyport.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.testing.HostTool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The AMI build (ami/): the template passes {@code packer validate} (a full validation, not
 * {@code -syntax-only}: variables, their validation rules, the amazon-ebs builder's settings and
 * the provisioners, whose files must exist; no AWS call is made), and the provisioning scripts pass
 * shellcheck. Nothing is built: that needs an AWS account (docs/packaging.md).
 *
 * <p>With Packer 1.6 (Debian's) the build template is validated alone: its plugin requirements,
 * in plugins.pkr.hcl, need Packer 1.7 or later. A newer Packer validates the whole directory, once
 * {@code packer init ami/} has installed the amazon plugin.
 */
class PackerTemplateIT {
    private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)\\.(\\d+)");
    /** No update check against checkpoint.hashicorp.com: tests make no network calls. */
    private static final Map<String, String> OFFLINE = Map.of("CHECKPOINT_DISABLE", "1");

    @Test
    void buildTemplateValidates() {
        HostTool.Result r = validate(List.of());

        assertThat(r.exitCode()).as(r.toString()).isZero();
    }

    @Test
    void sshModeOtherThanMoveOrDisableIsRefused() {
        HostTool.Result r = validate(List.of("-var", "ssh_mode=keep"));

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stdout() + r.stderr()).contains("ssh_mode value must be \"move\" or \"disable\"");
    }

    @Test
    void templatesAreCanonicallyFormattedHcl() {
        HostTool.Result r = packer().run(List.of("fmt", "-check", "-diff", ami().toString()), OFFLINE, null);

        assertThat(r.exitCode()).as("packer fmt -check (fix with: packer fmt ami/): %s", r).isZero();
    }

    @Test
    void provisioningScriptsPassShellcheck() throws IOException {
        HostTool shellcheck = HostTool.require("shellcheck", "shellcheck");
        List<String> scripts = scripts();
        assertThat(scripts).isNotEmpty();
        List<String> args = new ArrayList<>(List.of("--severity=style"));
        scripts.forEach(s -> args.add(ami().resolve("scripts").resolve(s).toString()));

        HostTool.Result r = shellcheck.run(args);

        assertThat(r.exitCode()).as(r.toString()).isZero();
    }

    @Test
    void templateRunsEveryProvisioningScriptAndNothingElse() throws IOException {
        String template = BuiltPackage.read(ami().resolve("sallyport.pkr.hcl"));
        List<String> referenced = new ArrayList<>();
        Matcher m = Pattern.compile("\\$\\{path\\.root}/scripts/([\\w.-]+\\.sh)").matcher(template);
        while (m.find()) {
            referenced.add(m.group(1));
        }
        assertThat(referenced).containsExactlyInAnyOrderElementsOf(scripts());
    }

    // ------------------------------------------------------------------------------------------

    private static HostTool.Result validate(List<String> extraVars) {
        HostTool packer = packer();
        List<String> args = new ArrayList<>(List.of("validate",
                "-var", "vpc_id=vpc-0123456789abcdef0",
                "-var", "subnet_id=subnet-0123456789abcdef0",
                "-var", "rpm_source=" + BuiltPackage.rpm()));
        args.addAll(extraVars);
        args.add(supportsRequiredPlugins(packer) ? ami().toString() : ami().resolve("sallyport.pkr.hcl").toString());
        HostTool.Result r = packer.run(args, OFFLINE, null);
        if (r.exitCode() != 0 && (r.stdout() + r.stderr()).matches("(?s).*(packer init|[Mm]issing plugins?|[Uu]nknown source type).*")) {
            HostTool.missing("Packer's amazon plugin is not installed (packer init " + ami() + "): " + r);
        }
        return r;
    }

    private static boolean supportsRequiredPlugins(HostTool packer) {
        HostTool.Result r = packer.run(List.of("version"), OFFLINE, null);
        Matcher m = VERSION.matcher(r.stdout());
        assertThat(m.find()).as("packer version: %s", r).isTrue();
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        return major > 1 || minor >= 7;
    }

    private static HostTool packer() {
        return HostTool.require("packer", "packer");
    }

    private static Path ami() {
        return BuiltPackage.source("ami");
    }

    private static List<String> scripts() throws IOException {
        try (Stream<Path> s = Files.list(ami().resolve("scripts"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sh")).sorted().toList();
        }
    }
}
