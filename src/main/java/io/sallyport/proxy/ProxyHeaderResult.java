package io.sallyport.proxy;

import java.util.Objects;

/** The parser's answer for the bytes a connection has sent so far. */
public sealed interface ProxyHeaderResult {

    /**
     * Not enough bytes yet to decide. Nothing is wrong so far.
     *
     * @param atLeast the parser gives no other answer before it has at least this many bytes in all
     *     (counted from the first byte of the connection); never more than
     *     {@link ProxyHeaderParser#MAX_HEADER}
     */
    record NeedMore(int atLeast) implements ProxyHeaderResult {}

    /**
     * A complete, valid header.
     *
     * @param length how many bytes the header took, from the first byte of the connection; every
     *     byte after them belongs to SSH
     */
    record Parsed(ProxyHeader header, int length) implements ProxyHeaderResult {
        public Parsed {
            Objects.requireNonNull(header, "header");
        }
    }

    /**
     * Not a valid PROXY header; the connection must be closed (the spec: "any sequence which does
     * not exactly match the protocol must be discarded and cause the receiver to abort the
     * connection").
     *
     * @param reason for the audit event: printable ASCII, short, never more than a few bytes of
     *     what the peer sent (and those escaped)
     */
    record Refused(String reason) implements ProxyHeaderResult {
        public Refused {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
