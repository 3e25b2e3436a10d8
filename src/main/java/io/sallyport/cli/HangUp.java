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
 * signal before the server is up is logged and applied once it is (the file may have changed since
 * the server read it); signals that arrive while a reload runs fold into one more reload after it,
 * so a burst of them is at most two reloads.
 */
final class HangUp {
    private static final Logger log = LoggerFactory.getLogger(HangUp.class);

    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sallyport-reload");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean queued = new AtomicBoolean();
    /** A SIGHUP came before {@link #reloadWith}: the server then reloads once it is up. */
    private final AtomicBoolean missed = new AtomicBoolean();
    private volatile Runnable reload;

    HangUp() {}

    static HangUp install() {
        HangUp h = new HangUp();
        Signal.handle(new Signal("HUP"), signal -> h.received());
        return h;
    }

    /** From now on SIGHUP runs {@code reload} (off the signal thread). */
    void reloadWith(Runnable reload) {
        this.reload = reload;
        if (missed.getAndSet(false)) {
            log.info("reloading for the SIGHUP received while the server was starting");
            received();
        }
    }

    void received() {
        Runnable r = reload;
        if (r == null) {
            missed.set(true);
            r = reload;
            // reloadWith may have run meanwhile: whichever of the two clears the mark reloads.
            if (r == null || !missed.getAndSet(false)) {
                log.warn("SIGHUP before the server is up: the config is read again once it is");
                return;
            }
        }
        Runnable run = r;
        if (queued.compareAndSet(false, true)) {
            worker.execute(() -> {
                queued.set(false);
                try {
                    run.run();
                } catch (RuntimeException e) {
                    log.error("reload on SIGHUP failed: {}", e.toString());
                }
            });
        }
    }
}
