package io.sallyport.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.OptionalInt;

/**
 * A scripted client that does the first half of {@code diffie-hellman-group-exchange-sha256}
 * (RFC 4419) with whatever {@code min}, {@code n} and {@code max} a test chooses, which no stock
 * client lets a user set, and reports the size of the group the server handed out. It stops
 * there: the group is all it wants to know.
 */
public final class GroupExchangeProbe {
    private static final int SSH_MSG_DISCONNECT = 1;
    private static final int SSH_MSG_KEXINIT = 20;
    private static final int SSH_MSG_KEX_DH_GEX_GROUP = 31;
    private static final int SSH_MSG_KEX_DH_GEX_REQUEST = 34;
    /** Packets to skip (IGNORE, DEBUG, ...) before the answer is declared missing. */
    private static final int MAX_PACKETS = 16;

    /** What the server answered: a group of {@code bits}, or no group and why. */
    public record Answer(OptionalInt groupBits, String description) {
        @Override
        public String toString() {
            return description;
        }
    }

    private GroupExchangeProbe() {}

    public static Answer ask(String host, int port, int min, int n, int max, Duration timeout) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
            s.setSoTimeout((int) timeout.toMillis());
            InputStream in = s.getInputStream();
            DataInputStream data = new DataInputStream(in);
            OutputStream out = s.getOutputStream();

            out.write("SSH-2.0-sallyport-gex-probe\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            readIdentification(in);
            sendPacket(out, kexInit());
            sendPacket(out, gexRequest(min, n, max));

            for (int i = 0; i < MAX_PACKETS; i++) {
                byte[] payload;
                try {
                    payload = readPacket(data);
                } catch (EOFException e) {
                    return new Answer(OptionalInt.empty(), "connection closed without a group");
                }
                Reader r = new Reader(payload);
                int type = r.u8();
                if (type == SSH_MSG_KEX_DH_GEX_GROUP) {
                    BigInteger p = r.mpint();
                    return new Answer(OptionalInt.of(p.bitLength()), "group of " + p.bitLength() + " bits");
                }
                if (type == SSH_MSG_DISCONNECT) {
                    int code = r.u32();
                    return new Answer(OptionalInt.empty(), "disconnected (" + code + "): " + r.string());
                }
                // The server's KEXINIT, or IGNORE/DEBUG: read on.
            }
            return new Answer(OptionalInt.empty(), "no group within " + MAX_PACKETS + " packets");
        }
    }

    private static void readIdentification(InputStream in) throws IOException {
        for (int lines = 0; lines < 20; lines++) {
            StringBuilder line = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    throw new EOFException("closed before identification");
                }
                if (line.length() > 255) {
                    throw new IOException("identification line too long");
                }
                line.append((char) c);
            }
            if (line.toString().startsWith("SSH-")) {
                return;
            }
        }
        throw new IOException("no SSH identification");
    }

    private static byte[] kexInit() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(SSH_MSG_KEXINIT);
        byte[] cookie = new byte[16];
        new SecureRandom().nextBytes(cookie);
        b.writeBytes(cookie);
        for (String list : new String[] {
                "diffie-hellman-group-exchange-sha256", "ssh-ed25519",
                "aes128-ctr", "aes128-ctr", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-256-etm@openssh.com",
                "none", "none", "", ""}) {
            string(b, list.getBytes(StandardCharsets.US_ASCII));
        }
        b.write(0); // first_kex_packet_follows
        u32(b, 0);
        return b.toByteArray();
    }

    private static byte[] gexRequest(int min, int n, int max) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(SSH_MSG_KEX_DH_GEX_REQUEST);
        u32(b, min);
        u32(b, n);
        u32(b, max);
        return b.toByteArray();
    }

    private static void sendPacket(OutputStream out, byte[] payload) throws IOException {
        int padding = 8 - ((5 + payload.length) % 8);
        if (padding < 4) {
            padding += 8;
        }
        DataOutputStream d = new DataOutputStream(out);
        d.writeInt(1 + payload.length + padding);
        d.writeByte(padding);
        d.write(payload);
        d.write(new byte[padding]);
        d.flush();
    }

    private static byte[] readPacket(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 5 || length > 256 * 1024) {
            throw new IOException("bad packet length " + length);
        }
        int padding = in.readUnsignedByte();
        byte[] payload = new byte[length - 1 - padding];
        in.readFully(payload);
        in.readFully(new byte[padding]);
        return payload;
    }

    private static void u32(ByteArrayOutputStream b, int v) {
        b.write(v >>> 24);
        b.write(v >>> 16);
        b.write(v >>> 8);
        b.write(v);
    }

    private static void string(ByteArrayOutputStream b, byte[] s) {
        u32(b, s.length);
        b.writeBytes(s);
    }

    private static final class Reader {
        private final byte[] b;
        private int at;

        Reader(byte[] b) {
            this.b = b;
        }

        int u8() {
            return b[at++] & 0xff;
        }

        int u32() {
            int v = ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
            at += 4;
            return v;
        }

        byte[] bytes() {
            int n = u32();
            if (n < 0 || n > b.length - at) {
                throw new IllegalArgumentException("bad length " + n);
            }
            byte[] out = java.util.Arrays.copyOfRange(b, at, at + n);
            at += n;
            return out;
        }

        String string() {
            return new String(bytes(), StandardCharsets.UTF_8);
        }

        BigInteger mpint() {
            return new BigInteger(bytes());
        }
    }
}
