package io.sallyport.admission;

/**
 * The unit that pre-auth quotas and penalties count by: one IPv4 address, or one IPv6 /64 (a
 * single IPv6 host usually holds a whole /64, so counting by /128 would let it take a fresh
 * address for every connection — cf. OpenSSH's {@code PerSourceNetBlockSize}).
 *
 * @param block      the address ({@code 203.0.113.7}) or the /64 ({@code 2001:db8:1:2::/64}):
 *                   what the per-source cap and the penalties count
 * @param shareBlock the wider block the fair share of pre-auth slots is judged by: the address
 *                   for IPv4, the /48 for IPv6 (one customer or site is usually given a /48 or
 *                   a /56, i.e. 256 or 65,536 /64s; see {@link PreAuthSlots})
 * @param exempt     in {@code limits.penalty_exempt}: never penalised nor capped per source
 */
public record Source(String block, String shareBlock, boolean exempt) {
    /** A source whose fair share is judged by its own block. */
    public Source(String block, boolean exempt) {
        this(block, block, exempt);
    }

    @Override
    public String toString() {
        return block;
    }
}
