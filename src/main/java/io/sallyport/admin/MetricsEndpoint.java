package io.sallyport.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.sallyport.audit.Auditor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code admin.metrics_listen} listener: {@code GET /metrics} (Prometheus text format) and
 * {@code GET /healthz} (200 or 503 with a JSON body), nothing else (404, or 405 for another
 * method). Bounded: {@value #THREADS} handler threads and a short accept backlog; a scrape reads
 * counters and a few live numbers, so two threads keep up with any sane scrape interval.
 * It never touches the SSH port, so a health probe is never a login, never a penalty and never an
 * audit event.
 */
public final class MetricsEndpoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetricsEndpoint.class);
    static final int THREADS = 2;
    private static final int BACKLOG = 16;

    private final HttpServer http;
    private final ExecutorService threads;
    private final MetricsSources sources;
    private final MetricsHandler metrics;
    private final ObjectMapper json = new ObjectMapper();

    private MetricsEndpoint(HttpServer http, ExecutorService threads, MetricsSources sources, PrometheusRegistry registry) {
        this.http = http;
        this.threads = threads;
        this.sources = sources;
        this.metrics = new MetricsHandler(registry);
    }

    /**
     * Registers the counters with {@code auditor} and the gauges on {@code sources}, then listens.
     *
     * @throws IOException when {@code address} cannot be bound
     */
    public static MetricsEndpoint start(InetSocketAddress address, Auditor auditor, MetricsSources sources)
            throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        MetricsCounters counters = new MetricsCounters(registry);
        MetricsGauges.register(registry, sources);
        HttpServer http = HttpServer.create(address, BACKLOG);
        ExecutorService threads = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "sallyport-metrics");
            t.setDaemon(true);
            return t;
        });
        MetricsEndpoint endpoint = new MetricsEndpoint(http, threads, sources, registry);
        http.createContext("/", endpoint::handle);
        http.setExecutor(threads);
        auditor.observe(counters);
        http.start();
        log.info("metrics and health on http://{}:{}/metrics and /healthz", address.getHostString(),
                http.getAddress().getPort());
        return endpoint;
    }

    /** Where it listens (the port chosen when 0 was asked). */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (!"/metrics".equals(path) && !"/healthz".equals(path)) {
                send(exchange, 404, "text/plain; charset=utf-8", "not found\n");
                return;
            }
            if (!"GET".equals(exchange.getRequestMethod())) {
                exchange.getResponseHeaders().set("Allow", "GET");
                send(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n");
                return;
            }
            if ("/metrics".equals(path)) {
                metrics.handle(exchange);
            } else {
                Health health = Health.of(sources);
                send(exchange, health.httpStatus(), "application/json", json.writeValueAsString(health.json()) + "\n");
            }
        } catch (IOException | RuntimeException e) {
            log.debug("metrics request failed: {}", e.toString());
        }
    }

    private static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        http.stop(0);
        threads.shutdownNow();
        try {
            threads.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
