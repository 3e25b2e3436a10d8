package io.sallyport.identity;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Hand-built certificate blobs in the PROTOCOL.certkeys layout, for what {@code ssh-keygen} will
 * not make (FIDO and host certificates signed with SHA-1, unknown critical options, duplicate
 * options, damaged bytes). The signature is not a real one: sallyport leaves signature checking to
 * the SSH layer, and these blobs never reach it.
 */
final class CertBlob {
    String type = "ssh-ed25519-cert-v01@openssh.com";
    byte[] nonce = new byte[32];
    List<byte[]> keyFields = new ArrayList<>(List.of(bytes(32, 7)));
    long serial = 42;
    long kind = 1;
    String keyId = "alice@laptop";
    List<String> principals = new ArrayList<>(List.of("alice"));
    long validAfter;
    long validBefore;
    final List<Object[]> critical = new ArrayList<>();
    final List<Object[]> extensions = new ArrayList<>(List.<Object[]>of(new Object[] {"permit-port-forwarding", new byte[0]}));
    byte[] signatureKey = ed25519Key(9);
    String signatureAlgorithm = "ssh-ed25519";
    byte[] trailing = new byte[0];

    CertBlob(long validAfter, long validBefore) {
        this.validAfter = validAfter;
        this.validBefore = validBefore;
    }

    /** A plain ed25519 key blob whose 32 key bytes are all {@code fill}. */
    static byte[] ed25519Key(int fill) {
        return TestKeys.blob("ssh-ed25519", bytes(32, fill));
    }

    static byte[] bytes(int n, int fill) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) fill);
        return b;
    }

    /** A value-carrying option's data: the value as one more SSH string, as ssh-keygen writes it. */
    static byte[] value(String v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        string(out, v.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    CertBlob critical(String name, String value) {
        critical.add(new Object[] {name, value(value)});
        return this;
    }

    CertBlob extension(String name, String value) {
        extensions.add(new Object[] {name, value == null ? new byte[0] : value(value)});
        return this;
    }

    byte[] build() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        string(out, type.getBytes(StandardCharsets.US_ASCII));
        string(out, nonce);
        for (byte[] f : keyFields) {
            string(out, f);
        }
        out.writeBytes(ByteBuffer.allocate(8).putLong(serial).array());
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) kind).array());
        string(out, keyId.getBytes(StandardCharsets.UTF_8));
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        for (String principal : principals) {
            string(p, principal.getBytes(StandardCharsets.UTF_8));
        }
        string(out, p.toByteArray());
        out.writeBytes(ByteBuffer.allocate(8).putLong(validAfter).array());
        out.writeBytes(ByteBuffer.allocate(8).putLong(validBefore).array());
        string(out, options(critical));
        string(out, options(extensions));
        string(out, new byte[0]);
        string(out, signatureKey);
        ByteArrayOutputStream sig = new ByteArrayOutputStream();
        string(sig, signatureAlgorithm.getBytes(StandardCharsets.US_ASCII));
        string(sig, bytes(64, 1));
        string(out, sig.toByteArray());
        out.writeBytes(trailing);
        return out.toByteArray();
    }

    /** The certificate as a key offered at login. */
    SshPublicKey key() {
        return SshPublicKey.fromBlob(build());
    }

    private static byte[] options(List<Object[]> options) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object[] o : options) {
            string(out, ((String) o[0]).getBytes(StandardCharsets.UTF_8));
            string(out, (byte[]) o[1]);
        }
        return out.toByteArray();
    }

    static void string(ByteArrayOutputStream out, byte[] data) {
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(data);
    }
}
