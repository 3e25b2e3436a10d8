package io.sallyport.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A scratch root directory with its own rpm database, into which the real {@code rpm} tool installs
 * packages ({@code rpm --root}): the files land with the owners, modes and flags an installation
 * gives them, and {@code rpm -V} can check them afterwards.
 *
 * <p>The root is not an operating system: it has no shell and no systemd to run scriptlets, so
 * packages are installed with {@code --noscripts} (the scriptlets are tested on their own), and with
 * {@code --nodeps} (no Java or systemd package is installed in it). Its {@code /etc/passwd} and
 * {@code /etc/group} hold the {@code sallyport} user and group that the package's %pre would create,
 * so that rpm gives files to them. {@code rpm --root} chroots, so this needs root.
 */
public final class RpmRoot implements AutoCloseable {
    /** The ids of the sallyport user and group in the scratch root's passwd and group files. */
    public static final int SALLYPORT_UID = 991;
    public static final int SALLYPORT_GID = 991;

    private final Path root;
    private final HostTool rpm;

    private RpmRoot(Path root, HostTool rpm) {
        this.root = root;
        this.rpm = rpm;
    }

    /** An empty scratch root; aborts the calling test (fails it under CI) without rpm or root. */
    public static RpmRoot create() {
        HostTool rpm = HostTool.require("rpm", "rpm");
        HostTool.requireRoot("rpm --root (it chroots into the scratch root)");
        try {
            Path root = Files.createTempDirectory("sallyport-rpmroot-");
            Files.createDirectories(root.resolve("etc"));
            Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n"
                    + "sallyport:x:" + SALLYPORT_UID + ":" + SALLYPORT_GID
                    + ":sallyport SSH jump server:/var/lib/sallyport:/usr/sbin/nologin\n");
            Files.writeString(root.resolve("etc/group"), "root:x:0:\nsallyport:x:" + SALLYPORT_GID + ":\n");
            return new RpmRoot(root, rpm);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Installs (or, with {@code -U} and friends in {@code options}, upgrades) a package; fails on any error. */
    public HostTool.Result install(Path rpmFile, String... options) {
        List<String> args = new ArrayList<>(List.of(options.length == 0 ? new String[] {"-i"} : options));
        args.addAll(List.of("--nodeps", "--noscripts", rpmFile.toString()));
        HostTool.Result r = rpm(args);
        if (!r.ok()) {
            throw new IllegalStateException("installing " + rpmFile.getFileName() + " into " + root + " failed: " + r);
        }
        return r;
    }

    /** {@code rpm --root ROOT --dbpath /var/lib/rpm ARGS}: queries and changes in the scratch root's database. */
    public HostTool.Result rpm(String... args) {
        return rpm(List.of(args));
    }

    public HostTool.Result rpm(List<String> args) {
        List<String> all = new ArrayList<>(List.of("--root", root.toString(), "--dbpath", "/var/lib/rpm"));
        all.addAll(args);
        return rpm.run(all);
    }

    public Path root() {
        return root;
    }

    /** Where an absolute path of the installed system ({@code /etc/sallyport}) is in the scratch root. */
    public Path path(String absolute) {
        if (!absolute.startsWith("/")) {
            throw new IllegalArgumentException("not an absolute path: " + absolute);
        }
        return root.resolve(absolute.substring(1));
    }

    @Override
    public void close() {
        Exec.deleteRecursively(root);
    }

    @Override
    public String toString() {
        return "RpmRoot[" + root + "]";
    }
}
