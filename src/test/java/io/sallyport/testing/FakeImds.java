package io.sallyport.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The EC2 instance metadata service, IMDSv2 only, for tests: {@code PUT /latest/api/token} (with
 * {@code X-aws-ec2-metadata-token-ttl-seconds}) hands out a token, and metadata reads without
 * that token get 401, as on an instance that requires IMDSv2.
 */
public final class FakeImds implements AutoCloseable {
    private final HttpServer server;
    private final String instanceId;
    private final String region;
    private final String token = UUID.randomUUID().toString();
    private final AtomicInteger unauthorized = new AtomicInteger();
    private final AtomicInteger reads = new AtomicInteger();

    private FakeImds(String instanceId, String region) throws IOException {
        this.instanceId = instanceId;
        this.region = region;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-imds");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    public static FakeImds start(String instanceId, String region) throws IOException {
        return new FakeImds(instanceId, region);
    }

    /** For {@code AWS_EC2_METADATA_SERVICE_ENDPOINT}. */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Metadata reads refused for lack of a valid token (an IMDSv1-style client would show here). */
    public int unauthorizedReads() {
        return unauthorized.get();
    }

    public int reads() {
        return reads.get();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            ex.getRequestBody().readAllBytes();
            String path = ex.getRequestURI().getPath();
            if (path.equals("/latest/api/token")) {
                String ttl = ex.getRequestHeaders().getFirst("X-aws-ec2-metadata-token-ttl-seconds");
                if (!"PUT".equals(ex.getRequestMethod()) || ttl == null) {
                    send(ex, 400, "");
                    return;
                }
                send(ex, 200, token);
                return;
            }
            if (!token.equals(ex.getRequestHeaders().getFirst("X-aws-ec2-metadata-token"))) {
                unauthorized.incrementAndGet();
                send(ex, 401, "");
                return;
            }
            reads.incrementAndGet();
            switch (path) {
                case "/latest/meta-data/instance-id" -> send(ex, 200, instanceId);
                case "/latest/meta-data/placement/region" -> send(ex, 200, region);
                case "/latest/dynamic/instance-identity/document" -> send(ex, 200,
                        "{\"instanceId\":\"" + instanceId + "\",\"region\":\"" + region + "\"}");
                default -> send(ex, 404, "");
            }
        }
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain");
        ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        if (b.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(b);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
