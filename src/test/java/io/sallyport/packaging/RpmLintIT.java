package io.sallyport.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.testing.HostTool;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Debian's {@code rpmlint} over the built RPM: it may report only the findings accepted on purpose,
 * each explained beside the rpm plugin in pom.xml. A new finding fails the build, and so does an
 * accepted one that no longer occurs (the list stays exact).
 */
class RpmLintIT {
    /** {@code LEVEL: check [argument]}, as rpmlint prints them after {@code sallyport.noarch: }. See pom.xml. */
    static final Set<String> ACCEPTED = Set.of(
            "E: no-signature",
            "E: no-changelogname-tag",
            "W: no-url-tag",
            "W: invalid-license Apache-2.0",
            "E: non-standard-dir-perm /etc/sallyport 750",
            "E: non-standard-dir-perm /var/lib/sallyport 700",
            "E: non-standard-dir-perm /var/log/sallyport 750",
            "E: non-readable /etc/sallyport/sallyport.yaml 640",
            "W: non-standard-uid /var/lib/sallyport sallyport",
            "W: non-standard-uid /var/log/sallyport sallyport",
            "W: non-standard-gid /etc/sallyport sallyport",
            "W: non-standard-gid /etc/sallyport/sallyport.yaml sallyport",
            "W: non-standard-gid /var/lib/sallyport sallyport",
            "W: non-standard-gid /var/log/sallyport sallyport",
            "W: only-non-binary-in-usr-lib",
            "W: no-manual-page-for-binary sallyport",
            "W: jar-not-indexed /usr/share/sallyport/sallyport.jar");

    private static final Pattern FINDING = Pattern.compile("^sallyport\\.noarch: ([EW]: .*?)\\s*$");

    @Test
    void rpmlintReportsOnlyTheFindingsExplainedInThePom() {
        HostTool rpmlint = HostTool.require("rpmlint", "rpmlint");
        HostTool.Result r = rpmlint.run(BuiltPackage.rpm().toString());
        Set<String> findings = new TreeSet<>();
        r.stdout().lines().map(FINDING::matcher).filter(Matcher::matches).forEach(m -> findings.add(m.group(1)));
        assertThat(r.stdout()).as(r.toString()).contains("1 packages and 0 specfiles checked");

        Set<String> unexplained = new TreeSet<>(findings);
        unexplained.removeAll(ACCEPTED);
        assertThat(unexplained).as("rpmlint findings not explained beside the rpm plugin in pom.xml (fix them, or explain and accept them there and in RpmLintIT.ACCEPTED)\n%s", r)
                .isEmpty();
        Set<String> gone = new TreeSet<>(ACCEPTED);
        gone.removeAll(findings);
        assertThat(gone).as("accepted findings rpmlint no longer reports: drop them from RpmLintIT.ACCEPTED and pom.xml\n%s", r)
                .isEmpty();
    }
}
