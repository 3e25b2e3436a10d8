package io.sallyport.ssh;

import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.kex.DHFactory;
import org.apache.sshd.common.kex.DHG;
import org.apache.sshd.common.kex.KeyExchange;
import org.apache.sshd.common.kex.KeyExchangeFactory;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.server.kex.DHGEXServer;

/**
 * {@code diffie-hellman-group-exchange-sha256} that never hands out a group smaller than
 * {@link #MIN_BITS}, whatever the client asks for.
 *
 * <p>MINA's {@link DHGEXServer} serves any group of its moduli file within the client's
 * {@code min..max}, down to 2048 bits: a client asking for {@code min 2048, n 2048} (as
 * {@code ssh-audit} and some libraries do; OpenSSH asks for {@code n 3072} with AES-128-GCM)
 * got a 2048- or 3072-bit group. Here the client's lower bound and preference are raised to
 * {@link #MIN_BITS} before a group is chosen, and a client whose {@code max} is below it gets no
 * group at all: the key exchange fails instead of falling back to anything weaker. The bounds
 * the client sent are still the ones hashed into the exchange hash, as RFC 4419 requires.
 */
final class GroupExchangeServer extends DHGEXServer {
    /**
     * The smallest group served. 3072 bits is the usual floor for 128-bit security (NIST SP 800-57);
     * 4096 is the size of the smallest fixed group {@code compat} offers ({@code group16}), and
     * OpenSSH and PuTTY ask for groups of up to 8192 bits, so they are still served.
     */
    static final int MIN_BITS = 4096;

    private GroupExchangeServer(DHFactory factory, Session session) {
        super(factory, session);
    }

    static KeyExchangeFactory factory(DHFactory dh) {
        return new Factory(dh);
    }

    /** Makes a {@link GroupExchangeServer} for each key exchange. */
    record Factory(DHFactory dh) implements KeyExchangeFactory {
        @Override
        public KeyExchange createKeyExchange(Session session) {
            return new GroupExchangeServer(dh, session);
        }

        @Override
        public String getName() {
            return dh.getName();
        }
    }

    @Override
    protected DHG chooseDH(int min, int prf, int max) throws Exception {
        if (max < MIN_BITS) {
            throw new SshException(SshConstants.SSH2_DISCONNECT_KEY_EXCHANGE_FAILED,
                    "client accepts no group of " + MIN_BITS + " bits or more (it asked for at most " + max + ")");
        }
        DHG dh = super.chooseDH(Math.max(min, MIN_BITS), Math.max(prf, MIN_BITS), max);
        // MINA may fall back to a fixed 1024-bit group when its moduli have nothing in range
        // (ALLOW_DHG1_KEX_FALLBACK): never serve that.
        if (dh.getP().bitLength() < MIN_BITS) {
            throw new SshException(SshConstants.SSH2_DISCONNECT_KEY_EXCHANGE_FAILED,
                    "no group of " + MIN_BITS + " bits or more within the client's range " + min + ".." + max);
        }
        return dh;
    }
}
