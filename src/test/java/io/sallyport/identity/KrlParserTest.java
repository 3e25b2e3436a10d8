package io.sallyport.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sallyport.testing.OpenSsh;
import io.sallyport.testing.TestCa;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * KRLs as {@code ssh-keygen -k} writes them, one per section type, read and matched the way
 * {@code ssh-keygen -Q} matches them; and damaged or hostile KRL bytes refused with a reason.
 */
class KrlParserTest {
    @TempDir
    static Path dir;
    static TestCa ca;
    static TestCa otherCa;

    @BeforeAll
    static void cas() {
        OpenSsh.requireClient();
        ca = TestCa.create(dir, "ca");
        otherCa = TestCa.create(dir, "other-ca");
    }

    private static int n;

    /** A certificate file made by {@code ca} for a fresh key. */
    private static Path cert(TestCa by, String keyId, long serial) {
        Path key = OpenSsh.keygen(dir.resolve("k" + (++n)), "user");
        return by.sign(key, TestCa.user(keyId).principals("alice").validity("-1m:+1h").serial(serial));
    }

    private static SshCertificate parseCert(Path certFile) throws Exception {
        return SshCertificate.parse(SshPublicKey.parseLine(Files.readString(certFile)).blob());
    }

    private static RevocationList read(Path krl) throws Exception {
        byte[] bytes = Files.readAllBytes(krl);
        assertThat(KrlParser.isKrl(bytes)).isTrue();
        return RevocationList.parse(bytes);
    }

