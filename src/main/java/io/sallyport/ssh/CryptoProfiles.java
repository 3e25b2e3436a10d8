package io.sallyport.ssh;

import io.sallyport.config.Config.CryptoProfile;
import io.sallyport.ssh.cipher.ChaCha20Poly1305Factory;
import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.CipherFactory;
import org.apache.sshd.common.kex.BuiltinDHFactories;
import org.apache.sshd.common.kex.KeyExchangeFactory;
import org.apache.sshd.common.mac.BuiltinMacs;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.server.kex.DHGServer;

/**
 * The SSH algorithms of each {@code crypto} profile (README, crypto profiles), in preference order.
 *
 * <p>{@code modern}: post-quantum hybrid key exchange first, then curve25519; AES-GCM first
 * (the JDK's AES-NI intrinsics make it the fastest), then chacha20-poly1305 (our own
 * implementation, see {@link ChaCha20Poly1305Factory}), then AES-CTR with encrypt-then-MAC SHA-2
 * MACs. No SHA-1, CBC, NIST-curve key exchange or finite-field Diffie-Hellman. Strict key exchange (the Terrapin countermeasure) is
 * negotiated by MINA whenever the client offers it.
 *
 * <p>{@code compat} adds, for older clients: ECDH on NIST curves (OpenSSH 5.7+ without
 * curve25519), diffie-hellman-group16/18-sha512 (4096 and 8192 bits) and group-exchange-sha256
 * (PuTTY, old libssh) with groups of 4096 bits or more only ({@link GroupExchangeServer}), and
 * non-ETM hmac-sha2 MACs. Still never SHA-1, CBC, RC4, 3DES, group1/group14, nor any
 * finite-field group below 4096 bits.
 */
public final class CryptoProfiles {
    private CryptoProfiles() {}

    /** Key exchange algorithms, most preferred first. */
    public static List<BuiltinDHFactories> keyExchanges(CryptoProfile profile) {
        List<BuiltinDHFactories> pq = List.of(
                BuiltinDHFactories.mlkem768x25519,
                BuiltinDHFactories.sntrup761x25519,
                BuiltinDHFactories.sntrup761x25519_openssh);
        List<BuiltinDHFactories> out = new ArrayList<>(pq);
        if (profile != CryptoProfile.PQ_ONLY) {
            out.add(BuiltinDHFactories.curve25519);
            out.add(BuiltinDHFactories.curve25519_libssh);
        }
        if (profile == CryptoProfile.COMPAT) {
            out.add(BuiltinDHFactories.ecdhp256);
            out.add(BuiltinDHFactories.ecdhp384);
            out.add(BuiltinDHFactories.ecdhp521);
            out.add(BuiltinDHFactories.dhgex256);
            out.add(BuiltinDHFactories.dhg16_512);
            out.add(BuiltinDHFactories.dhg18_512);
        }
        return supported(out);
    }

    /**
     * The server side of {@link #keyExchanges}: MINA's, except that group exchange is
     * {@link GroupExchangeServer}, which serves no group below {@value GroupExchangeServer#MIN_BITS} bits.
     */
    public static List<KeyExchangeFactory> serverKeyExchanges(CryptoProfile profile) {
        List<KeyExchangeFactory> out = new ArrayList<>();
        for (BuiltinDHFactories dh : keyExchanges(profile)) {
            out.add(dh.isGroupExchange() ? GroupExchangeServer.factory(dh) : DHGServer.newFactory(dh));
        }
        return out;
    }

    /**
     * Ciphers, most preferred first. {@code chacha20-poly1305@openssh.com} is our
     * {@link ChaCha20Poly1305Factory}, not MINA's {@link BuiltinCiphers#cc20p1305_openssh}: same name,
     * same wire format, several times the throughput (stock OpenSSH clients prefer it).
     */
    public static List<CipherFactory> ciphers(CryptoProfile profile) {
        return supported(List.<CipherFactory>of(
                BuiltinCiphers.aes256gcm,
                BuiltinCiphers.aes128gcm,
                ChaCha20Poly1305Factory.INSTANCE,
                BuiltinCiphers.aes256ctr,
                BuiltinCiphers.aes192ctr,
                BuiltinCiphers.aes128ctr));
    }

    public static List<BuiltinMacs> macs(CryptoProfile profile) {
        List<BuiltinMacs> out = new ArrayList<>(List.of(BuiltinMacs.hmacsha256etm, BuiltinMacs.hmacsha512etm));
        if (profile == CryptoProfile.COMPAT) {
            out.add(BuiltinMacs.hmacsha256);
            out.add(BuiltinMacs.hmacsha512);
        }
        return supported(out);
    }

    /**
     * Signature algorithms: what the host key signs with, what user keys may sign with, and what
     * {@code server-sig-algs} advertises. No {@code ssh-rsa} (SHA-1) and no DSA in any profile.
     *
     * <p>The certificate algorithms are here for three reasons: a {@code *-cert-v01} host key is
     * offered only when its algorithm is listed (and a {@code host_certificate} is configured); a
     * user certificate is accepted only when its algorithm is listed; and the CA signature inside a
     * certificate is verified with the plain algorithms of this same list (so a CA that signs with
     * {@code ssh-rsa}, SHA-1, is refused). No {@code ssh-rsa-cert-v01} (SHA-1 signatures) and no
     * FIDO certificates (MINA SSHD cannot verify them).
     */
    public static List<BuiltinSignatures> signatures(CryptoProfile profile) {
        return supported(List.of(
                BuiltinSignatures.ed25519,
                BuiltinSignatures.ed25519_cert,
                BuiltinSignatures.sk_ssh_ed25519,
                BuiltinSignatures.nistp256,
                BuiltinSignatures.nistp256_cert,
                BuiltinSignatures.nistp384,
                BuiltinSignatures.nistp384_cert,
                BuiltinSignatures.nistp521,
                BuiltinSignatures.nistp521_cert,
                BuiltinSignatures.sk_ecdsa_sha2_nistp256,
                BuiltinSignatures.rsaSHA512,
                BuiltinSignatures.rsaSHA512_cert,
                BuiltinSignatures.rsaSHA256,
                BuiltinSignatures.rsaSHA256_cert));
    }

    /** Names, for printing and tests. */
    public static List<String> names(List<? extends NamedResource> factories) {
        return factories.stream().map(NamedResource::getName).toList();
    }

    private static <T extends org.apache.sshd.common.OptionalFeature> List<T> supported(List<T> wanted) {
        List<T> out = new ArrayList<>();
        for (T t : wanted) {
            if (t.isSupported()) {
                out.add(t);
            }
        }
        return out;
    }
}
