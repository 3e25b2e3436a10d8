package io.sallyport.cli;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGHUP as {@code sallyport reload} ({@code systemctl reload} sends it). Installed before anything
 * else: the JVM's default for SIGHUP is an orderly shutdown, which would end every session. A
 * signal before the server is up is logged and ignored; signals that arrive while a reload runs
 * fold into one more reload after it, so a burst of them is at most two reloads.
 */
final class HangUp {
    private static final Logger log = LoggerFactory.getLogger(HangUp.class);

    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sallyport-reload");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean queued = new AtomicBoolean();
    private volatile Runnable reload;

    private HangUp() {}

    static HangUp install() {
        HangUp h = new HangUp();
        Signal.handle(new Signal("HUP"), signal -> h.received());
        return h;
    }

    /** From now on SIGHUP runs {@code reload} (off the signal thread). */
    void reloadWith(Runnable reload) {
        this.reload = reload;
    }

    private void received() {
        Runnable r = reload;
        if (r == null) {
            log.warn("SIGHUP before the server is up: ignored (nothing to reload yet)");
            return;
        }
        if (queued.compareAndSet(false, true)) {
            worker.execute(() -> {
                queued.set(false);
                try {
                    r.run();
                } catch (RuntimeException e) {
                    log.error("reload on SIGHUP failed: {}", e.toString());
                }
            });
        }
    }
}
