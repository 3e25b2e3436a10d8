package io.sallyport.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class SessionChannelRequestTest {
    @ParameterizedTest
    @CsvSource({
            "shell, shell", "exec, exec", "x11-req, x11", "auth-agent-req@openssh.com, agent",
            "auth-agent-req, agent", "pty-req, pty"})
    void requestsThatAskForSomethingAreAuditedUnderTheirEventName(String type, String request) {
        assertThat(SessionChannelRequest.of(type, payload("ignored"))).hasValueSatisfying(r -> {
            assertThat(r.request()).isEqualTo(request);
            assertThat(r.reason()).isEqualTo(request + " is not available on a jump server; use ssh -J or ssh -W");
        });
    }

    @Test
    void execNeverRecordsTheCommand() {
        Optional<SessionChannelRequest> r = SessionChannelRequest.of("exec", payload("mysql -p'hunter2'"));

        assertThat(r).hasValueSatisfying(e -> assertThat(e.toString()).doesNotContain("hunter2").doesNotContain("mysql"));
    }

    @Test
    void envRecordsTheVariableNameNeverItsValue() {
        Buffer b = payload("AWS_SECRET_ACCESS_KEY");
        b.putString("wJalrXUtnFEMI/K7MDENG");

        SessionChannelRequest r = SessionChannelRequest.of("env", b).orElseThrow();

        assertThat(r.request()).isEqualTo("env");
        assertThat(r.reason()).startsWith("env AWS_SECRET_ACCESS_KEY is not available").doesNotContain("wJalr");
    }

    @ParameterizedTest
    @ValueSource(strings = {"FOO=bar", "secret value", "A\u001b[31m", "1ABC", ""})
    void envVariableNameThatIsNotANameIsNotRecorded(String name) {
        Buffer b = payload(name);
        b.putString("value");

        SessionChannelRequest r = SessionChannelRequest.of("env", b).orElseThrow();

        assertThat(r.reason()).startsWith("env (a variable whose name is not recorded)");
        if (!name.isEmpty()) {
            assertThat(r.reason()).doesNotContain(name);
        }
    }

    @Test
    void envVariableNameOfSixtyFiveCharactersIsNotRecorded() {
        Buffer b = payload("A".repeat(65));
        assertThat(SessionChannelRequest.of("env", b).orElseThrow().reason()).doesNotContain("AAAA");
    }

    @Test
    void subsystemNamesTheSubsystemMadePrintable() {
        assertThat(SessionChannelRequest.of("subsystem", payload("sftp\n")).orElseThrow().reason())
                .startsWith("subsystem sftp? is not available");
    }

    @Test
    void truncatedPayloadStillGivesAnEvent() {
        assertThat(SessionChannelRequest.of("env", new ByteArrayBuffer(new byte[] {0, 0, 0, 9, 'A'}))).isPresent();
        assertThat(SessionChannelRequest.of("subsystem", new ByteArrayBuffer(new byte[0]))).isPresent();
    }

    @ParameterizedTest
    @ValueSource(strings = {"window-change", "signal", "break", "eow@openssh.com", "keepalive@openssh.com",
            "winadj@putty.projects.tartarus.org", "simple@putty.projects.tartarus.org"})
    void followUpsOfARefusedShellAndLivenessPingsAreRefusedWithoutAnEvent(String type) {
        assertThat(SessionChannelRequest.of(type, payload("x"))).isEmpty();
    }

    @Test
    void unknownRequestIsAuditedAsOtherWithItsNameMadePrintable() {
        SessionChannelRequest r = SessionChannelRequest.of("evil\r\n{\"event\":\"x\"}", payload("x")).orElseThrow();

        assertThat(r.request()).isEqualTo("other");
        assertThat(r.reason()).startsWith("session request 'evil??{\"event\":\"x\"}'").doesNotContain("\n");
    }

    private static Buffer payload(String first) {
        ByteArrayBuffer b = new ByteArrayBuffer();
        b.putString(first);
        return b;
    }
}
