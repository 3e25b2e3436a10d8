package io.sallyport.admin;

import io.sallyport.audit.TerminationReason;
import io.sallyport.ssh.LiveSessions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Live sessions held in a list; terminating one removes it and records the reason. */
final class FakeLiveSessions implements LiveSessions {
    final List<Session> live = new ArrayList<>();
    final List<String> terminated = new ArrayList<>();

    @Override
    public synchronized List<Session> list() {
        return List.copyOf(live);
    }

    @Override
    public synchronized Optional<Session> terminate(String id, TerminationReason reason) {
        Optional<Session> s = live.stream().filter(x -> x.id().equals(id)).findFirst();
        s.ifPresent(x -> {
            live.remove(x);
            terminated.add(id + " " + reason.wireName());
        });
        return s;
    }

    @Override
    public synchronized List<Session> terminateUser(String user, TerminationReason reason) {
        List<Session> ended = live.stream().filter(x -> x.user().equals(Optional.of(user))).toList();
        for (Session s : ended) {
            terminate(s.id(), reason);
        }
        return ended;
    }
}
