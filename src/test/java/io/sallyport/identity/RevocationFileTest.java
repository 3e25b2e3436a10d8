package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The revocation file kept loaded: changes are picked up, and a bad file never un-revokes anything. */
class RevocationFileTest {
    @TempDir
    Path dir;

    private final SshPublicKey first = TestKeys.ed25519().parsed();
    private final SshPublicKey second = TestKeys.ecdsa256().parsed();

    private Path write(String name, String text) throws Exception {
        Path tmp = dir.resolve(name + ".tmp");
        Files.writeString(tmp, text);
        Path file = dir.resolve(name);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    @Test
    void missingOrMalformedFileAtStartIsAnError() throws Exception {
        assertThatThrownBy(() -> RevocationFile.load(dir.resolve("nope")))
                .hasMessage("revocation file " + dir.resolve("nope") + " does not exist");
        Path bad = write("bad", "hello\n");
        assertThatThrownBy(() -> RevocationFile.load(bad)).hasMessageStartingWith("revocation file " + bad + ": line 1: ");
    }

    @Test
    void unchangedFileIsNotReread() throws Exception {
        RevocationFile file = RevocationFile.load(write("revoked", TestKeys.ed25519().line() + "\n"));

        assertThat(file.reloadIfChanged()).isInstanceOf(RevocationFile.Outcome.Unchanged.class);
        assertThat(file.current().revocationOf(first)).isPresent();
    }

    @Test
    void changedFileIsPickedUp() throws Exception {
        RevocationFile file = RevocationFile.load(write("revoked", TestKeys.ed25519().line() + "\n"));
        write("revoked", TestKeys.ecdsa256().line() + "\n");

        RevocationFile.Outcome outcome = file.reloadIfChanged();

        assertThat(outcome).isInstanceOf(RevocationFile.Outcome.Loaded.class);
        assertThat(file.current().revocationOf(first)).isEmpty();
        assertThat(file.current().revocationOf(second)).isPresent();
    }

    @Test
    void badFileKeepsThePreviousListAndSaysWhyOnce() throws Exception {
        RevocationFile file = RevocationFile.load(write("revoked", TestKeys.ed25519().line() + "\n"));
        byte[] truncatedKrl = java.util.Arrays.copyOf(Krls.krl(Krls.certSection(CertBlob.ed25519Key(9), Krls.serialList(5))), 50);
        Path tmp = dir.resolve("x.tmp");
        Files.write(tmp, truncatedKrl);
        Files.move(tmp, dir.resolve("revoked"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

        RevocationFile.Outcome outcome = file.reloadIfChanged();

        assertThat(outcome).isInstanceOfSatisfying(RevocationFile.Outcome.KeptPrevious.class,
                kept -> assertThat(kept.reason()).contains("malformed KRL"));
        assertThat(file.current().revocationOf(first)).as("still revoked").isPresent();
        assertThat(file.reloadIfChanged()).as("reported once, not every poll").isInstanceOf(RevocationFile.Outcome.Unchanged.class);
        assertThat(file.reload()).as("an explicit reload tries again").isInstanceOf(RevocationFile.Outcome.KeptPrevious.class);
    }

    @Test
    void deletedFileKeepsThePreviousList() throws Exception {
        Path path = write("revoked", TestKeys.ed25519().line() + "\n");
        RevocationFile file = RevocationFile.load(path);
        Files.delete(path);

        assertThat(file.reloadIfChanged()).isInstanceOfSatisfying(RevocationFile.Outcome.KeptPrevious.class,
                kept -> assertThat(kept.reason()).endsWith("does not exist"));
        assertThat(file.current().revocationOf(first)).isPresent();
        assertThat(file.reloadIfChanged()).isInstanceOf(RevocationFile.Outcome.Unchanged.class);

        write("revoked", TestKeys.ecdsa256().line() + "\n");
        assertThat(file.reloadIfChanged()).isInstanceOf(RevocationFile.Outcome.Loaded.class);
        assertThat(file.current().revocationOf(second)).isPresent();
    }
}
