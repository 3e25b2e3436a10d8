package io.sallyport.ssh.cipher;

import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.Cipher;
import org.apache.sshd.common.cipher.CipherFactory;

/**
 * Factory for {@link ChaCha20Poly1305} under the name {@code chacha20-poly1305@openssh.com}, with the
 * same sizes MINA's {@link BuiltinCiphers#cc20p1305_openssh} declares (MINA reads them to size keys,
 * IVs and tags, and to tell AEAD ciphers apart), so it can take that entry's place in a cipher list.
 */
public enum ChaCha20Poly1305Factory implements CipherFactory {
    INSTANCE;

    private static final BuiltinCiphers MINA = BuiltinCiphers.cc20p1305_openssh;

    @Override
    public String getName() {
        return MINA.getName();
    }

    @Override
    public Cipher create() {
        return new ChaCha20Poly1305();
    }

    @Override
    public boolean isSupported() {
        return MINA.isSupported(); // false in FIPS mode, like MINA's
    }

    @Override
    public String getAlgorithm() {
        return MINA.getAlgorithm();
    }

    @Override
    public String getTransformation() {
        return MINA.getTransformation();
    }

    @Override
    public int getKeySize() {
        return MINA.getKeySize();
    }

    @Override
    public int getKdfSize() {
        return MINA.getKdfSize();
    }

    @Override
    public int getIVSize() {
        return MINA.getIVSize();
    }

    @Override
    public int getAuthenticationTagSize() {
        return MINA.getAuthenticationTagSize();
    }

    @Override
    public int getCipherBlockSize() {
        return MINA.getCipherBlockSize();
    }

    @Override
    public String toString() {
        return getName();
    }
}
