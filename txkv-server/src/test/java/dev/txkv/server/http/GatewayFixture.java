package dev.txkv.server.http;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** A gateway on 127.0.0.1, port 0, in front of a fake service, with an HTTP client. */
final class GatewayFixture implements AutoCloseable {
    final FakeTxkvService service = new FakeTxkvService();
    final AtomicBoolean ready = new AtomicBoolean(true);
    final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final HttpGateway gateway;
    private final Server server;
    private final ManagedChannel channel;

    GatewayFixture() throws IOException {
        this(HttpGateway.WORKER_THREADS, HttpGateway.WORKER_QUEUE_MAX);
    }

    GatewayFixture(int threads, int queueMax) throws IOException {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor().addService(service).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        gateway = new HttpGateway(channel, registry, () -> ready.get() ? null : "not ready", new InetSocketAddress("127.0.0.1", 0), threads, queueMax);
    }

    URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + gateway.port() + pathAndQuery);
    }

    HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        // Longer than a Watch's default long poll, which answers {"changed":false} when it ends.
        Duration timeout = Duration.ofMillis(RpcTranscoder.LONG_POLL_TIMEOUT_MS_DEFAULT).plusSeconds(15);
        return client.send(request.timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    @Override
    public void close() throws InterruptedException {
        gateway.close();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
