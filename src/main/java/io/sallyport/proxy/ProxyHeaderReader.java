package io.sallyport.proxy;

import io.sallyport.proxy.ProxyHeaderResult.NeedMore;
import io.sallyport.proxy.ProxyHeaderResult.Parsed;
import java.nio.ByteBuffer;

/**
 * Collects the first bytes of one connection, chunk by chunk as they arrive, until
 * {@link ProxyHeaderParser} can answer. It holds at most {@link ProxyHeaderParser#MAX_HEADER}
 * bytes, and takes from each chunk only what the header needs: after {@link Parsed}, the chunk's
 * position is at the first byte that belongs to SSH.
 *
 * <p>One per connection; not thread-safe (a connection's reads arrive one at a time). The time a
 * peer may take to finish its header is the caller's to bound.
 */
public final class ProxyHeaderReader {
    private final byte[] held = new byte[ProxyHeaderParser.MAX_HEADER];
    private int size;
    private ProxyHeaderResult last = new NeedMore(1);

    /**
     * Offers the next bytes the connection sent.
     *
     * <ul>
     *   <li>{@link NeedMore}: every remaining byte of {@code chunk} was taken (its position is at its
     *       limit).
     *   <li>{@link Parsed}: {@code chunk}'s position has moved past the header's last byte only; the
     *       bytes from there to its limit are the start of the SSH stream.
     *   <li>{@link ProxyHeaderResult.Refused}: the connection is to be closed; the chunk's position
     *       is unspecified.
     * </ul>
     *
     * @throws IllegalStateException when the reader has already answered Parsed or Refused
     */
    public ProxyHeaderResult offer(ByteBuffer chunk) {
        if (!(last instanceof NeedMore)) {
            throw new IllegalStateException("the header was already " + (last instanceof Parsed ? "parsed" : "refused"));
        }
        int before = size;
        int taken = Math.min(chunk.remaining(), held.length - size);
        chunk.duplicate().get(held, size, taken);
        size += taken;
        last = ProxyHeaderParser.parse(held, 0, size);
        if (last instanceof Parsed parsed) {
            chunk.position(chunk.position() + parsed.length() - before);
        } else {
            chunk.position(chunk.position() + taken);
            if (last instanceof NeedMore && chunk.hasRemaining()) {
                // Cannot happen: the parser answers before MAX_HEADER bytes. Fail closed if it ever did.
                throw new IllegalStateException("more than " + held.length + " bytes without an answer");
            }
        }
        return last;
    }

    /** Bytes held so far (at most {@link ProxyHeaderParser#MAX_HEADER}). */
    public int held() {
        return size;
    }
}
