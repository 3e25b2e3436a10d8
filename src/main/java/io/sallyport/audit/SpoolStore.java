package io.sallyport.audit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The spool's way to its directory: every file it creates, reads, fsyncs, renames and deletes
 * goes through here. {@link DiskSpoolStore} is the real disk; tests put a faulty store in its
 * place (writes that fail after N bytes, a full disk, torn frames, slow fsyncs), as OkHttp tests
 * its {@code DiskLruCache} through a {@code FaultyFileSystem}.
 */
interface SpoolStore {
    /** A new file, open for reading and writing; fails if it exists. */
    SpoolFile create(Path file) throws IOException;

    /** An existing file, for reading. */
    SpoolFile openForRead(Path file) throws IOException;

    /** A file emptied (or created) for writing. */
    SpoolFile overwrite(Path file) throws IOException;

    /** Replaces {@code target} by {@code source} in one step (rename). */
    void move(Path source, Path target) throws IOException;

    /** Deletes the file if it exists. */
    void delete(Path file) throws IOException;

    /** The files of {@code dir} whose names match {@code glob}. */
    List<Path> list(Path dir, String glob) throws IOException;

    /**
     * fsyncs the directory itself, so that files created, renamed or deleted in it stay so after a
     * power cut. Best effort: some file systems cannot open a directory.
     */
    void syncDirectory(Path dir);

    /** Bytes still free for this process on the directory's file system. */
    long usableSpace(Path dir) throws IOException;
}
