package io.sallyport.config;

import static io.sallyport.config.ConfigFixtures.onlyProblemOf;
import static io.sallyport.config.ConfigFixtures.parse;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Features the file format names but this version cannot honour must stop the start (fail closed). */
class UnsupportedFeaturesTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "identity.iam.enabled    | identity:\\n  iam:\\n    enabled: true\\n              | 3",
        "proxy_protocol.enabled  | proxy_protocol:\\n  enabled: true\\n  trusted_sources: [10.0.0.0/8]\\n | 2",
        "identity.certificates.authorities | identity:\\n  certificates:\\n    authorities:\\n      - {name: ca, public_key: ssh-ed25519 AAAA}\\n | 3",
    })
    void unimplementedFeaturesAreRefusedNotIgnored(String keyPath, String yaml, int line) {
        ConfigProblem p = onlyProblemOf(yaml.replace("\\n", "\n"));

        assertThat(p.keyPath()).isEqualTo(keyPath);
        assertThat(p.line()).isEqualTo(line);
        assertThat(p.message()).endsWith(" is not supported by this version of sallyport yet");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "identity:\\n  iam:\\n    enabled: false\\n",
        "proxy_protocol:\\n  enabled: false\\n",
        "identity:\\n  certificates:\\n    authorities: []\\n",
    })
    void theSameFeaturesSwitchedOffAreAccepted(String yaml) throws Exception {
        assertThat(parse(yaml.replace("\\n", "\n"))).isNotNull();
    }
}
