package io.sallyport.ssh;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the server's host keys, generating an ed25519 key on first start.
 *
 * <p>Unlike MINA's {@code SimpleGeneratorHostKeyProvider}, a key file that exists but cannot be
 * read is an error, never a reason to generate a new key: silently replacing a host key would make
 * every client see a "host key changed" warning and train engineers to ignore it.
 *
 * <p>Several processes may start at once on the same missing key (a restart overlapping a start,
 * an image booting with two units, a test harness). Each generates a candidate into its own
 * temporary file and publishes it with a hard link, which fails when the name exists: exactly one
 * candidate becomes the key, nothing is ever overwritten, and every process then serves the key it
 * reads back from disk, never the one it merely generated. The {@code .pub} beside it is derived
 * from that key on disk.
 */
public final class HostKeyStore {
    private static final Logger log = LoggerFactory.getLogger(HostKeyStore.class);
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> PUBLIC = PosixFilePermissions.fromString("rw-r--r--");
    private static final String HOST_KEY_COMMENT = "sallyport host key";
    /**
     * A temporary key file older than this was left by a process that died: generating and
     * publishing takes milliseconds, so a minute leaves any live process ample time.
     */
    private static final Duration STALE_TEMPORARY = Duration.ofMinutes(1);

    private HostKeyStore() {}

    /** Thrown with an operator-ready message. */
    public static final class HostKeyException extends IOException {
        public HostKeyException(String message) {
            super(message);
        }
    }

    /**
     * The key in each file, generating the files that do not exist. What is returned is always
     * what is on disk: when another process creates the same file first, its key is the one served.
     */
    public static List<KeyPair> loadOrGenerate(List<Path> files) throws HostKeyException {
        List<KeyPair> keys = new ArrayList<>();
        for (Path file : files) {
            removeStaleTemporaries(file, Instant.now());
            boolean created = false;
            if (Files.notExists(file, LinkOption.NOFOLLOW_LINKS)) {
                created = createIfAbsent(file, HOST_KEY_COMMENT);
            }
            KeyPair pair = load(file);
            writePublicKey(file, pair.getPublic(), HOST_KEY_COMMENT);
            log.info("host key {} ({}): {} {}", file, created ? "generated" : "loaded",
                    KeyUtils.getKeyType(pair.getPublic()), KeyUtils.getFingerPrint(pair.getPublic()));
            keys.add(pair);
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

    /**
     * Writes a new ed25519 key pair: {@code file} in OpenSSH format with mode 0600, and
     * {@code file.pub} with the public key line. Fails if {@code file} already exists, also when
     * another process creates it at the same moment.
     */
    public static KeyPair generateKeyFile(Path file, String comment) throws HostKeyException {
        if (!createIfAbsent(file, comment)) {
            throw new HostKeyException("key file " + file + " already exists; it is never overwritten");
        }
        KeyPair pair = load(file);
        writePublicKey(file, pair.getPublic(), comment);
        return pair;
    }

    /**
     * Generates a key into a temporary file of its own in the same directory (mode 0600 from
     * creation, fsynced), then links it to {@code file}. {@code link(2)} fails when the name
     * exists, so of several processes racing here exactly one wins and the others find its key;
     * a crash at any point leaves either no key or a whole one, never a torn file.
     *
     * @return true when this call created {@code file}, false when it already existed
     */
    static boolean createIfAbsent(Path file, String comment) throws HostKeyException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            KeyPair pair = KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
            ByteArrayOutputStream key = new ByteArrayOutputStream();
            OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(pair, comment, null, key);
            tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            writeSynced(tmp, key.toByteArray());
            try {
                Files.createLink(file, tmp);
            } catch (FileAlreadyExistsException e) {
                return false;
            } catch (UnsupportedOperationException e) {
                throw new IOException("the file system of " + dir + " has no hard links, which creating a key without a race needs");
            }
            syncDirectory(dir);
            return true;
        } catch (IOException | GeneralSecurityException e) {
            throw new HostKeyException("cannot generate key " + file + ": " + e.getMessage());
        } finally {
            deleteQuietly(tmp);
        }
    }

    /**
     * Deletes temporary files that {@link #createIfAbsent} and {@link #writePublicKey} left beside
     * {@code file} when the process was killed between creating and deleting them
     * ({@code .NAME.*.tmp}, and {@code .NAME.pub.*.tmp}). The private key's is a second hard link
     * to the live host key (or a candidate key): it must not stay forever. Only files last
     * modified more than {@link #STALE_TEMPORARY} before {@code now} go: a younger one may belong
     * to another process publishing its key this very moment.
     */
    static void removeStaleTemporaries(Path file, Instant now) {
        Path dir = file.toAbsolutePath().getParent();
        String prefix = "." + file.getFileName() + ".";
        List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (name.startsWith(prefix) && name.endsWith(".tmp") && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                        && Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant()
                                .isBefore(now.minus(STALE_TEMPORARY))) {
                    stale.add(p);
                }
            }
        } catch (NoSuchFileException e) {
            return; // no directory yet: nothing left behind
        } catch (IOException | RuntimeException e) {
            log.warn("cannot look for temporary files left beside {}: {}", file, e.toString());
            return;
        }
        for (Path p : stale) {
            log.warn("removing {}, a temporary key file left by a process that stopped while writing it", p);
            deleteQuietly(p);
        }
    }

    /**
     * Makes {@code file.pub} hold the public half of the key on disk. A {@code .pub} that already
     * holds that key is left alone (whatever its comment); a missing or different one is written
     * through a temporary file and an atomic rename, so a reader never sees half a line. The
     * server does not need the {@code .pub}: when it cannot be written, that is a warning.
     */
    private static void writePublicKey(Path file, PublicKey key, String comment) {
        Path pub = file.resolveSibling(file.getFileName() + ".pub");
        String expected = PublicKeyEntry.toString(key);
        String existing = null;
        try {
            existing = Files.readString(pub, StandardCharsets.US_ASCII);
            if (sameKey(existing, expected)) {
                return;
            }
        } catch (NoSuchFileException e) {
            // written below
        } catch (IOException e) {
            log.warn("{} cannot be read ({}); it is left as it is", pub, e.getMessage());
            return;
        }
        Path tmp = null;
        try {
            tmp = Files.createTempFile(pub.toAbsolutePath().getParent(), "." + pub.getFileName() + ".", ".tmp",
                    PosixFilePermissions.asFileAttribute(PUBLIC));
            writeSynced(tmp, (expected + " " + comment + "\n").getBytes(StandardCharsets.US_ASCII));
            Files.move(tmp, pub, StandardCopyOption.ATOMIC_MOVE);
            syncDirectory(pub.toAbsolutePath().getParent());
            if (existing != null) {
                log.warn("{} held a different key than {}; rewritten from the key on disk", pub, file);
            }
        } catch (IOException | RuntimeException e) {
            log.warn("cannot write {} ({}); the server runs without it", pub, e.getMessage());
        } finally {
            deleteQuietly(tmp);
        }
    }

    /** Compares key type and key data, ignoring the comment. */
    private static boolean sameKey(String pubFile, String expected) {
        String[] have = pubFile.trim().split("\\s+");
        String[] want = expected.trim().split("\\s+");
        return have.length >= 2 && have[0].equals(want[0]) && have[1].equals(want[1]);
    }

    private static void writeSynced(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
    }

    /** Makes a new directory entry durable; not every platform can open a directory for this. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            log.debug("cannot fsync directory {}: {}", dir, e.toString());
        }
    }

    private static void deleteQuietly(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.warn("cannot remove temporary file {}: {}", file, e.getMessage());
        }
    }
}
