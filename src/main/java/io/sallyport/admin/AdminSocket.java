package io.sallyport.admin;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin socket (SPEC §8): a unix domain socket, mode 0660, group {@code sallyport-admin} when
 * that group exists. Who may connect is the kernel's decision (the file's mode and group); who did
 * connect is the kernel's word too ({@code SO_PEERCRED}), audited with every command.
 *
 * <p>Bounded, since a stuck or hostile local client must not hold the server: at most
 * {@link #MAX_CONNECTIONS} connections served at once (more are answered "busy" and closed), a
 * request of at most {@link AdminProtocol#MAX_REQUEST_BYTES}, sent within {@link #REQUEST_TIMEOUT},
 * the response taken within {@link #RESPONSE_TIMEOUT}; an {@code explain}, which may wait on DNS, is
 * answered within {@code limits.resolve_timeout} ({@link Explainer}). Runs on its own threads;
 * nothing here runs on, or waits for, MINA's.
 */
public final class AdminSocket implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminSocket.class);
    public static final String ADMIN_GROUP = "sallyport-admin";
    /** An operator runs one command at a time; four leaves room for a script and a human. */
    static final int MAX_CONNECTIONS = 4;
    /** The CLI writes its request at once; a client silent this long is stuck or hostile. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
    /** A listing of thousands of sessions is a few MiB: far less than this for a reader that reads. */
    static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(30);
    /** How long a refused connection stays open for its request to arrive and be discarded. */
    static final Duration BUSY_LINGER = Duration.ofSeconds(1);
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private final Path path;
    private final ServerSocketChannel server;
    private final AdminCommands commands;
    private final ThreadPoolExecutor workers;
    private final ScheduledExecutorService timer;
    private final Thread acceptor;
    private volatile boolean closed;

    private AdminSocket(Path path, ServerSocketChannel server, AdminCommands commands) {
        this.path = path;
        this.server = server;
        this.commands = commands;
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(0, MAX_CONNECTIONS, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                r -> daemon(r, "sallyport-admin-" + n.incrementAndGet()));
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "sallyport-admin-timer"));
        this.acceptor = daemon(this::acceptLoop, "sallyport-admin-accept");
    }

    /**
     * Binds the socket at {@code path}, group {@value #ADMIN_GROUP} when it exists, and starts
     * serving. A socket file left by a crashed run is replaced; one another server answers on is an
     * error.
     */
    public static AdminSocket open(Path path, AdminCommands commands) throws IOException {
        return open(path, Optional.of(ADMIN_GROUP), commands);
    }

    /** @param group the group that may connect; skipped, with a log line, when no such group exists */
    public static AdminSocket open(Path path, Optional<String> group, AdminCommands commands) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        try {
            if (!Files.isDirectory(parent)) {
                // Only we write in it: nobody can swap the socket for a link between bind and chmod.
                Files.createDirectories(parent,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-x---")));
            }
            clearStale(path);
        } catch (java.nio.file.FileSystemException e) {
            throw new IOException("admin.socket " + path + ": cannot prepare it (" + e.getFile()
                    + (e.getReason() == null ? "" : ": " + e.getReason())
                    + (e instanceof java.nio.file.AccessDeniedException ? ": permission denied" : "")
                    + (e instanceof java.nio.file.FileAlreadyExistsException ? ": exists and is not a directory" : "")
                    + "); set admin.socket to a path this user may create", e);
        }
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            // bind creates the file with the process umask (systemd's UMask=0077 gives 0600, a shell's
            // 022 gives 0755): never group- or world-writable, and connecting needs write permission.
            // The chmod below only ever widens it to what is intended.
            server.bind(UnixDomainSocketAddress.of(path), 16);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
            group.ifPresent(g -> setGroup(path, g));
        } catch (IOException | RuntimeException e) {
            server.close();
            Files.deleteIfExists(path);
            throw new IOException("admin.socket " + path + ": " + e.getMessage(), e);
        }
        AdminSocket socket = new AdminSocket(path, server, commands);
        socket.acceptor.start();
        log.info("admin socket listening on {}", path);
        return socket;
    }

    private static void setGroup(Path path, String group) {
        try {
            GroupPrincipal g = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
            Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setGroup(g);
        } catch (UserPrincipalNotFoundException e) {
            log.info("admin socket {}: no group {}, so only its owner may use it", path, group);
        } catch (IOException e) {
            // Narrower than intended, never wider: say so and serve the owner.
            log.warn("admin socket {}: cannot give it to group {} ({}); only its owner may use it", path, group,
                    e.getMessage());
        }
    }

    /**
     * Deletes a socket file no server answers on (a crashed run's); refuses a live one and anything
     * that is not a socket.
     */
    static void clearStale(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new IOException("admin.socket " + path + " exists and is not a socket; not replacing it");
        }
        boolean answered;
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            answered = true;
        } catch (IOException e) {
            answered = false;
        }
        if (answered) {
            throw new IOException("admin.socket " + path + ": another sallyport server is answering on it");
        }
        log.info("admin socket {}: replacing a stale socket file that no server answers on", path);
        Files.delete(path);
    }

    public Path path() {
        return path;
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                log.warn("admin socket accept: {}", e.toString());
                pause();
                continue;
            }
            try {
                workers.execute(() -> serve(ch));
            } catch (RejectedExecutionException e) {
                refuseBusy(ch);
            }
        }
    }

    /**
     * Answers "busy" without a worker: the line is written at once (it fits any socket buffer) and
     * the connection closed a moment later, once the client's request has arrived and been
     * discarded (closing on unread data would reset the connection before the client reads the
     * answer).
     */
    private void refuseBusy(SocketChannel ch) {
        try {
            String response = commands.refuse("?", callerOf(ch), "busy: " + MAX_CONNECTIONS
                    + " admin connections are being served; try again");
            ch.configureBlocking(false);
            ByteBuffer b = ByteBuffer.wrap((response + "\n").getBytes(StandardCharsets.UTF_8));
            ch.write(b);
            ch.shutdownOutput();
            timer.schedule(() -> drainAndClose(ch), BUSY_LINGER.toMillis(), TimeUnit.MILLISECONDS);
        } catch (IOException | RuntimeException e) {
            log.debug("admin socket: refusing a connection: {}", e.toString());
            drainAndClose(ch);
        }
    }

    private static void drainAndClose(SocketChannel ch) {
        try (ch) {
            ByteBuffer sink = ByteBuffer.allocate(AdminProtocol.MAX_REQUEST_BYTES);
            for (int i = 0; i < 4 && ch.isOpen() && !ch.isBlocking(); i++) {
                sink.clear();
                if (ch.read(sink) <= 0) {
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // closing is all that was wanted
        }
    }

    private void serve(SocketChannel ch) {
        try (ch) {
            AdminCommands.Caller caller = callerOf(ch);
            java.util.concurrent.atomic.AtomicBoolean expired = new java.util.concurrent.atomic.AtomicBoolean();
            ScheduledFuture<?> deadline = closeAfter(ch, REQUEST_TIMEOUT, expired);
            String response;
            try {
                Optional<String> line = AdminProtocol.readLine(ch, AdminProtocol.MAX_REQUEST_BYTES);
                deadline.cancel(false);
                if (line.isEmpty()) {
                    return; // closed without a request: nothing was asked, nothing to audit
                }
                response = commands.handle(line.get(), caller);
            } catch (AdminProtocol.BadLine e) {
                deadline.cancel(false);
                response = commands.refuse("?", caller, "bad request: " + e.getMessage());
            } catch (ClosedChannelException e) {
                if (!expired.get() || closed) {
                    return;
                }
                commands.refuse("?", caller, "no request within " + REQUEST_TIMEOUT.toSeconds() + "s");
                return;
            }
            deadline = closeAfter(ch, RESPONSE_TIMEOUT, expired);
            write(ch, response);
            deadline.cancel(false);
        } catch (IOException e) {
            log.debug("admin socket connection: {}", e.toString());
        } catch (RuntimeException e) {
            log.error("admin socket: {}", e.toString());
        }
    }

    /** Closes {@code ch} at {@code timeout}, having set {@code expired} first (the reader learns why). */
    private ScheduledFuture<?> closeAfter(SocketChannel ch, Duration timeout, java.util.concurrent.atomic.AtomicBoolean expired) {
        return timer.schedule(() -> {
            expired.set(true);
            try {
                ch.close();
            } catch (IOException e) {
                // closing is all that was wanted
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static void write(SocketChannel ch, String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** The connecting process's user, as the kernel saw it at connect (not a name the client claims). */
    static AdminCommands.Caller callerOf(SocketChannel ch) throws IOException {
        UnixDomainPrincipal p = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
        return new AdminCommands.Caller(uidOf(p.user()), p.user().getName());
    }

    /**
     * The numeric uid behind a principal from {@code SO_PEERCRED}. The JDK names a uid without a
     * passwd entry by its number, and its principal's hash code is the uid itself (the uid is not
     * otherwise public); AdminSocketTest pins this against the process's own uid.
     */
    static long uidOf(UserPrincipal user) {
        String name = user.getName();
        if (!name.isEmpty() && name.chars().allMatch(Character::isDigit) && name.length() < 11) {
            return Long.parseLong(name);
        }
        return Integer.toUnsignedLong(user.hashCode());
    }

    private void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Stops accepting, ends connections being served, and removes the socket file. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            log.warn("closing the admin socket: {}", e.toString());
        }
        workers.shutdownNow();
        timer.shutdownNow();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.warn("removing the admin socket {}: {}", path, e.toString());
        }
    }
}
