package io.sallyport.identity;

import java.util.Optional;
import java.util.Set;

/**
 * Which user key types the bastion accepts, whoever vouches for the key. README, crypto profiles: ed25519,
 * ecdsa 256/384/521, RSA of at least {@code min_rsa_bits}, and the two FIDO types; DSA and short
 * RSA keys are refused with a reason that ends up in the {@code auth.reject} event.
 */
public final class KeyPolicy {
    private static final Set<String> ACCEPTED = Set.of(
            "ssh-ed25519",
            "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
            "ssh-rsa",
            "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com");

    private final int minRsaBits;

    public KeyPolicy(int minRsaBits) {
        this.minRsaBits = minRsaBits;
    }

    /** @return why {@code key} is refused, or empty when its type and size are acceptable */
    public Optional<String> refusal(SshPublicKey key) {
        String type = key.type();
        if (type.equals("ssh-dss")) {
            return Optional.of("DSA keys are refused (broken, and removed from OpenSSH)");
        }
        if (!ACCEPTED.contains(type)) {
            return Optional.of("key type " + type + " is not accepted");
        }
        if (type.equals("ssh-rsa")) {
            int bits = key.rsaBits();
            if (bits < minRsaBits) {
                return Optional.of("RSA key of " + bits + " bits is shorter than policy.min_rsa_bits " + minRsaBits);
            }
        }
        return Optional.empty();
    }
}
