package io.sallyport.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads a spool directory the way a forensic look would: every intact record of every segment
 * file, whether shipped or not, without opening the spool (no lock, no cursor). For tests that
 * look at what a killed server left on disk.
 */
public final class SpoolFiles {
    private SpoolFiles() {}

    /** Every intact JSON line in the segment files, in segment and file order. */
    public static List<String> lines(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        List<Path> segments;
        try (Stream<Path> s = Files.list(dir)) {
            segments = s.filter(p -> SpoolSegment.numberOf(p.getFileName().toString()) >= 0).sorted().toList();
        }
        for (Path p : segments) {
            try (SpoolFile ch = DiskSpoolStore.INSTANCE.openForRead(p)) {
                SpoolSegment.Scan scan = SpoolSegment.scanAll(ch, SpoolSegment.HEADER_SIZE, ch.size(), true);
                for (SpoolSegment.Found f : scan.records()) {
                    out.add(new String(f.payload(), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    /** The lines after the saved cursor: what the spool still had to ship. */
    public static List<String> unshippedLines(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        Path cursorFile = dir.resolve("cursor");
        long segment = 0;
        long offset = 0;
        if (Files.exists(cursorFile)) {
            String[] f = Files.readString(cursorFile).trim().split(" ");
            segment = Long.parseLong(f[0]);
            offset = Long.parseLong(f[1]);
        }
        List<Path> segments;
        try (Stream<Path> s = Files.list(dir)) {
            segments = s.filter(p -> SpoolSegment.numberOf(p.getFileName().toString()) >= 0).sorted().toList();
        }
        for (Path p : segments) {
            long number = SpoolSegment.numberOf(p.getFileName().toString());
            if (number < segment) {
                continue;
            }
            try (SpoolFile ch = DiskSpoolStore.INSTANCE.openForRead(p)) {
                long from = number == segment ? Math.max(offset, SpoolSegment.HEADER_SIZE) : SpoolSegment.HEADER_SIZE;
                SpoolSegment.Scan scan = SpoolSegment.scanAll(ch, from, ch.size(), true);
                for (SpoolSegment.Found f : scan.records()) {
                    out.add(new String(f.payload(), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }
}