    /** Section and certificate-subsection types present in a KRL, read independently of the parser. */
    private static List<Integer> sectionTypes(Path krl) throws Exception {
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(krl));
        in.position(8 + 4 + 8 + 8 + 8);
        in.position(in.position() + 4 + in.getInt(in.position())); // reserved
        in.position(in.position() + 4 + in.getInt(in.position())); // comment
        List<Integer> types = new ArrayList<>();
        while (in.hasRemaining()) {
            int type = in.get() & 0xff;
            int len = in.getInt();
            types.add(type);
            if (type == 1) {
                ByteBuffer s = in.slice(in.position(), len);
                s.position(4 + s.getInt(0));
                s.position(s.position() + 4 + s.getInt(s.position()));
                while (s.hasRemaining()) {
                    types.add(s.get() & 0xff);
                    s.position(s.position() + 4 + s.getInt(s.position()));
                }
            }
            in.position(in.position() + len);
        }
        return types;
    }

    // ---------------------------------------------------------------- every section ssh-keygen writes

    @Test
    void serialListSection() throws Exception {
        Path krl = ca.revoke(dir.resolve("list.krl"), false, "serial: 7", "serial: 1000000");
        assertThat(sectionTypes(krl)).containsExactly(1, 0x20);
        RevocationList list = read(krl);

        assertThat(list.revocationOf(parseCert(cert(ca, "a", 7)))).contains("serial 7 is revoked for this CA");
        assertThat(list.revocationOf(parseCert(cert(ca, "b", 1000000)))).isPresent();
        assertThat(list.revocationOf(parseCert(cert(ca, "c", 8)))).isEmpty();
        assertThat(list.revocationOf(parseCert(cert(otherCa, "d", 7)))).as("another CA's serial 7").isEmpty();
    }

    @Test
    void serialRangeSection() throws Exception {
        Path krl = ca.revoke(dir.resolve("range.krl"), false, "serial: 100-5000");
        assertThat(sectionTypes(krl)).containsExactly(1, 0x21);
        RevocationList list = read(krl);

        assertThat(list.revocationOf(parseCert(cert(ca, "a", 100)))).contains("serial 100 (range 100-5000) is revoked for this CA");
        assertThat(list.revocationOf(parseCert(cert(ca, "b", 5000)))).isPresent();
        assertThat(list.revocationOf(parseCert(cert(ca, "c", 5001)))).isEmpty();
        assertThat(list.revocationOf(parseCert(cert(ca, "d", 99)))).isEmpty();
    }

    @Test
    void serialBitmapSection() throws Exception {
        String[] odd = Stream.iterate(1, i -> i + 2).limit(41).map(i -> "serial: " + i).toArray(String[]::new);
        Path krl = ca.revoke(dir.resolve("bitmap.krl"), false, odd);
        assertThat(sectionTypes(krl)).containsExactly(1, 0x22);
        RevocationList list = read(krl);

        assertThat(list.revocationOf(parseCert(cert(ca, "a", 1)))).contains("serial 1 is revoked for this CA");
        assertThat(list.revocationOf(parseCert(cert(ca, "b", 81)))).isPresent();
        assertThat(list.revocationOf(parseCert(cert(ca, "c", 40)))).isEmpty();
        assertThat(list.revocationOf(parseCert(cert(ca, "d", 83)))).isEmpty();
    }

    @Test
    void keyIdSection() throws Exception {
        Path krl = ca.revoke(dir.resolve("ids.krl"), false, "id: bob@corp", "id: carol");
        assertThat(sectionTypes(krl)).containsExactly(1, 0x23);
        RevocationList list = read(krl);

        assertThat(list.revocationOf(parseCert(cert(ca, "bob@corp", 0)))).contains("key id \"bob@corp\" is revoked for this CA");
        assertThat(list.revocationOf(parseCert(cert(ca, "bob", 0)))).isEmpty();
        assertThat(list.revocationOf(parseCert(cert(otherCa, "carol", 0)))).as("key id of another CA").isEmpty();
    }

    @Test
    void anyCaSection() throws Exception {
        Path krl = TestCa.revokeForAnyCa(dir.resolve("any.krl"), false, "id: mallory");
        assertThat(sectionTypes(krl)).containsExactly(1, 0x23);
        RevocationList list = read(krl);

        assertThat(list.revocationOf(parseCert(cert(ca, "mallory", 1)))).contains("key id \"mallory\" is revoked for any CA");
        assertThat(list.revocationOf(parseCert(cert(otherCa, "mallory", 1)))).isPresent();
        assertThat(list.revocationOf(parseCert(cert(ca, "eve", 1)))).isEmpty();
    }

    @Test
    void explicitKeySection() throws Exception {
        Path key = OpenSsh.keygen(dir.resolve("explicit"), "k", "ecdsa");
        Path krl = TestCa.revokeKeys(dir.resolve("keys.krl"), false, "key: " + OpenSsh.publicKeyLine(key));
        assertThat(sectionTypes(krl)).containsExactly(2);
        RevocationList list = read(krl);

        SshPublicKey plain = SshPublicKey.parseLine(OpenSsh.publicKeyLine(key));
        assertThat(list.revocationOf(plain)).contains("key " + plain.fingerprint() + " is revoked");
        // A certificate for a revoked key is revoked too, whoever signed it.
        SshCertificate cert = parseCert(ca.sign(key, TestCa.user("x").principals("alice")));
        assertThat(list.revocationOf(cert)).contains("the certified key " + plain.fingerprint() + " is revoked");
        assertThat(list.revocationOf(SshPublicKey.parseLine(OpenSsh.publicKeyLine(OpenSsh.keygen(dir.resolve("e2"), "k"))))).isEmpty();
    }

    @Test
    void sha1FingerprintSection() throws Exception {
        Path key = OpenSsh.keygen(dir.resolve("sha1"), "k");
        Path krl = TestCa.revokeKeys(dir.resolve("sha1.krl"), false, "sha1: " + OpenSsh.publicKeyLine(key));
        assertThat(sectionTypes(krl)).containsExactly(3);
        SshPublicKey plain = SshPublicKey.parseLine(OpenSsh.publicKeyLine(key));

        assertThat(read(krl).revocationOf(plain)).contains("key " + plain.fingerprint() + " is revoked by its SHA1 fingerprint");
    }

    @Test
    void sha256FingerprintSection() throws Exception {
        Path key = OpenSsh.keygen(dir.resolve("sha256"), "k");
        SshPublicKey plain = SshPublicKey.parseLine(OpenSsh.publicKeyLine(key));
        Path krl = TestCa.revokeKeys(dir.resolve("sha256.krl"), false, "hash: " + plain.fingerprint());
        assertThat(sectionTypes(krl)).containsExactly(5);

        assertThat(read(krl).revocationOf(plain)).contains("key " + plain.fingerprint() + " is revoked by its SHA256 fingerprint");
        SshCertificate cert = parseCert(ca.sign(key, TestCa.user("x").principals("alice")));
        assertThat(read(krl).revocationOf(cert)).isPresent();
    }

    @Test
    void revokedCaKeyRevokesEveryCertificateItSigned() throws Exception {
        Path krl = TestCa.revokeKeys(dir.resolve("ca.krl"), false, "key: " + otherCa.publicKeyLine());
        RevocationList list = read(krl);

        assertThat(list.revocationOf(parseCert(cert(otherCa, "any", 5)))).hasValueSatisfying(w -> assertThat(w).startsWith("the CA key"));
        assertThat(list.revocationOf(parseCert(cert(ca, "any", 5)))).isEmpty();
    }

    @Test
    void serialZeroIsNeverRevokedBySerial() throws Exception {
        Path krl = ca.revoke(dir.resolve("range1.krl"), false, "serial: 1-100");
        assertThat(read(krl).revocationOf(parseCert(cert(ca, "unnumbered", 0)))).isEmpty();
    }

    /** One KRL with every section, judged by us and by ssh-keygen -Q on the same files. */
    @Test
    void agreesWithSshKeygenOnAKrlOfEverySection() throws Exception {
        Path krl = dir.resolve("all.krl");
        Path k1 = OpenSsh.keygen(dir.resolve("all-k1"), "k1");
        Path k2 = OpenSsh.keygen(dir.resolve("all-k2"), "k2");
        Path k3 = OpenSsh.keygen(dir.resolve("all-k3"), "k3");
        // Far apart, so that ssh-keygen writes a list, a range and a bitmap rather than one bitmap.
        String[] odd = Stream.iterate(2000001, i -> i + 2).limit(30).map(i -> "serial: " + i).toArray(String[]::new);
        ca.revoke(krl, false, "serial: 7", "serial: 100000-900000", "id: bob@corp");
        ca.revoke(krl, true, odd);
        TestCa.revokeForAnyCa(krl, true, "id: mallory");
        TestCa.revokeKeys(krl, true, "key: " + OpenSsh.publicKeyLine(k1), "sha1: " + OpenSsh.publicKeyLine(k2),
                "hash: " + SshPublicKey.parseLine(OpenSsh.publicKeyLine(k3)).fingerprint());
        assertThat(sectionTypes(krl)).contains(1, 0x20, 0x21, 0x22, 0x23, 2, 3, 5);
        RevocationList list = read(krl);

        List<Path> files = new ArrayList<>(List.of(
                cert(ca, "a", 7), cert(ca, "b", 8), cert(ca, "c", 100000), cert(ca, "d", 900001), cert(ca, "e", 2000003),
                cert(ca, "f", 2000004), cert(ca, "bob@corp", 0), cert(otherCa, "bob@corp", 0), cert(otherCa, "mallory", 9),
                cert(otherCa, "g", 7), k1.resolveSibling("k1.pub"), k2.resolveSibling("k2.pub"), k3.resolveSibling("k3.pub"),
                ca.sign(k2, TestCa.user("h").principals("alice").serial(1000))));
        for (Path f : files) {
            SshPublicKey key = SshPublicKey.parseLine(Files.readString(f));
            boolean ours = key.isCertificate() ? list.revocationOf(SshCertificate.parse(key.blob())).isPresent()
                    : list.revocationOf(key).isPresent();
            assertThat(ours).as("%s: %s", f.getFileName(), Files.readString(f)).isEqualTo(TestCa.opensshSaysRevoked(krl, f));
        }
        assertThat(list.description()).startsWith("KRL version").contains("1 CA section(s) + any-CA");
    }

    // ---------------------------------------------------------------- malformed

    static Stream<Arguments> malformed() {
        byte[] ca = CertBlob.ed25519Key(9);
        return Stream.of(
                Arguments.of("format version 2", Krls.krlWithFormat(2), "KRL format version 2 is not supported (only 1)"),
                Arguments.of("header cut short", Arrays.copyOf(Krls.krl(), 20), "is cut short"),
                Arguments.of("section longer than the file", Arrays.copyOf(Krls.krl(Krls.certSection(ca, Krls.serialList(5))), 60),
                        "claims"),
                Arguments.of("unknown section", Krls.krl(Krls.section(6, new byte[0])), "unknown section type 6"),
                Arguments.of("signed KRL", Krls.krl(Krls.section(4, new byte[0])), "signed KRLs are not supported"),
                Arguments.of("critical extension", Krls.krl(Krls.extension(255, "future@example.com", true)),
                        "critical KRL extension 'future@example.com' is not supported"),
                Arguments.of("critical certificate extension", Krls.krl(Krls.certSection(ca, Krls.extension(0x39, "x@example.com", true))),
                        "critical certificate section extension 'x@example.com'"),
                Arguments.of("unknown certificate subsection", Krls.krl(Krls.certSection(ca, Krls.section(0x24, new byte[0]))),
                        "unknown certificate subsection type 0x24"),
                Arguments.of("serial 0", Krls.krl(Krls.certSection(ca, Krls.serialList(0))), "serial 0 cannot be revoked"),
                Arguments.of("range from 0", Krls.krl(Krls.certSection(ca, Krls.serialRange(0, 5))), "serial 0 cannot be revoked"),
                Arguments.of("inverted range", Krls.krl(Krls.certSection(ca, Krls.serialRange(9, 5))), "serial range 9-5 is inverted"),
                Arguments.of("serial list with a stray byte", Krls.krl(Krls.certSection(ca,
                        Krls.section(0x20, new byte[] {0, 0, 0, 0, 0, 0, 0, 1, 2}))), "serial is cut short"),
                Arguments.of("range with a stray byte", Krls.krl(Krls.certSection(ca,
                        Krls.section(0x21, Arrays.copyOf(ByteBuffer.allocate(16).putLong(1).putLong(2).array(), 17)))),
                        "1 unexpected bytes after the end of certificate subsection 0x21"),
                Arguments.of("bitmap past 2^64", Krls.krl(Krls.certSection(ca, Krls.serialBitmap(-2L, new byte[] {0x04}))),
                        "serial bitmap wraps past 2^64"),
                Arguments.of("bitmap revoking serial 0", Krls.krl(Krls.certSection(ca, Krls.serialBitmap(0, new byte[] {0x01}))),
                        "serial 0 cannot be revoked"),
                Arguments.of("negative bitmap", Krls.krl(Krls.certSection(ca, Krls.serialBitmap(1, new byte[] {(byte) 0x80}))),
                        "serial bitmap is negative"),
                Arguments.of("key id with NUL", Krls.krl(Krls.certSection(ca, Krls.keyIds("bob\0"))), "key id contains a NUL byte"),
                Arguments.of("empty key id subsection", Krls.krl(Krls.certSection(ca, Krls.keyIds())), "key id subsection is empty"),
                Arguments.of("CA key is a certificate", Krls.krl(Krls.certSection(new CertBlob(0, 1).build())), "CA key is a certificate"),
                Arguments.of("CA key is garbage", Krls.krl(Krls.certSection(new byte[] {0, 0, 0, 9, 'x'})), "CA key is malformed"),
                Arguments.of("certificate as explicit key", Krls.krl(Krls.blobs(2, new CertBlob(0, 1).build())),
                        "a certificate where a plain key belongs"),
                Arguments.of("empty explicit key section", Krls.krl(Krls.blobs(2)), "no keys in it"),
                Arguments.of("SHA1 of 19 bytes", Krls.krl(Krls.blobs(3, new byte[19])), "SHA1 fingerprint of 19 bytes, expected 20"),
                Arguments.of("SHA256 of 20 bytes", Krls.krl(Krls.blobs(5, new byte[20])), "SHA256 fingerprint of 20 bytes, expected 32"),
                Arguments.of("empty SHA256 section", Krls.krl(Krls.blobs(5)), "no fingerprints in it"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformedKrlIsRefusedWithAReason(String what, byte[] bytes, String reason) {
        assertThatThrownBy(() -> RevocationList.parse(bytes))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("malformed KRL: ")
                .hasMessageContaining(reason);
    }

    @Test
    void nonCriticalExtensionsAreSkipped() {
        byte[] ca = CertBlob.ed25519Key(9);
        RevocationList list = RevocationList.parse(Krls.krl(
                Krls.extension(255, "bloom-explicit-key", false),
                Krls.certSection(ca, Krls.extension(0x39, "cert-bloom-serial", false), Krls.serialList(42))));

        CertBlob cert = new CertBlob(0, 1);
        cert.signatureKey = ca;
        assertThat(list.revocationOf(SshCertificate.parse(cert.build()))).contains("serial 42 is revoked for this CA");
    }

    @Test
    void handBuiltBitmapMatchesItsBits() {
        byte[] ca = CertBlob.ed25519Key(9);
        // 0x00 0x81: bits 0 and 7 (the leading 0 keeps the mpint positive) -> serials 1000 and 1007.
        RevocationList list = RevocationList.parse(Krls.krl(Krls.certSection(ca, Krls.serialBitmap(1000, new byte[] {0, (byte) 0x81}))));
        for (long serial : new long[] {999, 1000, 1001, 1006, 1007, 1008}) {
            CertBlob cert = new CertBlob(0, 1);
            cert.signatureKey = ca;
            cert.serial = serial;
            assertThat(list.revocationOf(SshCertificate.parse(cert.build())).isPresent()).as("serial %d", serial)
                    .isEqualTo(serial == 1000 || serial == 1007);
        }
    }

    @Test
    void unsignedSerialsAboveTwoToTheSixtyThreeMatch() {
        byte[] ca = CertBlob.ed25519Key(9);
        RevocationList list = RevocationList.parse(Krls.krl(Krls.certSection(ca, Krls.serialRange(Long.MIN_VALUE, -2L))));
        CertBlob top = new CertBlob(0, 1);
        top.signatureKey = ca;
        top.serial = -1L; // 2^64-1: just past the range
        CertBlob inside = new CertBlob(0, 1);
        inside.signatureKey = ca;
        inside.serial = Long.MIN_VALUE + 5; // 2^63+5

        assertThat(list.revocationOf(SshCertificate.parse(top.build()))).isEmpty();
        assertThat(list.revocationOf(SshCertificate.parse(inside.build())))
                .contains("serial 9223372036854775813 (range 9223372036854775808-18446744073709551614) is revoked for this CA");
    }

    @Test
    void everyTruncationAndByteFlipOfARealKrlIsRefusedCleanlyOrParses() throws Exception {
        Path krl = dir.resolve("fuzz.krl");
        ca.revoke(krl, false, "serial: 7", "serial: 100-150", "id: bob@corp");
        TestCa.revokeKeys(krl, true, "key: " + otherCa.publicKeyLine());
        byte[] good = Files.readAllBytes(krl);
        for (int len = 8; len < good.length; len++) {
            byte[] cut = Arrays.copyOf(good, len);
            try {
                RevocationList.parse(cut);
            } catch (IllegalArgumentException expected) {
                assertThat(expected.getMessage()).startsWith("malformed KRL: ");
            }
        }
        Random random = new Random(4);
        for (int i = 0; i < 3000; i++) {
            byte[] flipped = good.clone();
            flipped[8 + random.nextInt(good.length - 8)] ^= (byte) (1 << random.nextInt(8));
            try {
                RevocationList.parse(flipped);
            } catch (IllegalArgumentException expected) {
                assertThat(expected.getMessage()).startsWith("malformed KRL: ");
            }
        }
    }

    // ---------------------------------------------------------------- list of public keys

    @Test
    void plainListOfPublicKeysWithCommentsAndBlankLines() {
        SshPublicKey a = TestKeys.ed25519().parsed();
        SshPublicKey b = TestKeys.ecdsa256().parsed();
        RevocationList list = RevocationList.parse(("# leaked 2030-01-01\n\n" + TestKeys.ed25519().line() + "\r\n  "
                + TestKeys.ecdsa256().line() + "\n").getBytes());

        assertThat(list.revocationOf(a)).contains("key " + a.fingerprint() + " is revoked");
        assertThat(list.revocationOf(b)).isPresent();
        assertThat(list.description()).isEqualTo("list of 2 public keys");
    }

    @Test
    void emptyFileRevokesNothing() {
        assertThat(RevocationList.parse(new byte[0]).revocationOf(TestKeys.ed25519().parsed())).isEmpty();
    }

    @Test
    void keyListWithGarbageOrACertificateIsRefusedWithItsLine() {
        assertThatThrownBy(() -> RevocationList.parse(("# ok\n" + TestKeys.ed25519().line() + "\nnot a key\n").getBytes()))
                .hasMessageStartingWith("line 3: ").hasMessageContaining("neither an OpenSSH KRL nor a list of public keys");
        String certLine = "ssh-ed25519-cert-v01@openssh.com " + java.util.Base64.getEncoder().encodeToString(new CertBlob(0, 1).build());
        assertThatThrownBy(() -> RevocationList.parse((certLine + "\n").getBytes()))
                .hasMessageStartingWith("line 1: a certificate");
    }
}
