package io.sallyport.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.testing.HostTool;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signing the built RPM as the release pipeline does (docs/packaging.md): {@code rpm --addsign}
 * with a GPG key, here a throwaway one generated in a scratch {@code GNUPGHOME} without a
 * passphrase. {@code rpm -K} against a scratch rpm database ({@code --dbpath}) that holds only
 * that key's public half checks the signature, as {@code dnf} with {@code gpgcheck=1} would.
 */
class RpmSignIT {
    private static final String KEY_USER = "sallyport test signing <rpm-signing@sallyport.invalid>";
    private static final String KEY_EMAIL = "rpm-signing@sallyport.invalid";

    @TempDir
    Path dir;

    private HostTool rpm;
    private HostTool gpg;
    private Path gnupgHome;
    private Path db;

    @BeforeEach
    void throwawayKeyAndEmptyRpmDatabase() throws IOException {
        rpm = HostTool.require("rpm", "rpm");
        HostTool.require("rpmsign", "rpm");
        gpg = HostTool.require("gpg", "gnupg");
        HostTool.require("gpg-agent", "gnupg");
        gnupgHome = Files.createDirectory(dir.resolve("gnupg"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        HostTool.Result key = gpg.run(List.of("--batch", "--pinentry-mode", "loopback", "--passphrase", "",
                "--quick-generate-key", KEY_USER, "rsa3072", "sign", "1d"), gpgEnv(), null);
        assertThat(key.exitCode()).as(key.toString()).isZero();
        db = Files.createDirectory(dir.resolve("rpmdb"));
    }

    @AfterEach
    void stopGpgAgent() {
        if (gnupgHome != null) {
            HostTool.exec(List.of("gpgconf", "--kill", "gpg-agent"), gpgEnv(), null, Duration.ofSeconds(10));
        }
    }

    @Test
    void signedPackageVerifiesWithTheImportedPublicKeyOnly() throws IOException {
        Path signed = signedCopy();

        HostTool.Result withoutKey = rpm.run("--dbpath", db.toString(), "-K", signed.toString());
        assertThat(withoutKey.exitCode()).as("rpm -K before the public key is imported: " + withoutKey).isNotZero();
        assertThat(withoutKey.stdout()).as(withoutKey.toString()).contains("SIGNATURES NOT OK");

        importPublicKey();
        HostTool.Result verified = rpm.run("--dbpath", db.toString(), "-Kv", signed.toString());
        assertThat(verified.exitCode()).as(verified.toString()).isZero();
        assertThat(verified.stdout()).as(verified.toString())
                .containsPattern("Header V4 RSA/SHA\\d+ Signature, key ID [0-9a-f]{8}: OK")
                .contains("Payload SHA256 digest: OK")
                .doesNotContain("NOT OK");
        HostTool.Result brief = rpm.run("--dbpath", db.toString(), "-K", signed.toString());
        assertThat(brief.stdout()).as(brief.toString()).contains("digests signatures OK");
    }

    @Test
    void unsignedPackageHasNoSignatureToVerify() {
        importPublicKey();
        HostTool.Result r = rpm.run("--dbpath", db.toString(), "-K", BuiltPackage.rpm().toString());
        assertThat(r.stdout()).as("the build itself does not sign: " + r).contains("digests OK").doesNotContain("signatures");
    }

    @Test
    void tamperedSignedPackageFailsVerification() throws IOException {
        Path signed = signedCopy();
        importPublicKey();
        // One byte of the compressed payload changed, as a corrupted or doctored download would be.
        try (RandomAccessFile f = new RandomAccessFile(signed.toFile(), "rw")) {
            long at = f.length() - 1024;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x5a);
        }
        HostTool.Result r = rpm.run("--dbpath", db.toString(), "-Kv", signed.toString());
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stdout()).as(r.toString()).contains("Payload SHA256 digest: BAD");
    }

    // ------------------------------------------------------------------------------------------

    private Path signedCopy() throws IOException {
        Path copy = Files.copy(BuiltPackage.rpm(), dir.resolve(BuiltPackage.rpm().getFileName()));
        List<String> args = new ArrayList<>(List.of("--addsign",
                "--define", "_gpg_name " + KEY_EMAIL,
                "--define", "_gpg_path " + gnupgHome,
                // Debian's rpm names gpg2; Amazon Linux's and Debian's gpg is gpg.
                "--define", "__gpg " + gpg.path()));
        args.add(copy.toString());
        HostTool.Result r = rpm.run(args, gpgEnv(), null);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return copy;
    }

    private void importPublicKey() {
        Path pub = dir.resolve("RPM-GPG-KEY-sallyport-test");
        HostTool.Result export = gpg.run(List.of("--batch", "--armor", "--output", pub.toString(), "--export", KEY_EMAIL), gpgEnv(), null);
        assertThat(export.exitCode()).as(export.toString()).isZero();
        HostTool.Result r = rpm.run("--dbpath", db.toString(), "--import", pub.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
    }

    private Map<String, String> gpgEnv() {
        return Map.of("GNUPGHOME", gnupgHome.toString());
    }
}
