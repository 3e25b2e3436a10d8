package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.sallyport.config.Config;
import io.sallyport.config.ConfigLoader;
import io.sallyport.config.ConfigProblem;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code identity.certificates.authorities[].public_key}: a CA key line that cannot be trusted is a config problem at its line. */
class CertificateAuthoritiesTest {

    private static Config config(String... caKeys) throws Exception {
        StringBuilder cas = new StringBuilder();
        for (int i = 0; i < caKeys.length; i++) {
            cas.append("      - name: ca").append(i).append('\n')
                    .append("        public_key: \"").append(caKeys[i]).append("\"\n")
                    .append("        grantable_roles: [ops]\n");
        }
        return ConfigLoader.parse("""
                policy:
                  roles:
                    ops: {allow: []}
                identity:
                  certificates:
                    authorities:
                """ + cas, Path.of("test.yaml"));
    }

    @Test
    void caKeyLinesBecomeTrustedAuthorities() throws Exception {
        List<ConfigProblem> problems = new ArrayList<>();
        List<CertificateAuthority> cas = CertificateVerifier.authorities(config(TestKeys.ed25519().line()), problems);

        assertThat(problems).isEmpty();
        assertThat(cas).containsExactly(new CertificateAuthority("ca0", TestKeys.ed25519().parsed(), List.of("ops")));
    }

    @Test
    void brokenCertificateOrRefusedCaKeysAreProblemsAtTheirLines() throws Exception {
        String cert = "ssh-ed25519-cert-v01@openssh.com " + Base64.getEncoder().encodeToString(new CertBlob(0, 1).build());
        List<ConfigProblem> problems = new ArrayList<>();
        List<CertificateAuthority> cas = CertificateVerifier.authorities(config(
                "ssh-ed25519 AAAAC3Nz corp", cert, TestKeys.line("ssh-dss", TestKeys.dsaBlob())), problems);

        assertThat(cas).isEmpty();
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::keyPath).containsExactly(
                tuple(8, "identity.certificates.authorities[0].public_key"),
                tuple(11, "identity.certificates.authorities[1].public_key"),
                tuple(14, "identity.certificates.authorities[2].public_key"));
        assertThat(problems.get(0).message()).isEqualTo("key data of 'ssh-ed25519' is truncated or malformed");
        assertThat(problems.get(1).message()).startsWith("a certificate; a CA's public_key is its plain public key");
        assertThat(problems.get(2).message()).startsWith("DSA keys are refused");
    }
}
