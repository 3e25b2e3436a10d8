package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.net.TargetResolver;
import io.sallyport.testing.GroupExchangeProbe;
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
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reads the algorithms each crypto profile offers off a live server, through the OpenSSH client's
 * own account of the server's KEXINIT ({@code ssh -vvv}), and compares them with README's crypto profiles. The
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

    /**
     * Under {@code compat}, group exchange used to hand the stock client a 3072-bit group when it
     * negotiated AES-128-GCM (it then asks for {@code 2048<3072<8192}) and any client asking for
     * {@code n 2048} a 2048-bit one; README's crypto profiles allow no finite-field group below
     * 4096 bits. The client's own account ({@code -vvv}) shows what it asked and that
     * the exchange completed; {@link GroupExchangeProbe} repeats its request and measures the group.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"})
    void compatGroupExchangeGivesTheStockClientAGroupOfAtLeast4096Bits(String cipher) throws Exception {
        Path work = Files.createDirectories(dir.resolve("gex-" + cipher.replaceAll("[^a-z0-9]", "")));
        try (BastionFixture bastion = BastionFixture.start(work, "crypto: compat\n", TargetResolver.system())) {
            Path knownHosts = work.resolve("known_hosts");
            OpenSsh.addKnownHost(knownHosts, "127.0.0.1", bastion.port(), bastion.hostKeyLine());
            OpenSsh ssh = OpenSsh.config()
                    .host(OpenSsh.host("b").hostName("127.0.0.1").port(bastion.port()).user("probe")
                            .identityFile(key).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"))
                    .writeTo(work.resolve("ssh_config"));
            OpenSsh.Result r = ssh.run(List.of("-vvv", "-N", "-o", "KexAlgorithms=diffie-hellman-group-exchange-sha256",
                    "-c", cipher, "b"), new byte[0], Duration.ofSeconds(60));

            assertThat(r.stderr()).contains("kex: algorithm: diffie-hellman-group-exchange-sha256");
            java.util.regex.Matcher asked = java.util.regex.Pattern
                    .compile("SSH2_MSG_KEX_DH_GEX_REQUEST\\((\\d+)<(\\d+)<(\\d+)\\) sent").matcher(r.stderr());
            assertThat(asked.find()).as(r.stderr()).isTrue();
            // The key exchange completed: the client went on to authenticate (the probe key is unknown).
            assertThat(r.stderr()).as(r.stderr()).contains("SSH2_MSG_SERVICE_ACCEPT received");

            GroupExchangeProbe.Answer same = GroupExchangeProbe.ask("127.0.0.1", bastion.port(),
                    Integer.parseInt(asked.group(1)), Integer.parseInt(asked.group(2)), Integer.parseInt(asked.group(3)),
                    Duration.ofSeconds(60));
            assertThat(same.groupBits().orElse(0)).as("the client asked %s; the server answered with %s", asked.group(), same)
                    .isGreaterThanOrEqualTo(4096);
        }
    }

    /**
     * What a client asks for cannot lower the floor: a request that allows 4096 bits or more is
     * answered with such a group (MINA's moduli hold 4096, 6144, 7670 and 8192 bits); one whose
     * {@code max} is below 4096 gets no group at all, never a smaller one.
     */
    @ParameterizedTest(name = "min {0}, n {1}, max {2}")
    @CsvSource({
            "2048, 2048, 8192, 4096",
            "1024, 1024, 8192, 4096",
            "2048, 3072, 8192, 4096",
            "2048, 8192, 8192, 8192",
            "4096, 4096, 4096, 4096",
            "2048, 2048, 2048, 0",
            "1024, 2048, 3072, 0",
            "3072, 3072, 4095, 0"})
    void compatGroupExchangeNeverServesAGroupBelow4096BitsWhateverTheClientAsks(int min, int n, int max, int expectedBits)
            throws Exception {
        Path work = Files.createDirectories(dir.resolve("gex-" + min + "-" + n + "-" + max));
        try (BastionFixture bastion = BastionFixture.start(work, "crypto: compat\n", TargetResolver.system())) {
            GroupExchangeProbe.Answer answer = GroupExchangeProbe.ask("127.0.0.1", bastion.port(), min, n, max,
                    Duration.ofSeconds(60));

            if (expectedBits == 0) {
                assertThat(answer.groupBits()).as(answer.description()).isEmpty();
            } else {
                assertThat(answer.groupBits()).as(answer.description()).hasValue(expectedBits);
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
