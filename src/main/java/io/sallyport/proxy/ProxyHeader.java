package io.sallyport.proxy;

import io.sallyport.net.IpLiterals;
import java.net.InetAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * What a PROXY header said about a connection.
 *
 * @param version 1 (text) or 2 (binary)
 * @param kind whether the header carries the real client's address
 * @param transport what the header declared, for audit: {@code TCP4}, {@code TCP6}, {@code UNKNOWN}
 *     (v1); {@code TCP4}, {@code TCP6}, {@code UDP4}, {@code UDP6}, {@code UNIX-STREAM},
 *     {@code UNIX-DGRAM}, {@code UNSPEC}, {@code LOCAL} (v2)
 * @param source the real client; present exactly when {@code kind} is {@link Kind#RELAYED}
 * @param destination the address the client connected to (the load balancer's listener); present
 *     exactly when {@code kind} is {@link Kind#RELAYED}
 * @param vpcEndpointId the AWS PrivateLink endpoint the client came through ({@code vpce-...}),
 *     from a v2 {@code PP2_TYPE_AWS} TLV; printable ASCII, at most
 *     {@link ProxyHeaderParser#MAX_VPC_ENDPOINT_ID} characters
 */
public record ProxyHeader(
        int version,
        Kind kind,
        String transport,
        Optional<Endpoint> source,
        Optional<Endpoint> destination,
        Optional<String> vpcEndpointId) {

    /** Whether the header names the real client. */
    public enum Kind {
        /** A TCP connection relayed for a client: {@link #source()} is that client. */
        RELAYED,
        /**
         * v2 LOCAL: the proxy opened the connection itself (a health check); the real peer is the
         * proxy. The spec says to accept it and use the real connection's endpoints.
         */
        LOCAL,
        /**
         * Relayed, but for a family or transport the header does not describe as a TCP endpoint (v1
         * UNKNOWN, v2 UNSPEC, AF_UNIX or UDP): no client address. The spec lets the receiver accept
         * it with the real connection's endpoints or refuse it; the caller decides.
         */
        UNKNOWN
    }

    /**
     * An address and port from a header. The address is canonical (an IPv4-mapped IPv6 address is
     * its IPv4 address) and carries no host name, so nothing about it ever goes to DNS.
     */
    public record Endpoint(InetAddress address, int port) {
        public Endpoint {
            Objects.requireNonNull(address, "address");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " is not 0-65535");
            }
        }

        /** {@code 203.0.113.7:51234}, {@code [2001:db8::7]:51234}; no reverse lookup. */
        @Override
        public String toString() {
            String ip = IpLiterals.format(address);
            return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + port;
        }
    }

    public ProxyHeader {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(destination, "destination");
        Objects.requireNonNull(vpcEndpointId, "vpcEndpointId");
        if (version != 1 && version != 2) {
            throw new IllegalArgumentException("PROXY version " + version + " is not 1 or 2");
        }
        boolean relayed = kind == Kind.RELAYED;
        if (source.isPresent() != relayed || destination.isPresent() != relayed) {
            throw new IllegalArgumentException("addresses are present exactly for a relayed connection");
        }
    }

    static ProxyHeader relayed(int version, String transport, Endpoint source, Endpoint destination,
            Optional<String> vpcEndpointId) {
        return new ProxyHeader(version, Kind.RELAYED, transport, Optional.of(source), Optional.of(destination), vpcEndpointId);
    }

    static ProxyHeader withoutAddress(int version, Kind kind, String transport, Optional<String> vpcEndpointId) {
        return new ProxyHeader(version, kind, transport, Optional.empty(), Optional.empty(), vpcEndpointId);
    }
}
