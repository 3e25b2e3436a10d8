package io.sallyport.net;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Turns a host name into addresses. Called exactly once per forwarding request, off the SSH I/O
 * threads; the caller checks every address it returns and connects only to one of those.
 */
@FunctionalInterface
public interface TargetResolver {

    /** @return the addresses of {@code name}, never empty */
    List<InetAddress> resolve(String name) throws UnknownHostException;

    /**
     * The operating system's resolver (the JDK's, with its positive-answer cache). A string that
     * is not a plain host name ({@link HostName}) is refused here too, never looked up.
     */
    static TargetResolver system() {
        return name -> {
            if (HostName.normalise(name).isEmpty()) {
                throw new UnknownHostException("not a host name: " + Printable.of(name));
            }
            return List.of(InetAddress.getAllByName(name));
        };
    }
}
