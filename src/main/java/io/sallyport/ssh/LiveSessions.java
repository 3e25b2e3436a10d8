package io.sallyport.ssh;

import io.sallyport.audit.TerminationReason;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A read-only view of the server's live connections, and the one operation an operator may apply
 * to them: ending them. What the admin socket sees of the SSH room; it carries no MINA types.
 *
 * <p>Every method is safe to call from any thread but MINA's own and never blocks on a client:
 * ending a session sends its disconnect message and returns.
 */
public interface LiveSessions {

    /** Every live connection, logged in or not, oldest first. */
    List<Session> list();

    /**
     * Ends the connection {@code id}, audited as {@code session.terminate} with {@code reason}.
     *
     * @return the connection as it was just before, or empty when no live connection has that id
     */
    Optional<Session> terminate(String id, TerminationReason reason);

    /** Ends every logged-in connection of {@code user} (exact name), each audited; returns them. */
    List<Session> terminateUser(String user, TerminationReason reason);

    /**
     * One connection.
     *
     * @param user       empty until it logged in
     * @param authMethod {@code publickey} or {@code certificate}, once logged in
     * @param authSource {@code local}, {@code iam} or {@code ca}, once logged in
     * @param bytesUp    client to targets, tunnels closed and open added up
     */
    record Session(String id, Optional<String> user, String clientIp, int clientPort, Optional<String> authMethod,
                   Optional<String> authSource, List<String> roles, Instant started, List<Tunnel> tunnels,
                   long bytesUp, long bytesDown) {
        public Session {
            roles = List.copyOf(roles);
            tunnels = List.copyOf(tunnels);
        }
    }

    /** One open {@code direct-tcpip} tunnel: its checked target and the bytes so far. */
    record Tunnel(long channel, String host, int port, Optional<String> ip, long bytesUp, long bytesDown) {}
}
