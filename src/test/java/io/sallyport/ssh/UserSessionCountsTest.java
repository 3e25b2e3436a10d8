package io.sallyport.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import io.sallyport.audit.AuditEvent;
import org.junit.jupiter.api.Test;

class UserSessionCountsTest {
    private final UserSessionCounts counts = new UserSessionCounts();

    private static SessionState session() {
        return new SessionState(null, new AuditEvent.ClientRef("192.0.2.1", 50000), 22);
    }

    @Test
    void aSessionClosedBeforeItsLoginIsReportedIsNeverCounted() {
        SessionState s = session();
        s.closed.set(true);
        counts.closed(s);

        assertThat(counts.loggedIn(s, "alice")).isEmpty();
        assertThat(counts.of("alice")).isZero();
    }

    @Test
    void aSessionCountsFromItsLoginToItsCloseOnce() {
        SessionState s = session();
        assertThat(counts.loggedIn(s, "alice")).hasValue(1);
        assertThat(counts.loggedIn(s, "alice")).isEmpty();
        assertThat(counts.of("alice")).isEqualTo(1);

        s.closed.set(true);
        counts.closed(s);
        counts.closed(s);
        assertThat(counts.of("alice")).isZero();
    }

    @Test
    void tenClosesRacingTheirLoginsLeaveTheUserAbleToLogIn() throws Exception {
        for (int i = 0; i < 10; i++) {
            SessionState s = session();
            Thread close = new Thread(() -> {
                s.closed.set(true);
                counts.closed(s);
            });
            close.start();
            counts.loggedIn(s, "alice");
            close.join(5_000);
        }

        assertThat(counts.of("alice")).isZero();
    }
}
