package io.sallyport.ssh;

import io.sallyport.identity.SshCertificate;
import io.sallyport.identity.SshPublicKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.OpenSshCertificate;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.keyprovider.HostKeyCertificateProvider;
import org.apache.sshd.common.session.SessionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host certificate(s) served to clients ({@code host_certificate}), so that one
 * {@code @cert-authority} line in {@code known_hosts} trusts a whole fleet of bastions.
 *
 * <p>Unlike MINA's {@code FileHostKeyCertificateProvider}, which reads the file for every
 * connection, the certificates are read once and kept: a file being rewritten can never make a
 * handshake fail. A renewed file is picked up by {@link #reloadIfChanged()} (polled); one that does
 * not pass the checks keeps the previous certificates.
 *
 * <p>Checked: every line is an OpenSSH host certificate whose key is one of the host keys (a
 * certificate for another key would make clients see a signature that does not match).
 */
public final class HostCertificateFile implements HostKeyCertificateProvider {
    private static final Logger log = LoggerFactory.getLogger(HostCertificateFile.class);
    private final Path path;
    private final List<PublicKey> hostKeys;
    private volatile List<OpenSshCertificate> certificates;
    private volatile Object lastSeen;

    private HostCertificateFile(Path path, List<PublicKey> hostKeys, List<OpenSshCertificate> certificates, Object stamp) {
        this.path = path;
        this.hostKeys = hostKeys;
        this.certificates = certificates;
        this.lastSeen = stamp;
    }

    /** @throws HostKeyStore.HostKeyException with a message fit for the operator */
    public static HostCertificateFile load(Path path, List<KeyPair> hostKeys) throws HostKeyStore.HostKeyException {
        List<PublicKey> publics = hostKeys.stream().map(KeyPair::getPublic).toList();
        Object stamp = stamp(path);
        try {
            return new HostCertificateFile(path, publics, read(path, publics), stamp);
        } catch (IllegalArgumentException e) {
            throw new HostKeyStore.HostKeyException(e.getMessage());
        }
    }

    /** The earliest {@code valid_before} among the certificates served now. */
    public Optional<Instant> earliestExpiry() {
        return certificates.stream()
                .map(c -> SshCertificate.parse(BastionAuthenticator.wireBlob(c)).validBeforeInstant())
                .min(Instant::compareTo);
    }

    public Path path() {
        return path;
    }

    @Override
    public Iterable<OpenSshCertificate> loadCertificates(SessionContext session) {
        return certificates;
    }

    /**
     * Logs each certificate served (key id, serial, principals, validity): at WARN when clients
     * that trust it through {@code @cert-authority} would refuse it, since it is expired or not yet valid.
     */
    void logServed(String what) {
        for (OpenSshCertificate c : certificates) {
            SshCertificate parsed = SshCertificate.parse(BastionAuthenticator.wireBlob(c));
            String line = parsed.certType() + " id \"" + parsed.keyId() + "\" serial " + parsed.serialText()
                    + " principals " + parsed.principals() + " valid " + parsed.validAfterInstant() + " to "
                    + parsed.validBeforeInstant();
            Optional<String> warning = warning(parsed);
            if (warning.isPresent()) {
                log.warn("host certificate {} {}: {} ({})", path, what, line, warning.get());
            } else {
                log.info("host certificate {} {}: {}", path, what, line);
            }
        }
    }

    private static Optional<String> warning(SshCertificate c) {
        Instant now = Instant.now();
        if (!now.isBefore(c.validBeforeInstant())) {
            return Optional.of("EXPIRED: clients that trust it through @cert-authority will refuse this bastion");
        }
        if (now.isBefore(c.validAfterInstant())) {
            return Optional.of("NOT YET VALID: clients that trust it through @cert-authority will refuse this bastion");
        }
        return Optional.empty();
    }

    /** What a poll of the file found: nothing new, new certificates served, or a bad file (the previous ones kept). */
    public sealed interface Outcome {
        record Unchanged() implements Outcome {}

        record Served() implements Outcome {}

        record KeptPrevious(String reason) implements Outcome {}
    }

    /**
     * Re-reads the file when its size, time or identity changed, and logs what happened: the new
     * certificates, or why the previous ones are still served.
     */
    public synchronized Outcome reloadIfChanged() {
        Object stamp;
        try {
            stamp = stamp(path);
        } catch (HostKeyStore.HostKeyException e) {
            if (lastSeen != null) {
                lastSeen = null;
                log.warn("{}; still serving the previous host certificate", e.getMessage());
                return new Outcome.KeptPrevious(e.getMessage());
            }
            return new Outcome.Unchanged();
        }
        if (stamp.equals(lastSeen)) {
            return new Outcome.Unchanged();
        }
        lastSeen = stamp;
        try {
            certificates = read(path, hostKeys);
            logServed("reloaded");
            return new Outcome.Served();
        } catch (IllegalArgumentException e) {
            log.warn("{}; still serving the previous host certificate", e.getMessage());
            return new Outcome.KeptPrevious(e.getMessage());
        }
    }

    private static Object stamp(Path path) throws HostKeyStore.HostKeyException {
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            return List.of(a.size(), a.lastModifiedTime(), String.valueOf(a.fileKey()));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new HostKeyStore.HostKeyException("host certificate " + path + " does not exist");
        } catch (IOException e) {
            throw new HostKeyStore.HostKeyException("host certificate " + path + " cannot be read: " + e.getMessage());
        }
    }

    private static List<OpenSshCertificate> read(Path path, List<PublicKey> hostKeys) {
        List<String> lines;
        try {
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("host certificate " + path + " cannot be read: " + e.getMessage());
        }
        List<OpenSshCertificate> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = "host certificate " + path + " line " + (i + 1);
            SshCertificate parsed;
            OpenSshCertificate cert;
            try {
                SshPublicKey key = SshPublicKey.parseLine(line);
                if (!key.isCertificate()) {
                    throw new IllegalArgumentException("a plain " + key.type() + " key, not a certificate");
                }
                parsed = SshCertificate.parse(key.blob());
                PublicKey resolved = PublicKeyEntry.parsePublicKeyEntry(line).resolvePublicKey(null, null, null);
                if (!(resolved instanceof OpenSshCertificate c)) {
                    throw new IllegalArgumentException("not a certificate the SSH library can serve");
                }
                cert = c;
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage());
            } catch (IOException | java.security.GeneralSecurityException | RuntimeException e) {
                throw new IllegalArgumentException(where + ": cannot be read (" + e.getMessage() + ")");
            }
            if (parsed.kind() != SshCertificate.Kind.HOST) {
                throw new IllegalArgumentException(where + ": a user certificate; sign the host key with ssh-keygen -h");
            }
            if (hostKeys.stream().noneMatch(k -> KeyUtils.compareKeys(k, cert.getCertPubKey()))) {
                throw new IllegalArgumentException(where + ": certifies " + parsed.key().fingerprint()
                        + ", which is none of host_keys");
            }
            out.add(cert);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("host certificate " + path + " holds no certificate");
        }
        return List.copyOf(out);
    }
}
