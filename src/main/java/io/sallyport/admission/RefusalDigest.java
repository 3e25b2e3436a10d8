package io.sallyport.admission;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Turns repeated refusals of connections into at most one audit line per source per
 * {@link #WINDOW}, so that a scan or a flood from outside {@code limits.allow_sources} cannot
 * flood the audit trail (and, through {@code on_spool_full: refuse_new_sessions}, lock everyone
 * out).
 *
 * <p>The first refusal from a source is a line at once ({@code count} 1) and opens the source's
 * window. Refusals within the window are only counted; when the window ends, one line reports
 * them ({@code count} N) and a new window opens, or, if none came, the source is forgotten. The
 * counts of all lines add up to the refusals: nothing is lost, only summarised.
 *
 * <p>Bounded: at most {@code maxSources} sources are tracked at once. A refusal from another
 * source while the table is full is counted under {@link #OTHER_SOURCES}, itself one line per
 * window. So the lines are at most {@code maxSources + 1} per window, whatever the number of
 * addresses a scanner uses. Thread-safe; time comes from the injected ticker.
 */
public final class RefusalDigest {
    /** The window of one source: its refusals within it are one line. */
    public static final Duration WINDOW = Duration.ofMinutes(1);
    /**
     * Sources tracked at once. Internet background scanning of port 22 comes from a few hundred
     * addresses an hour, far below this; a flood from more addresses costs one summarised line a
     * minute beyond it. About 150 bytes each: some 150 KiB when full.
     */
    public static final int MAX_SOURCES = 1024;
    /** The {@link Line#source} of refusals counted together because the table was full. */
    public static final String OTHER_SOURCES = "*";

    /**
     * One audit line.
     *
     * @param source the source's block ({@link Source#block()}), or {@link #OTHER_SOURCES}
     * @param ip     the address of the refusal this line was written for, or of the last one counted
     * @param port   that connection's port
     * @param count  refusals this line stands for: 1 for a first one, N for those counted since the last line
     */
    public record Line(String source, String ip, int port, long count) {}

    private static final class Window {
        long startedNanos;
        long pending;
        String ip;
        int port;

        Window(long startedNanos) {
            this.startedNanos = startedNanos;
        }
    }

    private final int maxSources;
    private final long windowNanos;
    private final LongSupplier ticker;
    /** Guarded by {@code this}. */
    private final Map<String, Window> windows = new LinkedHashMap<>();

    /** @param ticker nanoseconds, monotonic ({@code System::nanoTime}) */
    public RefusalDigest(int maxSources, Duration window, LongSupplier ticker) {
        if (maxSources < 1 || window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("maxSources and window must be positive");
        }
        this.maxSources = maxSources;
        this.windowNanos = window.toNanos();
        this.ticker = ticker;
    }

    /**
     * Records one refused connection.
     *
     * @return the line to audit now, or empty when the refusal is only counted (it is reported by a
     *         later {@link #sweep} or {@link #flush})
     */
    public synchronized Optional<Line> refused(String source, String ip, int port) {
        long now = ticker.getAsLong();
        String key = source;
        Window w = windows.get(key);
        if (w == null && full()) {
            key = OTHER_SOURCES;
            w = windows.get(key);
        }
        if (w == null) {
            windows.put(key, new Window(now));
            return Optional.of(new Line(key, ip, port, 1));
        }
        if (now - w.startedNanos >= windowNanos) {
            long count = w.pending + 1;
            w.startedNanos = now;
            w.pending = 0;
            return Optional.of(new Line(key, ip, port, count));
        }
        w.pending++;
        w.ip = ip;
        w.port = port;
        return Optional.empty();
    }

    /**
     * Ends the windows that are over: each with refusals counted gives its line and opens a new
     * window; the others are forgotten. Called about once a second.
     */
    public synchronized List<Line> sweep() {
        long now = ticker.getAsLong();
        List<Line> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, Window>> it = windows.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Window> e = it.next();
            Window w = e.getValue();
            if (now - w.startedNanos < windowNanos) {
                continue;
            }
            if (w.pending == 0) {
                it.remove();
            } else {
                out.add(new Line(e.getKey(), w.ip, w.port, w.pending));
                w.pending = 0;
                w.startedNanos = now;
            }
        }
        return out;
    }

    /** Every count not yet reported, as lines, and forgets every source: at shutdown. */
    public synchronized List<Line> flush() {
        List<Line> out = new ArrayList<>();
        windows.forEach((source, w) -> {
            if (w.pending > 0) {
                out.add(new Line(source, w.ip, w.port, w.pending));
            }
        });
        windows.clear();
        return out;
    }

    /**
     * Gives back a line that could not be audited (the audit queue was full): its count is reported
     * with the source's next line instead.
     */
    public synchronized void unreported(Line line) {
        String key = line.source();
        Window w = windows.get(key);
        if (w == null && full()) {
            key = OTHER_SOURCES;
            w = windows.get(key);
        }
        if (w == null) {
            w = new Window(ticker.getAsLong());
            windows.put(key, w);
        }
        w.pending += line.count();
        if (w.ip == null) {
            w.ip = line.ip();
            w.port = line.port();
        }
    }

    /** Whether {@code maxSources} sources are tracked, besides {@link #OTHER_SOURCES}. */
    private boolean full() {
        return windows.size() - (windows.containsKey(OTHER_SOURCES) ? 1 : 0) >= maxSources;
    }

    /** Sources tracked now, {@link #OTHER_SOURCES} included (for tests). */
    public synchronized int tracked() {
        return windows.size();
    }
}
