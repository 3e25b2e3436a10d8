package io.sallyport.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Reads a child's stream to the end on a daemon thread, so a chatty child never blocks on a full pipe. */
public final class StreamDrain {
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private final Thread thread;

    public StreamDrain(InputStream in, String name) {
        thread = new Thread(() -> {
            byte[] chunk = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(chunk)) >= 0) {
                    synchronized (buf) {
                        buf.write(chunk, 0, n);
                    }
                }
            } catch (IOException ignored) {
                // Closed under us after we gave up waiting; what we have is what we report.
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** What has arrived so far, as UTF-8 text. */
    public String text() {
        synchronized (buf) {
            return buf.toString(StandardCharsets.UTF_8);
        }
    }

    /**
     * Waits for the end of the stream, bounded: an orphaned grandchild can hold the pipe open
     * forever, and a fixture must never hang a test run because of it. Returns what arrived.
     */
    public byte[] await(Duration timeout) {
        try {
            thread.join(Math.max(1, timeout.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (buf) {
            return buf.toByteArray();
        }
    }
}
