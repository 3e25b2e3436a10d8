package io.sallyport.it;

import static io.sallyport.it.SallyportJar.assertNoStackTrace;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sallyport.testing.OpenSsh;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The newcomer's path, README's first command: {@code sallyport demo} starts, prints ssh
 * commands to paste, and each one does what its comment promises, with the audit trail on the
 * demo's terminal. The commands are taken from the demo's own output, exactly as printed: a test
 * that rebuilt them would pass while the banner told newcomers something that does not work.
 *
 * <p>The demo binds fixed addresses besides its bastion port: 127.0.0.2:7777 (echo) and
 * 127.0.0.3:2200 (SSH target).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(60)
class DemoIT {
    private static final Duration START = Duration.ofSeconds(30);
    private static final Duration SSH_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration AUDIT_WAIT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    int port;
    Path dir;
    ChildProcess demo;
    List<List<String>> printed;
    List<String> jump;
    List<String> echo;
    List<String> metadata;
    List<String> shell;

    @BeforeAll
    void startTheDemo() {
        OpenSsh.requireClient();
        port = SallyportJar.freePort();
        dir = tmp.resolve("demo");
        demo = SallyportJar.start("demo", "--port", Integer.toString(port), "--dir", dir.toString());
        String banner = demo.awaitStdout(out -> out.contains("Ctrl-C stops the demo."), "the demo's banner", START);

        printed = sshCommandsIn(banner);
        jump = printed.stream().filter(c -> c.contains("-J")).findFirst().orElse(null);
        echo = printed.stream().filter(c -> c.contains("-W") && c.contains("127.0.0.2:7777")).findFirst().orElse(null);
        metadata = printed.stream().filter(c -> c.contains("-W") && c.contains("169.254.169.254:80")).findFirst().orElse(null);
        shell = printed.stream().filter(c -> !c.contains("-J") && !c.contains("-W")).findFirst().orElse(null);
    }

    @AfterAll
    void stopTheDemo() {
        if (demo != null) {
            demo.close();
        }
    }

    @Test
    @Order(1)
    void bannerPrintsFourSshCommandsThatUseTheDemosOwnSshConfig() {
        assertThat(printed).as(demo.stdout()).hasSize(4);
        assertThat(Arrays.asList(jump, echo, metadata, shell)).as(demo.stdout()).doesNotContainNull();
        assertThat(demo.stdout()).contains("bastion on 127.0.0.1:" + port);
        Path sshConfig = dir.resolve("ssh_config");
        for (List<String> c : printed) {
            assertThat(c.subList(0, 3)).as(String.join(" ", c)).containsExactly("ssh", "-F", sshConfig.toString());
        }
        assertThat(sshConfig).isRegularFile();
    }

    @Test
    @Order(2)
    void jumpCommandReachesTheDemoTargetThroughTheBastion() throws Exception {
        ChildProcess.Finished r = ChildProcess.run(jump, null, SSH_TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).as(r.toString())
                .contains("Hello from the demo target 127.0.0.3:2200, reached through sallyport.");
        JsonNode open = awaitEvent("forward.open", e -> e.path("target").path("port").asInt() == 2200);
        assertThat(open.path("target").path("ip").asText()).isEqualTo("127.0.0.3");
        assertThat(open.path("rule").asText()).isEqualTo("127.0.0.3:2200");
        assertThat(open.path("user").asText()).isEqualTo("demo");
    }

