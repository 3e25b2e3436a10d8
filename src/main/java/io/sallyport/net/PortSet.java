package io.sallyport.net;

import java.util.ArrayList;
import java.util.List;

/** Ports of an allow rule: {@code 22}, {@code 22,2222}, {@code 8000-8100}, {@code *}, or a mix. */
public final class PortSet {
    private final int[][] ranges;
    private final String text;

    private PortSet(int[][] ranges, String text) {
        this.ranges = ranges;
        this.text = text;
    }

    /** @throws IllegalArgumentException with a message fit for the operator */
    public static PortSet parse(String text) {
        String s = text.trim();
        if (s.equals("*")) {
            return new PortSet(new int[][] {{1, 65535}}, "*");
        }
        if (s.isEmpty()) {
            throw new IllegalArgumentException("no ports given (use 22, 22,2222, 8000-8100 or *)");
        }
        List<int[]> out = new ArrayList<>();
        for (String item : s.split(",", -1)) {
            String part = item.trim();
            int dash = part.indexOf('-');
            if (dash < 0) {
                int p = port(part, text);
                out.add(new int[] {p, p});
            } else {
                int lo = port(part.substring(0, dash), text);
                int hi = port(part.substring(dash + 1), text);
                if (lo > hi) {
                    throw new IllegalArgumentException("port range '" + part + "' runs backwards");
                }
                out.add(new int[] {lo, hi});
            }
        }
        return new PortSet(out.toArray(new int[0][]), s);
    }

    private static int port(String s, String whole) {
        String p = s.trim();
        if (!p.matches("[0-9]{1,5}")) {
            throw new IllegalArgumentException("'" + p + "' in '" + whole + "' is not a port (use 22, 22,2222, 8000-8100 or *)");
        }
        int v = Integer.parseInt(p);
        if (v < 1 || v > 65535) {
            throw new IllegalArgumentException("port " + v + " is outside 1-65535");
        }
        return v;
    }

    public boolean contains(int port) {
        for (int[] r : ranges) {
            if (port >= r[0] && port <= r[1]) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return text;
    }
}
