package io.sallyport.net;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Supplier;

/**
 * The addresses of this machine's interfaces, re-read at most once a second: an interface that
 * comes up while the server runs (a second ENI, a VPN) is denied as a target soon after.
 */
public final class OwnAddresses implements Supplier<List<InetAddress>> {
    private static final long REFRESH_NANOS = 1_000_000_000L;

    private final List<InetAddress> extra;
    private volatile List<InetAddress> cached = List.of();
    private volatile long readAt;

    /** @param extra addresses to add, such as the ones the server listens on */
    public OwnAddresses(List<InetAddress> extra) {
        this.extra = List.copyOf(extra);
        this.readAt = System.nanoTime() - 2 * REFRESH_NANOS;
    }

    @Override
    public List<InetAddress> get() {
        long now = System.nanoTime();
        if (now - readAt > REFRESH_NANOS) {
            List<InetAddress> all = new ArrayList<>(extra);
            try {
                for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                    all.addAll(Collections.list(nic.getInetAddresses()));
                }
            } catch (SocketException e) {
                // Keep the last good list: failing open here would drop the self-address defence.
                return cached.isEmpty() ? extra : cached;
            }
            cached = List.copyOf(all);
            readAt = now;
        }
        return cached;
    }
}
