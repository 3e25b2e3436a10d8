package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.net.TargetResolver;
import io.sallyport.testing.OpenSsh;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Reads the algorithms each crypto profile offers off a live server, through the OpenSSH client's
 * own account of the server's KEXINIT ({@code ssh -vvv}), and compares them with SPEC §6. The
 * expected lists are written out here, not derived from the code under test.
 */
class AlgorithmsIT {
    private static final List<String> PQ = List.of(
            "mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com");
    private static final List<String> CURVE25519 = List.of("curve25519-sha256", "curve25519-sha256@libssh.org");
    private static final List<String> COMPAT_KEX = List.of(
            "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
            "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512");
    private static final List<String> CIPHERS = List.of(
            "aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com",
            "aes256-ctr", "aes192-ctr", "aes128-ctr");
    private static final List<String> ETM_MACS = List.of("hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com");
    /** What the server adds to its KEX list to signal extensions and strict key exchange. */
    private static final List<String> MARKERS = List.of("ext-info-s", "kex-strict-s-v00@openssh.com");

    @TempDir
    static Path dir;
    static Path key;

    @BeforeAll
    static void keys() {
        OpenSsh.requireClient();
        key = OpenSsh.keygen(dir, "probe");
    }

    static Stream<Arguments> profiles() {
        return Stream.of(
                Arguments.of("modern", concat(PQ, CURVE25519), ETM_MACS),
                Arguments.of("pq-only", PQ, ETM_MACS),
                Arguments.of("compat", concat(PQ, CURVE25519, COMPAT_KEX),
                        concat(ETM_MACS, List.of("hmac-sha2-256", "hmac-sha2-512"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("profiles")
    void profileOffersExactlyTheSpecifiedAlgorithms(String profile, List<String> kex, List<String> macs) throws Exception {
        Path work = Files.createDirectories(dir.resolve(profile));
        try (BastionFixture bastion = BastionFixture.start(work, "crypto: " + profile + "\n", TargetResolver.system())) {
            Path knownHosts = work.resolve("known_hosts");
            OpenSsh.addKnownHost(knownHosts, "127.0.0.1", bastion.port(), bastion.hostKeyLine());
            OpenSsh ssh = OpenSsh.config()
                    .host(OpenSsh.host("b").hostName("127.0.0.1").port(bastion.port()).user("probe")
                            .identityFile(key).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                    .writeTo(work.resolve("ssh_config"));
            OpenSsh.Result r = ssh.run(List.of("-vvv", "-N", "b"), new byte[0], Duration.ofSeconds(20));

            Map<String, List<String>> offered = serverProposal(r.stderr());
            assertThat(offered).as(r.stderr()).isNotEmpty();
            assertThat(offered.get("KEX algorithms")).containsExactlyElementsOf(concat(kex, MARKERS));
            assertThat(offered.get("host key algorithms")).containsExactly("ssh-ed25519");
            assertThat(offered.get("ciphers ctos")).containsExactlyElementsOf(CIPHERS);
            assertThat(offered.get("ciphers stoc")).containsExactlyElementsOf(CIPHERS);
            assertThat(offered.get("MACs ctos")).containsExactlyElementsOf(macs);
            assertThat(offered.get("MACs stoc")).containsExactlyElementsOf(macs);
            assertThat(offered.get("compression ctos")).containsExactly("none");
            // Terrapin countermeasure: both sides agreed on strict key exchange.
            assertThat(r.stderr()).contains("will use strict KEX ordering");
            // The key exchange actually completed with a post-quantum hybrid (OpenSSH 9.2 has sntrup761).
            assertThat(r.stderr()).containsPattern("kex: algorithm: (sntrup761x25519-sha512(@openssh.com)?|mlkem768x25519-sha256)");
            for (String banned : List.of("sha1", "cbc", "diffie-hellman-group1-", "diffie-hellman-group14", "ssh-rsa,", "zlib", "3des", "arcfour")) {
                assertThat(String.join(",", offered.values().stream().map(v -> String.join(",", v) + ",").toList()))
                        .as("profile %s offers nothing with %s", profile, banned).doesNotContain(banned);
            }
        }
    }

    /** The lines OpenSSH prints under "peer server KEXINIT proposal", as name → list. */
    static Map<String, List<String>> serverProposal(String stderr) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        boolean inServer = false;
        for (String line : stderr.split("\\R")) {
            if (line.contains("peer server KEXINIT proposal")) {
                inServer = true;
                continue;
            }
            if (!inServer || line.startsWith("debug3: ")) {
                continue;
            }
            if (!line.startsWith("debug2: ") || line.contains("KEXINIT")) {
                break;
            }
            String body = line.substring("debug2: ".length());
            int colon = body.indexOf(':');
            if (colon < 0) {
                break;
            }
            String value = body.substring(colon + 1).trim();
            out.put(body.substring(0, colon), value.isEmpty() ? List.of() : Arrays.asList(value.split(",")));
        }
        return out;
    }

    @SafeVarargs
    private static List<String> concat(List<String>... lists) {
        return Stream.of(lists).flatMap(List::stream).toList();
    }
}
