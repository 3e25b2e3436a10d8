package io.sallyport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The log pattern shipped in logback.xml: a hostile name in a message cannot forge a line or drive a terminal. */
class LogLineEscapingTest {

    @Test
    void controlAndFormatCharactersInAMessageBecomeQuestionMarks() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        @SuppressWarnings("unchecked")
        OutputStreamAppender<ILoggingEvent> stderr = (OutputStreamAppender<ILoggingEvent>) root.getAppender("STDERR");
        assertThat(stderr).as("the STDERR appender of src/main/resources/logback.xml").isNotNull();
        LayoutWrappingEncoder<ILoggingEvent> encoder = (LayoutWrappingEncoder<ILoggingEvent>) stderr.getEncoder();

        LoggingEvent event = new LoggingEvent("test", context.getLogger("io.sallyport.ssh.SessionRegistry"), Level.INFO,
                "revoking session {} of {}: {}", null,
                new Object[] {"s1", "alice\n2026-01-01T00:00:00Z INFO  forged: root logged in\u001b[2J\u009b31m\u202e", "revoked"});
        String line = new String(encoder.encode(event), StandardCharsets.UTF_8);

        assertThat(line).endsWith("revoking session s1 of alice?2026-01-01T00:00:00Z INFO  forged: root logged in?[2J?31m?: revoked"
                + System.lineSeparator());
        assertThat(line.strip()).doesNotContain("\n", "\u001b", "\u009b", "\u202e");
    }
}
