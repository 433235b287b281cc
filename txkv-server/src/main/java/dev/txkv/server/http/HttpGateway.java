package dev.txkv.server.http;

import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.txkv.ErrorCode;
import dev.txkv.proto.StatusRequest;
import dev.txkv.proto.StatusResponse;
import dev.txkv.proto.TxkvGrpc;
import dev.txkv.server.ProtocolVersion;
import io.grpc.Channel;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/JSON gateway of a txkv server: {@code POST /v1/{Method}} for every RPC of the Txkv
 * gRPC service (proto3 JSON), key-value conveniences for curl ({@code /v1/kv/{key}},
 * {@code /v1/range}, {@code /v1/transaction}), and {@code /health}, {@code /status},
 * {@code /metrics}. Every request goes through the in-process channel to the gRPC service, so
 * HTTP and gRPC share one set of checks. docs/http.md describes the endpoints.
 *
 * <p>Implementation notes. The JDK's {@link HttpServer} parses HTTP. Its work runs on a bounded
 * pool ({@value #WORKER_THREADS} threads, {@value #WORKER_QUEUE_MAX} queued connections). When
 * the queue is full the connection goes to one shedding thread that answers 503
 * (proxy_memory_limit_exceeded, 1042, retryable) without doing the work; only if that thread's
 * own small queue is full too is the connection closed unanswered. Slow clients are cut off by
 * the JDK server's request and response timers, which it reads from system properties once per
 * JVM ({@link #configureServerTimeouts()}). Errors never escape a request: each becomes a JSON
 * error body with the txkv code and an HTTP status.
 */
public final class HttpGateway implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpGateway.class);

    static final int WORKER_THREADS = 4;
    static final int WORKER_QUEUE_MAX = 1_000;
    static final int SHED_QUEUE_MAX = 64;
    static final long BODY_BYTES_MAX = 16L << 20;
    /** A transcoded streaming response (GetRange) is cut short past this size, with more=true. */
    static final long RESPONSE_BYTES_MAX = 32L << 20;
    static final long CALL_DEADLINE_MS = 30_000;
    /** How /status prints the status: the field names of txkv.proto, defaults included. */
    private static final JsonFormat.Printer STATUS_PRINTER = JsonFormat.printer().preservingProtoFieldNames()
            .alwaysPrintFieldsWithNoPresence();
    static final int LONG_POLLS_MAX = 1_000;
    /** Seconds a client may take to send its request. */
    static final long REQUEST_TIME_MAX_SECONDS = 60;
    /** Seconds to answer, including a long poll's wait (at most 300 s), plus slack for a slow reader. */
    static final long RESPONSE_TIME_MAX_SECONDS = 360;
    static final long IDLE_INTERVAL_SECONDS = 30;
    private static final int STOP_DELAY_SECONDS = 1;

    private static final ThreadLocal<Boolean> SHEDDING = new ThreadLocal<>();

    private final HttpServer server;
    private final ThreadPoolExecutor workers;
    private final ThreadPoolExecutor shedder;
    private final Channel channel;
    private final PrometheusMeterRegistry registry;
    private final Supplier<String> healthProblem;
    private final RpcTranscoder transcoder;
    private final KeyValueEndpoints keyValues;
    private boolean closed;

    /**
     * Starts the gateway on {@code address} (port 0: any free port, see {@link #port()}).
     *
     * @param inProcessChannel a channel to the Txkv gRPC service every request is sent through
     * @param registry the registry {@code /metrics} scrapes; the gateway adds its own meters to it
     * @param healthProblem what {@code /health} reports: null while the server serves (200),
     *     else why not (503 with the reason)
     * @param address where to listen
     * @throws IOException if the address cannot be bound
     */
    public HttpGateway(Channel inProcessChannel, PrometheusMeterRegistry registry, Supplier<String> healthProblem,
            InetSocketAddress address) throws IOException {
        this(inProcessChannel, registry, healthProblem, address, null, null);
    }

    /**
     * The gateway over HTTPS when {@code tls} is given: TLS with that context, each handshake
     * with {@code parameters} applied to the context (protocols, client certificates).
     */
    public HttpGateway(Channel inProcessChannel, PrometheusMeterRegistry registry, Supplier<String> healthProblem,
            InetSocketAddress address, javax.net.ssl.SSLContext tls,
            java.util.function.Function<javax.net.ssl.SSLContext, javax.net.ssl.SSLParameters> parameters)
            throws IOException {
        this(inProcessChannel, registry, healthProblem, address, WORKER_THREADS, WORKER_QUEUE_MAX, tls, parameters);
    }

    HttpGateway(Channel inProcessChannel, PrometheusMeterRegistry registry, Supplier<String> healthProblem,
            InetSocketAddress address, int workerThreads, int workerQueueMax) throws IOException {
        this(inProcessChannel, registry, healthProblem, address, workerThreads, workerQueueMax, null, null);
    }

    HttpGateway(Channel inProcessChannel, PrometheusMeterRegistry registry, Supplier<String> healthProblem,
            InetSocketAddress address, int workerThreads, int workerQueueMax, javax.net.ssl.SSLContext tls,
            java.util.function.Function<javax.net.ssl.SSLContext, javax.net.ssl.SSLParameters> parameters)
            throws IOException {
        this.channel = io.grpc.ClientInterceptors.intercept(Objects.requireNonNull(inProcessChannel, "inProcessChannel"),
                new CredentialsForwarder());
        this.registry = Objects.requireNonNull(registry, "registry");
        this.healthProblem = Objects.requireNonNull(healthProblem, "healthProblem");
        Objects.requireNonNull(address, "address");
        configureServerTimeouts();
        this.shedder = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(SHED_QUEUE_MAX), threads("txkv-http-shed-"), new ThreadPoolExecutor.AbortPolicy());
        this.workers = new ThreadPoolExecutor(workerThreads, workerThreads, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(workerQueueMax), threads("txkv-http-"), (task, pool) -> shed(task));
        this.transcoder = new RpcTranscoder(channel, java.util.List.of(TxkvGrpc.getServiceDescriptor(),
                dev.txkv.proto.AuthGrpc.getServiceDescriptor()), Set.of("Watch"),
                CALL_DEADLINE_MS, RESPONSE_BYTES_MAX, LONG_POLLS_MAX, workers);
        this.keyValues = new KeyValueEndpoints(channel, CALL_DEADLINE_MS);
        Gauge.builder("txkv_http_queued_requests", workers, p -> p.getQueue().size())
                .description("HTTP requests waiting for a gateway worker").register(registry);
        try {
            if (tls == null) {
                this.server = HttpServer.create(address, 0);
            } else {
                com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(address, 0);
                https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(tls) {
                    @Override
                    public void configure(com.sun.net.httpserver.HttpsParameters params) {
                        params.setSSLParameters(parameters.apply(tls));
                    }
                });
                this.server = https;
            }
        } catch (IOException | RuntimeException e) {
            workers.shutdownNow();
            shedder.shutdownNow();
            throw e;
        }
        server.setExecutor(workers);
        server.createContext("/", this::dispatch);
        server.start();
        LOG.info("HTTP gateway listening on {}{}", server.getAddress(), tls == null ? "" : " (HTTPS)");
    }

    /**
     * Sets the JDK HTTP server's timers unless the operator already set them: a request must
     * arrive within {@value #REQUEST_TIME_MAX_SECONDS} s and be answered within
     * {@value #RESPONSE_TIME_MAX_SECONDS} s, and idle keep-alive connections close after
     * {@value #IDLE_INTERVAL_SECONDS} s; replies are sent without Nagle's delay. The JDK reads
     * them once, when its first server starts, so they apply only if no HttpServer ran earlier
     * in this JVM.
     */
    static void configureServerTimeouts() {
        setIfAbsent("sun.net.httpserver.maxReqTime", REQUEST_TIME_MAX_SECONDS);
        setIfAbsent("sun.net.httpserver.maxRspTime", RESPONSE_TIME_MAX_SECONDS);
        setIfAbsent("sun.net.httpserver.idleInterval", IDLE_INTERVAL_SECONDS);
        // Without TCP_NODELAY a reply on a kept-alive connection waits for the peer's delayed
        // acknowledgement (about 40 ms per request on Linux).
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private static void setIfAbsent(String property, long seconds) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, Long.toString(seconds));
        }
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** The full pool's overflow: answered 503 by the shedding thread, or closed if that is full too. */
    private void shed(Runnable exchangeTask) {
        if (shedder.isShutdown()) {
            throw new RejectedExecutionException("The HTTP gateway is closed");
        }
        shedder.execute(() -> {
            SHEDDING.set(Boolean.TRUE);
            try {
                exchangeTask.run();
            } finally {
                SHEDDING.remove();
            }
        });
    }

    /** The port the gateway listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** Stops listening, cancels waiting long polls and stops the threads; idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        transcoder.cancelLongPolls();
        server.stop(STOP_DELAY_SECONDS);
        workers.shutdownNow();
        shedder.shutdownNow();
    }

    // ---------------------------------------------------------------- dispatch

    private void dispatch(HttpExchange exchange) {
        HttpCall call = new HttpCall(exchange, BODY_BYTES_MAX);
        String route = "unknown";
        try {
            if (Boolean.TRUE.equals(SHEDDING.get())) {
                call.header("Connection", "close");
                throw HttpError.of(503, ErrorCode.PROXY_MEMORY_LIMIT_EXCEEDED,
                        "The HTTP gateway's request queue is full; retry later");
            }
            io.grpc.Context context = io.grpc.Context.current().withValue(CREDENTIALS, credentials(exchange));
            io.grpc.Context previous = context.attach();
            try {
                route = route(call);
            } finally {
                context.detach(previous);
            }
        } catch (HttpError e) {
            respondError(call, e);
        } catch (IOException e) {
            // The client went away mid-answer (a broken pipe, a reset): nobody is left to answer.
            LOG.debug("HTTP gateway could not answer {} {}: {}", call.method, call.rawPath, e.toString());
            respondError(call, HttpError.of(500, ErrorCode.INTERNAL_ERROR, "I/O error: " + e.getClass().getSimpleName()));
        } catch (Throwable e) {
            // A bug, not the client's fault: log it and answer without leaking a stack.
            LOG.warn("HTTP gateway failed on {} {}", call.method, call.rawPath, e);
            respondError(call, HttpError.of(500, ErrorCode.INTERNAL_ERROR, "Internal error: " + e.getClass().getSimpleName()));
        } finally {
            if (!call.detached()) {
                if (!call.responded()) {
                    respondError(call, HttpError.of(500, ErrorCode.INTERNAL_ERROR, "No response was produced"));
                }
                exchange.close();
            }
            Counter.builder("txkv_http_requests")
                    .description("HTTP requests answered by the gateway, by route and status")
                    .tag("route", route)
                    .tag("status", call.detached() ? "async" : Integer.toString(call.status()))
                    .register(registry).increment();
        }
    }

    private static void respondError(HttpCall call, HttpError error) {
        if (call.responded()) {
            return;
        }
        try {
            call.respondError(error);
        } catch (IOException | RuntimeException e) {
            LOG.debug("Could not send an error to {} {}", call.method, call.rawPath, e);
        }
    }

    /** Routes the call and answers it; returns the route's name for metrics. */
    private String route(HttpCall call) throws IOException {
        String path = call.rawPath;
        if (path.startsWith(KeyValueEndpoints.KV_PREFIX)) {
            switch (call.method) {
                case "GET":
                    keyValues.get(call);
                    break;
                case "PUT":
                    keyValues.put(call);
                    break;
                case "DELETE":
                    keyValues.delete(call);
                    break;
                default:
                    throw methodNotAllowed(call, "GET, PUT, DELETE");
            }
            return "/v1/kv";
        }
        switch (path) {
            case "/health":
                requireMethod(call, "GET");
                health(call);
                return path;
            case "/status":
                requireMethod(call, "GET");
                status(call);
                return path;
            case "/metrics":
                requireMethod(call, "GET");
                String[] credentials = CREDENTIALS.get();
                try {
                    metricsGuard.accept(credentials[0], credentials[1]);
                } catch (dev.txkv.TxkvException e) {
                    throw HttpError.of(e.getError(), e.getMessage());
                }
                call.respond(200, "text/plain; version=0.0.4; charset=utf-8",
                        registry.scrape().getBytes(StandardCharsets.UTF_8));
                return path;
            case "/v1/range":
                requireMethod(call, "GET");
                keyValues.range(call);
                return path;
            case "/v1/transaction":
                requireMethod(call, "POST");
                keyValues.transaction(call);
                return path;
            default:
                break;
        }
        if (path.startsWith("/v1/") && transcoder.has(path.substring("/v1/".length()))) {
            requireMethod(call, "POST");
            transcoder.handle(call, path.substring("/v1/".length()));
            return path;
        }
        throw HttpError.httpOnly(404, "not_found", "No endpoint " + path + "; see docs/http.md");
    }

    private static void requireMethod(HttpCall call, String method) {
        if (!call.method.equals(method)) {
            throw methodNotAllowed(call, method);
        }
    }

    private static HttpError methodNotAllowed(HttpCall call, String allowed) {
        call.header("Allow", allowed);
        return HttpError.httpOnly(405, "method_not_allowed", call.method + " is not allowed on " + call.rawPath
                + "; allowed: " + allowed);
    }

    private void health(HttpCall call) throws IOException {
        call.allowQuery(Set.of());
        String problem = healthProblem.get();
        var document = GatewayDocuments.builder(GatewayDocuments.HEALTH)
                .setField(GatewayDocuments.field(GatewayDocuments.HEALTH, "status"), problem == null ? "ok" : "unavailable");
        if (problem != null) {
            document.setField(GatewayDocuments.field(GatewayDocuments.HEALTH, "reason"), problem);
        }
        call.respondJson(problem == null ? 200 : 503, GatewayDocuments.print(document));
    }

    /**
     * The Status RPC's status as JSON, with the proto's own (snake_case) field names and every
     * field that has no presence printed, as {@code txkv status --json} prints it.
     */
    private void status(HttpCall call) throws IOException {
        call.allowQuery(Set.of());
        StatusResponse response = KeyValueEndpoints.grpc(() -> TxkvGrpc.newBlockingStub(channel)
                .withDeadlineAfter(CALL_DEADLINE_MS, TimeUnit.MILLISECONDS)
                .status(StatusRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT).build()));
        call.respondJson(200, STATUS_PRINTER.print(response.getStatus()));
    }

    // ---------------------------------------------------------------- credentials

    /**
     * A request's credentials while it is routed: {"authorization" header or null, client
     * certificate name or null, the client's address}.
     */
    private static final io.grpc.Context.Key<String[]> CREDENTIALS = io.grpc.Context.key("txkv-http-credentials");
    private volatile java.util.function.BiConsumer<String, String> metricsGuard = (bearer, certificate) -> { };

    /**
     * Checks who may read {@code /metrics} (the status right once authorization is on): called
     * with the request's "authorization" header and its client certificate's name (each may be
     * null), it throws a {@link dev.txkv.TxkvException} to refuse.
     */
    public void metricsGuard(java.util.function.BiConsumer<String, String> guard) {
        this.metricsGuard = Objects.requireNonNull(guard, "guard");
    }

    /**
     * The request's "Authorization" header (only as a token, {@code Bearer ...}, of printable
     * ASCII) and the common name of its HTTPS client certificate. Authenticated before the body
     * is read; the gRPC service checks them on every call the request makes.
     */
    private static String[] credentials(HttpExchange exchange) {
        java.util.List<String> values = exchange.getRequestHeaders().get("Authorization");
        String bearer = null;
        if (values != null && !values.isEmpty()) {
            if (values.size() > 1) {
                throw HttpError.of(401, ErrorCode.UNAUTHORIZED_ATTEMPT, "More than one Authorization header");
            }
            bearer = values.get(0);
            for (int i = 0; i < bearer.length(); i++) {
                char c = bearer.charAt(i);
                if (c < 0x20 || c > 0x7e) {
                    throw HttpError.of(401, ErrorCode.UNAUTHORIZED_ATTEMPT,
                            "The Authorization header holds a character that no token has");
                }
            }
        }
        String certificate = null;
        if (exchange instanceof com.sun.net.httpserver.HttpsExchange https) {
            certificate = dev.txkv.server.auth.AuthInterceptor.certificateName(https.getSSLSession());
        }
        java.net.InetSocketAddress remote = exchange.getRemoteAddress();
        String address = remote == null || remote.getAddress() == null ? null : remote.getAddress().getHostAddress();
        return new String[] {bearer, certificate, address};
    }

    /** Puts the routed request's credentials on every call it makes through the in-process channel. */
    private static final class CredentialsForwarder implements io.grpc.ClientInterceptor {
        @Override
        public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> method,
                io.grpc.CallOptions options, Channel next) {
            String[] credentials = CREDENTIALS.get();
            return new io.grpc.ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                @Override
                public void start(Listener<R> listener, io.grpc.Metadata headers) {
                    if (credentials != null && credentials[0] != null) {
                        headers.put(dev.txkv.server.auth.AuthInterceptor.AUTHORIZATION, credentials[0]);
                    }
                    if (credentials != null && credentials[1] != null) {
                        headers.put(dev.txkv.server.auth.AuthInterceptor.INTERNAL, credentials[1]);
                    }
                    if (credentials != null && credentials[2] != null) {
                        headers.put(dev.txkv.server.auth.AuthInterceptor.INTERNAL_ADDRESS, credentials[2]);
                    }
                    super.start(listener, headers);
                }
            };
        }
    }

    /** Workers busy or queued, for tests of the overload path. */
    int queuedRequests() {
        return workers.getQueue().size();
    }
}
