package io.sallyport.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.audit.Auditor;
import io.sallyport.ssh.LiveSessions;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminSocketTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    Path path;
    final FakeLiveSessions sessions = new FakeLiveSessions();
    final ListSink audit = new ListSink();
    Auditor auditor;
    AdminSocket socket;

    @BeforeEach
    void open() throws IOException {
        path = dir.resolve("admin.sock");
        auditor = new Auditor("test", Clock.systemUTC(), List.of(audit));
        sessions.live.add(session("0123456789abcdef", "alice"));
        sessions.live.add(session("1111111111111111", "alice"));
        sessions.live.add(session("2222222222222222", "bob"));
        socket = AdminSocket.open(path, Optional.empty(), new AdminCommands(sessions, auditor));
    }

    @AfterEach
    void close() {
        socket.close();
        auditor.close();
    }

    private static LiveSessions.Session session(String id, String user) {
        return new LiveSessions.Session(id, Optional.of(user), "192.0.2.1", 40000, Optional.of("publickey"),
                Optional.of("local"), List.of(), Instant.now(), List.of(), 0, 0);
    }

    private static long ownUid() throws IOException {
        return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
    }

    /** Sends raw bytes and returns what the server answered (up to its close). */
    private String exchange(byte[] request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            ByteBuffer b = ByteBuffer.wrap(request);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            return AdminProtocol.readLine(ch, 1 << 20).orElse("");
        }
    }

    @Test
    void theSocketIsGroupReadWriteAndNothingForOthers() throws IOException {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS)))
                .isEqualTo("rw-rw----");
    }

    @Test
    void sessionsListsTheLiveOnesAndIsAuditedWithTheCallersUidFromTheKernel() throws Exception {
        JsonNode r = AdminSocketClient.call(path, new AdminProtocol.Request.Sessions());
        assertThat(r.path("sessions")).hasSize(3);
        JsonNode event = audit.named("admin.command").get(0);
        assertThat(event.path("command").asText()).isEqualTo("sessions");
        assertThat(event.path("uid").asLong()).as("SO_PEERCRED's uid, as /proc/self says").isEqualTo(ownUid());
        assertThat(event.path("user").asText()).isEqualTo(System.getProperty("user.name"));
        assertThat(event.has("reason")).isFalse();
    }

    @Test
    void killByIdEndsThatSessionWithReasonAdminAndReportsUnknownIds() throws Exception {
        JsonNode r = AdminSocketClient.call(path, new AdminProtocol.Request.KillIds(List.of("0123456789abcdef", "abcd")));
        assertThat(r.path("ended").get(0).path("id").asText()).isEqualTo("0123456789abcdef");
        assertThat(r.path("unknown").get(0).asText()).isEqualTo("abcd");
        assertThat(sessions.terminated).containsExactly("0123456789abcdef admin");
        JsonNode event = audit.named("admin.command").get(0);
        assertThat(event.path("command").asText()).isEqualTo("kill");
        assertThat(event.path("args").toString()).isEqualTo("[\"0123456789abcdef\",\"abcd\"]");
    }

    @Test
    void killByUserEndsEveryOneOfTheirSessionsAndNoOneElses() throws Exception {
        JsonNode r = AdminSocketClient.call(path, new AdminProtocol.Request.KillUser("alice"));
        assertThat(r.path("ended")).hasSize(2);
        assertThat(sessions.list()).extracting(LiveSessions.Session::user).containsExactly(Optional.of("bob"));
        assertThat(audit.named("admin.command").get(0).path("args").toString()).isEqualTo("[\"--user\",\"alice\"]");
    }

    @Test
    void garbageGetsAnErrorLineAndIsAuditedAsRefused() throws Exception {
        JsonNode r = JSON.readTree(exchange("rm -rf /\n".getBytes(StandardCharsets.UTF_8)));
        assertThat(r.path("ok").asBoolean()).isFalse();
        assertThat(r.path("error").asText()).startsWith("bad request: ").doesNotContain("Exception").doesNotContain("\tat ");
        JsonNode event = audit.named("admin.command").get(0);
        assertThat(event.path("reason").asText()).isEqualTo("bad request: not a JSON object");
        assertThat(sessions.terminated).isEmpty();
    }

    @Test
    void aHugeLineIsRefusedWithAnErrorAndTheServerStillAnswersAfterIt() throws Exception {
        byte[] huge = new byte[AdminProtocol.MAX_REQUEST_BYTES * 4];
        java.util.Arrays.fill(huge, (byte) '{');
        String answer;
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            ch.write(ByteBuffer.wrap(huge, 0, AdminProtocol.MAX_REQUEST_BYTES + 10));
            answer = AdminProtocol.readLine(ch, 1 << 20).orElse("");
        }
        assertThat(JSON.readTree(answer).path("error").asText()).contains("longer than " + AdminProtocol.MAX_REQUEST_BYTES);
        assertThat(AdminSocketClient.call(path, new AdminProtocol.Request.Sessions()).path("sessions")).hasSize(3);
    }

    @Test
    void aSlowClientIsCutOffAfterTheRequestTimeoutAndAudited() throws Exception {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            ch.write(ByteBuffer.wrap("{\"comm".getBytes(StandardCharsets.UTF_8)));
            long start = System.nanoTime();
            ByteBuffer b = ByteBuffer.allocate(10);
            int n = ch.read(b); // blocks until the server closes
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(n).as("closed, nothing sent").isEqualTo(-1);
            assertThat(took).isGreaterThan(AdminSocket.REQUEST_TIMEOUT.minusSeconds(1))
                    .isLessThan(AdminSocket.REQUEST_TIMEOUT.plusSeconds(10));
        }
        // The worker audits after the close the client just saw.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (audit.named("admin.command").isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(audit.named("admin.command").get(0).path("reason").asText()).startsWith("no request within");
    }

    @Test
    void connectionsBeyondTheCapAreAnsweredBusyWhileTheOthersWait() throws Exception {
        List<SocketChannel> held = new ArrayList<>();
        try {
            for (int i = 0; i < AdminSocket.MAX_CONNECTIONS; i++) {
                held.add(SocketChannel.open(UnixDomainSocketAddress.of(path)));
            }
            Thread.sleep(200); // the held ones are taken by the workers
            assertThatThrownBy(() -> AdminSocketClient.call(path, new AdminProtocol.Request.Sessions()))
                    .hasMessageContaining("busy");
        } finally {
            for (SocketChannel c : held) {
                c.close();
            }
        }
    }

    @Test
    void aStaleSocketFromACrashedRunIsReplaced() throws Exception {
        Path stale = dir.resolve("stale.sock");
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(stale));
        dead.close(); // the file stays, as after kill -9
        assertThat(stale).exists();
        try (AdminSocket again = AdminSocket.open(stale, Optional.empty(), new AdminCommands(sessions, auditor))) {
            assertThat(AdminSocketClient.call(stale, new AdminProtocol.Request.Sessions()).path("ok").asBoolean()).isTrue();
        }
        assertThat(stale).as("removed when closed").doesNotExist();
    }

    @Test
    void aSocketAnotherServerAnswersOnIsAnErrorAtStart() {
        assertThatThrownBy(() -> AdminSocket.open(path, Optional.empty(), new AdminCommands(sessions, auditor)))
                .hasMessageContaining("another sallyport server is answering");
        assertThat(path).as("the live server's socket is left alone").exists();
    }

    @Test
    void aFileThatIsNotASocketIsNeverReplaced() throws Exception {
        Path file = Files.writeString(dir.resolve("precious"), "data");
        assertThatThrownBy(() -> AdminSocket.open(file, Optional.empty(), new AdminCommands(sessions, auditor)))
                .hasMessageContaining("not a socket");
        assertThat(Files.readString(file)).isEqualTo("data");
    }

    @Test
    void aSocketPathThatCannotBeMadeIsOneLineNamingTheKey() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "");
        assertThatThrownBy(() -> AdminSocket.open(file.resolve("admin.sock"), Optional.empty(),
                new AdminCommands(sessions, auditor)))
                .hasMessageStartingWith("admin.socket " + file.resolve("admin.sock") + ": cannot prepare it")
                .hasMessageContaining("set admin.socket");
    }

    @Test
    void noServerIsSaidPlainly() {
        assertThatThrownBy(() -> AdminSocketClient.call(dir.resolve("none.sock"), new AdminProtocol.Request.Sessions()))
                .isInstanceOf(AdminSocketClient.NotAnswering.class)
                .hasMessage("no sallyport server is answering on " + dir.resolve("none.sock"));
        socket.close();
        assertThatThrownBy(() -> AdminSocketClient.call(path, new AdminProtocol.Request.Sessions()))
                .isInstanceOf(AdminSocketClient.NotAnswering.class);
    }
}
