package io.sallyport.audit;

/**
 * A place in the spool: a byte offset in one segment, and how many records of that segment lie
 * before it (so the backlog can be counted without reading it). Ordered by segment, then offset.
 */
public record SpoolPosition(long segment, long offset, long index) implements Comparable<SpoolPosition> {

    /** The first record of a segment. */
    static SpoolPosition startOf(long segment) {
        return new SpoolPosition(segment, SpoolSegment.HEADER_SIZE, 0);
    }

    @Override
    public int compareTo(SpoolPosition o) {
        int c = Long.compare(segment, o.segment);
        return c != 0 ? c : Long.compare(offset, o.offset);
    }

    boolean isAfter(SpoolPosition o) {
        return compareTo(o) > 0;
    }

    @Override
    public String toString() {
        return segment + ":" + offset;
    }
}
