package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code revoked} file ({@link RevocationFile} hands its bytes to {@link RevocationList#parse}):
 * an OpenSSH KRL ({@link KrlParser}) or a list of key lines, written by tools sallyport does not
 * control. Contract: a list or an {@link IllegalArgumentException}; no allocation beyond what the
 * bytes themselves hold, whatever a length or bitmap field claims; a loaded list answers every
 * question about keys and certificates. Corpus and how to fuzz: docs/fuzzing.md.
 */
class RevocationListFuzzTest {
    /** ssh-keygen's own certificates (the seed corpus of {@link SshCertificateFuzzTest}), asked about after each load. */
    private static final List<SshCertificate> CERTIFICATES = List.of(
            certificate("alice-cert.blob"), certificate("ec256-cert.blob"), certificate("ec384-cert.blob"));

    @FuzzTest(maxDuration = "5m")
    void krl(byte[] input) {
        byte[] bytes = KrlParser.isKrl(input) ? input : withMagic(input);
        load(bytes);
    }

    @FuzzTest(maxDuration = "5m")
    void keyList(byte[] input) {
        load(input);
    }

    private static void load(byte[] bytes) {
        RevocationList list;
        try {
            list = RevocationList.parse(bytes);
        } catch (IllegalArgumentException refused) {
            assertThat(refused.getMessage()).isNotBlank();
            return;
        }
        assertThat(list.description()).isNotBlank();
        for (SshCertificate cert : CERTIFICATES) {
            list.revocationOf(cert);
            list.revocationOf(cert.key());
        }
    }

    /** Most mutations of a KRL break its magic; put it back so the fuzzer spends its time past the header. */
    private static byte[] withMagic(byte[] input) {
        byte[] magic = "SSHKRL\n\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        byte[] out = Arrays.copyOf(magic, magic.length + input.length);
        System.arraycopy(input, 0, out, magic.length, input.length);
        return out;
    }

    private static SshCertificate certificate(String seed) {
        try (InputStream in = SshCertificateFuzzTest.class.getResourceAsStream("SshCertificateFuzzTestInputs/certificate/" + seed)) {
            return SshCertificate.parse(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
