package io.sallyport.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.testing.HostTool;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * cfn-lint (1.x, offline: it carries the CloudFormation resource specifications) finds nothing in
 * the fleet template, warnings and informational findings included. Skipped without cfn-lint, with
 * how to install it; a failure under {@code CI=true}.
 */
class FleetTemplateLintTest {

    @Test
    void fleetTemplatePassesCfnLintWithoutWarnings() {
        Path cfnLint = cfnLint().orElseGet(() -> {
            HostTool.missing("cfn-lint is not installed (pip install 'cfn-lint>=1'), so deploy/sallyport-fleet.yaml is not linted");
            throw new IllegalStateException("unreachable");
        });
        List<String> command = List.of(cfnLint.toString(), "--non-zero-exit-code", "informational",
                FleetTemplateTest.TEMPLATE.toString());

        HostTool.Result r = HostTool.exec(command, Map.of(), null, Duration.ofMinutes(2));

        assertThat(r.ok()).as("%s", r).isTrue();
    }

    @Test
    void cfnLintRefusesABrokenTemplate() throws Exception {
        Optional<Path> cfnLint = cfnLint();
        if (cfnLint.isEmpty()) {
            HostTool.missing("cfn-lint is not installed (pip install 'cfn-lint>=1')");
            return;
        }
        String broken = Files.readString(FleetTemplateTest.TEMPLATE)
                .replace("HttpPutResponseHopLimit: 1", "HttpPutResponseHopLimt: 1");
        Path file = Files.createTempFile("sallyport-fleet-broken", ".yaml");
        try {
            Files.writeString(file, broken);
            HostTool.Result r = HostTool.exec(List.of(cfnLint.get().toString(), "--non-zero-exit-code", "informational",
                    file.toString()), Map.of(), null, Duration.ofMinutes(2));

            assertThat(r.exitCode()).as("%s", r).isNotZero();
            assertThat(r.stdout()).contains("HttpPutResponseHopLimt");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** On the PATH, or where pyenv puts the commands of pip packages. */
    private static Optional<Path> cfnLint() {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isEmpty()) {
                    candidates.add(Path.of(dir, "cfn-lint"));
                }
            }
        }
        String home = System.getProperty("user.home");
        candidates.add(Path.of(home, ".pyenv", "shims", "cfn-lint"));
        candidates.add(Path.of(home, ".local", "bin", "cfn-lint"));
        return candidates.stream().filter(Files::isExecutable).findFirst();
    }
}