    @Test
    @Order(3)
    void echoCommandCarriesBytesThereAndBack() throws Exception {
        // What a newcomer would type, a few thousand times over, so the tunnel carries more than one packet.
        StringBuilder typed = new StringBuilder("hello through the sallyport\n");
        for (int i = 1; i <= 3000; i++) {
            typed.append("line ").append(i).append(" of the echo test\n");
        }
        byte[] payload = typed.toString().getBytes(StandardCharsets.UTF_8);

        ChildProcess.Finished r = ChildProcess.run(echo, payload, SSH_TIMEOUT);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).as("echoed back, byte for byte").isEqualTo(typed.toString());
        JsonNode close = awaitEvent("forward.close",
                e -> e.path("target").path("port").asInt() == 7777 && e.path("bytes_up").asLong() == payload.length);
        assertThat(close.path("bytes_down").asLong()).as("every byte came back").isEqualTo(payload.length);
        JsonNode open = awaitEvent("forward.open", e -> e.path("target").path("port").asInt() == 7777);
        assertThat(open.path("target").path("ip").asText()).isEqualTo("127.0.0.2");
        assertThat(open.path("rule").asText()).isEqualTo("127.0.0.2:7777");
    }

    @Test
    @Order(4)
    void metadataCommandIsRefused() throws Exception {
        ChildProcess.Finished r = ChildProcess.run(metadata, new byte[0], SSH_TIMEOUT);

        assertThat(r.timedOut()).as(r.toString()).isFalse();
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("administratively prohibited");
        JsonNode reject = awaitEvent("forward.reject", e -> e.path("target").path("host").asText().equals("169.254.169.254"));
        assertThat(reject.path("reason").asText()).contains("metadata");
        assertThat(reject.path("user").asText()).isEqualTo("demo");
    }

    @Test
    @Order(5)
    void shellCommandIsRefused() throws Exception {
        ChildProcess.Finished r = ChildProcess.run(shell, new byte[0], SSH_TIMEOUT);

        assertThat(r.timedOut()).as(r.toString()).isFalse();
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("shell request failed");
        JsonNode reject = awaitEvent("request.reject", e -> e.path("request").asText().equals("shell"));
        assertThat(reject.path("user").asText()).isEqualTo("demo");
    }

    /**
     * What the newcomer watched on the demo's terminal: one JSON event a line between the banner,
     * with the two tunnels and the refusal the tour promised, the same events as in audit.jsonl,
     * and an orderly stop on SIGTERM (Ctrl-C's sibling; systemd's signal).
     */
    @Test
    @Order(6)
    void sigtermStopsTheDemoAndItsTerminalShowedTheWholeTourAsJsonLines() throws Exception {
        ChildProcess.Finished stopped = demo.terminate(Duration.ofSeconds(15));

        assertThat(stopped.timedOut()).as("the demo ends on SIGTERM\n" + stopped).isFalse();
        assertThat(stopped.exitCode()).as(stopped.toString()).isIn(0, 143);
        assertNoStackTrace(stopped);

        List<JsonNode> events = jsonLines(stopped.stdout());
        assertThat(events).extracting(e -> e.path("event").asText()).as(stopped.toString())
                .startsWith("server.start")
                .endsWith("server.stop")
                .contains("forward.open", "forward.reject", "request.reject");
        assertThat(events).as("forward.open for both demo targets").filteredOn(e -> is(e, "forward.open"))
                .extracting(e -> e.path("target").path("ip").asText() + ":" + e.path("target").path("port").asInt())
                .contains("127.0.0.3:2200", "127.0.0.2:7777");
        assertThat(events).as("forward.reject for the metadata address").filteredOn(e -> is(e, "forward.reject"))
                .extracting(e -> e.path("target").path("ip").asText())
                .contains("169.254.169.254");

        List<JsonNode> file = jsonLines(Files.readString(dir.resolve("audit.jsonl")));
        assertThat(file).extracting(e -> e.path("id").asText())
                .as("audit.jsonl holds the events the terminal showed")
                .containsExactlyElementsOf(events.stream().map(e -> e.path("id").asText()).toList());
    }

    // ------------------------------------------------------------------ helpers

    /**
     * The lines a reader would copy: {@code ssh ...}, indented or not, with any trailing
     * {@code # comment} dropped (README shows them that way), split as a shell would split
     * words without quotes.
     */
    private static List<List<String>> sshCommandsIn(String banner) {
        List<List<String>> commands = new ArrayList<>();
        for (String line : banner.lines().toList()) {
            String l = line.strip();
            if (!l.startsWith("ssh ")) {
                continue;
            }
            int comment = l.indexOf(" #");
            if (comment >= 0) {
                l = l.substring(0, comment).strip();
            }
            commands.add(List.of(l.split("\\s+")));
        }
        return commands;
    }

    /**
     * Every line of the demo's stdout that is not the banner must be one JSON event: a line that
     * starts like JSON and does not parse fails the test.
     */
    private static List<JsonNode> jsonLines(String text) throws JsonProcessingException {
        List<JsonNode> events = new ArrayList<>();
        for (String line : text.lines().toList()) {
            if (line.startsWith("{")) {
                events.add(JSON.readTree(line));
            }
        }
        return events;
    }

    private JsonNode awaitEvent(String name, Predicate<JsonNode> match) throws Exception {
        long deadline = System.nanoTime() + AUDIT_WAIT.toNanos();
        while (true) {
            for (JsonNode e : jsonLines(demo.stdout())) {
                if (is(e, name) && match.test(e)) {
                    return e;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no matching " + name + " on the demo's stdout within " + AUDIT_WAIT
                        + "\n" + demo.describe());
            }
            Thread.sleep(20);
        }
    }

    private static boolean is(JsonNode event, String name) {
        return event.path("event").asText().equals(name);
    }
}
