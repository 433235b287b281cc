package dev.txkv.server;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.engine.ControlSequencer;
import dev.txkv.engine.CrashPoints;
import dev.txkv.engine.Engine;
import dev.txkv.engine.ShardConfig;
import dev.txkv.engine.ShardNetwork;
import dev.txkv.engine.VersionSequencer;
import dev.txkv.proto.NotLeader;
import dev.txkv.proto.ShardPeerGrpc;
import dev.txkv.replication.RaftHost;
import dev.txkv.replication.RaftReplication;
import dev.txkv.replication.ReplicationConfig;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Environment;
import dev.txkv.spi.RangeChunk;
import dev.txkv.spi.ReadStamp;
import dev.txkv.spi.ShardMap;
import dev.txkv.spi.ShardRouter;
import dev.txkv.wire.WireErrors;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The part of a sharded cluster one server process runs: a Raft host (one Raft port) with this
 * member's replica of the control group (the sequencer) and of each shard its
 * {@link ShardLayout} gives it, each an engine of its own under the data directory.
 *
 * <p>It reaches the rest of the cluster two ways, both through {@link #onLeader}: what a group's
 * leader must do runs on the local replica when that one leads, and otherwise goes as a
 * {@code txkv.v1.ShardPeer} call to the member believed to lead, which answers not_leader with
 * the leader it knows when it does not lead. The engines' {@link ShardNetwork} (grants, epochs,
 * the two-phase calls) and the {@link ShardRouter.Shards} behind this server's client service
 * (read versions with stamps, reads, commits and watches) are both built on it.
 *
 * <p>Layout on disk: {@code DATA/raft} (the Raft host's storage), {@code DATA/control},
 * {@code DATA/shard-N} (the engines), and {@code DATA/shards.properties}, which records the
 * layout so that a restart with other shard flags, or an unsharded server, is refused.
 */
final class ShardedNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ShardedNode.class);
    /** The file that records a sharded data directory's layout. */
    static final String LAYOUT_FILE = "shards.properties";
    /** How far ahead of the versions it hands out the sequencer keeps its durable high-water mark. */
    static final long SEQUENCER_LEASE_MS = 2_000;
    /** Deadline of a call to the sequencer or of a two-phase call. */
    static final long CONTROL_CALL_MS = 5_000;
    /** Deadline of a forwarded read (it may wait for the shard to resolve the versions below it). */
    static final long READ_CALL_MS = 10_000;
    /** Deadline of a forwarded commit. */
    static final long COMMIT_CALL_MS = 30_000;
    /** Most members asked in turn for one call before it fails with not_leader. */
    private static final int ATTEMPTS_MAX = 8;

    /** How often a member looks at its control replica for a newer shard map, and its leader drives splits. */
    static final long MAP_REFRESH_MS = 200;
    /** How long a split request waits for the split to complete before it answers with the error it met. */
    static final long SPLIT_WAIT_MS = 60_000;

    private final ShardLayout layout;
    /** The shard map this member knows (from its control replica); replaced whole when a newer one comes. */
    private volatile ClusterMap clusterMap;
    /** {@link ClusterMap#routing()} of {@link #clusterMap}. */
    private volatile ShardMap routingMap;
    private final String self;
    /** The client addresses of the other members from this server's flags. */
    private final Map<String, String> flagClientAddresses;
    /** Those, and the client addresses of the members that joined later (from the map). */
    private volatile Map<String, String> clientAddresses;
    /**
     * The Raft addresses of the members from this server's flags, and those of the members that
     * joined later (from the map); null until {@link #start}.
     */
    private volatile Map<String, String> raftAddresses;
    /**
     * Whether this server joins a running cluster (--join, or recorded so in its data directory):
     * it opens no replica until its control replica holds the cluster's map, and asks to join
     * until the map lists it.
     */
    private final boolean joining;
    private final Map<Integer, Engine> engines = new ConcurrentHashMap<>();
    private final Map<Integer, String> leaderGuess = new ConcurrentHashMap<>();
    private final PeerChannels channels;
    private RaftHost host;
    private ControlSequencer sequencer;
    /** Timers of calls to other servers by method; none until {@link #bindMetrics}. */
    private volatile io.micrometer.core.instrument.MeterRegistry registry;
    private final Map<String, io.micrometer.core.instrument.Timer> callTimers = new ConcurrentHashMap<>();

    private final CrashPoints crashPoints;
    private volatile java.util.function.Supplier<String> selfAddress = () -> "";

    /**
     * Automatic splits: every {@code checkMs} each shard's leader on this member compares its
     * bytes with {@code bytes} and the keys its reads and commits touched per second over the
     * check's period with {@code keysPerSecond}, and splits past either; 0 turns each off.
     */
    record AutoSplit(long bytes, long keysPerSecond, long checkMs) {
        boolean on() {
            return bytes > 0 || keysPerSecond > 0;
        }
    }

    private final AutoSplit autoSplit;

    private ShardedNode(ShardLayout layout, String self, Map<String, String> clientAddresses, CrashPoints crashPoints,
            AutoSplit autoSplit, long replaceLostAfterMs, boolean rebalance, long moveBytesPerSecond,
            io.grpc.ChannelCredentials peerCredentials, boolean joining) {
        this.moveBytesPerSecond = moveBytesPerSecond;
        this.joining = joining;
        this.channels = new PeerChannels(peerCredentials);
        this.replaceLostAfterMs = replaceLostAfterMs;
        this.rebalance = rebalance;
        this.crashPoints = crashPoints;
        this.autoSplit = autoSplit;
        this.layout = layout;
        this.clusterMap = ClusterMap.initial(layout);
        this.routingMap = clusterMap.routing();
        this.self = self;
        this.flagClientAddresses = Map.copyOf(clientAddresses);
        this.clientAddresses = flagClientAddresses;
    }

    /** This member's crash points ({@link CrashPoints#NONE} unless the server was started with --crash-points). */
    CrashPoints crashPoints() {
        return crashPoints;
    }

    /**
     * Opens this member's replicas and starts its Raft host.
     *
     * @param replication the cluster's members (Raft addresses), this member's id and the Raft settings
     * @param clientAddresses every other member's client (gRPC) address by id
     * @param crashPoints the two-phase crash points of this member's shards ({@link CrashPoints#NONE}
     *     unless fault tests may arm them)
     * @param autoSplit when the shards this member leads split by themselves
     * @param replaceLostAfterMs how long a member may be unreachable (as the control group's
     *     leader sees it) before its replicas move to other members; 0: never
     * @param rebalance whether the control group's leader evens out what the members keep
     * @param moveBytesPerSecond how fast a replica this member takes in a move is copied; 0: no limit
     * @param peerCredentials the credentials of calls to other members (TLS with this member's
     *     certificate, or plaintext)
     * @param join whether this server joins a running cluster as a new member (its data directory
     *     must be new, or recorded so)
     * @throws TxkvException when the data directory holds another layout or an unsharded database,
     *     a member's client address is missing, or an engine or the Raft host cannot start
     */
    static ShardedNode open(Path dataDir, dev.txkv.TxkvConfig config, ReplicationConfig replication,
            Map<String, String> clientAddresses, int shards, int replicas, CrashPoints crashPoints, AutoSplit autoSplit,
            long replaceLostAfterMs, boolean rebalance, long moveBytesPerSecond, io.grpc.ChannelCredentials peerCredentials,
            boolean join) {
        // Sorted, so that every server lays the cluster out alike whatever order its flags list the members in.
        List<String> members = new ArrayList<>(new java.util.TreeSet<>(replication.members().keySet()));
        ShardLayout layout = new ShardLayout(members, shards, replicas);
        for (String m : members) {
            if (!m.equals(replication.selfId()) && !clientAddresses.containsKey(m)) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "A sharded server needs the client address of"
                        + " every other member (--peer-clients); member " + m + " has none");
            }
        }
        Recorded recorded = checkLayout(dataDir, layout, join);
        ShardedNode node = new ShardedNode(recorded.layout(), replication.selfId(), clientAddresses, crashPoints,
                autoSplit, replaceLostAfterMs, rebalance, moveBytesPerSecond, peerCredentials, recorded.joined());
        try {
            node.start(dataDir, config, replication);
        } catch (RuntimeException | Error e) {
            node.close();
            throw e;
        }
        return node;
    }

    private Path dataDir;
    private dev.txkv.TxkvConfig config;
    private ReplicationConfig replication;
    private ShardNetwork network;
    private final java.util.concurrent.ScheduledExecutorService maintenance =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "txkv-shard-map");
                t.setDaemon(true);
                return t;
            });
    /** Where the shards this member leads check their size and load ({@link #checkShards}), off the map upkeep's thread. */
    private final java.util.concurrent.ExecutorService splitChecks =
            java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "txkv-split-check");
                t.setDaemon(true);
                return t;
            });
    private final java.util.concurrent.atomic.AtomicBoolean splitCheckRunning = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile long nextSplitCheckNanos = System.nanoTime();
    /** Shards this member leads that are past a split threshold but cannot split (one key), with what status shows. */
    private final Map<Integer, String> unsplittable = new ConcurrentHashMap<>();
    /** Splits being driven to completion on this member (it leads the control group), by new shard id. */
    private final Map<Integer, CompletableFuture<Long>> drives = new ConcurrentHashMap<>();

    private void start(Path dataDir, dev.txkv.TxkvConfig config, ReplicationConfig replication) {
        this.dataDir = dataDir;
        this.config = config;
        this.replication = replication;
        this.raftAddresses = Map.copyOf(replication.members());
        long entryMax = Math.max(8 << 20, config.batchBytesMax() * 2L);
        host = new RaftHost(replication, dataDir.resolve("raft"), entryMax);
        String cluster = replication.clusterName();
        network = new Network();
        // A joining member's control replica starts with no members (its storage is new, so this
        // is the configuration it is formatted with): not in it, it never stands for election,
        // which the members would answer by telling it to shut down; the leader's membership
        // change that adds it reaches it through the log.
        String controlName = ShardLayout.groupName(cluster, ShardLayout.CONTROL);
        ReplicationConfig control = joining ? replication.forGroupToJoin(controlName)
                : replication.forGroup(controlName, layout.membersOf(ShardLayout.CONTROL));
        Engine controlEngine = Engine.builder(dataDir.resolve("control"), config)
                .log(RaftReplication.log(control, host)).open();
        engines.put(ShardLayout.CONTROL, controlEngine);
        // The map the control replica holds says which shards this member keeps (splits included):
        // each must be registered before the Raft host starts, so that it is recovered with its engine.
        ClusterMap stored = ClusterMap.decode(controlEngine.latestValue(ClusterMap.KEY));
        if (stored != null) {
            clusterMap = stored;
            routingMap = stored.routing();
            refreshAddresses(stored);
        }
        copies = new ReplicaCopies(dataDir);
        if (stored != null || !joining) {
            removeLeftovers();
            for (ClusterMap.Entry s : clusterMap.shards()) {
                if (s.replicas().contains(self) && !awaitsCopy(s)) {
                    openShard(s);
                }
            }
        } else {
            log.info("member {} joins a running cluster: it asks the control group's leader to add it, then"
                    + " receives the cluster's map and the replicas placed on it", self);
        }
        sequencer = new ControlSequencer(controlEngine, Environment.SYSTEM, SEQUENCER_LEASE_MS);
        host.start();
        maintenance.scheduleWithFixedDelay(this::maintain, MAP_REFRESH_MS, MAP_REFRESH_MS, TimeUnit.MILLISECONDS);
        log.info("member {} of a cluster of {} shards ({} replicas each): hosting {}", self, layout.shards(),
                layout.replicas(), engines.keySet());
        if (crashPoints != CrashPoints.NONE) {
            log.warn("crash points are on (--crash-points): a fault test may end this process on purpose");
        }
    }

    /** Opens this member's replica of shard {@code s} (at start, or when a split makes it). */
    private synchronized void openShard(ClusterMap.Entry s) {
        if (engines.containsKey(s.id())) {
            return;
        }
        // A shard made by a split holds no keys until its born record (its id is above the initial ones).
        boolean child = s.id() >= layout.shards();
        // A replica a move adds here starts outside its group: listed in its own first
        // configuration, it would stand for election before the leader adds it, and the leader's
        // vote reply would shut it down for good. Once added, its Raft storage holds the group.
        String name = ShardLayout.groupName(replication.clusterName(), s.id());
        ReplicationConfig group = s.adding().contains(self) ? replication.forGroupToJoin(name)
                : replication.forGroup(name, s.replicas(), raftAddresses);
        ShardConfig shardConfig = new ShardConfig(s.id(), clusterMap.full(), network)
                .withSplits(new ShardConfig.Splits(() -> routingMap, engines::get, child));
        Engine engine = Engine.builder(dataDir.resolve("shard-" + s.id()), config).shard(shardConfig)
                .crashPoints(crashPoints).log(RaftReplication.log(group, host)).open();
        engines.put(s.id(), engine);
        if (registry != null) {
            bindEngineMetrics(registry, s.id(), engine);
        }
    }

    /** Every few hundred ms: adopt a newer map from the control replica; on the control group's leader, finish splits. */
    private void maintain() {
        try {
            Engine control = control();
            ClusterMap stored = ClusterMap.decode(control.latestValue(ClusterMap.KEY));
            if (stored != null) {
                adopt(stored);
            }
            if (awaitsJoin()) {
                askToJoin();
                return;
            }
            ClusterMap.Entry splitting = clusterMap.splitting();
            if (splitting != null && control.isLeading()) {
                drive(splitting.id(), splitting.splittingFrom());
            }
            ClusterMap.Entry moving = clusterMap.moving();
            if (moving != null && control.isLeading()) {
                driveMove(moving.id());
            }
            ClusterMap.Entry merging = clusterMap.merging();
            if (merging != null && control.isLeading()) {
                driveMerge(merging.id());
            }
            if (control.isLeading() && System.nanoTime() - nextLostCheckNanos >= 0) {
                nextLostCheckNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LOST_CHECK_MS);
                distribute(control);
            }
            ReplicaCopies c = copies;
            if (c != null) {
                c.expire();
            }
            if (autoSplit.on() && System.nanoTime() - nextSplitCheckNanos >= 0 && splitCheckRunning.compareAndSet(false, true)) {
                nextSplitCheckNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(autoSplit.checkMs());
                splitChecks.execute(() -> {
                    try {
                        checkShards();
                    } catch (RuntimeException e) {
                        log.warn("member {}: shard split check failed (tried again at the next): {}", self, e.toString());
                    } finally {
                        splitCheckRunning.set(false);
                    }
                });
            }
        } catch (RuntimeException e) {
            log.warn("member {}: shard map upkeep failed (tried again shortly): {}", self, e.toString());
        }
    }

    /**
     * Takes {@code newer} as this member's map if it is newer, and opens the replicas the map
     * gives this member that are not open yet (a replica whose opening failed is tried again at
     * the next call).
     */
    private synchronized void adopt(ClusterMap newer) {
        if (newer.epoch() > clusterMap.epoch() || (joining && !hasMap)) {
            clusterMap = newer;
            routingMap = newer.routing();
            refreshAddresses(newer);
            log.info("member {}: shard map epoch {}: {}", self, newer.epoch(), newer.full().shards());
        }
        for (ClusterMap.Entry s : clusterMap.shards()) {
            if (s.replicas().contains(self) && !engines.containsKey(s.id())) {
                if (awaitsCopy(s)) {
                    copyIn(s);
                } else {
                    openShard(s);
                }
            }
        }
        for (Integer id : List.copyOf(engines.keySet())) {
            ClusterMap.Entry s = clusterMap.byId(id);
            // Gone from the map: a merge removed it, once its neighbour's replicas all held its keys.
            if (id != ShardLayout.CONTROL && (s == null || !s.replicas().contains(self))) {
                retire(id);
            }
        }
    }

    /** Whether this member has had a map from its control replica (a joining member has none at first). */
    private volatile boolean hasMap;

    /** Takes the addresses of the members that joined from {@code map}: this server's flags keep theirs. */
    private void refreshAddresses(ClusterMap map) {
        hasMap = true;
        if (map.joined().isEmpty()) {
            return;
        }
        Map<String, String> clients = new java.util.HashMap<>(flagClientAddresses);
        Map<String, String> rafts = new java.util.HashMap<>(replication.members());
        for (ClusterMap.Joined j : map.joined()) {
            if (!j.id().equals(self)) {
                clients.putIfAbsent(j.id(), j.clientAddress());
            }
            rafts.putIfAbsent(j.id(), j.raftAddress());
        }
        clientAddresses = Map.copyOf(clients);
        raftAddresses = Map.copyOf(rafts);
    }

    /** The other members' client addresses: from the flags, and from the map for members that joined. */
    Map<String, String> clientAddresses() {
        return clientAddresses;
    }

    /** Every member of the cluster: the founding ones, then those that joined. */
    List<String> members() {
        return clusterMap.members(layout.members());
    }

    /** The shard map this member knows. */
    ClusterMap clusterMap() {
        return clusterMap;
    }

    /** Whether the shard map this member knows has shard {@code id}. */
    boolean knowsShard(int id) {
        return clusterMap.byId(id) != null;
    }

    /** The members of {@code group} ({@link ShardLayout#CONTROL} or a shard) as the map this member knows says. */
    List<String> membersOf(int group) {
        if (group == ShardLayout.CONTROL) {
            // Before a joining member has the map, its flags name the members it asks.
            return hasMap ? members() : layout.membersOf(group);
        }
        ClusterMap.Entry e = clusterMap.byId(group);
        return e == null ? List.of() : e.replicas();
    }

    // ---- Automatic splits (each shard's leader) ----------------------------------------------

    /**
     * Splits the first shard this member leads that holds more than the split size, at the key
     * that halves its bytes, or else that carried more than the split load over the last period,
     * at the sampled key that halves its load; then waits for that split. One split per check,
     * none while another split is being made anywhere (the next check tries again). A shard
     * past the size in a single key, or whose load is mostly one key, cannot split: it is
     * logged once and shown in status.
     */
    private void checkShards() {
        byte[] splitKey = null;
        String reason = null;
        int splitShard = -1;
        for (Map.Entry<Integer, Engine> e : new java.util.TreeMap<>(engines).entrySet()) {
            int id = e.getKey();
            Engine engine = e.getValue();
            ClusterMap.Entry entry = clusterMap.byId(id);
            if (id == ShardLayout.CONTROL || entry == null || entry.splitting() || !engine.isLeading()) {
                unsplittable.remove(id);
                lastLoads.remove(id);
                continue;
            }
            try {
                // Every led shard's load is taken at every check, so each period is one check long.
                dev.txkv.engine.ShardLoad load = engine.takeLoad().orElse(null);
                if (load != null) {
                    lastLoads.put(id, load.keysPerSecond());
                }
                if (splitKey != null || clusterMap.splitting() != null) {
                    continue;
                }
                boolean atLimit = clusterMap.shards().size() >= AUTOMATIC_SHARDS_MAX;
                String note = null;
                long bytes = autoSplit.bytes() > 0 ? engine.ownedBytesEstimate() : -1;
                if (autoSplit.bytes() > 0 && bytes > autoSplit.bytes()) {
                    java.util.Optional<byte[]> key = engine.splitPointBySize();
                    if (key.isPresent()) {
                        splitKey = key.get();
                        reason = "size " + bytesText(bytes) + " over the split size of " + bytesText(autoSplit.bytes());
                    } else {
                        note = "past the split size (" + bytesText(bytes) + ") in a single key: not split";
                    }
                } else if (autoSplit.keysPerSecond() > 0 && load != null && load.keysPerSecond() > autoSplit.keysPerSecond()) {
                    String rate = String.format(java.util.Locale.ROOT, "%,.0f keys/s", load.keysPerSecond());
                    if (load.hottestShare() >= HOT_KEY_SHARE || load.splitKey().isEmpty()) {
                        note = "hot key " + (load.hottestKey() == null ? "?" : dev.txkv.ByteArrays.printable(load.hottestKey()))
                                + " carries " + Math.round(100 * load.hottestShare()) + " % of " + rate + ": not split";
                    } else {
                        splitKey = load.splitKey().get();
                        reason = "load " + rate + " over the split load of "
                                + String.format(java.util.Locale.ROOT, "%,d keys/s", autoSplit.keysPerSecond());
                    }
                }
                if (splitKey != null && atLimit) {
                    note = "past its split threshold (" + reason + "), but the cluster has " + AUTOMATIC_SHARDS_MAX
                            + " shards, the most automatic splits make: not split";
                    splitKey = null;
                }
                if (splitKey != null) {
                    splitShard = id;
                }
                if (note == null) {
                    unsplittable.remove(id);
                } else if (unsplittable.put(id, note) == null) {
                    log.warn("member {}: shard {}: {}", self, id, note);
                }
            } catch (TxkvException closing) {
                // Closed or failed under the check: nothing to decide for it now.
            }
        }
        if (splitKey == null) {
            return;
        }
        log.info("member {}: shard {} splits by itself at {} ({})", self, splitShard, dev.txkv.ByteArrays.printable(splitKey),
                reason);
        try {
            splitOnLeader(splitKey, reason).get(SPLIT_WAIT_MS + 2 * CONTROL_CALL_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException notNow) {
            log.info("member {}: the automatic split of shard {} did not happen now (tried again at the next check): {}",
                    self, splitShard, unwrap(notNow.getCause() == null ? notNow : notNow.getCause()).getMessage());
        } catch (InterruptedException closing) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Automatic splits stop at this many shards in the cluster (an operator's `txkv split` does
     * not): a load that keeps moving to new keys, as with ever-growing keys, would otherwise
     * split off a new shard at every check for as long as it lasts.
     */
    static final int AUTOMATIC_SHARDS_MAX = ShardLayout.SHARDS_MAX;

    /** A shard whose sampled reads and writes are this much one key is not split by load: the key is reported. */
    static final double HOT_KEY_SHARE = 0.5;

    /** A byte count for people: "70.2 MiB". */
    static String bytesText(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }

    // ---- Splits (run by the control group's leader) -------------------------------------------

    /**
     * Splits the shard that holds {@code key} at it, on this member, which must lead the control
     * group: records the new map (the new shard being made, on the same members), then drives
     * the split until the new shard holds its keys. Answers the split's map and version.
     * {@code reason} says why (empty: an operator asked), for status and the split counter.
     */
    CompletableFuture<dev.txkv.proto.SplitResponse> split(byte[] key, String reason) {
        if (key.length == 0) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.INVALID_OPTION_VALUE,
                    "The empty key begins the first shard; give a key inside a shard"));
        }
        String why = reason.isEmpty() ? OPERATOR : reason;
        log.info("member {}: asked to split at {} ({})", self, dev.txkv.ByteArrays.printable(key), why);
        return changeMap(m -> m.split(key, why)).whenComplete((m, e) -> {
            if (e != null) {
                log.info("member {}: split at {} refused: {}", self, dev.txkv.ByteArrays.printable(key), e.toString());
            }
        }).thenCompose(next -> {
            ClusterMap.Entry child = next.byId(next.nextId() - 1);
            log.info("member {}: splitting shard {} at {} into new shard {}", self, child.splittingFrom(),
                    dev.txkv.ByteArrays.printable(key), child.id());
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SPLIT_WAIT_MS);
            int made = child.id();
            int parent = child.splittingFrom();
            return driveUntil(() -> drive(made, parent), deadline, 200, error -> {
                String note = unwrap(error).getMessage();
                if (!note.equals(splitNotes.put(made, note))) {
                    log.info("member {}: the split making shard {} is not done yet ({}); trying again", self, made, note);
                }
            }).thenApply(version -> {
                countSplit(why.equals(OPERATOR) ? "operator" : why.startsWith("load") ? "load" : "size");
                return dev.txkv.proto.SplitResponse.newBuilder()
                        .setShard(child.splittingFrom()).setNewShard(child.id()).setVersion(version)
                        .setMap(clusterMap.toProto()).build();
            });
        });
    }

    /** The split reason of a split an operator asked for. */
    static final String OPERATOR = "asked by an operator";

    private void countSplit(String cause) {
        io.micrometer.core.instrument.MeterRegistry r = registry;
        if (r != null) {
            io.micrometer.core.instrument.Counter.builder("txkv.shard.splits")
                    .description("Splits this member completed as the control group's leader, by cause (size, load, operator)")
                    .tag("cause", cause).register(r).increment();
        }
    }

    /** {@link #split} on the control group's leader, wherever it runs. */
    CompletableFuture<dev.txkv.proto.SplitResponse> splitOnLeader(byte[] key, String reason) {
        log.info("member {}: a split at {} asked; passing it to the control group's leader ({})", self,
                dev.txkv.ByteArrays.printable(key), leaderOf(ShardLayout.CONTROL).orElse("unknown"));
        return onLeader(ShardLayout.CONTROL, "split", e -> split(key, reason), SPLIT_WAIT_MS + CONTROL_CALL_MS, null,
                (stub, answer) -> stub.split(dev.txkv.proto.SplitRequest.newBuilder()
                        .setProtocolVersion(dev.txkv.wire.WireCommits.PROTOCOL_VERSION).setKey(com.google.protobuf.ByteString.copyFrom(key))
                        .setForwarded(true).setReason(reason).build(), answer),
                (dev.txkv.proto.SplitResponse r) -> r);
    }

    /**
     * Runs {@code drive} until it completes: after each failure again {@code everyMs} later (told
     * to {@code retried}), until {@code deadlineNanos} passes or this member no longer leads the
     * control group; then it fails with the last failure.
     */
    private <T> CompletableFuture<T> driveUntil(java.util.function.Supplier<CompletableFuture<T>> drive,
            long deadlineNanos, long everyMs, java.util.function.Consumer<Throwable> retried) {
        return drive.get().handle((value, error) -> {
            if (error == null) {
                return CompletableFuture.completedFuture(value);
            }
            if (System.nanoTime() > deadlineNanos || !control().isLeading()) {
                return CompletableFuture.<T>failedFuture(error);
            }
            retried.accept(error);
            CompletableFuture<T> again = new CompletableFuture<>();
            maintenance.schedule(() -> driveUntil(drive, deadlineNanos, everyMs, retried).whenComplete((v, e) -> {
                if (e != null) {
                    again.completeExceptionally(e);
                } else {
                    again.complete(v);
                }
            }), everyMs, TimeUnit.MILLISECONDS);
            return again;
        }).thenCompose(Function.identity());
    }

    /**
     * The drive of {@code key} already under way in {@code running}, or null once {@code done}
     * is registered as it (and removed from there when it completes).
     */
    private static <K, T> CompletableFuture<T> runningDrive(Map<K, CompletableFuture<T>> running, K key,
            CompletableFuture<T> done) {
        CompletableFuture<T> other = running.putIfAbsent(key, done);
        if (other != null) {
            return other;
        }
        done.whenComplete((v, e) -> running.remove(key, done));
        return null;
    }

    /**
     * Completes the split that makes shard {@code child}, once (a drive already under way is
     * joined): once the new shard has a leader, its parent's leader splits at the new shard's
     * first key, the new shard's leader
     * takes its keys at the split's version, and the map records the new shard as made. Every
     * step may be asked again after a failure: it answers what it did the first time. For a
     * shard already made, answers the version of its split by asking {@code parent} again.
     */
    private CompletableFuture<Long> drive(int child, int parent) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        CompletableFuture<Long> running = runningDrive(drives, child, done);
        if (running != null) {
            return running;
        }
        ClusterMap.Entry entry = clusterMap.byId(child);
        if (entry == null) {
            done.completeExceptionally(new TxkvException(ErrorCode.OPERATION_FAILED, "No shard " + child + " in the map"));
            return done;
        }
        if (!entry.splitting()) {
            // Made already (by this member's periodic drive, or before a failover): the parent
            // answers the split's version again.
            splitOffOnLeader(parent, entry.begin(), child)
                    .whenComplete((version, error) -> {
                        if (error != null) {
                            done.completeExceptionally(unwrap(error));
                        } else {
                            done.complete(version);
                        }
                    });
            return done;
        }
        byte[] begin = entry.begin();
        byte[] end = entry.end();
        childLeader(child).thenCompose(x -> splitOffOnLeader(parent, begin, child))
                .thenCompose(version -> onLeader(child, "born", e -> e.born(parent, version, begin, end).thenApply(x -> version), CONTROL_CALL_MS,
                        null, (stub, answer) -> stub.born(ShardProtos.bornRequest(child, parent, version, begin, end), answer),
                        (dev.txkv.proto.BornResponse r) -> version))
                .thenCompose(version -> changeMap(m -> m.byId(child) != null && m.byId(child).splitting() ? m.born(child) : m)
                        .thenApply(m -> version))
                .whenComplete((version, error) -> {
                    if (error != null) {
                        done.completeExceptionally(unwrap(error));
                    } else {
                        splitNotes.remove(child);
                        log.info("member {}: shard {} is made (split from shard {} at version {})", self, child, parent,
                                version);
                        done.complete(version);
                    }
                });
        return done;
    }

    /** Shard {@code parent}'s leader splits it at {@code key} for {@code child}; the split's version (again: the same). */
    private CompletableFuture<Long> splitOffOnLeader(int parent, byte[] key, int child) {
        return onLeader(parent, "splitOff", e -> e.splitOff(key, child), CONTROL_CALL_MS, null,
                (stub, answer) -> stub.splitOff(ShardProtos.splitOffRequest(parent, key, child), answer),
                (dev.txkv.proto.SplitOffResponse r) -> r.getVersion());
    }

    // ---- Merges (run by the control group's leader) -------------------------------------------

    /** Merges being driven to completion on this member (it leads the control group), by the shard removed. */
    private final Map<Integer, CompletableFuture<Integer>> mergeDrives = new ConcurrentHashMap<>();
    private final Map<Integer, String> mergeNotes = new ConcurrentHashMap<>();
    /** How long an operator's merge may take before the call gives up (the merge itself goes on). */
    static final long MERGE_WAIT_MS = 300_000;

    /**
     * Merges shard {@code left} with the shard after it, on this member, which must lead the
     * control group: records the merge in the map, then drives it until {@code left} holds both
     * shards' keys on every replica and the other shard is removed. {@code reason} says why
     * (empty: an operator asked), for status and the merge counter.
     */
    CompletableFuture<dev.txkv.proto.MergeResponse> merge(int left, String reason) {
        String why = reason.isEmpty() ? OPERATOR : reason;
        log.info("member {}: asked to merge shard {} with the shard after it ({})", self, left, why);
        return changeMap(m -> m.merge(left, why)).whenComplete((m, e) -> {
            if (e != null) {
                log.info("member {}: merge of shard {} refused: {}", self, left, unwrap(e).getMessage());
            }
        }).thenCompose(next -> {
            ClusterMap.Entry right = next.merging();
            if (right == null || right.mergingInto() != left) {
                return CompletableFuture.failedFuture(new TxkvException(ErrorCode.OPERATION_FAILED,
                        "Shard " + left + " is not merging; try again"));
            }
            log.info("member {}: merging shard {} into shard {} ({})", self, right.id(), left, why);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MERGE_WAIT_MS);
            int removed = right.id();
            return driveUntil(() -> driveMerge(removed), deadline, 200, error -> { }).thenApply(holder -> {
                countMerge(why.equals(OPERATOR) ? "operator" : "size");
                return dev.txkv.proto.MergeResponse.newBuilder().setShard(holder).setAbsorbed(right.id())
                        .setMap(clusterMap.toProto()).build();
            });
        });
    }

    /** {@link #merge} on the control group's leader, wherever it runs. */
    CompletableFuture<dev.txkv.proto.MergeResponse> mergeOnLeader(int left, String reason) {
        return onLeader(ShardLayout.CONTROL, "merge", e -> merge(left, reason), MERGE_WAIT_MS + CONTROL_CALL_MS, null,
                (stub, answer) -> stub.merge(dev.txkv.proto.MergeRequest.newBuilder()
                        .setProtocolVersion(dev.txkv.wire.WireCommits.PROTOCOL_VERSION).setShard(left).setForwarded(true)
                        .setReason(reason).build(), answer),
                (dev.txkv.proto.MergeResponse r) -> r);
    }

    private void countMerge(String cause) {
        io.micrometer.core.instrument.MeterRegistry r = registry;
        if (r != null) {
            io.micrometer.core.instrument.Counter.builder("txkv.shard.merges")
                    .description("Merges this member completed as the control group's leader, by cause (size, operator)")
                    .tag("cause", cause).register(r).increment();
        }
    }

    /**
     * Completes the merge that removes shard {@code right}, once (a drive under way is joined):
     * its leader gives all its keys away at a fence version, its left neighbour's leader
     * absorbs them (every replica copies them from its replica of {@code right} on the same
     * member), and the map routes them there; once every replica of the neighbour holds them
     * and {@code right} keeps no two-phase state, the map removes it and its replicas are
     * dropped. Every step may be asked again after a failure. Answers the absorbing shard.
     */
    private CompletableFuture<Integer> driveMerge(int right) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        CompletableFuture<Integer> running = runningDrive(mergeDrives, right, done);
        if (running != null) {
            return running;
        }
        ClusterMap.Entry entry = clusterMap.byId(right);
        if (entry == null || !entry.merging()) {
            int holder = clusterMap.holderOf(right);
            if (holder >= 0 && holder != right) {
                done.complete(holder);
            } else {
                done.completeExceptionally(new TxkvException(ErrorCode.OPERATION_FAILED, "Shard " + right + " is not merging"));
            }
            return done;
        }
        int left = entry.mergingInto();
        byte[] begin = entry.begin();
        byte[] end = entry.end();
        CompletableFuture<Void> absorbed = entry.mergeAbsorbed() ? CompletableFuture.completedFuture(null)
                : onLeader(right, "mergeAway", e -> e.mergeAway(left), CONTROL_CALL_MS, null,
                        (stub, answer) -> stub.mergeAway(dev.txkv.proto.MergeAwayRequest.newBuilder()
                                .setProtocolVersion(dev.txkv.wire.WireCommits.PROTOCOL_VERSION).setShard(right).setInto(left)
                                .build(), answer),
                        (dev.txkv.proto.MergeAwayResponse r) -> r.getVersion())
                .thenCompose(fence -> onLeader(left, "absorb", e -> e.absorb(right, fence, begin, end), CONTROL_CALL_MS, null,
                        (stub, answer) -> stub.absorb(ShardProtos.absorbRequest(left, right, fence, begin, end), answer),
                        (dev.txkv.proto.AbsorbResponse r) -> -1L))
                .thenCompose(v -> changeMap(m -> m.byId(right) != null && m.byId(right).merging() ? m.absorbed(right) : m))
                .thenApply(m -> (Void) null);
        absorbed.thenCompose(x -> mergeSettled(left, right))
                .thenCompose(x -> changeMap(m -> m.merged(right)))
                .whenComplete((m, error) -> {
                    if (error != null) {
                        String why = unwrap(error).getMessage();
                        if (!why.equals(mergeNotes.put(right, why))) {
                            log.info("member {}: the merge of shard {} into shard {} is not done yet ({}); trying again",
                                    self, right, left, why);
                        }
                        done.completeExceptionally(unwrap(error));
                    } else {
                        mergeNotes.remove(right);
                        log.info("member {}: shard {} merged into shard {}, which now holds {}", self, right, left,
                                m.byId(left) == null ? "?" : m.byId(left).shard());
                        done.complete(left);
                    }
                });
        return done;
    }

    /**
     * Completes once every replica of {@code left} holds the keys of {@code right} by its log (a
     * replica that has not applied the absorb yet copies them from its member's replica of
     * {@code right}, which must stay until then) and no replica of {@code right} keeps
     * two-phase state (its coordinator's decisions, forgotten only once every participant noted
     * them, would be lost with it).
     */
    private CompletableFuture<Void> mergeSettled(int left, int right) {
        ClusterMap.Entry l = clusterMap.byId(left);
        ClusterMap.Entry r = clusterMap.byId(right);
        if (l == null || r == null) {
            return CompletableFuture.completedFuture(null);
        }
        byte[] end = r.end();
        List<CompletableFuture<String>> asks = new ArrayList<>();
        for (String m : l.replicas()) {
            asks.add(replicaStateOf(m, left).handle((state, error) -> error != null ? "member " + m + "'s replica of shard "
                    + left + " is not open" : notAbsorbed(state, m, left, right, end)));
        }
        // The right shard's replicas on lost members are not waited for: those members drop
        // them when they come back, and its two-phase state, replicated, is told by the others.
        java.util.Set<String> lost = lastLost;
        java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();
        for (String m : r.replicas()) {
            if (lost.contains(m)) {
                continue;
            }
            asks.add(replicaStateOf(m, right).handle((state, error) -> {
                if (error != null) {
                    return "member " + m + " did not answer for its replica of shard " + right;
                }
                if (state.getOpen()) {
                    open.incrementAndGet();
                }
                return state.getOpen() && state.getTwoPhaseOpen() != 0 ? "member " + m + "'s replica of shard " + right
                        + " still keeps two-phase state" : null;
            }));
        }
        return CompletableFuture.allOf(asks.toArray(new CompletableFuture<?>[0])).thenCompose(x -> {
            if (open.get() == 0) {
                return CompletableFuture.<Void>failedFuture(new TxkvException(ErrorCode.OPERATION_FAILED,
                        "no replica of shard " + right + " is open to tell its two-phase state"));
            }
            for (CompletableFuture<String> a : asks) {
                if (a.join() != null) {
                    return CompletableFuture.<Void>failedFuture(new TxkvException(ErrorCode.OPERATION_FAILED, a.join()));
                }
            }
            return CompletableFuture.<Void>completedFuture(null);
        });
    }

    /**
     * Why member {@code m}'s replica of shard {@code left}, in {@code state}, does not hold the
     * keys of shard {@code right} (which end at {@code end}, null for the keyspace's end) yet;
     * null when it holds them (it applied the absorb).
     */
    private static String notAbsorbed(dev.txkv.proto.ReplicaStateResponse state, String m, int left, int right, byte[] end) {
        if (!state.getOpen() || !state.hasOwnedBegin()) {
            return "member " + m + "'s replica of shard " + left + " is not open";
        }
        boolean holds = end == null ? !state.hasOwnedEnd() : !state.hasOwnedEnd()
                || dev.txkv.ByteArrays.compareUnsigned(state.getOwnedEnd().toByteArray(), end) >= 0;
        return holds ? null : "member " + m + "'s replica of shard " + left + " has not absorbed shard " + right + " yet";
    }

    /** Shard {@code id}'s size and load as this member, its leader, measures them (ShardPeer.ShardStats). */
    dev.txkv.proto.ShardStatsResponse shardStats(int id, Engine engine) {
        Double load = lastLoads.get(id);
        return dev.txkv.proto.ShardStatsResponse.newBuilder().setBytes(engine.ownedBytesEstimate())
                .setKeysPerSecond(load == null ? -1 : load).build();
    }

    /** The load each shard this member led had over its last split check, in keys per second. */
    private final Map<Integer, Double> lastLoads = new ConcurrentHashMap<>();

    /** How many times a change of the map that conflicts with another is made again on the newer map. */
    static final int MAP_CHANGE_ATTEMPTS = 5;

    /**
     * Changes the map in the control group (this member must lead it), as a transaction on its
     * key, and adopts the result here. Concurrent changes conflict: the one that loses is made
     * again on the newer map (where it may now be refused, or already done), up to
     * {@link #MAP_CHANGE_ATTEMPTS} times.
     */
    private CompletableFuture<ClusterMap> changeMap(Function<ClusterMap, ClusterMap> change) {
        return changeMap(change, 1);
    }

    private CompletableFuture<ClusterMap> changeMap(Function<ClusterMap, ClusterMap> change, int attempt) {
        return changeMapOnce(change).handle((m, error) -> {
            Throwable cause = error == null ? null : unwrap(error);
            if (cause instanceof TxkvException t && t.getError() == ErrorCode.NOT_COMMITTED
                    && attempt < MAP_CHANGE_ATTEMPTS) {
                return changeMap(change, attempt + 1);
            }
            return error == null ? CompletableFuture.completedFuture(m) : CompletableFuture.<ClusterMap>failedFuture(cause);
        }).thenCompose(Function.identity());
    }

    private CompletableFuture<ClusterMap> changeMapOnce(Function<ClusterMap, ClusterMap> change) {
        Engine control = control();
        if (!control.isLeading()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.NOT_LEADER,
                    "Member " + self + " does not lead the control group, which keeps the shard map"));
        }
        List<dev.txkv.Range> keys = List.of(new dev.txkv.Range(ClusterMap.KEY, dev.txkv.ByteArrays.keyAfter(ClusterMap.KEY)));
        return control.getReadVersion().thenCompose(rv -> control.get(ClusterMap.KEY, rv).thenCompose(bytes -> {
            ClusterMap current = ClusterMap.decode(bytes);
            ClusterMap next = change.apply(current == null ? ClusterMap.initial(layout) : current);
            if (current != null && next == current) {
                return CompletableFuture.completedFuture(current);
            }
            CommitRequest write = new CommitRequest(rv, keys, keys,
                    List.of(new dev.txkv.spi.Mutation(dev.txkv.spi.Mutation.SET, ClusterMap.KEY, next.encode())), null, false);
            return control.commit(write).thenApply(r -> {
                adopt(next);
                return next;
            });
        }));
    }

    /**
     * The layout a data directory records: the shard count, the replicas per shard, the members
     * the server was first started with, and whether it joined a running cluster.
     */
    record Recorded(ShardLayout layout, boolean joined) {
    }

    /**
     * Records the layout in a new data directory, or checks it against the one recorded, and
     * returns the recorded one; an unsharded database in the directory is refused. The shard
     * count and replicas must be the recorded ones; the members the flags name may grow (members
     * that joined later), but must include every recorded one. A directory recorded as joined
     * stays so; one of a founding member refuses {@code --join}.
     */
    static Recorded checkLayout(Path dataDir, ShardLayout layout, boolean join) {
        Path file = dataDir.resolve(LAYOUT_FILE);
        String wanted = "shards=" + layout.shards() + "\nreplicas=" + layout.replicas() + "\nmembers="
                + String.join(",", layout.members()) + "\n" + (join ? "joined=true\n" : "");
        try {
            if (Files.exists(file)) {
                String recorded = Files.readString(file, StandardCharsets.UTF_8);
                java.util.Properties p = new java.util.Properties();
                p.load(new java.io.StringReader(recorded));
                List<String> members = List.of(p.getProperty("members", "").split(","));
                boolean joined = Boolean.parseBoolean(p.getProperty("joined", "false"));
                boolean same = String.valueOf(layout.shards()).equals(p.getProperty("shards"))
                        && String.valueOf(layout.replicas()).equals(p.getProperty("replicas"))
                        && layout.members().containsAll(members);
                if (!same) {
                    throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "The data directory " + dataDir
                            + " holds a sharded cluster laid out as [" + recorded.trim().replace('\n', ' ')
                            + "], but this server was started as [" + wanted.trim().replace('\n', ' ')
                            + "]; a cluster's shard count and replicas are fixed when it is created, and --peers"
                            + " must name at least the members recorded");
                }
                if (join && !joined) {
                    throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "The data directory " + dataDir
                            + " belongs to a founding member of its cluster; start it without --join");
                }
                return new Recorded(new ShardLayout(members, layout.shards(), layout.replicas()), joined);
            }
            if (Files.exists(dataDir.resolve("CURRENT")) || Files.isDirectory(dataDir.resolve("raft"))) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "The data directory " + dataDir
                        + " holds an unsharded database; start it without --shards, or give a new directory");
            }
            Files.createDirectories(dataDir);
            Path tmp = dataDir.resolve(LAYOUT_FILE + ".tmp");
            Files.writeString(tmp, wanted, StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return new Recorded(layout, join);
        } catch (IOException e) {
            throw new TxkvException(ErrorCode.IO_ERROR, "Cannot record the shard layout in " + file + ": " + e, e);
        }
    }

    /** Whether {@code dataDir} holds a sharded cluster's data (an unsharded server must refuse it). */
    static boolean isSharded(Path dataDir) {
        return Files.exists(dataDir.resolve(LAYOUT_FILE));
    }

    ShardLayout layout() {
        return layout;
    }

    String self() {
        return self;
    }

    /** This member's replica of the control group. */
    Engine control() {
        return engines.get(ShardLayout.CONTROL);
    }

    /** This member's replica of {@code group}, or null when it keeps none. */
    Engine replica(int group) {
        return engines.get(group);
    }

    /** The sequencer over this member's replica of the control group (it serves only while that leads). */
    ControlSequencer sequencer() {
        return sequencer;
    }

    /** Who leads {@code group} as far as this member knows: its own replica's view, else the last answer seen. */
    Optional<String> leaderOf(int group) {
        Engine e = engines.get(group);
        if (e != null) {
            if (e.isLeading()) {
                return Optional.of(self);
            }
            Optional<String> known = e.leaderId();
            if (known.isPresent()) {
                return known;
            }
        }
        return Optional.ofNullable(leaderGuess.get(group));
    }

    /**
     * Registers this member's shard meters in {@code registry}: per shard whether this member
     * leads it and its replica's applied version and two-phase backlog, and a timer of the calls
     * to other servers by method and outcome ({@code txkv.shard.peer.call}).
     */
    synchronized void bindMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
        this.registry = registry;
        for (Map.Entry<Integer, Engine> e : engines.entrySet()) {
            bindEngineMetrics(registry, e.getKey(), e.getValue());
        }
    }

    private static void bindEngineMetrics(io.micrometer.core.instrument.MeterRegistry registry, int id, Engine engine) {
        String group = id == ShardLayout.CONTROL ? "control" : String.valueOf(id);
        io.micrometer.core.instrument.Gauge.builder("txkv.shard.leading", engine, x -> x.isLeading() ? 1 : 0)
                .description("Whether this member leads the group (a shard, or the control group)")
                .tag("shard", group).register(registry);
        io.micrometer.core.instrument.Gauge.builder("txkv.shard.applied.version", engine,
                x -> safely(() -> x.counters().versionCommitted()))
                .description("The newest version this member's replica of the group committed or applied")
                .tag("shard", group).register(registry);
        if (id != ShardLayout.CONTROL) {
            io.micrometer.core.instrument.Gauge.builder("txkv.shard.two.phase.undecided", engine,
                    x -> safely(() -> x.twoPhaseCounts().map(c -> (long) c[0]).orElse(0L)))
                    .description("Prepared slices on this member's replica awaiting their outcome")
                    .tag("shard", group).register(registry);
        }
    }

    private static double safely(java.util.function.LongSupplier value) {
        try {
            return value.getAsLong();
        } catch (RuntimeException closed) {
            return Double.NaN;
        }
    }

    private void timeCall(String method, long startNanos, Throwable error) {
        io.micrometer.core.instrument.MeterRegistry r = registry;
        if (r == null) {
            return;
        }
        String outcome = error == null ? "ok" : "error";
        // Built once per method and outcome: forwarded commits pass here one by one.
        callTimers.computeIfAbsent(method + "/" + outcome, k -> io.micrometer.core.instrument.Timer
                .builder("txkv.shard.peer.call")
                .description("Calls to other servers of a sharded cluster (ShardPeer), by method and outcome")
                .tag("method", method).tag("outcome", outcome).publishPercentileHistogram().register(r))
                .record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    }

    /** Every shard as this member knows it, in key order, for status. */
    List<ClusterStatus.Shard> shardStatus() {
        List<ClusterStatus.Shard> out = new ArrayList<>();
        for (ClusterMap.Entry s : clusterMap.shards()) {
            Engine e = engines.get(s.id());
            java.util.OptionalLong applied = java.util.OptionalLong.empty();
            java.util.OptionalLong bytes = java.util.OptionalLong.empty();
            java.util.OptionalLong undecided = java.util.OptionalLong.empty();
            String twoPhase = "";
            if (e != null) {
                try {
                    dev.txkv.engine.EngineCounters c = e.counters();
                    applied = java.util.OptionalLong.of(c.versionCommitted());
                    long owned = e.ownedBytesEstimate();
                    bytes = owned < 0 ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(owned);
                    String note = unsplittable.get(s.id());
                    twoPhase = (s.splitting() ? "being split from shard " + s.splittingFrom() + " (" + s.splitReason()
                            + "), " : "") + (note == null ? "" : note + ", ") + e.shardState();
                    undecided = e.twoPhaseCounts().map(n -> java.util.OptionalLong.of(n[0]))
                            .orElse(java.util.OptionalLong.empty());
                } catch (RuntimeException closing) {
                    twoPhase = "unavailable: " + closing.getMessage();
                }
            }
            if (s.moving()) {
                twoPhase = "moving to " + String.join(",", s.movingTo()) + " (" + s.moveReason() + ")"
                        + (twoPhase.isEmpty() ? "" : ", " + twoPhase);
            }
            if (s.merging()) {
                twoPhase = (s.mergeAbsorbed() ? "absorbed by shard " : "merging into shard ") + s.mergingInto() + " ("
                        + s.mergeReason() + ")" + (twoPhase.isEmpty() ? "" : ", " + twoPhase);
            }
            byte[] end = s.end() == null ? new byte[0] : s.end();
            out.add(new ClusterStatus.Shard(s.id(), s.begin(), end, s.members(),
                    leaderOf(s.id()).orElse(""), applied, bytes, twoPhase, undecided,
                    leaderOf(s.id()).map(this::clientAddress).orElse(""), s.movingTo(), s.moveReason()));
        }
        return out;
    }

    /** The sequencer as this member knows it, for status: its epoch when this member runs it. */
    ClusterStatus.Sequencer sequencerStatus() {
        java.util.OptionalLong epoch = java.util.OptionalLong.empty();
        Engine control = control();
        if (control != null && control.isLeading()) {
            try {
                epoch = java.util.OptionalLong.of(sequencer.epoch().get(200, TimeUnit.MILLISECONDS));
            } catch (Exception notYet) {
                // A new leader starting its epoch: none to report yet.
                if (notYet instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        return new ClusterStatus.Sequencer(leaderOf(ShardLayout.CONTROL).orElse(""), epoch,
                leaderOf(ShardLayout.CONTROL).map(this::clientAddress).orElse(""));
    }

    /** This server's own client address once it is bound (for status); empty until then. */
    void selfAddress(java.util.function.Supplier<String> address) {
        this.selfAddress = address;
    }

    /** Member {@code id}'s client address as configured (this member's: its bound one), or empty. */
    private String clientAddress(String id) {
        return LeaderDirectory.address(id, clientAddresses, self, selfAddress.get());
    }

    /** The not_leader detail of {@code group} as this member knows it. */
    NotLeader notLeader(int group) {
        NotLeader.Builder b = NotLeader.newBuilder().setMemberId(self);
        leaderOf(group).filter(id -> !id.equals(self)).ifPresent(id -> b.setLeaderId(id)
                .setLeaderAddress(clientAddresses.getOrDefault(id, "")));
        return b.build();
    }

    /** What this server's client service routes through: the whole keyspace, any shard's leader. */
    ShardRouter.Shards gateway() {
        return new Gateway();
    }

    // ---- Moves (run by the control group's leader) --------------------------------------------

    /** How long a move request waits for the move to complete before it answers with the error it met. */
    static final long MOVE_WAIT_MS = 300_000;
    /** Deadline of a membership change of a shard's Raft group (new members catch up meanwhile). */
    static final long SET_MEMBERS_CALL_MS = 60_000;

    /** Moves being driven to completion on this member (it leads the control group), by shard id. */
    private final Map<Integer, CompletableFuture<Void>> moveDrives = new ConcurrentHashMap<>();
    /** How often the control group's leader looks for lost members and moves to make. */
    static final long LOST_CHECK_MS = 1_000;
    private final long replaceLostAfterMs;
    private final boolean rebalance;
    private volatile long nextLostCheckNanos = System.nanoTime();
    /** A replacement move being recorded in the map (one at a time). */
    private final java.util.concurrent.atomic.AtomicBoolean replacing = new java.util.concurrent.atomic.AtomicBoolean();
    /** Replicas on lost or excluded members that no member can take, as logged (once each while it lasts). */
    private final java.util.Set<String> irreplaceable = ConcurrentHashMap.newKeySet();

    /**
     * On the control group's leader: the members it has not heard from for
     * {@code replaceLostAfterMs} are lost; asks for the next move {@link Placement} gives (off lost
     * and excluded members, then an even replica count when rebalancing is on). One move at a
     * time; the map's move drive does the rest. A shard whose replicas lost their majority
     * cannot change its members until they are back.
     */
    private void distribute(Engine control) {
        if (clusterMap.splitting() != null || replacing.get()) {
            return;
        }
        ReplicationStateView view = ReplicationStateView.of(control);
        for (String m : members()) {
            if (!m.equals(self) && view.silentMs(m) > LEADER_TARGET_SILENT_MS) {
                lastUnheardNanos.put(m, System.nanoTime());
            }
        }
        java.util.Set<String> lost = new java.util.TreeSet<>();
        if (replaceLostAfterMs > 0) {
            for (String m : members()) {
                if (!m.equals(self) && view.silentMs(m) > replaceLostAfterMs) {
                    lost.add(m);
                }
            }
        }
        lastLost = java.util.Set.copyOf(lost);
        java.util.Set<String> stuckNow = new java.util.HashSet<>();
        ClusterMap map = clusterMap;
        Placement.Weights weights = weights(map);
        java.util.Optional<Placement.Move> move = Placement.next(map, members(), lost, rebalance && weights != null,
                weights == null ? Placement.Weights.COUNTS : weights, mergePinned, note -> {
                    stuckNow.add(note);
                    if (irreplaceable.add(note)) {
                        log.warn("member {}: {}", self, note);
                    }
                });
        irreplaceable.retainAll(stuckNow);
        if (move.isEmpty()) {
            if (rebalance && clusterMap.moving() == null && System.nanoTime() - nextLeaderBalanceNanos >= 0) {
                nextLeaderBalanceNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LEADER_BALANCE_MS);
                // Never to a member that is down or just came back: a Raft leader refuses writes
                // while it hands over, and a hand-over to a member that cannot take it lasts
                // until it times out.
                java.util.Set<String> draining = new java.util.HashSet<>(lost);
                draining.addAll(clusterMap.excluded());
                long now = System.nanoTime();
                for (String m : members()) {
                    Long unheard = lastUnheardNanos.get(m);
                    if (unheard != null && now - unheard < TimeUnit.MILLISECONDS.toNanos(LEADER_TARGET_SETTLE_MS)) {
                        draining.add(m);
                    }
                }
                balanceLeaders(draining, weights == null ? Placement.Weights.COUNTS : weights);
            }
            if (rebalance && System.nanoTime() - nextStatsNanos >= 0) {
                nextStatsNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(autoSplit.checkMs());
                gatherStats();
            }
            return;
        }
        Placement.Move m = move.get();
        moveShard(m.shard(), m.target(), m.reason());
    }

    /** Records the move of {@code shard} to {@code target} in the map (one at a time); the map's move drive does the rest. */
    private void moveShard(int shard, List<String> target, String reason) {
        log.info("member {}: moves shard {} to {} ({})", self, shard, target, reason);
        replacing.set(true);
        changeMap(x -> x.move(shard, target, reason, x.members(layout.members()))).whenComplete((x, error) -> {
            replacing.set(false);
            if (error != null) {
                log.info("member {}: the move of shard {} to {} did not start: {}", self, shard, target,
                        unwrap(error).getMessage());
            }
        });
    }

    // ---- Shard sizes and loads (the control group's leader) -----------------------------------

    /** The members the control group's leader found lost at its last look. */
    private volatile java.util.Set<String> lastLost = java.util.Set.of();
    private volatile long nextStatsNanos = System.nanoTime();
    private final java.util.concurrent.atomic.AtomicBoolean gathering = new java.util.concurrent.atomic.AtomicBoolean();
    /** Each shard's size and load as its leader last told this member, and the map they were gathered on. */
    private volatile Map<Integer, Placement.Stats> statsSeen = Map.of();
    private volatile ClusterMap statsMap;

    /**
     * The weights the rebalancer evens out on {@code map} ({@link Placement.Weights}: a shard
     * weighs the largest of one, its bytes in eighths of the split size and its load in eighths
     * of the split load); null while the sizes and loads at hand were gathered on a map with
     * other shards (a split or merge since), so that nothing moves on figures of shards that no
     * longer exist.
     */
    private Placement.Weights weights(ClusterMap map) {
        ClusterMap seen = statsMap;
        if (seen == null || !sameShards(seen, map)) {
            return null;
        }
        long bytesUnit = (autoSplit.bytes() > 0 ? autoSplit.bytes() : ServerConfig.SPLIT_SIZE_DEFAULT) / WEIGHT_UNITS;
        double loadUnit = (double) (autoSplit.keysPerSecond() > 0 ? autoSplit.keysPerSecond()
                : ServerConfig.SPLIT_LOAD_DEFAULT) / WEIGHT_UNITS;
        return new Placement.Weights(statsSeen, Math.max(1, bytesUnit), loadUnit);
    }

    /** A shard at the split size (or the split load) weighs this many small idle shards. */
    static final int WEIGHT_UNITS = 8;

    private static boolean sameShards(ClusterMap a, ClusterMap b) {
        if (a.shards().size() != b.shards().size()) {
            return false;
        }
        for (int i = 0; i < a.shards().size(); i++) {
            ClusterMap.Entry x = a.shards().get(i);
            ClusterMap.Entry y = b.shards().get(i);
            if (x.id() != y.id() || !java.util.Arrays.equals(x.begin(), y.begin()) || !java.util.Arrays.equals(x.end(), y.end())) {
                return false;
            }
        }
        return true;
    }

    /**
     * On the control group's leader, every split check's period while no replica moves: learns
     * each shard's size and load from its leader (ShardPeer.ShardStats) for the rebalancer, then
     * looks for shards to merge ({@link #considerMerges}).
     */
    private void gatherStats() {
        ClusterMap map = clusterMap;
        if (!gathering.compareAndSet(false, true)) {
            return;
        }
        Map<Integer, CompletableFuture<dev.txkv.proto.ShardStatsResponse>> asks = new java.util.TreeMap<>();
        for (ClusterMap.Entry e : map.shards()) {
            asks.put(e.id(), onLeader(e.id(), "shardStats", x -> CompletableFuture.completedFuture(shardStats(e.id(), x)),
                    CONTROL_CALL_MS, null, (stub, answer) -> stub.shardStats(dev.txkv.proto.ShardStatsRequest.newBuilder()
                            .setProtocolVersion(dev.txkv.wire.WireCommits.PROTOCOL_VERSION).setShard(e.id()).build(), answer),
                    (dev.txkv.proto.ShardStatsResponse r) -> r).handle((r, error) -> error == null ? r : null));
        }
        CompletableFuture.allOf(asks.values().toArray(new CompletableFuture<?>[0])).thenAccept(x -> {
            Map<Integer, Placement.Stats> stats = new java.util.TreeMap<>();
            asks.forEach((id, answer) -> {
                dev.txkv.proto.ShardStatsResponse r = answer.join();
                if (r != null && r.getBytes() >= 0) {
                    stats.put(id, new Placement.Stats(r.getBytes(), r.getKeysPerSecond()));
                }
            });
            statsSeen = Map.copyOf(stats);
            statsMap = map;
            if (autoSplit.bytes() > 0) {
                considerMerges(map, stats);
            }
        }).whenComplete((x, error) -> gathering.set(false));
    }

    // ---- Automatic merges (the control group's leader) -----------------------------------------

    /** A pair must be found small and cold at this many checks in a row before it merges. */
    static final int MERGE_CHECKS = 3;
    /** Two neighbours merge when together they hold less than the split size divided by this (and carry less than the split load so divided). */
    static final int MERGE_FRACTION = 4;
    /** Neighbours found small and cold at consecutive checks, by the left shard's id: how many in a row. */
    private final Map<Integer, Integer> mergeStreaks = new ConcurrentHashMap<>();

    /**
     * On the control group's leader, with each shard's size and load just gathered on
     * {@code map}: merges the first two neighbours on the same members that together hold less
     * than a quarter of the split size and carry less than a quarter of the split load, at
     * {@link #MERGE_CHECKS} checks in a row (so a shard just split, or a lull in the load, does
     * not merge at once). Such neighbours on different members are first brought together: the
     * smaller one moves to the other's members. Never below the number of shards the cluster was
     * created with. Shards found small and cold are held in place by the rebalancer meanwhile.
     */
    private void considerMerges(ClusterMap map, Map<Integer, Placement.Stats> stats) {
        if (map.splitting() != null || map.moving() != null || map.merging() != null
                || map.shards().size() <= layout.shards() || clusterMap != map) {
            if (map.shards().size() <= layout.shards()) {
                mergeStreaks.clear();
                mergePinned = java.util.Set.of();
            }
            return;
        }
        long bytesMax = autoSplit.bytes() / MERGE_FRACTION;
        double loadMax = autoSplit.keysPerSecond() > 0 ? (double) autoSplit.keysPerSecond() / MERGE_FRACTION
                : Double.MAX_VALUE;
        java.util.Set<String> unusable = new java.util.HashSet<>(lastLost);
        unusable.addAll(map.excluded());
        String merge = null;
        int left = -1;
        ClusterMap.Entry bringTogether = null;
        List<String> together = null;
        String togetherWhy = null;
        java.util.Set<Integer> small = new java.util.HashSet<>();
        java.util.Set<Integer> pinned = new java.util.HashSet<>();
        for (int i = 0; i + 1 < map.shards().size(); i++) {
            ClusterMap.Entry l = map.shards().get(i);
            ClusterMap.Entry r = map.shards().get(i + 1);
            Placement.Stats a = stats.get(l.id());
            Placement.Stats b = stats.get(r.id());
            if (a == null || b == null || a.keysPerSecond() < 0 || b.keysPerSecond() < 0 || l.splitting() || r.splitting()) {
                continue;
            }
            long bytes = a.bytes() + b.bytes();
            double load = a.keysPerSecond() + b.keysPerSecond();
            if (bytes >= bytesMax || load >= loadMax) {
                continue;
            }
            small.add(l.id());
            pinned.add(l.id());
            pinned.add(r.id());
            int streak = mergeStreaks.merge(l.id(), 1, Integer::sum);
            if (merge != null || streak < MERGE_CHECKS) {
                continue;
            }
            String why = "size " + bytesText(bytes) + " together, under " + bytesText(bytesMax) + String.format(
                    java.util.Locale.ROOT, ", and load %,.0f keys/s", load) + (loadMax == Double.MAX_VALUE ? ""
                            : String.format(java.util.Locale.ROOT, ", under %,.0f", loadMax));
            if (new java.util.HashSet<>(l.members()).equals(new java.util.HashSet<>(r.members()))) {
                left = l.id();
                merge = why;
                continue;
            }
            // Different members: the smaller one goes where the other is, if every one of those
            // members is usable and it keeps as many replicas there.
            boolean rightMoves = b.bytes() <= a.bytes();
            ClusterMap.Entry mover = rightMoves ? r : l;
            ClusterMap.Entry stayer = rightMoves ? l : r;
            if (bringTogether == null && mover.members().size() == stayer.members().size()
                    && stayer.members().stream().noneMatch(unusable::contains)) {
                bringTogether = mover;
                together = stayer.members();
                togetherWhy = "to merge with shard " + stayer.id() + ": " + why;
            }
        }
        mergeStreaks.keySet().retainAll(small);
        mergePinned = java.util.Set.copyOf(pinned);
        if (merge != null) {
            int l = left;
            String why = merge;
            mergeStreaks.remove(l);
            log.info("member {}: merges shard {} with the shard after it by itself ({})", self, l, why);
            merge(l, why).whenComplete((r, error) -> {
                if (error != null) {
                    log.info("member {}: the automatic merge of shard {} did not happen now: {}", self, l,
                            unwrap(error).getMessage());
                }
            });
        } else if (bringTogether != null && !replacing.get()) {
            moveShard(bringTogether.id(), together, togetherWhy);
        }
    }

    /** The shards of neighbours found small and cold, which the rebalancer leaves in place. */
    private volatile java.util.Set<Integer> mergePinned = java.util.Set.of();

    /** How often the control group's leader evens out the shard leaders per member (when rebalancing). */    /** How often the control group's leader evens out the shard leaders per member (when rebalancing). */
    static final long LEADER_BALANCE_MS = 5_000;
    /**
     * A member the control group's leader has not heard from for longer than this, at any moment
     * of the last {@link #LEADER_TARGET_SETTLE_MS}, receives no shard leadership (it may be down,
     * or still catching its replicas up).
     */
    static final long LEADER_TARGET_SILENT_MS = 1_500;
    static final long LEADER_TARGET_SETTLE_MS = 15_000;
    /** When the control group's leader last found each member silent for too long. */
    private final Map<String, Long> lastUnheardNanos = new ConcurrentHashMap<>();
    private volatile long nextLeaderBalanceNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LEADER_BALANCE_MS);
    /**
     * A shard whose leadership the balancer handed over keeps its new leader this long before
     * the balancer hands it again, so that loads that shift between checks, or a hand-over
     * that a shard's own election undid, do not make its leadership swing to and fro.
     */
    static final long LEADER_HOLD_MS = 60_000;
    /** When the balancer last handed each shard's leadership over. */
    private final Map<Integer, Long> leaderHandedNanos = new ConcurrentHashMap<>();
    /** A leadership hand-over under way (one at a time). */
    private final java.util.concurrent.atomic.AtomicBoolean balancingLeaders = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * On the control group's leader: learns each shard's leader (from one of its replicas) and
     * asks for the hand-over {@link Placement#nextLeader} gives, if any: the leaders' CPU, disk
     * and network load then spreads over the members as the replicas do.
     */
    private void balanceLeaders(java.util.Set<String> draining, Placement.Weights weights) {
        if (!balancingLeaders.compareAndSet(false, true)) {
            return;
        }
        ClusterMap map = clusterMap;
        Map<Integer, CompletableFuture<String>> asks = new java.util.TreeMap<>();
        for (ClusterMap.Entry e : map.shards()) {
            if (!e.moving() && !e.splitting() && !e.members().isEmpty()) {
                asks.put(e.id(), replicaStateOf(e.members().get(0), e.id())
                        .handle((r, error) -> error == null ? r.getLeader() : ""));
            }
        }
        CompletableFuture.allOf(asks.values().toArray(new CompletableFuture<?>[0])).thenCompose(x -> {
            Map<Integer, String> leaders = new java.util.TreeMap<>();
            asks.forEach((shard, leader) -> {
                if (!leader.join().isEmpty()) {
                    leaders.put(shard, leader.join());
                }
            });
            long now = System.nanoTime();
            leaderHandedNanos.values().removeIf(t -> now - t > TimeUnit.MILLISECONDS.toNanos(LEADER_HOLD_MS));
            java.util.Optional<Placement.LeaderMove> next = Placement.nextLeader(map, members(), draining, leaders, weights,
                    java.util.Set.copyOf(leaderHandedNanos.keySet()));
            if (next.isEmpty() || map != clusterMap) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            Placement.LeaderMove m = next.get();
            log.info("member {}: hands the leadership of shard {} from {} to {} ({})", self, m.shard(), m.from(), m.to(),
                    m.reason());
            leaderHandedNanos.put(m.shard(), System.nanoTime());
            return transferShardLeaderOnLeader(m.shard(), m.to()).whenComplete((v, error) -> {
                if (error != null) {
                    log.info("member {}: handing the leadership of shard {} to {} failed: {}", self, m.shard(), m.to(),
                            unwrap(error).getMessage());
                } else {
                    countLeaderTransfer();
                }
            });
        }).whenComplete((v, error) -> balancingLeaders.set(false));
    }

    /**
     * Hands the leadership of {@code shard}, which this member leads through {@code engine}, to
     * {@code to}, a member that keeps a replica of it (ShardPeer.TransferLeader).
     */
    CompletableFuture<Void> transferShardLeader(Engine engine, int shard, String to) {
        if (!engine.isLeading()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.NOT_LEADER, "Member " + self
                    + " does not lead shard " + shard));
        }
        ClusterMap.Entry e = clusterMap.byId(shard);
        if (e == null || !e.members().contains(to)) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Member '" + to
                    + "' keeps no replica of shard " + shard));
        }
        if (to.equals(self)) {
            return CompletableFuture.completedFuture(null);
        }
        return engine.transferLeadership(to);
    }

    /** {@link #transferShardLeader} on {@code shard}'s leader, wherever it runs. */
    private CompletableFuture<Void> transferShardLeaderOnLeader(int shard, String to) {
        return onLeader(shard, "transferLeader", e -> transferShardLeader(e, shard, to), 2 * CONTROL_CALL_MS, null,
                (stub, answer) -> stub.transferLeader(dev.txkv.proto.TransferLeaderRequest.newBuilder()
                        .setProtocolVersion(dev.txkv.wire.WireCommits.PROTOCOL_VERSION).setShard(shard).setTo(to).build(),
                        answer),
                (dev.txkv.proto.TransferLeaderResponse r) -> (Void) null);
    }

    private void countLeaderTransfer() {
        io.micrometer.core.instrument.MeterRegistry r = registry;
        if (r != null) {
            io.micrometer.core.instrument.Counter.builder("txkv.shard.leader.transfers")
                    .description("Shard leaderships this member handed from one member to another as the control group's"
                            + " leader (evening out the leaders per member)")
                    .register(r).increment();
        }
    }

    /**
     * Excludes {@code member} ({@code exclude}) or includes it again, on this member, which must
     * lead the control group; answers the map once it is recorded. The moves off it follow.
     */
    CompletableFuture<dev.txkv.proto.ExcludeResponse> exclude(String member, boolean exclude) {
        log.info("member {}: asked to {} member {}", self, exclude ? "exclude" : "include", member);
        return changeMap(m -> m.exclude(member, exclude, m.members(layout.members())))
                .thenApply(m -> dev.txkv.proto.ExcludeResponse.newBuilder().setMap(m.toProto()).build());
    }

    /** {@link #exclude} on the control group's leader, wherever it runs. */
    CompletableFuture<dev.txkv.proto.ExcludeResponse> excludeOnLeader(String member, boolean exclude) {
        return onLeader(ShardLayout.CONTROL, "exclude", e -> exclude(member, exclude), CONTROL_CALL_MS, null,
                (stub, answer) -> stub.exclude(dev.txkv.proto.ExcludeRequest.newBuilder()
                        .setProtocolVersion(dev.txkv.wire.WireCommits.PROTOCOL_VERSION).setMember(member)
                        .setInclude(!exclude).setForwarded(true).build(), answer),
                (dev.txkv.proto.ExcludeResponse r) -> r);
    }

    // ---- Joining a running cluster ------------------------------------------------------------

    /** How often a joining member asks to join until the map it receives lists it. */
    static final long JOIN_ASK_MS = 2_000;
    private final java.util.concurrent.atomic.AtomicBoolean joinAsked = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile long nextJoinNanos = System.nanoTime();
    /** The last answer to this member's request to join, as logged (each is logged once in a row). */
    private volatile String joinNote = "";

    /** Whether this joining member has not yet seen itself in the map its control replica holds. */
    boolean awaitsJoin() {
        return joining && (!hasMap || clusterMap.joinedMember(self) == null);
    }

    /** On a joining member that the map does not list yet: asks the control group's leader to add it. */
    private void askToJoin() {
        if (System.nanoTime() - nextJoinNanos < 0 || !joinAsked.compareAndSet(false, true)) {
            return;
        }
        nextJoinNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_ASK_MS);
        String client = flagClientAddresses.getOrDefault(self, selfAddress.get());
        ClusterMap.Joined me = new ClusterMap.Joined(self, replication.members().get(self), client);
        CompletableFuture<dev.txkv.proto.JoinResponse> asked;
        try {
            asked = joinOnLeader(me);
        } catch (RuntimeException e) {
            asked = CompletableFuture.failedFuture(e);
        }
        asked.whenComplete((r, error) -> {
            joinAsked.set(false);
            String note = error == null ? "the control group's leader added it; its control replica catches up"
                    : "its request to join failed (asked again every " + JOIN_ASK_MS + " ms): " + unwrap(error).getMessage();
            if (!note.equals(joinNote)) {
                joinNote = note;
                log.info("member {}: {}", self, note);
            }
        });
    }

    /**
     * Adds member {@code m} to the cluster, on this member, which must lead the control group:
     * records it with its addresses in the map, then makes the control group's Raft membership
     * every member of the map (joint consensus; the new member catches up from the log or a
     * snapshot). Asking again for a member already added redoes only what is missing.
     */
    CompletableFuture<dev.txkv.proto.JoinResponse> join(ClusterMap.Joined m) {
        checkJoinAddress(m.raftAddress(), "Raft");
        checkJoinAddress(m.clientAddress(), "client");
        if (!joinsLogged.contains(m)) {
            joinsLogged.add(m);
            log.info("member {}: member {} asks to join (Raft {}, client {})", self, m.id(), m.raftAddress(), m.clientAddress());
        }
        return changeMap(x -> x.join(m, layout.members())).thenCompose(map -> {
            Map<String, String> rafts = new java.util.LinkedHashMap<>();
            for (String id : map.members(layout.members())) {
                ClusterMap.Joined j = map.joinedMember(id);
                String raft = j != null ? j.raftAddress() : replication.members().get(id);
                if (raft == null) {
                    return CompletableFuture.failedFuture(new TxkvException(ErrorCode.OPERATION_FAILED, "Member " + self
                            + " does not know the Raft address of member " + id + "; give it in --peers"));
                }
                rafts.put(id, raft);
            }
            return control().setMembers(rafts).thenApply(x -> {
                log.info("member {}: the control group is now {}", self, rafts.keySet());
                return dev.txkv.proto.JoinResponse.newBuilder().setMap(map.toProto()).build();
            });
        });
    }

    /** Members whose request to join was logged (each once). */
    private final java.util.Set<ClusterMap.Joined> joinsLogged = ConcurrentHashMap.newKeySet();

    private static void checkJoinAddress(String address, String what) {
        int colon = address == null ? -1 : address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1 || address.startsWith("0.0.0.0:") || address.startsWith("[::]:")) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "A joining member needs its " + what
                    + " address as host:port that other members can reach, got '" + address + "'"
                    + ("client".equals(what) ? " (give it in its own --peer-clients entry)" : ""));
        }
    }

    /** {@link #join} on the control group's leader, wherever it runs. */
    CompletableFuture<dev.txkv.proto.JoinResponse> joinOnLeader(ClusterMap.Joined m) {
        return onLeader(ShardLayout.CONTROL, "join", e -> join(m), SET_MEMBERS_CALL_MS, null,
                (stub, answer) -> stub.join(dev.txkv.proto.JoinRequest.newBuilder()
                        .setProtocolVersion(dev.txkv.wire.WireCommits.PROTOCOL_VERSION)
                        .setMember(dev.txkv.proto.JoinedMember.newBuilder().setId(m.id()).setRaftAddress(m.raftAddress())
                                .setClientAddress(m.clientAddress()))
                        .setForwarded(true).build(), answer),
                (dev.txkv.proto.JoinResponse r) -> r);
    }

    /** How long since each member answered this member's replica of the control group, which leads it. */
    private record ReplicationStateView(Map<String, Long> silent) {
        static ReplicationStateView of(Engine control) {
            Map<String, Long> silent = new java.util.HashMap<>();
            control.replicationState().ifPresent(s -> {
                for (dev.txkv.engine.ReplicationState.FollowerProgress f : s.followers()) {
                    silent.put(f.id(), f.lastContactMs());
                }
            });
            return new ReplicationStateView(silent);
        }

        /** Ms since {@code member} last answered; 0 when not known (not a follower seen by a leader). */
        long silentMs(String member) {
            return silent.getOrDefault(member, 0L);
        }
    }

    /** Why each split being made is not done yet, as last logged (each reason is logged once in a row). */
    private final Map<Integer, String> splitNotes = new ConcurrentHashMap<>();
    /** Why each move under way is not done yet, as last logged (each reason is logged once). */
    private final Map<Integer, String> moveNotes = new ConcurrentHashMap<>();
    /** Replicas this member is copying in from another member, by shard id. */
    private final Map<Integer, Boolean> copyingIn = new ConcurrentHashMap<>();
    /** Copies and retirements of replicas: blocking work off the map upkeep's thread. */
    private final java.util.concurrent.ExecutorService replicaWork =
            java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "txkv-replica-move");
                t.setDaemon(true);
                return t;
            });
    /** How long a stopping member waits for the replica copy or retirement under way. */
    static final long REPLICA_WORK_STOP_MS = 20_000;
    /** The copies of this member's replicas that other members fetch; created at start. */
    private volatile ReplicaCopies copies;
    /** How fast a replica this member takes in a move is copied, in bytes per second; 0: no limit. */
    private final long moveBytesPerSecond;

    /**
     * Moves shard {@code shard}'s replicas to exactly the members {@code target}, on this member,
     * which must lead the control group: records the move in the map, then drives it until the
     * shard's Raft group is those members. {@code reason} says why (empty: an operator asked).
     */
    CompletableFuture<dev.txkv.proto.MoveResponse> move(int shard, List<String> target, String reason) {
        String why = reason.isEmpty() ? OPERATOR : reason;
        log.info("member {}: asked to move shard {} to {} ({})", self, shard, target, why);
        return changeMap(m -> m.move(shard, target, why, m.members(layout.members()))).whenComplete((m, e) -> {
            if (e != null) {
                log.info("member {}: move of shard {} to {} refused: {}", self, shard, target, e.toString());
            }
        }).thenCompose(next -> driveUntil(() -> driveMove(shard), System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MOVE_WAIT_MS),
                500, error -> { }))
                .thenApply(x -> dev.txkv.proto.MoveResponse.newBuilder().setMap(clusterMap.toProto()).build());
    }

    /** {@link #move} on the control group's leader, wherever it runs. */
    CompletableFuture<dev.txkv.proto.MoveResponse> moveOnLeader(int shard, List<String> target, String reason) {
        return onLeader(ShardLayout.CONTROL, "move", e -> move(shard, target, reason), MOVE_WAIT_MS + CONTROL_CALL_MS, null,
                (stub, answer) -> stub.move(dev.txkv.proto.MoveRequest.newBuilder()
                        .setProtocolVersion(dev.txkv.wire.WireCommits.PROTOCOL_VERSION).setShard(shard).addAllMembers(target)
                        .setForwarded(true).setReason(reason).build(), answer),
                (dev.txkv.proto.MoveResponse r) -> r);
    }

    /**
     * Completes the move of {@code shard} as the map records it, once (a drive already under way
     * is joined): waits until every member it adds has its replica open (copied from a current
     * member), makes the shard's Raft group the old and new members together (Raft's joint
     * consensus; the new ones catch up from the log), then exactly the new ones (a leader that
     * leaves hands leadership on first), and records the move as done, after which members no
     * longer listed drop their replicas. Every step may run again after a failure.
     */
    private CompletableFuture<Void> driveMove(int shard) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture<Void> running = runningDrive(moveDrives, shard, done);
        if (running != null) {
            return running;
        }
        ClusterMap.Entry entry = clusterMap.byId(shard);
        if (entry == null || !entry.moving()) {
            done.complete(null);
            return done;
        }
        List<String> target = entry.movingTo();
        List<CompletableFuture<Void>> ready = new ArrayList<>();
        for (String m : entry.adding()) {
            ready.add(replicaOpen(m, shard));
        }
        CompletableFuture.allOf(ready.toArray(new CompletableFuture<?>[0]))
                .thenCompose(x -> setShardMembersOnLeader(shard, entry.replicas()))
                .thenCompose(x -> setShardMembersOnLeader(shard, target))
                .thenCompose(x -> changeMap(m -> {
                    ClusterMap.Entry now = m.byId(shard);
                    return now != null && now.moving() && now.movingTo().equals(target) ? m.moved(shard) : m;
                }))
                .whenComplete((m, error) -> {
                    if (error != null) {
                        String why = unwrap(error).getMessage();
                        if (!why.equals(moveNotes.put(shard, why))) {
                            log.info("member {}: the move of shard {} to {} is not done yet ({}); trying again", self,
                                    shard, target, why);
                        }
                        done.completeExceptionally(unwrap(error));
                    } else {
                        moveNotes.remove(shard);
                        log.info("member {}: shard {} moved to {}", self, shard, target);
                        countMove();
                        done.complete(null);
                    }
                });
        return done;
    }

    private void countMove() {
        io.micrometer.core.instrument.MeterRegistry r = registry;
        if (r != null) {
            io.micrometer.core.instrument.Counter.builder("txkv.shard.moves")
                    .description("Moves of shard replicas this member completed as the control group's leader")
                    .register(r).increment();
        }
    }

    /** Completes once {@code member} has its replica of {@code shard} open; fails (to be asked again) before. */
    private CompletableFuture<Void> replicaOpen(String member, int shard) {
        return replicaStateOf(member, shard).thenCompose(r -> r.getOpen() ? CompletableFuture.<Void>completedFuture(null)
                : CompletableFuture.<Void>failedFuture(notReady(member, shard)));
    }

    private static TxkvException notReady(String member, int shard) {
        return new TxkvException(ErrorCode.OPERATION_FAILED, "Member " + member + " is still copying its replica of shard "
                + shard);
    }

    /** Whether this member has its replica of {@code shard} open, and the leader it knows (ShardPeer.ReplicaState). */
    dev.txkv.proto.ReplicaStateResponse replicaState(int shard) {
        Engine e = shard == ShardLayout.CONTROL ? null : engines.get(shard);
        boolean open = e != null;
        dev.txkv.proto.ReplicaStateResponse.Builder b = dev.txkv.proto.ReplicaStateResponse.newBuilder().setOpen(open)
                .setLeader(open ? leaderOf(shard).orElse("") : "").setTwoPhaseOpen(-1);
        if (open) {
            try {
                e.ownedKeys().ifPresent(k -> {
                    b.setOwnedBegin(com.google.protobuf.ByteString.copyFrom(k.begin()));
                    if (k.end() != null) {
                        b.setOwnedEnd(com.google.protobuf.ByteString.copyFrom(k.end()));
                    }
                });
                b.setTwoPhaseOpen(e.twoPhaseCounts().map(c -> c[0] + c[1] + c[2]).orElse(-1));
            } catch (TxkvException closing) {
                b.setOpen(false);
            }
        }
        return b.build();
    }

    /** Member {@code member}'s ReplicaState of {@code shard}. */
    private CompletableFuture<dev.txkv.proto.ReplicaStateResponse> replicaStateOf(String member, int shard) {
        if (member.equals(self)) {
            return CompletableFuture.completedFuture(replicaState(shard));
        }
        CompletableFuture<dev.txkv.proto.ReplicaStateResponse> answer = new CompletableFuture<>();
        try {
            ShardPeerGrpc.ShardPeerStub stub = ShardPeerGrpc.newStub(channels.channel(clientAddresses.get(member)))
                    .withDeadlineAfter(CONTROL_CALL_MS, TimeUnit.MILLISECONDS);
            Context.ROOT.run(() -> stub.replicaState(dev.txkv.proto.ReplicaStateRequest.newBuilder()
                    .setProtocolVersion(dev.txkv.wire.WireCommits.PROTOCOL_VERSION).setShard(shard).build(), observer(answer)));
        } catch (RuntimeException e) {
            answer.completeExceptionally(e);
        }
        return answer;
    }

    /**
     * Completes once some replica of the new shard {@code child} knows a leader, so that the
     * parent is fenced (its moved keys refused) only once the child can be born at once: the
     * new Raft group's first election no longer counts in the time clients meet wrong_shard_server.
     */
    private CompletableFuture<Void> childLeader(int child) {
        ClusterMap.Entry e = clusterMap.byId(child);
        if (e == null) {
            return CompletableFuture.completedFuture(null);
        }
        List<CompletableFuture<Boolean>> asks = new ArrayList<>();
        for (String m : e.replicas()) {
            asks.add(replicaStateOf(m, child).handle((r, error) -> error == null && !r.getLeader().isEmpty()));
        }
        return CompletableFuture.allOf(asks.toArray(new CompletableFuture<?>[0])).thenCompose(x -> {
            for (CompletableFuture<Boolean> a : asks) {
                if (a.join()) {
                    return CompletableFuture.<Void>completedFuture(null);
                }
            }
            return CompletableFuture.<Void>failedFuture(new TxkvException(ErrorCode.NOT_LEADER, "New shard " + child
                    + " has no leader yet"));
        });
    }

    /** {@link #setShardMembers} on {@code shard}'s leader, wherever it runs. */
    private CompletableFuture<Void> setShardMembersOnLeader(int shard, List<String> members) {
        return onLeader(shard, "setShardMembers", e -> setShardMembers(e, shard, members), SET_MEMBERS_CALL_MS, null,
                (stub, answer) -> stub.setShardMembers(dev.txkv.proto.SetShardMembersRequest.newBuilder()
                        .setProtocolVersion(dev.txkv.wire.WireCommits.PROTOCOL_VERSION).setShard(shard)
                        .addAllMembers(members).build(), answer),
                (dev.txkv.proto.SetShardMembersResponse r) -> (Void) null);
    }

    /**
     * Makes the Raft group of {@code shard}, which this member's replica {@code engine} leads,
     * exactly {@code members}. A leader not among them hands leadership to one of them and fails
     * with not_leader, so that the caller asks the new leader.
     */
    CompletableFuture<Void> setShardMembers(Engine engine, int shard, List<String> members) {
        if (!engine.isLeading()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.NOT_LEADER, "Member " + self
                    + " does not lead shard " + shard));
        }
        Map<String, String> addresses = new java.util.LinkedHashMap<>();
        for (String m : members) {
            String raft = raftAddresses.get(m);
            if (raft == null) {
                return CompletableFuture.failedFuture(new TxkvException(ErrorCode.INVALID_OPTION_VALUE,
                        "No member '" + m + "' in the cluster"));
            }
            addresses.put(m, raft);
        }
        if (!members.contains(self)) {
            String to = members.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(members.size()));
            log.info("member {}: leaves shard {}; hands its leadership to {} first", self, shard, to);
            return engine.transferLeadership(to).handle((x, error) -> CompletableFuture.<Void>failedFuture(
                    new TxkvException(ErrorCode.NOT_LEADER, "Member " + self + " leaves shard " + shard
                            + (error == null ? "; member " + to + " leads it now" : "; handing leadership to " + to
                            + " failed: " + unwrap(error).getMessage()))))
                    .thenCompose(Function.identity());
        }
        return engine.setMembers(addresses);
    }

    /** Whether this member must copy its replica of {@code s} in before opening it (a move adds it here). */
    private boolean awaitsCopy(ClusterMap.Entry s) {
        return s.adding().contains(self) && !Files.isDirectory(shardDirectory(s.id()));
    }

    private Path shardDirectory(int shard) {
        return dataDir.resolve("shard-" + shard);
    }

    private Path groupDirectory(int shard) {
        return host.groupDirectory(ShardLayout.groupName(replication.clusterName(), shard));
    }

    /**
     * Copies this member's new replica of {@code s} from a member that keeps one (in the
     * background; once), then opens it: the shard's Raft group then catches it up from the log.
     */
    private void copyIn(ClusterMap.Entry s) {
        int id = s.id();
        if (copyingIn.putIfAbsent(id, Boolean.TRUE) != null) {
            return;
        }
        replicaWork.execute(() -> {
            try {
                Path tmp = dataDir.resolve("shard-" + id + ".copy");
                ReplicaCopies.deleteQuietly(tmp);
                RuntimeException last = null;
                long started = System.nanoTime();
                for (String source : s.members()) {
                    if (source.equals(self)) {
                        continue;
                    }
                    try {
                        // A shard that absorbs another is copied only from a replica that has
                        // absorbed it: the copy would not replay the absorb, whose keys come
                        // from a replica of the absorbed shard on the same member.
                        ClusterMap.Entry absorbing = clusterMap.merging();
                        if (absorbing != null && absorbing.mergingInto() == id) {
                            String why = notAbsorbed(replicaStateOf(source, id).orTimeout(CONTROL_CALL_MS, TimeUnit.MILLISECONDS).join(),
                                    source, id, absorbing.id(), absorbing.end());
                            if (why != null) {
                                throw new TxkvException(ErrorCode.OPERATION_FAILED, why);
                            }
                        }
                        log.info("member {}: copying its new replica of shard {} from member {}", self, id, source);
                        long bytes = ReplicaCopies.fetch(ShardPeerGrpc.newBlockingStub(channels.channel(
                                clientAddresses.get(source))), id, tmp, moveBytesPerSecond);
                        log.info("member {}: copied shard {} from member {}: {} in {} ms", self, id, source,
                                bytesText(bytes), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
                        countMovedBytes(bytes);
                        last = null;
                        break;
                    } catch (RuntimeException e) {
                        last = e;
                        ReplicaCopies.deleteQuietly(tmp);
                        log.info("member {}: copying shard {} from member {} failed: {}", self, id, source, e.toString());
                    }
                }
                if (last != null) {
                    return; // tried again at the next map upkeep
                }
                // Raft storage of an earlier replica here must not be recovered with the copy.
                ReplicaCopies.deleteQuietly(groupDirectory(id));
                Files.move(tmp, shardDirectory(id), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                synchronized (this) {
                    ClusterMap.Entry now = clusterMap.byId(id);
                    if (now != null && now.replicas().contains(self)) {
                        openShard(now);
                    }
                }
            } catch (IOException | RuntimeException e) {
                log.warn("member {}: cannot take its replica of shard {} (tried again shortly): {}", self, id, e.toString());
            } finally {
                copyingIn.remove(id);
            }
        });
    }

    private void countMovedBytes(long bytes) {
        io.micrometer.core.instrument.MeterRegistry r = registry;
        if (r != null) {
            io.micrometer.core.instrument.Counter.builder("txkv.shard.moved.bytes")
                    .description("Bytes of shard replicas this member copied in from other members (moves)")
                    .baseUnit("bytes").register(r).increment(bytes);
        }
    }

    /**
     * Drops this member's replica of {@code shard}, which the map no longer gives it (a move
     * took it elsewhere): closes it, leaves its Raft group and deletes its storage (in the background).
     */
    private void retire(int shard) {
        Engine engine = engines.remove(shard);
        if (engine == null) {
            return;
        }
        replicaWork.execute(() -> {
            try {
                engine.close();
            } catch (RuntimeException e) {
                log.warn("member {}: closing its replica of shard {} failed: {}", self, shard, e.toString());
            }
            deleteReplicaFiles(shard);
            ClusterMap.Entry now = clusterMap.byId(shard);
            int holder = clusterMap.holderOf(shard);
            log.info("member {}: dropped its replica of shard {} ({})", self, shard, now != null
                    ? "moved to " + String.join(",", now.replicas())
                    : holder >= 0 ? "merged into shard " + holder : "no longer in the map");
        });
    }

    /** Deletes a replica's engine and Raft storage, renaming each first so that a crash never leaves half of one. */
    private void deleteReplicaFiles(int shard) {
        for (Path p : List.of(shardDirectory(shard), groupDirectory(shard))) {
            if (Files.exists(p)) {
                Path gone = p.resolveSibling(p.getFileName() + ".retired");
                try {
                    ReplicaCopies.deleteQuietly(gone);
                    Files.move(p, gone, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    log.warn("member {}: cannot set aside {}: {}", self, p, e.toString());
                    continue;
                }
                ReplicaCopies.deleteQuietly(gone);
            }
        }
    }

    /**
     * At start, before the Raft host: deletes what a crash left of copies and retirements, and
     * the replicas of shards the map no longer gives this member (dropped after a move, the
     * process stopped before it deleted them).
     */
    private void removeLeftovers() {
        for (Path dir : List.of(dataDir, dataDir.resolve("raft"))) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (java.util.stream.Stream<Path> list = Files.list(dir)) {
                for (Path p : (Iterable<Path>) list::iterator) {
                    String name = p.getFileName().toString();
                    if (name.endsWith(".retired") || (name.startsWith("shard-") && name.endsWith(".copy"))) {
                        ReplicaCopies.deleteQuietly(p);
                    }
                }
            } catch (IOException e) {
                log.warn("member {}: cannot list {}: {}", self, dir, e.toString());
            }
        }
        for (ClusterMap.Entry s : clusterMap.shards()) {
            if (!s.replicas().contains(self)) {
                deleteReplicaFiles(s.id());
            }
        }
        // Replicas of shards a merge removed (dropped while this process was down, or it
        // stopped before it deleted them).
        try (java.util.stream.Stream<Path> list = Files.list(dataDir)) {
            for (Path p : (Iterable<Path>) list::iterator) {
                String name = p.getFileName().toString();
                if (name.matches("shard-[0-9]{1,9}")) {
                    int id = Integer.parseInt(name.substring("shard-".length()));
                    if (clusterMap.byId(id) == null && id < clusterMap.nextId()) {
                        log.info("member {}: deletes its replica of shard {}, which a merge removed", self, id);
                        deleteReplicaFiles(id);
                    }
                }
            }
        } catch (IOException e) {
            log.warn("member {}: cannot list {}: {}", self, dataDir, e.toString());
        }
    }

    /** Serves copies to other members (file reads and checkpoints block): off the transport's threads. */
    private final java.util.concurrent.ExecutorService copyServing =
            java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "txkv-replica-copy");
                t.setDaemon(true);
                return t;
            });

    /** Makes a copy of this member's replica of {@code shard} for another member (ShardPeer.StartCopy). */
    CompletableFuture<dev.txkv.proto.StartCopyResponse> startCopy(int shard) {
        Engine e = shard == ShardLayout.CONTROL ? null : engines.get(shard);
        if (e == null) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.OPERATION_FAILED, "Member " + self
                    + " keeps no replica of shard " + shard));
        }
        return CompletableFuture.supplyAsync(() -> copies.start(shard, e), copyServing);
    }

    /** A piece of a copy made by {@link #startCopy} (ShardPeer.CopyChunk). */
    CompletableFuture<dev.txkv.proto.CopyChunkResponse> copyChunk(dev.txkv.proto.CopyChunkRequest r) {
        return CompletableFuture.supplyAsync(() -> copies.chunk(r.getCopyId(), r.getName(), r.getOffset(), r.getRelease()),
                copyServing);
    }

    // ---- Routing ----------------------------------------------------------------------------

    /** One ShardPeer call on a stub, its answer into the observer. */
    interface Rpc<M> {
        void call(ShardPeerGrpc.ShardPeerStub stub, StreamObserver<M> answer);
    }

    /**
     * Runs {@code local} on this member's replica of {@code group} when it leads, else sends
     * {@code remote} to the member believed to lead and converts its answer with {@code convert}.
     *
     * @param method the ShardPeer method {@code remote} calls, for the call timer
     * @param lostAnswer the error of a call that may have reached the leader but whose answer
     *     was lost (commit_unknown_result for a commit); null: the call is safe to send again
     */
    <T, M> CompletableFuture<T> onLeader(int group, String method, Function<Engine, CompletableFuture<T>> local,
            long deadlineMs, ErrorCode lostAnswer, Rpc<M> remote, Function<M, T> convert) {
        Engine e = engines.get(group);
        if (e != null && e.isLeading()) {
            try {
                return local.apply(e);
            } catch (RuntimeException x) {
                return CompletableFuture.failedFuture(x);
            }
        }
        return attempt(group, method, deadlineMs, lostAnswer, remote, 0).thenApply(convert);
    }

    private <M> CompletableFuture<M> attempt(int group, String method, long deadlineMs, ErrorCode lostAnswer, Rpc<M> rpc,
            int tried) {
        String target = target(group, tried);
        if (target == null) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.NOT_LEADER,
                    "No member of " + ShardLayout.describe(group) + " other than this one, which does not lead it"));
        }
        CompletableFuture<M> answer = new CompletableFuture<>();
        // Not the current context: a call forwarded while serving a client's call must outlive
        // it (a decision sent on after the client has its answer).
        Context.CancellableContext context = Context.ROOT.withCancellation();
        try {
            ShardPeerGrpc.ShardPeerStub stub = ShardPeerGrpc.newStub(channels.channel(clientAddresses.get(target)));
            if (deadlineMs > 0) {
                stub = stub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
            }
            ShardPeerGrpc.ShardPeerStub s = stub;
            context.run(() -> rpc.call(s, observer(answer)));
        } catch (RuntimeException x) {
            answer.completeExceptionally(x);
        }
        long started = System.nanoTime();
        CompletableFuture<M> result = answer.handle((m, error) -> {
            timeCall(method, started, error);
            if (error == null) {
                leaderGuess.put(group, target);
                return CompletableFuture.completedFuture(m);
            }
            Throwable t = unwrap(error);
            Status status = Status.fromThrowable(t);
            WireErrors.ServerError server = WireErrors.fromTrailers(status, Status.trailersFromThrowable(t));
            boolean notLeader = server != null && server.code() == ErrorCode.NOT_LEADER.code();
            boolean neverSent = server == null && neverSent(status);
            if ((notLeader || neverSent || (server == null && lostAnswer == null && status.getCode() == Status.Code.UNAVAILABLE))
                    && tried + 1 < ATTEMPTS_MAX) {
                String hint = notLeader && server.notLeader() != null ? server.notLeader().getLeaderId() : "";
                moveGuess(group, target, hint);
                long backoffMs = Math.min(400, 25L << Math.min(tried, 4));
                return CompletableFuture.supplyAsync(() -> null,
                        CompletableFuture.delayedExecutor(backoffMs, TimeUnit.MILLISECONDS))
                        .thenCompose(x -> attempt(group, method, deadlineMs, lostAnswer, rpc, tried + 1));
            }
            TxkvException mapped = ErrorMapping.toTxkvException(t);
            if (server == null && lostAnswer != null && !neverSent) {
                mapped = new TxkvException(lostAnswer, "The call to " + ShardLayout.describe(group) + "'s leader "
                        + target + " was lost; its outcome is unknown: " + mapped.getMessage(), mapped);
            }
            return CompletableFuture.<M>failedFuture(mapped);
        }).thenCompose(Function.identity());
        // A caller that gives up (a cancelled watch) ends the call.
        result.whenComplete((m, error) -> {
            if (result.isCancelled()) {
                context.cancel(null);
            }
        });
        return result;
    }

    /**
     * The member to ask about {@code group}: first the one this member believes leads, after a
     * failed attempt the one that attempt pointed to ({@link #moveGuess}); else the first other member.
     */
    private String target(int group, int tried) {
        List<String> members = new ArrayList<>(membersOf(group));
        members.remove(self);
        if (members.isEmpty()) {
            return null;
        }
        Optional<String> known = tried == 0 ? leaderOf(group) : Optional.ofNullable(leaderGuess.get(group));
        if (known.isPresent() && members.contains(known.get())) {
            return known.get();
        }
        return members.get(0);
    }

    /** After a failed call to {@code target}: believe {@code hint} leads, else try the next member. */
    private void moveGuess(int group, String target, String hint) {
        List<String> members = new ArrayList<>(membersOf(group));
        members.remove(self);
        if (!hint.isEmpty() && !hint.equals(target) && members.contains(hint)) {
            leaderGuess.put(group, hint);
            return;
        }
        int i = members.indexOf(target);
        leaderGuess.put(group, members.get((i + 1) % members.size()));
    }

    private static boolean neverSent(Status status) {
        if (status.getCode() != Status.Code.UNAVAILABLE) {
            return false;
        }
        for (Throwable c = status.getCause(); c != null && c.getCause() != c; c = c.getCause()) {
            if (c instanceof ConnectException) {
                return true;
            }
        }
        return false;
    }

    private static Throwable unwrap(Throwable t) {
        return dev.txkv.spi.Causes.unwrap(t);
    }

    private static void inRootContext(Runnable r) {
        Context previous = Context.ROOT.attach();
        try {
            r.run();
        } finally {
            Context.ROOT.detach(previous);
        }
    }

    private static <M> StreamObserver<M> observer(CompletableFuture<M> into) {
        return new StreamObserver<>() {
            // The answer arrives in the context of the forwarded call; what the caller does next
            // (answer its own client, send a decision on) must not run in it.
            @Override
            public void onNext(M value) {
                inRootContext(() -> into.complete(value));
            }

            @Override
            public void onError(Throwable t) {
                inRootContext(() -> into.completeExceptionally(t));
            }

            @Override
            public void onCompleted() {
                into.completeExceptionally(new TxkvException(ErrorCode.INTERNAL_ERROR, "a ShardPeer call ended with no answer"));
            }
        };
    }

    // ---- The engines' network ---------------------------------------------------------------

    private final class Network implements ShardNetwork {
        @Override
        public CompletableFuture<VersionSequencer.Grant> grant(int coordinator, int[] participants) {
            return onLeader(ShardLayout.CONTROL, "grant", e -> sequencer.grant(coordinator, participants), CONTROL_CALL_MS, null,
                    (stub, answer) -> stub.grant(ShardProtos.grantRequest(coordinator, participants), answer),
                    (dev.txkv.proto.GrantResponse r) -> ShardProtos.grant(r));
        }

        @Override
        public CompletableFuture<Long> epoch() {
            return onLeader(ShardLayout.CONTROL, "epoch", e -> sequencer.epoch(), CONTROL_CALL_MS, null,
                    (stub, answer) -> stub.epoch(ShardProtos.epochRequest(), answer),
                    (dev.txkv.proto.EpochResponse r) -> r.getEpoch());
        }

        @Override
        public CompletableFuture<Integer> coordinatorOf(long version) {
            return onLeader(ShardLayout.CONTROL, "coordinatorOf", e -> sequencer.coordinatorOf(version), CONTROL_CALL_MS, null,
                    (stub, answer) -> stub.coordinatorOf(ShardProtos.coordinatorOfRequest(version), answer),
                    (dev.txkv.proto.CoordinatorOfResponse r) -> r.getCoordinator());
        }

        @Override
        public CompletableFuture<Void> prepare(int shard, Prepare request) {
            return onLeader(shard, "prepare", e -> e.prepare(request), CONTROL_CALL_MS, ErrorCode.COMMIT_UNKNOWN_RESULT,
                    (stub, answer) -> stub.prepare(ShardProtos.prepareRequest(shard, request), answer),
                    (dev.txkv.proto.PrepareResponse r) -> (Void) null);
        }

        @Override
        public CompletableFuture<Void> decided(int shard, long version, boolean commit) {
            if (clusterMap.byId(shard) == null && clusterMap.wasMerged(shard)) {
                // Removed only once it kept no undecided slice: it noted every outcome it prepared for.
                return CompletableFuture.completedFuture(null);
            }
            return onLeader(shard, "decided", e -> e.decided(version, commit), CONTROL_CALL_MS, null,
                    (stub, answer) -> stub.decided(ShardProtos.decidedRequest(shard, version, commit), answer),
                    (dev.txkv.proto.DecidedResponse r) -> (Void) null);
        }

        @Override
        public CompletableFuture<Outcome> queryDecision(int coordinator, long version) {
            if (clusterMap.byId(coordinator) == null && clusterMap.wasMerged(coordinator)) {
                // Removed only once it kept no two-phase state: every commit it decided was
                // noted by its participants and forgotten, so what it is asked about was rolled back.
                return CompletableFuture.completedFuture(Outcome.ABORT);
            }
            return onLeader(coordinator, "queryDecision", e -> e.queryDecision(version), CONTROL_CALL_MS, null,
                    (stub, answer) -> stub.queryDecision(ShardProtos.queryDecisionRequest(coordinator, version), answer),
                    (dev.txkv.proto.QueryDecisionResponse r) -> ShardProtos.outcome(r));
        }
    }

    // ---- The client service's view of the cluster -------------------------------------------

    private final class Gateway implements ShardRouter.Shards {
        @Override
        public ShardMap map() {
            return routingMap;
        }

        @Override
        public CompletableFuture<ReadStamp> readVersion() {
            return onLeader(ShardLayout.CONTROL, "readVersion", e -> sequencer.readVersion(), CONTROL_CALL_MS, null,
                    (stub, answer) -> stub.readVersion(ShardProtos.readVersionRequest(), answer),
                    (dev.txkv.proto.ReadStampMessage r) -> ShardProtos.stamp(r));
        }

        @Override
        public CompletableFuture<byte[]> get(int shard, byte[] key, ReadStamp s) {
            return onLeader(shard, "shardGet", e -> e.getAt(key, s.version(), s.epoch(), s.lastGrant(shard)), READ_CALL_MS, null,
                    (stub, answer) -> stub.shardGet(ShardProtos.getRequest(shard, key, s), answer),
                    (dev.txkv.proto.GetResponse r) -> r.getPresent() ? r.getValue().toByteArray() : null);
        }

        @Override
        public CompletableFuture<RangeChunk> getRange(int shard, byte[] begin, byte[] end, int rowLimit, long byteLimit,
                boolean reverse, ReadStamp s) {
            return onLeader(shard, "shardGetRange", e -> e.getRangeAt(begin, end, rowLimit, byteLimit, reverse, s.version(), s.epoch(),
                    s.lastGrant(shard)), READ_CALL_MS, null,
                    (stub, answer) -> stub.shardGetRange(
                            ShardProtos.getRangeRequest(shard, begin, end, rowLimit, byteLimit, reverse, s), answer),
                    (dev.txkv.proto.ShardGetRangeResponse r) -> ShardProtos.chunk(r));
        }

        @Override
        public CompletableFuture<CommitResult> commit(int home, CommitRequest request) {
            // A retry whose first attempt went to a shard a merge has since removed goes to the
            // shard that absorbed it, which took its commits' outcomes.
            int holder = clusterMap.holderOf(home);
            int shard = holder >= 0 ? holder : home;
            return onLeader(shard, "shardCommit", e -> e.commit(request), COMMIT_CALL_MS, ErrorCode.COMMIT_UNKNOWN_RESULT,
                    (stub, answer) -> stub.shardCommit(ShardProtos.commitRequest(shard, request), answer),
                    (dev.txkv.proto.CommitResponse r) -> new CommitResult(r.getVersion(), r.getBatchOrder()));
        }

        @Override
        public CompletableFuture<Void> watch(int shard, byte[] key, ReadStamp s) {
            return onLeader(shard, "shardWatch", e -> e.watchAt(key, s.version(), s.epoch(), s.lastGrant(shard)), 0, null,
                    (stub, answer) -> stub.shardWatch(ShardProtos.watchRequest(shard, key, s), answer),
                    (dev.txkv.proto.ShardWatchResponse r) -> (Void) null);
        }

        @Override
        public void close() {
        }
    }

    @Override
    public void close() {
        maintenance.shutdownNow();
        splitChecks.shutdownNow();
        // A replica being dropped finishes closing first: interrupted, its Raft group could
        // still apply to (or snapshot) storage that its engine then closes.
        replicaWork.shutdown();
        try {
            if (!replicaWork.awaitTermination(REPLICA_WORK_STOP_MS, TimeUnit.MILLISECONDS)) {
                replicaWork.shutdownNow();
            }
        } catch (InterruptedException e) {
            replicaWork.shutdownNow();
            Thread.currentThread().interrupt();
        }
        copyServing.shutdownNow();
        if (copies != null) {
            copies.close();
        }
        channels.close();
        for (Map.Entry<Integer, Engine> e : engines.entrySet()) {
            if (e.getKey() != ShardLayout.CONTROL) {
                e.getValue().close();
            }
        }
        Engine control = engines.get(ShardLayout.CONTROL);
        if (control != null) {
            control.close();
        }
        if (host != null) {
            host.close();
        }
    }
}
