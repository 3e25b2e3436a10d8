package io.sallyport.config;

import static io.sallyport.config.ConfigFixtures.parse;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Features the file format names but this version cannot honour must stop the start (fail closed);
 * today there are none, and the last one (the PROXY protocol) is accepted.
 */
class UnsupportedFeaturesTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "proxy_protocol:\\n  enabled: false\\n",
    })
    void theSameFeaturesSwitchedOffAreAccepted(String yaml) throws Exception {
        assertThat(parse(yaml.replace("\\n", "\n"))).isNotNull();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "limits:\\n  allow_sources: [203.0.113.0/24]\\n",
        "identity:\\n  max_key_age: 90d\\n",
        "proxy_protocol:\\n  enabled: true\\n  trusted_sources: [10.0.0.0/8]\\n",
    })
    void enforcedFeaturesAreAccepted(String yaml) throws Exception {
        assertThat(parse(yaml.replace("\\n", "\n"))).isNotNull();
    }
}
