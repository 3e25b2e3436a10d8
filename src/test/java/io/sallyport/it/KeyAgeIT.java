package io.sallyport.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.net.TargetResolver;
import io.sallyport.testing.FakeIam;
import io.sallyport.testing.LoopbackEcho;
import io.sallyport.testing.OpenSsh;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code identity.max_key_age: 90d} with IAM users in the fake IAM (the real AWS SDK reading
 * {@code UploadDate} off the wire) and the stock client: an old key is refused with the reason, a
 * key near the limit logs in with {@code key_age_warning}, a key tag is dated by its comment's
 * {@code date=}, and an undated key tag is refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeyAgeIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;

    FakeIam iam;
    LoopbackEcho echo;
    BastionFixture bastion;
    OpenSsh ssh;

    private static Path key(String name, String type) {
        return type.equals("rsa") ? OpenSsh.keygen(dir.resolve("keys"), name, "rsa", 2048)
                : OpenSsh.keygen(dir.resolve("keys"), name, type);
    }

    private static Instant daysAgo(int days) {
        return Instant.now().minus(Duration.ofDays(days));
    }

    /** The key line with its comment replaced by {@code comment}. */
    private static String line(Path key, String comment) {
        String[] f = OpenSsh.publicKeyLine(key).split("\\s+");
        return f[0] + " " + f[1] + " " + comment;
    }

    @BeforeAll
    void startWorld() throws Exception {
        OpenSsh.requireClient();
        iam = FakeIam.start();
        echo = new LoopbackEcho();
        iam.user("olga", "/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops")
                .uploadKey(OpenSsh.publicKeyLine(key("olga", "rsa")), "Active", daysAgo(120));
        iam.user("nina", "/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops")
                .uploadKey(OpenSsh.publicKeyLine(key("nina", "rsa")), "Active", daysAgo(85));
        String tenDaysAgo = LocalDate.now(ZoneOffset.UTC).minusDays(10).toString();
        iam.user("tess", "/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops")
                .tag("sallyport:ssh-key", line(key("tess", "ed25519"), "tess@laptop date=" + tenDaysAgo));
        iam.user("uma", "/").tag("sallyport:allow", "true").tag("sallyport:roles", "ops")
                .tag("sallyport:ssh-key", line(key("uma", "ed25519"), "uma@laptop"));

        String yaml = String.join("\n",
                "identity:",
                "  max_key_age: 90d",
                "  iam:",
                "    enabled: true",
                "    endpoint: \"" + iam.endpoint() + "\"",
                "    refresh: 1s",
                "policy:",
                "  unsafe_allow_loopback: true",
                "  roles:",
                "    ops:",
                "      allow: [\"127.0.0.2:" + echo.port() + "\"]",
                "limits:",
                "  max_auth_attempts: 50",
                "");
        bastion = BastionFixture.start(Files.createDirectories(dir.resolve("bastion")), yaml, TargetResolver.system());
        Path knownHosts = OpenSsh.addKnownHost(dir.resolve("known_hosts"), "127.0.0.1", bastion.port(), bastion.hostKeyLine());
        OpenSsh.ConfigBuilder b = OpenSsh.config();
        for (String user : List.of("olga", "nina", "tess", "uma")) {
            b.host(OpenSsh.host(user).hostName("127.0.0.1").port(bastion.port()).user(user)
                    .identityFile(dir.resolve("keys").resolve(user)).userKnownHostsFile(knownHosts).strictHostKeyChecking("yes"));
        }
        ssh = b.writeTo(dir.resolve("ssh_config"));
        // The first refresh must have landed before anyone logs in.
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (bastion.server().rules().logins().lookup("tess").isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
    }

    @AfterAll
    void stopWorld() throws Exception {
        List<AutoCloseable> all = new ArrayList<>(List.of(bastion, iam, echo));
        for (AutoCloseable c : all) {
            if (c != null) {
                c.close();
            }
        }
    }

    private OpenSsh.Result tunnel(String user, byte[] payload) {
        return ssh.run(List.of("-W", "127.0.0.2:" + echo.port(), user), payload, TIMEOUT);
    }

    @Test
    void iamKeyUploadedBeyondMaxKeyAgeIsRefusedWithTheReason() throws Exception {
        OpenSsh.Result r = tunnel("olga", "x\n".getBytes(StandardCharsets.US_ASCII));

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("Permission denied");
        JsonNode reject = bastion.audit().await("auth.reject", e -> e.path("user").asText().equals("olga"));
        assertThat(reject.path("reason").asText()).startsWith("max_key_age: key dated ")
                .contains("(IAM UploadDate of APKA").contains("is 120d old, beyond identity.max_key_age 90d");
        assertThat(bastion.audit().named("auth.accept")).noneMatch(e -> e.path("user").asText().equals("olga"));
    }

    @Test
    void iamKeyNearMaxKeyAgeLogsInWithTheWarning() throws Exception {
        byte[] payload = "near the limit\n".getBytes(StandardCharsets.US_ASCII);
        OpenSsh.Result r = tunnel("nina", payload);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).isEqualTo(payload);
        JsonNode accept = bastion.audit().await("auth.accept", e -> e.path("user").asText().equals("nina"));
        assertThat(accept.path("key_age_warning").asText()).contains("(IAM UploadDate of APKA").contains("is 85d old; refused from ")
                .contains("identity.max_key_age 90d");
    }

    @Test
    void keyTagDatedByItsCommentLogsInWithoutWarning() throws Exception {
        byte[] payload = "dated tag\n".getBytes(StandardCharsets.US_ASCII);
        OpenSsh.Result r = tunnel("tess", payload);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        JsonNode accept = bastion.audit().await("auth.accept", e -> e.path("user").asText().equals("tess"));
        assertThat(accept.has("key_age_warning")).isFalse();
    }

    @Test
    void undatedKeyTagIsRefusedSayingHowToDateIt() throws Exception {
        OpenSsh.Result r = tunnel("uma", "x\n".getBytes(StandardCharsets.US_ASCII));

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        JsonNode reject = bastion.audit().await("auth.reject", e -> e.path("user").asText().equals("uma"));
        assertThat(reject.path("reason").asText()).isEqualTo("max_key_age: the key's date is unknown (tag sallyport:ssh-key"
                + " has no date=YYYY-MM-DD in its comment); identity.max_key_age 90d refuses a key it cannot date");
    }
}
