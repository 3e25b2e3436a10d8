package io.sallyport.admission;

/**
 * The unit that pre-auth quotas and penalties count by: one IPv4 address, or one IPv6 /64 (a
 * single IPv6 host usually holds a whole /64, so counting by /128 would let it take a fresh
 * address for every connection — cf. OpenSSH's {@code PerSourceNetBlockSize}).
 *
 * @param block  the address ({@code 203.0.113.7}) or the /64 ({@code 2001:db8:1:2::/64})
 * @param exempt in {@code limits.penalty_exempt}: never penalised nor capped per source
 */
public record Source(String block, boolean exempt) {
    @Override
    public String toString() {
        return block;
    }
}
