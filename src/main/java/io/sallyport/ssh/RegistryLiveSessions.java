package io.sallyport.ssh;

import io.sallyport.audit.AuditEvent;
import io.sallyport.audit.TerminationReason;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** {@link LiveSessions} over the {@link SessionRegistry}'s live map. */
final class RegistryLiveSessions implements LiveSessions {
    static final String ADMIN_MESSAGE = "session ended by an administrator";

    private final SessionRegistry registry;

    RegistryLiveSessions(SessionRegistry registry) {
        this.registry = registry;
    }

    @Override
    public List<Session> list() {
        return registry.live().stream()
                .sorted(Comparator.comparingLong((SessionState s) -> s.startedNanos))
                .map(RegistryLiveSessions::view)
                .toList();
    }

    @Override
    public Optional<Session> terminate(String id, TerminationReason reason) {
        for (SessionState s : registry.live()) {
            if (s.id.equals(id) && !s.terminated.get()) {
                Session before = view(s);
                registry.terminate(s, reason, ADMIN_MESSAGE);
                return Optional.of(before);
            }
        }
        return Optional.empty();
    }

    @Override
    public List<Session> terminateUser(String user, TerminationReason reason) {
        List<Session> ended = new ArrayList<>();
        for (SessionState s : registry.live()) {
            if (s.authenticated() && s.identity.user().equals(user) && !s.terminated.get()) {
                ended.add(view(s));
                registry.terminate(s, reason, ADMIN_MESSAGE);
            }
        }
        return ended;
    }

    private static Session view(SessionState s) {
        AuditEvent.AuthInfo auth = s.auth;
        List<Tunnel> tunnels = new ArrayList<>();
        long up = s.bytesUp.get();
        long down = s.bytesDown.get();
        for (ForwardingChannel f : s.openForwards) {
            Optional<Tunnel> t = f.view();
            if (t.isPresent()) {
                tunnels.add(t.get());
                up += t.get().bytesUp();
                down += t.get().bytesDown();
            }
        }
        tunnels.sort(Comparator.comparingLong(Tunnel::channel));
        return new Session(s.id, s.user(), s.client.ip(), s.client.port(),
                auth == null ? Optional.empty() : Optional.of(auth.method()),
                auth == null ? Optional.empty() : auth.source(),
                auth == null ? List.of() : auth.roles(),
                Instant.ofEpochMilli(s.startedMillis), tunnels, up, down);
    }
}
