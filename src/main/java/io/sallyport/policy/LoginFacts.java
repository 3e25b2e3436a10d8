package io.sallyport.policy;

import java.net.InetAddress;
import java.util.Optional;

/**
 * What a login proved, on which a role's {@code from} and {@code require} are judged: the address
 * it came from (the PROXY header's, when that is on) and, for a FIDO key, the flags of the
 * signature that was actually verified on this login (never the key type alone).
 */
public record LoginFacts(InetAddress client, Optional<FidoProof> fido) {

    /**
     * @param keyType      {@code sk-ssh-ed25519@openssh.com} or {@code sk-ecdsa-sha2-nistp256@openssh.com}
     * @param userPresent  the signature's user-presence flag (0x01)
     * @param userVerified the signature's user-verification flag (0x04)
     */
    public record FidoProof(String keyType, boolean userPresent, boolean userVerified) {}
}
