package io.sallyport.audit;

/**
 * Where encoded audit events go. {@link #write} is called with one complete JSON line (no newline)
 * at a time, in order, never concurrently. It may throw: {@link Auditor} contains the failure.
 */
public interface AuditSink extends AutoCloseable {
    void write(String jsonLine) throws Exception;

    @Override
    default void close() throws Exception {}
}
