package io.sallyport.audit;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every audit event, one record per event type (SPEC §5), built from shared parts. The envelope
 * fields ({@code id}, {@code ts}, {@code instance}) are added by {@link Auditor} when the event is
 * emitted; {@code session} is part of each session-scoped event.
 */
public sealed interface AuditEvent {

    /** The {@code event} field: {@code session.open}, {@code forward.close}, ... */
    String name();

    /** The session id, for events that belong to a connection. */
    default Optional<String> session() {
        return Optional.empty();
    }

    /** Event-specific fields, in the order they are written. */
    Map<String, Object> fields();

    // ---- shared parts -------------------------------------------------------------------------

    record ClientRef(String ip, int port) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ip", ip);
            m.put("port", port);
            return m;
        }
    }

    record TargetRef(String host, int port, Optional<String> ip) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("host", host);
            m.put("port", port);
            ip.ifPresent(v -> m.put("ip", v));
            return m;
        }
    }

    /**
     * @param method     {@code publickey} or {@code certificate}
     * @param source     {@code local}, {@code iam} or {@code ca}; empty when no source claimed the key
     * @param keyType    the key type the client offered ({@code ssh-ed25519-cert-v01@openssh.com} for a certificate)
     * @param keyFp      SHA-256 fingerprint of the key (for a certificate, of the key it certifies)
     * @param certKeyId  the certificate's key id, made printable
     * @param certSerial the certificate's serial, unsigned decimal; a string because serials use all
     *                   64 bits and JSON readers lose precision beyond 2^53
     * @param ca         the name of the trusted CA that issued the certificate
     * @param roles      the roles the login holds: for a login judged against its roles' {@code from}
     *                   and {@code require}, the ones it kept
     * @param rolesDropped the roles the login was given but did not keep, each with why
     */
    record AuthInfo(String method, Optional<String> source, String keyType, String keyFp,
                    Optional<String> iamArn, List<String> roles,
                    Optional<String> certKeyId, Optional<String> certSerial, Optional<String> ca,
                    List<DroppedRole> rolesDropped) {

        public AuthInfo {
            roles = List.copyOf(roles);
            rolesDropped = List.copyOf(rolesDropped);
        }

        /** A plain public key login. */
        public AuthInfo(String method, Optional<String> source, String keyType, String keyFp,
                        Optional<String> iamArn, List<String> roles) {
            this(method, source, keyType, keyFp, iamArn, roles, Optional.empty(), Optional.empty(), Optional.empty());
        }

        public AuthInfo(String method, Optional<String> source, String keyType, String keyFp,
                        Optional<String> iamArn, List<String> roles,
                        Optional<String> certKeyId, Optional<String> certSerial, Optional<String> ca) {
            this(method, source, keyType, keyFp, iamArn, roles, certKeyId, certSerial, ca, List.of());
        }

        /** The same login holding {@code kept}, having been given and refused the {@code dropped} ones too. */
        public AuthInfo withRoles(List<String> kept, List<DroppedRole> dropped) {
            return new AuthInfo(method, source, keyType, keyFp, iamArn, kept, certKeyId, certSerial, ca, dropped);
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("method", method);
            source.ifPresent(v -> m.put("source", v));
            m.put("key_type", keyType);
            m.put("key_fp", keyFp);
            iamArn.ifPresent(v -> m.put("iam_arn", v));
            certKeyId.ifPresent(v -> m.put("cert_key_id", v));
            certSerial.ifPresent(v -> m.put("cert_serial", v));
            ca.ifPresent(v -> m.put("ca", v));
            if (!roles.isEmpty()) {
                m.put("roles", roles);
            }
            if (!rolesDropped.isEmpty()) {
                m.put("roles_dropped", rolesDropped.stream().map(DroppedRole::json).toList());
            }
            return m;
        }
    }

    /** A role a login was given but does not hold: its {@code from} or {@code require} is not met. */
    record DroppedRole(String role, String reason) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("role", role);
            m.put("reason", reason);
            return m;
        }
    }

    // ---- server events ------------------------------------------------------------------------

    record ServerStart(String version, String configDigest, List<String> listen, String crypto) implements AuditEvent {
        public String name() { return "server.start"; }

        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("version", version);
            m.put("config_digest", configDigest);
            m.put("listen", listen);
            m.put("crypto", crypto);
            return m;
        }
    }

    record ServerStop(String reason) implements AuditEvent {
        public String name() { return "server.stop"; }

        public Map<String, Object> fields() {
            return Map.of("reason", reason);
        }
    }

    // ---- session events -----------------------------------------------------------------------

    /**
     * @param client        the client: the TCP peer, or the address a trusted PROXY header relayed
     * @param proxy         the TCP peer that sent the PROXY header (the load balancer), when relayed
     * @param vpcEndpointId the AWS PrivateLink endpoint the client came through, from the PROXY v2 header
     */
    record SessionOpen(String sessionId, ClientRef client, int serverPort, Optional<ClientRef> proxy,
                       Optional<String> vpcEndpointId) implements AuditEvent {
        public SessionOpen(String sessionId, ClientRef client, int serverPort) {
            this(sessionId, client, serverPort, Optional.empty(), Optional.empty());
        }

        public String name() { return "session.open"; }
        public Optional<String> session() { return Optional.of(sessionId); }

        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("client", client.json());
            m.put("server_port", serverPort);
            proxy.ifPresent(p -> m.put("proxy", p.json()));
            vpcEndpointId.ifPresent(v -> m.put("vpc_endpoint", v));
            return m;
        }
    }

    /**
     * Connections closed as they were accepted, before any SSH byte was sent: no session, so no
     * {@code session} id. One event stands for {@code count} refusals from one source, so a scan
     * cannot flood the trail (docs/audit-events.md has the rule).
     *
     * @param client the connection the event was written for, or the last one counted
     * @param source the source counted by: the address, an IPv6 /64, or {@code *} for sources counted
     *               together once too many were tracked at once
     * @param reason {@code allow_sources}
     * @param count  refused connections this event stands for (1 or more)
     */
    record ConnectionRefuse(ClientRef client, String source, String reason, long count, Optional<ClientRef> proxy,
                            Optional<String> detail) implements AuditEvent {
        public ConnectionRefuse(ClientRef client, String source, String reason, long count) {
            this(client, source, reason, count, Optional.empty(), Optional.empty());
        }

        /**
         * A connection from a trusted PROXY peer refused over its header ({@code proxy_protocol}): one
         * event per connection (only trusted peers can cause it).
         *
         * @param client what the header claimed, or the peer when nothing was read
         * @param proxy  the TCP peer
         * @param detail why, for the operator: printable ASCII
         */
        public static ConnectionRefuse proxyProtocol(ClientRef client, ClientRef proxy, String detail) {
            return new ConnectionRefuse(client, client.ip(), TerminationReason.PROXY_PROTOCOL.wireName(), 1,
                    Optional.of(proxy), Optional.of(detail));
        }

        public String name() { return "connection.refuse"; }

        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("client", client.json());
            m.put("source", source);
            m.put("reason", reason);
            m.put("count", count);
            proxy.ifPresent(p -> m.put("proxy", p.json()));
            detail.ifPresent(d -> m.put("detail", d));
            return m;
        }
    }

    /** @param keyAgeWarning the plain key is near {@code identity.max_key_age}: when it will be refused */
    record AuthAccept(String sessionId, ClientRef client, String user, AuthInfo auth, Optional<String> keyAgeWarning)
            implements AuditEvent {
        public AuthAccept(String sessionId, ClientRef client, String user, AuthInfo auth) {
            this(sessionId, client, user, auth, Optional.empty());
        }

        public String name() { return "auth.accept"; }
        public Optional<String> session() { return Optional.of(sessionId); }

        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("user", user);
            m.put("client", client.json());
            m.put("auth", auth.json());
            keyAgeWarning.ifPresent(w -> m.put("key_age_warning", w));
            return m;
        }
    }

    /** @param user the user name the client asked for (hostile input, made printable) */
    record AuthReject(String sessionId, ClientRef client, String user, Optional<AuthInfo> auth, String reason)
            implements AuditEvent {
        public String name() { return "auth.reject"; }
        public Optional<String> session() { return Optional.of(sessionId); }

        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("user", user);
            m.put("client", client.json());
            auth.ifPresent(a -> m.put("auth", a.json()));
            m.put("reason", reason);
            return m;
        }
    }

    record ForwardOpen(String sessionId, String user, ClientRef client, long channel, TargetRef target, String rule)
            implements AuditEvent {
        public String name() { return "forward.open"; }
        public Optional<String> session() { return Optional.of(sessionId); }

        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("user", user);
            m.put("client", client.json());
            m.put("channel", channel);
            m.put("target", target.json());
            m.put("rule", rule);
            return m;
        }
    }

    record ForwardReject(String sessionId, String user, ClientRef client, long channel, TargetRef target, String reason)
            implements AuditEvent {
        public String name() { return "forward.reject"; }
        public Optional<String> session() { return Optional.of(sessionId); }

        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("user", user);
            m.put("client", client.json());
            m.put("channel", channel);
            m.put("target", target.json());
            m.put("reason", reason);
            return m;
        }
    }

    /**
     * @param reason why the server closed the tunnel ({@code rule removed}, {@code role withdrawn},
     *               {@code denied: …}); empty when the client or the target closed it, or its session ended
     */
    record ForwardClose(String sessionId, String user, long channel, TargetRef target, long bytesUp, long bytesDown,
                        long durationMs, Optional<String> reason) implements AuditEvent {
        public ForwardClose(String sessionId, String user, long channel, TargetRef target, long bytesUp, long bytesDown,
                            long durationMs) {
            this(sessionId, user, channel, target, bytesUp, bytesDown, durationMs, Optional.empty());
        }

        public String name() { return "forward.close"; }
        public Optional<String> session() { return Optional.of(sessionId); }

        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("user", user);
            m.put("channel", channel);
            m.put("target", target.json());
            m.put("bytes_up", bytesUp);
            m.put("bytes_down", bytesDown);
            m.put("duration_ms", durationMs);
            reason.ifPresent(r -> m.put("reason", r));
            return m;
        }
    }

    /**
     * A reload of the config, the revocation list or the host certificate: applied, or refused
     * with the problems (the server then goes on with what it had).
     *
     * @param trigger       {@code admin}, {@code signal}, {@code revocation file} or {@code host certificate}
     * @param file          the file that was read
     * @param digest        the effective config's digest, when a config was applied
     * @param restartNeeded keys whose change a reload cannot apply (they keep their running value)
     * @param reason        on {@code refused}: the problems, joined by {@code "; "}
     */
    record ConfigReload(String trigger, String file, boolean applied, Optional<String> digest, List<String> restartNeeded,
                        Optional<String> reason) implements AuditEvent {
        public ConfigReload {
            restartNeeded = List.copyOf(restartNeeded);
        }

        public String name() { return "config.reload"; }
        public Optional<String> session() { return Optional.empty(); }

        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("result", applied ? "applied" : "refused");
            m.put("trigger", trigger);
            m.put("config", file);
            digest.ifPresent(d -> m.put("digest", d));
            if (applied) {
                m.put("restart_needed", restartNeeded);
            }
            reason.ifPresent(r -> m.put("reason", r));
            return m;
        }
    }

    /**
     * @param request {@code shell}, {@code exec}, {@code subsystem}, {@code tcpip-forward},
     *                {@code agent}, {@code x11}, {@code tun}, {@code streamlocal}, ...
     */
    record RequestReject(String sessionId, String user, ClientRef client, String request, String reason)
            implements AuditEvent {
        public String name() { return "request.reject"; }
        public Optional<String> session() { return Optional.of(sessionId); }

        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            if (user != null) {
                m.put("user", user);
            }
            m.put("client", client.json());
            m.put("request", request);
            m.put("reason", reason);
            return m;
        }
    }

    /**
     * @param reason why the server ended it; the JSON carries its {@link TerminationReason#wireName()}
     */
    record SessionTerminate(String sessionId, Optional<String> user, ClientRef client, TerminationReason reason)
            implements AuditEvent {
        public String name() { return "session.terminate"; }
        public Optional<String> session() { return Optional.of(sessionId); }

        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            user.ifPresent(u -> m.put("user", u));
            m.put("client", client.json());
            m.put("reason", reason.wireName());
            return m;
        }
    }

    record SessionClose(String sessionId, Optional<String> user, ClientRef client, int channels, long bytesUp,
                        long bytesDown, long durationMs, String reason) implements AuditEvent {
        public String name() { return "session.close"; }
        public Optional<String> session() { return Optional.of(sessionId); }

        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            user.ifPresent(u -> m.put("user", u));
            m.put("client", client.json());
            m.put("channels", channels);
            m.put("bytes_up", bytesUp);
            m.put("bytes_down", bytesDown);
            m.put("duration_ms", durationMs);
            m.put("reason", reason);
            return m;
        }
    }

    // ---- operator events ----------------------------------------------------------------------

    /**
     * A command on the admin socket, with the caller the kernel names ({@code SO_PEERCRED}).
     *
     * @param command {@code sessions}, {@code kill}, or what the caller sent (made printable) when refused
     * @param args    the command's arguments (session ids, {@code --user U})
     * @param reason  why it was refused; empty when it was carried out
     */
    record AdminCommand(String command, List<String> args, long uid, String user, Optional<String> reason)
            implements AuditEvent {
        public AdminCommand {
            args = List.copyOf(args);
        }

        public String name() { return "admin.command"; }

        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("command", command);
            if (!args.isEmpty()) {
                m.put("args", args);
            }
            m.put("uid", uid);
            m.put("user", user);
            reason.ifPresent(r -> m.put("reason", r));
            return m;
        }
    }
}
