package io.sallyport.audit;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One open spool file, as the spool uses it: positional reads and writes, truncation, and fsync.
 * {@link SpoolStore} hands these out; a test-side store wraps them to fail the way disks fail.
 */
interface SpoolFile extends Closeable {
    /** Reads into {@code dst} from {@code position}; -1 at the end of the file. */
    int read(ByteBuffer dst, long position) throws IOException;

    /** Writes from {@code src} at {@code position}; may write fewer bytes than remain. */
    int write(ByteBuffer src, long position) throws IOException;

    long size() throws IOException;

    void truncate(long size) throws IOException;

    /** fsync: returns once what was written is on the device (data, and metadata when {@code metadata}). */
    void force(boolean metadata) throws IOException;
}
