package dev.txkv.server;

import dev.txkv.engine.EngineCounters;
import dev.txkv.engine.CrashPoints;
import dev.txkv.engine.Engine;
import dev.txkv.replication.RaftReplication;
import dev.txkv.proto.ShardPeerGrpc;
import dev.txkv.proto.TxkvGrpc;
import dev.txkv.server.http.HttpGateway;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * txkv as a network database: the engine on a data directory, served over gRPC (txkv.v1 and
 * the standard grpc.health.v1), in-process gRPC for the HTTP/JSON gateway, and Prometheus
 * meters. Start one with {@link #start(ServerConfig)}; {@link #close()} shuts it down
 * gracefully.
 *
 * <p>Implementation notes. Both gRPC servers run with a direct executor and the service puts
 * each call's work on one bounded pool ({@link ServerConfig#executorThreads()} threads,
 * {@link ServerConfig#executorQueueMax()} waiting): gRPC's own executor has no way to refuse
 * work with a meaningful status, while the service answers a full queue with 1042, which
 * clients retry. Shutdown order matters for durability: stop accepting, end watches (they may
 * never fire), let in-flight calls finish within the grace period, then close the engine, whose
 * commit pipeline drains so that every commit it accepted is durable before the process ends.
 */
public final class TxkvServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TxkvServer.class);
    private static final AtomicInteger instances = new AtomicInteger();

    private final ServerConfig config;
    private final Engine engine;
    /** The sharded part of this server; null when it serves one unsharded keyspace. */
    private final ShardedNode sharded;
    private final PrometheusMeterRegistry registry;
    private final ThreadPoolExecutor executor;
    private final ScheduledExecutorService sampler;
    private final HealthStatusManager health = new HealthStatusManager();
    private final String inProcessName;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile boolean ready;
    private final EngineStatusReader engineStatus;
    private final PeerStatusClient peers;
    /** TLS of the client port, the gateway and the members' traffic; null when plaintext. */
    private final dev.txkv.server.tls.ServerTls tls;
    private volatile StatusDocument statusDocument;
    /** Refreshed once a second by the sampler. */
    private volatile Health lastHealth;
    private TxkvService service;
    /** Client connections per address. */
    private ConnectionLimit connectionLimit;
    /** Users and roles as this member enforces them. */
    private dev.txkv.server.auth.AuthStore auth;
    private CachedStats stats;
    private Server grpcServer;
    private Server inProcessServer;
    private ManagedChannel gatewayChannel;
    private HttpGateway gateway;

    /** Seconds a client connection may take to finish its TLS and HTTP/2 handshake. */
    static final long HANDSHAKE_TIMEOUT_SECONDS = 10;
    /** HTTP/2 stream resets a connection may send per second before it is closed. */
    static final int RST_FRAMES_PER_SECOND_MAX = 200;

    private TxkvServer(ServerConfig config, Engine engine, ShardedNode sharded, dev.txkv.server.tls.ServerTls tls,
            io.grpc.ChannelCredentials peerCredentials) {
        this.tls = tls;
        this.peers = new PeerStatusClient(peerCredentials);
        this.config = config;
        this.engine = engine;
        this.sharded = sharded;
        this.engineStatus = new EngineStatusReader(engine);
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        this.inProcessName = "txkv-server-" + instances.incrementAndGet() + "-" + UUID.randomUUID();
        AtomicInteger threadNumber = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(config.executorThreads(), config.executorThreads(),
                0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(config.executorQueueMax()), r -> {
                    Thread t = new Thread(r, "txkv-server-" + threadNumber.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
        this.sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "txkv-server-sampler");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Opens the engine on {@code config.dataDir()} and starts listening.
     *
     * With {@link ServerConfig#replication()} set, the engine joins its cluster; the server is
     * ready (health SERVING) as soon as it runs, whether it leads or follows: a follower serves
     * reads and answers commits and read versions with not_leader (1060), which clients retry
     * on another server. The role is in its status (the Status call).
     *
     * @throws IOException when an address cannot be bound (the message names it)
     * @throws dev.txkv.TxkvException when the data directory cannot be used, e.g.
     *     data_directory_locked (4201) when another process has it
     */
    public static TxkvServer start(ServerConfig config) throws IOException {
        GrpcLogging.quietMalformedRequestTraces();
        checkExposure(config);
        dev.txkv.server.tls.ServerTls tls = config.tls() == null ? null
                : new dev.txkv.server.tls.ServerTls(config.tls(), clientAuth(config), config.peerTls(),
                        config.tlsReloadMs());
        try {
            return start(config, tls);
        } catch (IOException | RuntimeException | Error e) {
            if (tls != null) {
                tls.close();
            }
            throw e;
        }
    }

    /**
     * Refuses a server that would listen beyond the loopback interface (client port, HTTP
     * gateway, Raft port) without TLS, unless {@link ServerConfig#insecure} allows it.
     */
    private static void checkExposure(ServerConfig config) {
        if (config.peerTls() != null && config.tls() == null) {
            throw new dev.txkv.TxkvException(dev.txkv.ErrorCode.INVALID_OPTION_VALUE,
                    "Peer TLS (--peer-tls-*) needs TLS on the client port too (--tls-cert, --tls-key, --tls-ca)");
        }
        if (config.tls() != null || config.insecure()) {
            return;
        }
        List<String> exposed = new ArrayList<>();
        InetSocketAddress grpc = config.grpcAddress();
        if (!loopback(grpc.getHostString())) {
            exposed.add("the client port " + grpc.getHostString() + ":" + grpc.getPort());
        }
        InetSocketAddress http = config.httpAddress();
        if (http != null && !loopback(http.getHostString())) {
            exposed.add("the HTTP gateway " + http.getHostString() + ":" + http.getPort());
        }
        if (config.replication() != null) {
            String raft = config.replication().members().get(config.replication().selfId());
            if (raft != null && raft.lastIndexOf(':') > 0 && !loopback(raft.substring(0, raft.lastIndexOf(':')))) {
                exposed.add("the Raft port " + raft);
            }
        }
        if (!exposed.isEmpty()) {
            throw new dev.txkv.TxkvException(dev.txkv.ErrorCode.INVALID_OPTION_VALUE, "Refusing to serve "
                    + String.join(", ", exposed) + " beyond this machine in plaintext: give --tls-cert, --tls-key and"
                    + " --tls-ca (docs/security.md), or --insecure for a network you trust entirely");
        }
    }

    /** Whether {@code host} names only this machine (a loopback address or a name that resolves only to one). */
    static boolean loopback(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        try {
            java.net.InetAddress[] all = java.net.InetAddress.getAllByName(h);
            for (java.net.InetAddress a : all) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return all.length > 0;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /**
     * The client certificates the client port asks for: as configured, but at least "want" on a
     * member of a cluster, whose members call each other on that port and are known (once
     * authorization is on) by their certificates.
     */
    private static dev.txkv.server.tls.ServerTls.ClientAuth clientAuth(ServerConfig config) {
        dev.txkv.server.tls.ServerTls.ClientAuth asked = config.tlsClientAuth();
        return config.replication() != null && asked == dev.txkv.server.tls.ServerTls.ClientAuth.NONE
                ? dev.txkv.server.tls.ServerTls.ClientAuth.WANT : asked;
    }

    private static TxkvServer start(ServerConfig config, dev.txkv.server.tls.ServerTls tls) throws IOException {
        io.grpc.ChannelCredentials peerCredentials = tls == null ? io.grpc.InsecureChannelCredentials.create()
                : tls.peerChannelCredentials();
        if (tls != null && config.replication() != null) {
            config.replication().peerTls(tls.peerKeyManager(), tls.peerTrustManager());
        }
        ShardedNode sharded = null;
        Engine engine;
        if (config.shards() > 0) {
            if (config.replication() == null) {
                throw new dev.txkv.TxkvException(dev.txkv.ErrorCode.INVALID_OPTION_VALUE,
                        "A sharded server is a member of a cluster: it needs its id and the members (--id, --peers)");
            }
            sharded = ShardedNode.open(config.dataDir(), config.txkvConfig(), config.replication(),
                    config.peerClientAddresses(), config.shards(), config.shardReplicas(),
                    config.crashPoints() ? CrashPoints.haltingProcess() : CrashPoints.NONE,
                    new ShardedNode.AutoSplit(config.splitBytes(), config.splitKeysPerSecond(), config.splitCheckMs()),
                    config.replaceLostAfterMs(), config.rebalance(), config.moveBytesPerSecond(), peerCredentials,
                    config.join());
            engine = sharded.control();
        } else if (ShardedNode.isSharded(config.dataDir())) {
            throw new dev.txkv.TxkvException(dev.txkv.ErrorCode.INVALID_OPTION_VALUE, "The data directory "
                    + config.dataDir() + " holds a sharded cluster (" + ShardedNode.LAYOUT_FILE
                    + "); start it with the --shards it was created with");
        } else {
            engine = config.replication() == null ? Engine.open(config.dataDir(), config.txkvConfig())
                    : RaftReplication.open(config.dataDir(), config.txkvConfig(), config.replication());
        }
        TxkvServer server = new TxkvServer(config, engine, sharded, tls, peerCredentials);
        try {
            server.startServing();
        } catch (IOException | RuntimeException | Error e) {
            server.close();
            throw e;
        }
        return server;
    }

    private void startServing() throws IOException {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        ServerMetrics metrics = new ServerMetrics(registry);
        stats = new CachedStats(engineStatus);
        metrics.bindEngine(stats);
        metrics.bindExecutor(executor);
        metrics.bindHealth(() -> lastHealth != null && lastHealth.available(),
                () -> lastHealth != null && lastHealth.healthy());
        String processId = HexFormat.of().formatHex(longBytes(ThreadLocalRandom.current().nextLong()));
        StatusDocument[] status = new StatusDocument[1];
        // A sharded server serves the whole keyspace whoever leads: it names no leader to go to.
        LeaderDirectory leaders = sharded != null ? LeaderDirectory.NONE
                : LeaderDirectory.of(engine::leaderId, config, this::clientAddress);
        if (sharded != null) {
            sharded.selfAddress(this::clientAddress);
        }
        dev.txkv.spi.Backend backend = sharded != null ? new dev.txkv.spi.ShardRouter(sharded.gateway()) : engine;
        ClusterAdmin admin = sharded != null ? ClusterAdmin.refusing(engineStatus,
                "A sharded cluster's membership cannot be changed yet: its shards' groups are laid out when it is created")
                : engineStatus;
        auth = new dev.txkv.server.auth.AuthStore(engine, config.replication() != null && tls == null
                ? "Authorization needs TLS between the members of a cluster, which identify each other by their"
                        + " certificates (docs/security.md); start every member with --tls-cert, --tls-key and --tls-ca"
                : null);
        service = new TxkvService(backend, admin, config, executor, metrics, memberOnly -> memberOnly
                ? CompletableFuture.completedFuture(StatusProtos.toProto(status[0].memberStatus()))
                : status[0].clusterStatus().thenApply(StatusProtos::toProto), leaders);
        auth.onChange(service::recheckWatches);
        dev.txkv.server.auth.AuthService authService = new dev.txkv.server.auth.AuthService(auth, executor,
                e -> leaders.notLeader());
        dev.txkv.server.auth.PrincipalLimits principalLimits = new dev.txkv.server.auth.PrincipalLimits();
        connectionLimit = new ConnectionLimit(config.connectionsPerAddressMax());
        status[0] = new StatusDocument(engine, engineStatus, config, processId, this::grpcAddressText,
                service::watchStreams, peers);
        statusDocument = status[0];
        if (sharded != null) {
            statusDocument.sharded(sharded);
            sharded.bindMetrics(registry);
        }
        sampler.scheduleAtFixedRate(this::sampleAndCheckHealth, 0, 1, TimeUnit.SECONDS);

        InetSocketAddress grpc = config.grpcAddress();
        InetSocketAddress grpcBind = new InetSocketAddress(grpc.getHostString(), grpc.getPort());
        NettyServerBuilder builder = (tls == null ? NettyServerBuilder.forAddress(grpcBind)
                : NettyServerBuilder.forAddress(grpcBind, tls.grpcCredentials()))
                .directExecutor()
                .intercept(new dev.txkv.server.auth.AuthInterceptor(auth, false, principalLimits))
                // Added last, so it runs first: calls on connections beyond the limit go no further.
                .intercept(connectionLimit)
                .addTransportFilter(connectionLimit)
                .addService(service)
                .addService(authService)
                .addService(health.getHealthService())
                .addService(sharded != null ? new ShardPeerService(sharded, config.txkvConfig())
                        : new ShardPeerGrpc.ShardPeerImplBase() { })
                .maxInboundMessageSize(config.inboundMessageBytesMax())
                .maxInboundMetadataSize(64 << 10)
                // Watches keep calls open for long: allow client keepalives, also between calls,
                // but not more often than every 10 s; drop connections idle for an hour.
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .keepAliveTime(60, TimeUnit.SECONDS)
                .keepAliveTimeout(20, TimeUnit.SECONDS)
                .maxConnectionIdle(1, TimeUnit.HOURS)
                .maxConcurrentCallsPerConnection(config.watchStreamsMax() + config.executorQueueMax())
                // A connection that has not finished its handshake (TLS, HTTP/2) in 10 s is
                // closed, so stalled handshakes cannot pile up; an HTTP/2 RST flood ("rapid
                // reset") past 200 resets a second ends its connection.
                .handshakeTimeout(HANDSHAKE_TIMEOUT_SECONDS, TimeUnit.SECONDS)
                .maxRstFramesPerWindow(RST_FRAMES_PER_SECOND_MAX, 1);
        if (tls != null) {
            // Open connections keep the certificate they began with: renew them twice a day so
            // that a rotated certificate reaches every client.
            builder.maxConnectionAge(12, TimeUnit.HOURS).maxConnectionAgeGrace(5, TimeUnit.MINUTES);
        }
        grpcServer = builder.build();
        try {
            grpcServer.start();
        } catch (IOException e) {
            throw bindFailure("gRPC", grpc, e);
        }
        inProcessServer = InProcessServerBuilder.forName(inProcessName)
                .directExecutor()
                .intercept(new dev.txkv.server.auth.AuthInterceptor(auth, true, principalLimits))
                .addService(service)
                .addService(authService)
                .addService(health.getHealthService())
                .maxInboundMessageSize(config.inboundMessageBytesMax())
                .build()
                .start();
        InetSocketAddress http = config.httpAddress();
        if (http != null) {
            gatewayChannel = InProcessChannelBuilder.forName(inProcessName).directExecutor()
                    .maxInboundMessageSize(config.inboundMessageBytesMax()).build();
            try {
                gateway = new HttpGateway(gatewayChannel, registry, this::healthProblem,
                        new InetSocketAddress(http.getHostString(), http.getPort()),
                        tls == null ? null : tls.httpContext(), tls == null ? null : tls::httpParameters);
                gateway.metricsGuard((bearer, certificate) -> auth.access(bearer, certificate)
                        .checkRight(dev.txkv.server.auth.Access.Right.STATUS, "/metrics"));
            } catch (IOException e) {
                throw bindFailure("HTTP", http, e);
            }
        }
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus(TxkvGrpc.SERVICE_NAME, ServingStatus.SERVING);
        ready = true;
        log.info("txkv server listening: grpc {}, http {}, data {}", grpcAddressText(),
                gateway == null ? "none" : http.getHostString() + ":" + gateway.port(), config.dataDir());
    }

    /**
     * Once a second: the status rates, the leader's probe commit, and this server's health,
     * which the gRPC health service (SERVING or NOT_SERVING) and HTTP {@code /health} report.
     */
    private void sampleAndCheckHealth() {
        try {
            statusDocument.sample();
            Health h = statusDocument.health();
            lastHealth = h;
            if (ready) {
                ServingStatus serving = h.available() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
                health.setStatus("", serving);
                health.setStatus(TxkvGrpc.SERVICE_NAME, serving);
            }
        } catch (RuntimeException e) {
            log.warn("Status sampling failed", e);
        }
    }

    /**
     * Why this server should get no traffic now, or null when it serves: not started or
     * stopping, or its health (see {@link StatusDocument#health()}) says the database is not
     * available through it.
     */
    String healthProblem() {
        if (!ready) {
            return "the server is starting or stopping";
        }
        // Fresh on every call: cheap (the leader's probe commit runs at most once a second).
        Health h = statusDocument.health();
        lastHealth = h;
        return h.problem();
    }

    private static IOException bindFailure(String what, InetSocketAddress address, IOException e) {
        // The transport wraps the operating system's reason ("Address already in use") in
        // its own message; the innermost one is what an operator needs.
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return new IOException("Cannot listen for " + what + " on " + address.getHostString() + ":"
                + address.getPort() + ": " + root.getMessage(), e);
    }

    private String grpcAddressText() {
        Server s = grpcServer;
        return config.grpcAddress().getHostString() + ":" + (s == null ? config.grpcAddress().getPort() : s.getPort());
    }

    /** The address clients reach this server's gRPC at, host:port with the bound port (IPv6 in brackets). */
    private String clientAddress() {
        Server s = grpcServer;
        return TxkvService.hostPort(config.grpcAddress().getHostString(),
                s == null ? config.grpcAddress().getPort() : s.getPort());
    }

    /** The gRPC port, the one picked when the configured port was 0. */
    public int grpcPort() {
        return grpcServer.getPort();
    }

    /** The HTTP gateway's port, or -1 when no HTTP address was configured. */
    public int httpPort() {
        return gateway == null ? -1 : gateway.port();
    }

    /** The count of client connections per address, for tests. */
    ConnectionLimit connectionLimit() {
        return connectionLimit;
    }

    /** The in-process gRPC server's name, for {@code InProcessChannelBuilder.forName}. */
    public String inProcessName() {
        return inProcessName;
    }

    /**
     * This member's replica of each shard it keeps, by shard id, when the server is sharded
     * (empty otherwise): for tests and tools that look at a shard's two-phase state.
     */
    public java.util.Map<Integer, Engine> shardReplicas() {
        java.util.Map<Integer, Engine> out = new java.util.TreeMap<>();
        if (sharded != null) {
            for (ClusterMap.Entry s : sharded.clusterMap().shards()) {
                Engine e = sharded.replica(s.id());
                if (e != null) {
                    out.put(s.id(), e);
                }
            }
        }
        return out;
    }

    /**
     * The engine this server serves; embedded callers may use it directly (no limits are checked
     * there). A sharded server's engine is its replica of the control group.
     */
    public Engine engine() {
        return engine;
    }

    /** The server's meters, in Prometheus form through {@code scrape()}. */
    public PrometheusMeterRegistry meterRegistry() {
        return registry;
    }

    /** True from the end of start until close begins. */
    public boolean isReady() {
        return ready;
    }

    /**
     * Shuts down gracefully: reports NOT_SERVING, stops accepting calls, ends open watches,
     * lets in-flight calls finish for up to {@link ServerConfig#shutdownGraceMs()}, cancels
     * what remains, then closes the engine, which makes every commit it accepted durable.
     * Idempotent; other threads in {@link #awaitTermination()} return once it is done.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            awaitTerminationUninterruptibly();
            return;
        }
        try {
            ready = false;
            health.enterTerminalState();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.shutdownGraceMs());
            if (gateway != null) {
                gateway.close();
            }
            shutdown(grpcServer);
            shutdown(inProcessServer);
            if (service != null) {
                service.closeWatches();
            }
            awaitOrCancel(grpcServer, deadline);
            awaitOrCancel(inProcessServer, deadline);
            if (gatewayChannel != null) {
                gatewayChannel.shutdownNow();
            }
            executor.shutdown();
            awaitExecutor(deadline);
            sampler.shutdownNow();
            awaitSampler();
            peers.close();
            if (auth != null) {
                auth.close();
            }
            if (stats != null) {
                // Meters may still be scraped through meterRegistry(); a closed engine must not be asked.
                stats.freeze();
            }
            if (sharded != null) {
                sharded.close();
            } else {
                engine.close();
            }
            registry.close();
            if (tls != null) {
                tls.close();
            }
            log.info("txkv server stopped: data {}", config.dataDir());
        } finally {
            terminated.countDown();
        }
    }

    /** Waits until {@link #close()} has finished. */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    private void awaitTerminationUninterruptibly() {
        boolean interrupted = false;
        while (true) {
            try {
                terminated.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void shutdown(Server server) {
        if (server != null) {
            server.shutdown();
        }
    }

    private static void awaitOrCancel(Server server, long deadlineNanos) {
        if (server == null) {
            return;
        }
        try {
            long left = Math.max(0, deadlineNanos - System.nanoTime());
            if (!server.awaitTermination(left, TimeUnit.NANOSECONDS)) {
                log.warn("Calls still running after the shutdown grace period; cancelling them");
                server.shutdownNow();
                server.awaitTermination(1, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
    }

    private void awaitExecutor(long deadlineNanos) {
        try {
            long left = Math.max(TimeUnit.MILLISECONDS.toNanos(100), deadlineNanos - System.nanoTime());
            if (!executor.awaitTermination(left, TimeUnit.NANOSECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.shutdownNow();
        }
    }

    private void awaitSampler() {
        try {
            sampler.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static byte[] longBytes(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (56 - 8 * i));
        }
        return b;
    }

    /**
     * Engine counters for the meters, read at most every 250 ms: a scrape reads a dozen of
     * them, and each read of the engine's stats asks RocksDB for a size estimate.
     */
    private static final class CachedStats implements Supplier<EngineCounters> {
        private static final long TTL_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
        private final EngineStatusReader engine;
        private EngineCounters cached;
        private long readNanos;
        private boolean frozen;

        CachedStats(EngineStatusReader engine) {
            this.engine = engine;
        }

        @Override
        public synchronized EngineCounters get() {
            long now = System.nanoTime();
            if (frozen) {
                return cached == null ? EngineCounters.NONE : cached;
            }
            if (cached == null || now - readNanos > TTL_NANOS) {
                cached = engine.counters();
                readNanos = now;
            }
            return cached;
        }

        synchronized void freeze() {
            frozen = true;
        }
    }
}
