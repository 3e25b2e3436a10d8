package io.sallyport.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClosestNameTest {
    private static final List<String> POLICY_KEYS = List.of("roles", "private_networks", "deny",
            "unsafe_allow_loopback", "min_rsa_bits", "max_sessions_per_user", "idle_timeout", "max_session_duration");

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "rols, roles",
        "Deny, deny",
        "max-sessions-per-user, max_sessions_per_user",
        "unsafe_allow_loopbak, unsafe_allow_loopback",
        "idle_time, idle_timeout",
        "private_networks_v4, private_networks",
        "max_session_time, max_session_duration",
        "max_sessions, max_sessions_per_user",
    })
    void suggestsTheNameMostLikelyMeant(String typed, String expected) {
        assertThat(ClosestName.among(typed, POLICY_KEYS)).contains(expected);
    }

    @ParameterizedTest
    @CsvSource({"colour", "x", "allow", "timeout"})
    void suggestsNothingWhenNothingIsClose(String typed) {
        assertThat(ClosestName.among(typed, POLICY_KEYS)).isEmpty();
    }

    @Test
    void shortNamesNeedMostOfTheirLettersRight() {
        assertThat(ClosestName.among("db", List.of("dba"))).contains("dba");
        assertThat(ClosestName.among("ab", List.of("xy"))).isEmpty();
    }
}
