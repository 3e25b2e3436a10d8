package io.sallyport.audit;

import java.io.PrintStream;

/** One JSON event per line on standard output (systemd's journal, {@code sallyport demo}). */
public final class StdoutSink implements AuditSink {
    private final PrintStream out;

    public StdoutSink(PrintStream out) {
        this.out = out;
    }

    @Override
    public void write(String jsonLine) {
        out.println(jsonLine);
        out.flush();
    }
}
