package io.sallyport.ssh;

import io.sallyport.policy.LoginFacts;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;

/**
 * What a FIDO ({@code sk-*}) signature says about how it was made: its flags byte and counter
 * (OpenSSH PROTOCOL.u2f: {@code string type, string signature, byte flags, uint32 counter}).
 *
 * <p>The flags are signed together with the session's challenge, so once the signature verifies
 * they are the authenticator's own word; read from a signature that has not verified, they are
 * only the client's claim.
 *
 * @param keyType the type the signature names: {@code sk-ssh-ed25519@openssh.com} or {@code sk-ecdsa-sha2-nistp256@openssh.com}
 */
record FidoSignature(String keyType, int flags, long counter) {
    static final int USER_PRESENT = 0x01;
    static final int USER_VERIFIED = 0x04;
    private static final Set<String> TYPES = Set.of("sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com");

    /** The fields of a FIDO signature blob; empty for any other signature and for one that is malformed. */
    static Optional<FidoSignature> read(byte[] signature) {
        if (signature == null) {
            return Optional.empty();
        }
        try {
            ByteBuffer in = ByteBuffer.wrap(signature);
            String type = new String(string(in), StandardCharsets.US_ASCII);
            if (!TYPES.contains(type)) {
                return Optional.empty();
            }
            string(in); // the signature proper
            int flags = in.get() & 0xff;
            long counter = in.getInt() & 0xffffffffL;
            return in.hasRemaining() ? Optional.empty() : Optional.of(new FidoSignature(type, flags, counter));
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static byte[] string(ByteBuffer in) {
        long len = in.getInt() & 0xffffffffL;
        if (len > in.remaining()) {
            throw new IllegalArgumentException("string longer than the signature");
        }
        byte[] out = new byte[(int) len];
        in.get(out);
        return out;
    }

    boolean userPresent() {
        return (flags & USER_PRESENT) != 0;
    }

    boolean userVerified() {
        return (flags & USER_VERIFIED) != 0;
    }

    /** The login fact, for a signature that verified. */
    LoginFacts.FidoProof proof() {
        return new LoginFacts.FidoProof(keyType, userPresent(), userVerified());
    }
}
