package io.sallyport.ssh;

import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Logged-in sessions per user ({@code max_sessions_per_user}). A session counts once, from its
 * login to its close, whichever order MINA reports the two in: a session closed before its login is
 * reported is never counted, so the count cannot leak.
 */
final class UserSessionCounts {
    private final Map<String, AtomicInteger> perUser = new ConcurrentHashMap<>();

    /**
     * Counts the login of {@code state} as {@code user}.
     *
     * @return the user's sessions now, or empty when the session has closed already (not counted)
     */
    OptionalInt loggedIn(SessionState state, String user) {
        synchronized (state.userCount) {
            if (state.closed.get() || state.userCount.counted != null) {
                return OptionalInt.empty();
            }
            state.userCount.counted = user;
            return OptionalInt.of(perUser.computeIfAbsent(user, u -> new AtomicInteger()).incrementAndGet());
        }
    }

    /** The session has closed ({@code state.closed} set before): uncounts it if it was counted. */
    void closed(SessionState state) {
        synchronized (state.userCount) {
            String user = state.userCount.counted;
            if (user != null) {
                perUser.computeIfPresent(user, (u, n) -> n.decrementAndGet() <= 0 ? null : n);
            }
        }
    }

    int of(String user) {
        AtomicInteger n = perUser.get(user);
        return n == null ? 0 : n.get();
    }
}
