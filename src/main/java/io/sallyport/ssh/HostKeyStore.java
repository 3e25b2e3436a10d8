package io.sallyport.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.util.io.resource.PathResource;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * Loads the server's host keys, generating an ed25519 key on first start.
 *
 * <p>Unlike MINA's {@code SimpleGeneratorHostKeyProvider}, a key file that exists but cannot be
 * read is an error, never a reason to generate a new key: silently replacing a host key would make
 * every client see a "host key changed" warning and train engineers to ignore it.
 */
public final class HostKeyStore {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private HostKeyStore() {}

    /** Thrown with an operator-ready message. */
    public static final class HostKeyException extends IOException {
        public HostKeyException(String message) {
            super(message);
        }
    }

    public static List<KeyPair> loadOrGenerate(List<Path> files) throws HostKeyException {
        List<KeyPair> keys = new ArrayList<>();
        for (Path file : files) {
            keys.add(Files.exists(file) ? load(file) : generate(file));
        }
        return keys;
    }

    static KeyPair load(Path file) throws HostKeyException {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException e) {
            perms = OWNER_ONLY; // not a POSIX file system: nothing to check
        } catch (IOException e) {
            throw new HostKeyException("host key " + file + " cannot be read: " + e.getMessage());
        }
        if (perms.stream().anyMatch(p -> !OWNER_ONLY.contains(p) && p != PosixFilePermission.OWNER_EXECUTE)) {
            throw new HostKeyException("host key " + file + " is readable by others (mode "
                    + PosixFilePermissions.toString(perms) + "); run: chmod 600 " + file);
        }
        try (InputStream in = Files.newInputStream(file)) {
            Iterable<KeyPair> pairs = SecurityUtils.loadKeyPairIdentities(null, new PathResource(file), in, null);
            Iterator<KeyPair> it = pairs == null ? null : pairs.iterator();
            if (it == null || !it.hasNext()) {
                throw new HostKeyException("host key " + file + " holds no private key; it is never replaced automatically: fix it, or move it away to have a new one generated");
            }
            return it.next();
        } catch (HostKeyException e) {
            throw e;
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new HostKeyException("host key " + file + " cannot be loaded (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + "); it is never replaced automatically: fix it or move it away");
        }
    }

    static KeyPair generate(Path file) throws HostKeyException {
        return generateKeyFile(file, "sallyport host key");
    }

    /**
     * Writes a new ed25519 key pair: {@code file} in OpenSSH format with mode 0600, and
     * {@code file.pub} with the public key line. Fails if {@code file} already exists.
     */
    public static KeyPair generateKeyFile(Path file, String comment) throws HostKeyException {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            if (Files.exists(file)) {
                throw new FileAlreadyExistsException(file.toString());
            }
            KeyPair pair = KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
            // Write next to the target and move into place, so a crash never leaves a torn key
            // file that a later start would refuse.
            Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(pair, comment, null, out);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file);
            }
            Path pub = file.resolveSibling(file.getFileName() + ".pub");
            Files.writeString(pub, PublicKeyEntry.toString(pair.getPublic()) + " " + comment + "\n", StandardCharsets.US_ASCII);
            return pair;
        } catch (FileAlreadyExistsException e) {
            throw new HostKeyException("key file " + file + " already exists; it is never overwritten");
        } catch (IOException | GeneralSecurityException e) {
            throw new HostKeyException("cannot generate key " + file + ": " + e.getMessage());
        }
    }
}
