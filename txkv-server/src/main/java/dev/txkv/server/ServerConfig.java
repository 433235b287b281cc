package dev.txkv.server;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.replication.ReplicationConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of a {@link TxkvServer}: where it keeps data and listens, the database limits
 * ({@link TxkvConfig}, FoundationDB's defaults) and the server's own bounds. Every queue and
 * count the server keeps has a named maximum here. Mutable until handed to
 * {@link TxkvServer#start(ServerConfig)}; setters check their arguments.
 */
public final class ServerConfig {
    /** The gRPC port of {@code txkv server} by default. */
    public static final int DEFAULT_GRPC_PORT = 4500;
    /** The HTTP port of {@code txkv server} by default. */
    public static final int DEFAULT_HTTP_PORT = 4501;

    private Path dataDir = Path.of("txkv-data");
    private InetSocketAddress grpcAddress = InetSocketAddress.createUnresolved("127.0.0.1", DEFAULT_GRPC_PORT);
    private InetSocketAddress httpAddress;
    private TxkvConfig txkvConfig = new TxkvConfig();
    private long slowCommitThresholdMs = 500;
    private int executorThreads = 2 * Runtime.getRuntime().availableProcessors();
    private int executorQueueMax = 10_000;
    private int watchStreamsMax = 10_000;
    private int connectionsPerAddressMax = 256;
    private int inboundMessageBytesMax = 16 << 20;
    private int rangeRowsMax = 10_000;
    private long rangeBytesMax = 8 << 20;
    private long shutdownGraceMs = 10_000;
    private ReplicationConfig replication;
    private Map<String, String> peerClientAddresses = Map.of();
    private int shards;
    private int shardReplicas;
    private boolean crashPoints;

    /** The data directory (default ./txkv-data); created if missing, locked while the server runs. */
    public ServerConfig dataDir(Path dir) {
        this.dataDir = Objects.requireNonNull(dir, "dataDir");
        return this;
    }

    /** Where gRPC listens (default 127.0.0.1:4500); port 0 picks a free port. */
    public ServerConfig grpcAddress(String host, int port) {
        this.grpcAddress = InetSocketAddress.createUnresolved(Objects.requireNonNull(host, "host"), port(port));
        return this;
    }

    /** Where the HTTP/JSON gateway listens; null (the default) starts none. Port 0 picks a free port. */
    public ServerConfig httpAddress(String host, int port) {
        this.httpAddress = host == null ? null : InetSocketAddress.createUnresolved(host, port(port));
        return this;
    }

    /** The database settings and limits; the server enforces the limits on every request. */
    public ServerConfig txkvConfig(TxkvConfig config) {
        this.txkvConfig = Objects.requireNonNull(config, "txkvConfig");
        return this;
    }

    /** Commits slower than this are logged at WARN with their sizes (default 500 ms). */
    public ServerConfig slowCommitThresholdMs(long ms) {
        this.slowCommitThresholdMs = positive(ms, "slowCommitThresholdMs");
        return this;
    }

    /** Threads that run requests (default twice the processors). */
    public ServerConfig executorThreads(int threads) {
        this.executorThreads = (int) positive(threads, "executorThreads");
        return this;
    }

    /** Requests waiting for a thread; beyond it requests fail with 1042, retryable (default 10,000). */
    public ServerConfig executorQueueMax(int requests) {
        this.executorQueueMax = (int) positive(requests, "executorQueueMax");
        return this;
    }

    /**
     * Client connections served from one address (default 256); calls on the connections
     * beyond it fail with tag_throttled, 1213.
     */
    public ServerConfig connectionsPerAddressMax(int connections) {
        this.connectionsPerAddressMax = (int) positive(connections, "connectionsPerAddressMax");
        return this;
    }

    public int connectionsPerAddressMax() {
        return connectionsPerAddressMax;
    }

    /** Open Watch calls on this server; beyond it Watch fails with too_many_watches, 1032 (default 10,000). */
    public ServerConfig watchStreamsMax(int streams) {
        this.watchStreamsMax = (int) positive(streams, "watchStreamsMax");
        return this;
    }

    /** Largest request message (default 16 MiB, above the 10 MB transaction limit plus framing). */
    public ServerConfig inboundMessageBytesMax(int bytes) {
        this.inboundMessageBytesMax = (int) positive(bytes, "inboundMessageBytesMax");
        return this;
    }

    /** Most rows one GetRange call returns (default 10,000); larger or zero row limits are clamped to it. */
    public ServerConfig rangeRowsMax(int rows) {
        this.rangeRowsMax = (int) positive(rows, "rangeRowsMax");
        return this;
    }

    /** About the most bytes one GetRange call returns (default 8 MiB); larger or zero byte limits are clamped. */
    public ServerConfig rangeBytesMax(long bytes) {
        this.rangeBytesMax = positive(bytes, "rangeBytesMax");
        return this;
    }

    /** How long close() lets in-flight calls finish before cancelling them (default 10,000 ms). */
    public ServerConfig shutdownGraceMs(long ms) {
        this.shutdownGraceMs = positive(ms, "shutdownGraceMs");
        return this;
    }

    /**
     * Makes the server a member of a replicated cluster (null, the default, serves the data
     * directory alone): its engine opens with {@code Engine.openReplicated}, only the leader
     * accepts commits and hands out read versions, every member serves reads.
     */
    public ServerConfig replication(ReplicationConfig replication) {
        this.replication = replication;
        return this;
    }

    /**
     * Makes the cluster sharded: the keyspace split evenly into {@code count} shards, each a
     * Raft group of {@code replicas} members (docs/sharding.md); 0, the default, serves one
     * unsharded keyspace. Needs {@link #replication} and every other member's client address
     * ({@link #peerClientAddresses}): every server serves the whole keyspace and forwards what
     * it does not lead to the member that does.
     */
    public ServerConfig shards(int count, int replicas) {
        if (count < 0 || count > ShardLayout.SHARDS_MAX) {
            throw new IllegalArgumentException("shards must be 0 (unsharded) to " + ShardLayout.SHARDS_MAX + ", got " + count);
        }
        if (count > 0 && replicas < 1) {
            throw new IllegalArgumentException("replicas per shard must be at least 1, got " + replicas);
        }
        this.shards = count;
        this.shardReplicas = replicas;
        return this;
    }

    /**
     * Lets fault tests arm the two-phase crash points of this member (shard.proto,
     * ArmCrashPoint; {@link dev.txkv.engine.CrashPoints}): an armed point ends the process when
     * reached. Off by default; never for production.
     */
    public ServerConfig crashPoints(boolean enabled) {
        this.crashPoints = enabled;
        return this;
    }

    /** The default {@link #autoSplit} size: 64 MiB of keys and values. */
    public static final long SPLIT_SIZE_DEFAULT = 64L << 20;
    /** The default {@link #autoSplit} load: 10,000 keys read or written per second. */
    public static final long SPLIT_LOAD_DEFAULT = 10_000;
    /** The default {@link #autoSplit} check interval: 10 s. */
    public static final long SPLIT_CHECK_MS_DEFAULT = 10_000;

    private long splitBytes = SPLIT_SIZE_DEFAULT;
    private long splitKeysPerSecond = SPLIT_LOAD_DEFAULT;
    private long splitCheckMs = SPLIT_CHECK_MS_DEFAULT;

    /**
     * Automatic splits of a sharded cluster (docs/sharding.md): every {@code checkMs} each
     * shard's leader compares its keys' and values' bytes (the storage engine's estimate) with
     * {@code bytes}, and the keys its reads and commits touched per second over that period
     * with {@code keysPerSecond}. A shard past the size splits at the key that halves its bytes;
     * one past the load at the sampled key that halves its load (unless one key carries half of
     * it: then that hot key is reported instead). 0 turns either off. Defaults: 64 MiB, 10,000
     * keys/s, every 10 s.
     */
    public ServerConfig autoSplit(long bytes, long keysPerSecond, long checkMs) {
        if (bytes < 0) {
            throw new IllegalArgumentException("split size must be 0 (off) or positive, got " + bytes);
        }
        if (keysPerSecond < 0) {
            throw new IllegalArgumentException("split load must be 0 (off) or positive, got " + keysPerSecond);
        }
        if (checkMs < 10) {
            throw new IllegalArgumentException("split check interval must be at least 10 ms, got " + checkMs);
        }
        this.splitBytes = bytes;
        this.splitKeysPerSecond = keysPerSecond;
        this.splitCheckMs = checkMs;
        return this;
    }

    /** The default {@link #replaceLostAfter}: 5 minutes. */
    public static final long REPLACE_LOST_AFTER_MS_DEFAULT = 300_000;

    private long replaceLostAfterMs = REPLACE_LOST_AFTER_MS_DEFAULT;

    /**
     * A member of a sharded cluster that the control group's leader has not heard from for
     * {@code ms} is lost: its shard replicas move, one shard at a time, to the members that keep
     * the fewest (docs/sharding.md, "Replacing a lost server"). 0 turns it off; default 5 minutes.
     */
    public ServerConfig replaceLostAfter(long ms) {
        if (ms != 0 && ms < 1_000) {
            throw new IllegalArgumentException("replace-lost-after must be 0 (off) or at least 1000 ms, got " + ms);
        }
        this.replaceLostAfterMs = ms;
        return this;
    }

    private boolean rebalance = true;
    private boolean join;

    /** The default {@link #moveRate}: 4 MiB a second. */
    public static final long MOVE_RATE_DEFAULT = 4L << 20;

    private long moveBytesPerSecond = MOVE_RATE_DEFAULT;

    /**
     * How fast this server copies a shard replica it takes in a move, in bytes per second; 0
     * copies as fast as it can (docs/sharding.md, "Moving replicas"). Default 4 MiB/s.
     */
    public ServerConfig moveRate(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("move rate must be 0 (no limit) or positive, got " + bytesPerSecond);
        }
        this.moveBytesPerSecond = bytesPerSecond;
        return this;
    }

    /** How fast a replica taken in a move is copied, in bytes per second; 0: no limit. */
    public long moveBytesPerSecond() {
        return moveBytesPerSecond;
    }

    /**
     * Whether this server joins a running sharded cluster as a new member (docs/sharding.md,
     * "Adding a server"): it opens no replica until the cluster's map reaches it, and asks the
     * control group's leader to add it.
     */
    public ServerConfig join(boolean on) {
        this.join = on;
        return this;
    }

    /** Whether this server joins a running sharded cluster. */
    public boolean join() {
        return join;
    }

    /**
     * Whether the control group's leader of a sharded cluster evens out what the members keep by
     * itself (shard replicas weighed by size, load and count), one move at a time, and then the
     * shard leaderships by load (docs/sharding.md, "Rebalancing"). On by default.
     */
    public ServerConfig rebalance(boolean on) {
        this.rebalance = on;
        return this;
    }

    /** Whether what the members keep and lead is evened out by itself. */
    public boolean rebalance() {
        return rebalance;
    }

    /** How long a member may be unreachable before its shard replicas move elsewhere, in ms; 0: never. */
    public long replaceLostAfterMs() {
        return replaceLostAfterMs;
    }

    /** The size past which a shard splits by itself; 0 when automatic splits are off. */
    public long splitBytes() {
        return splitBytes;
    }

    /** The keys read or written per second past which a shard splits by itself; 0 when off. */
    public long splitKeysPerSecond() {
        return splitKeysPerSecond;
    }

    /** How often each shard's leader checks its size and load, in ms. */
    public long splitCheckMs() {
        return splitCheckMs;
    }

    private dev.txkv.server.tls.ServerTls.Files tls;
    private dev.txkv.server.tls.ServerTls.ClientAuth tlsClientAuth = dev.txkv.server.tls.ServerTls.ClientAuth.NONE;
    private dev.txkv.server.tls.ServerTls.Files peerTls;
    private long tlsReloadMs = 60_000;
    private boolean insecure;

    /**
     * Serves the client port and the HTTP gateway over TLS (1.2 or 1.3) with {@code files}, and
     * asks clients for certificates as {@code clientAuth} says. A replicated server then also
     * speaks mutual TLS to the other members (the Raft port, calls between servers) with
     * {@link #peerTls} or, by default, the same files (docs/security.md).
     */
    public ServerConfig tls(dev.txkv.server.tls.ServerTls.Files files, dev.txkv.server.tls.ServerTls.ClientAuth clientAuth) {
        this.tls = java.util.Objects.requireNonNull(files, "files");
        this.tlsClientAuth = java.util.Objects.requireNonNull(clientAuth, "clientAuth");
        return this;
    }

    /** The members' own certificate, key and CA, when they differ from {@link #tls}'s. */
    public ServerConfig peerTls(dev.txkv.server.tls.ServerTls.Files files) {
        this.peerTls = files;
        return this;
    }

    /** How often TLS files are checked for changes and reloaded, in ms (default 60,000; 0: never). */
    public ServerConfig tlsReloadMs(long ms) {
        if (ms < 0) {
            throw new IllegalArgumentException("the TLS reload interval must be 0 (never) or positive, got " + ms);
        }
        this.tlsReloadMs = ms;
        return this;
    }

    /**
     * Lets the server listen beyond the loopback interface without TLS. Without it such a
     * server refuses to start: plaintext is for one machine, or a network you trust entirely.
     */
    public ServerConfig insecure(boolean allowed) {
        this.insecure = allowed;
        return this;
    }

    /** The client port's TLS files; null when it serves plaintext. */
    public dev.txkv.server.tls.ServerTls.Files tls() {
        return tls;
    }

    public dev.txkv.server.tls.ServerTls.ClientAuth tlsClientAuth() {
        return tlsClientAuth;
    }

    /** The members' TLS files; null: {@link #tls()}'s. */
    public dev.txkv.server.tls.ServerTls.Files peerTls() {
        return peerTls;
    }

    public long tlsReloadMs() {
        return tlsReloadMs;
    }

    public boolean insecure() {
        return insecure;
    }

    /** Whether fault tests may arm crash points here. */
    public boolean crashPoints() {
        return crashPoints;
    }

    /** The shard count; 0 when unsharded. */
    public int shards() {
        return shards;
    }

    /** Members per shard (when {@link #shards()} is above 0). */
    public int shardReplicas() {
        return shardReplicas;
    }

    /**
     * The client (gRPC) address, {@code host:port}, of each member of the replicated cluster, by
     * member id (default none). Two uses: a member that does not lead names the leader's address
     * in its not_leader answers (the NotLeader detail of txkv.proto), so that clients go to it
     * first (for a leader missing here the answer names only its id); and status asked on any
     * member asks the others listed here for their own status, so that it shows every member's
     * applied version, health and lag (a member missing here shows as unreachable). This
     * server's own address need not be listed: it is the gRPC address, unless that is a
     * wildcard address.
     */
    public ServerConfig peerClientAddresses(Map<String, String> addresses) {
        Map<String, String> copy = new LinkedHashMap<>();
        for (Map.Entry<String, String> a : Objects.requireNonNull(addresses, "peerClientAddresses").entrySet()) {
            String address = a.getValue() == null ? "" : a.getValue().trim();
            int colon = address.lastIndexOf(':');
            int port = -1;
            if (colon > 0 && colon < address.length() - 1) {
                try {
                    port = Integer.parseInt(address.substring(colon + 1));
                } catch (NumberFormatException e) {
                    port = -1;
                }
            }
            if (port < 1 || port > 65_535) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "The client address of member " + a.getKey()
                        + " must be host:port with a port from 1 to 65535, got '" + a.getValue() + "'");
            }
            copy.put(a.getKey(), address);
        }
        this.peerClientAddresses = Collections.unmodifiableMap(copy);
        return this;
    }

    /** The members' client addresses by member id; empty when none were given. */
    public Map<String, String> peerClientAddresses() {
        return peerClientAddresses;
    }

    /** The cluster membership, or null when the server is not replicated. */
    public ReplicationConfig replication() {
        return replication;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** The configured gRPC address, unresolved. */
    public InetSocketAddress grpcAddress() {
        return grpcAddress;
    }

    /** The configured HTTP address, unresolved, or null for none. */
    public InetSocketAddress httpAddress() {
        return httpAddress;
    }

    public TxkvConfig txkvConfig() {
        return txkvConfig;
    }

    public long slowCommitThresholdMs() {
        return slowCommitThresholdMs;
    }

    public int executorThreads() {
        return executorThreads;
    }

    public int executorQueueMax() {
        return executorQueueMax;
    }

    public int watchStreamsMax() {
        return watchStreamsMax;
    }

    public int inboundMessageBytesMax() {
        return inboundMessageBytesMax;
    }

    public int rangeRowsMax() {
        return rangeRowsMax;
    }

    public long rangeBytesMax() {
        return rangeBytesMax;
    }

    public long shutdownGraceMs() {
        return shutdownGraceMs;
    }

    private static int port(int port) {
        if (port < 0 || port > 65_535) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Port must be 0 to 65535, got " + port);
        }
        return port;
    }

    private static long positive(long v, String name) {
        if (v <= 0) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, name + " must be positive, got " + v);
        }
        return v;
    }
}
