package io.sallyport.policy;

import io.sallyport.net.IpLiterals;
import io.sallyport.net.TargetResolver;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A resolver that answers from a table and records every question. Names not in the table do not
 * resolve. Never touches the network.
 */
final class FakeDns implements TargetResolver {
    private final Map<String, List<InetAddress>> answers = new HashMap<>();
    private final List<String> lookups = new ArrayList<>();

    /** {@code addresses} are IP literals. */
    FakeDns answer(String name, String... addresses) {
        List<InetAddress> list = new ArrayList<>();
        for (String a : addresses) {
            list.add(literal(a));
        }
        answers.put(name, list);
        return this;
    }

    @Override
    public synchronized List<InetAddress> resolve(String name) throws UnknownHostException {
        lookups.add(name);
        List<InetAddress> a = answers.get(name);
        if (a == null) {
            throw new UnknownHostException(name);
        }
        return a;
    }

    synchronized List<String> lookups() {
        return List.copyOf(lookups);
    }

    static InetAddress literal(String text) {
        return IpLiterals.parse(text).orElseThrow(() -> new IllegalArgumentException(text + " is not a literal"));
    }
}
