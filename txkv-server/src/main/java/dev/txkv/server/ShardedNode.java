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
import java.util.concurrent.CompletionException;
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

    private final ShardLayout layout;
    private final ShardMap map;
    private final String self;
    private final Map<String, String> clientAddresses;
    private final Map<Integer, Engine> engines = new ConcurrentHashMap<>();
    private final Map<Integer, String> leaderGuess = new ConcurrentHashMap<>();
    private final PeerChannels channels = new PeerChannels();
    private RaftHost host;
    private ControlSequencer sequencer;
    /** Timers of calls to other servers by method; none until {@link #bindMetrics}. */
    private volatile io.micrometer.core.instrument.MeterRegistry registry;
    private final Map<String, io.micrometer.core.instrument.Timer> callTimers = new ConcurrentHashMap<>();

    private final CrashPoints crashPoints;
    private volatile java.util.function.Supplier<String> selfAddress = () -> "";

    private ShardedNode(ShardLayout layout, String self, Map<String, String> clientAddresses, CrashPoints crashPoints) {
        this.crashPoints = crashPoints;
        this.layout = layout;
        this.map = layout.map();
        this.self = self;
        this.clientAddresses = Map.copyOf(clientAddresses);
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
     * @throws TxkvException when the data directory holds another layout or an unsharded database,
     *     a member's client address is missing, or an engine or the Raft host cannot start
     */
    static ShardedNode open(Path dataDir, dev.txkv.TxkvConfig config, ReplicationConfig replication,
            Map<String, String> clientAddresses, int shards, int replicas, CrashPoints crashPoints) {
        // Sorted, so that every server lays the cluster out alike whatever order its flags list the members in.
        List<String> members = new ArrayList<>(new java.util.TreeSet<>(replication.members().keySet()));
        ShardLayout layout = new ShardLayout(members, shards, replicas);
        for (String m : members) {
            if (!m.equals(replication.selfId()) && !clientAddresses.containsKey(m)) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "A sharded server needs the client address of"
                        + " every other member (--peer-clients); member " + m + " has none");
            }
        }
        checkLayout(dataDir, layout);
        ShardedNode node = new ShardedNode(layout, replication.selfId(), clientAddresses, crashPoints);
        try {
            node.start(dataDir, config, replication);
        } catch (RuntimeException | Error e) {
            node.close();
            throw e;
        }
        return node;
    }

    private void start(Path dataDir, dev.txkv.TxkvConfig config, ReplicationConfig replication) {
        long entryMax = Math.max(8 << 20, config.batchBytesMax() * 2L);
        host = new RaftHost(replication, dataDir.resolve("raft"), entryMax);
        String cluster = replication.clusterName();
        ShardNetwork network = new Network();
        for (ShardMap.Shard s : map.shards()) {
            if (!layout.hosts(self, s.id())) {
                continue;
            }
            ReplicationConfig group = replication.forGroup(ShardLayout.groupName(cluster, s.id()),
                    layout.membersOf(s.id()));
            engines.put(s.id(), Engine.builder(dataDir.resolve("shard-" + s.id()), config)
                    .shard(new ShardConfig(s.id(), map, network)).crashPoints(crashPoints)
                    .log(RaftReplication.log(group, host)).open());
        }
        ReplicationConfig control = replication.forGroup(ShardLayout.groupName(cluster, ShardLayout.CONTROL),
                layout.membersOf(ShardLayout.CONTROL));
        Engine controlEngine = Engine.builder(dataDir.resolve("control"), config)
                .log(RaftReplication.log(control, host)).open();
        engines.put(ShardLayout.CONTROL, controlEngine);
        sequencer = new ControlSequencer(controlEngine, Environment.SYSTEM, SEQUENCER_LEASE_MS);
        host.start();
        log.info("member {} of a cluster of {} shards ({} replicas each): hosting {}", self, layout.shards(),
                layout.replicas(), engines.keySet());
        if (crashPoints != CrashPoints.NONE) {
            log.warn("crash points are on (--crash-points): a fault test may end this process on purpose");
        }
    }

    /**
     * Records the layout in a new data directory, or checks it against the one recorded; an
     * unsharded database in the directory is refused.
     */
    static void checkLayout(Path dataDir, ShardLayout layout) {
        Path file = dataDir.resolve(LAYOUT_FILE);
        String wanted = "shards=" + layout.shards() + "\nreplicas=" + layout.replicas() + "\nmembers="
                + String.join(",", layout.members()) + "\n";
        try {
            if (Files.exists(file)) {
                String recorded = Files.readString(file, StandardCharsets.UTF_8);
                if (!recorded.equals(wanted)) {
                    throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "The data directory " + dataDir
                            + " holds a sharded cluster laid out as [" + recorded.trim().replace('\n', ' ')
                            + "], but this server was started as [" + wanted.trim().replace('\n', ' ')
                            + "]; a cluster's shard count, replicas and members are fixed when it is created");
                }
                return;
            }
            if (Files.exists(dataDir.resolve("CURRENT")) || Files.isDirectory(dataDir.resolve("raft"))) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "The data directory " + dataDir
                        + " holds an unsharded database; start it without --shards, or give a new directory");
            }
            Files.createDirectories(dataDir);
            Path tmp = dataDir.resolve(LAYOUT_FILE + ".tmp");
            Files.writeString(tmp, wanted, StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
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
    void bindMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
        this.registry = registry;
        for (Map.Entry<Integer, Engine> e : engines.entrySet()) {
            String group = e.getKey() == ShardLayout.CONTROL ? "control" : String.valueOf(e.getKey());
            Engine engine = e.getValue();
            io.micrometer.core.instrument.Gauge.builder("txkv.shard.leading", engine, x -> x.isLeading() ? 1 : 0)
                    .description("Whether this member leads the group (a shard, or the control group)")
                    .tag("shard", group).register(registry);
            io.micrometer.core.instrument.Gauge.builder("txkv.shard.applied.version", engine,
                    x -> safely(() -> x.counters().versionCommitted()))
                    .description("The newest version this member's replica of the group committed or applied")
                    .tag("shard", group).register(registry);
            if (e.getKey() != ShardLayout.CONTROL) {
                io.micrometer.core.instrument.Gauge.builder("txkv.shard.two.phase.undecided", engine,
                        x -> safely(() -> x.twoPhaseCounts().map(c -> (long) c[0]).orElse(0L)))
                        .description("Prepared slices on this member's replica awaiting their outcome")
                        .tag("shard", group).register(registry);
            }
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
        for (ShardMap.Shard s : map.shards()) {
            Engine e = engines.get(s.id());
            java.util.OptionalLong applied = java.util.OptionalLong.empty();
            java.util.OptionalLong bytes = java.util.OptionalLong.empty();
            java.util.OptionalLong undecided = java.util.OptionalLong.empty();
            String twoPhase = "";
            if (e != null) {
                try {
                    dev.txkv.engine.EngineCounters c = e.counters();
                    applied = java.util.OptionalLong.of(c.versionCommitted());
                    bytes = java.util.OptionalLong.of(c.liveBytesEstimate());
                    twoPhase = e.shardState();
                    undecided = e.twoPhaseCounts().map(n -> java.util.OptionalLong.of(n[0]))
                            .orElse(java.util.OptionalLong.empty());
                } catch (RuntimeException closing) {
                    twoPhase = "unavailable: " + closing.getMessage();
                }
            }
            byte[] end = s.end() == null ? new byte[0] : s.end();
            out.add(new ClusterStatus.Shard(s.id(), s.begin(), end, layout.membersOf(s.id()),
                    leaderOf(s.id()).orElse(""), applied, bytes, twoPhase, undecided,
                    leaderOf(s.id()).map(this::clientAddress).orElse("")));
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
        List<String> members = new ArrayList<>(layout.membersOf(group));
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
        List<String> members = new ArrayList<>(layout.membersOf(group));
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
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
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
            return onLeader(shard, "decided", e -> e.decided(version, commit), CONTROL_CALL_MS, null,
                    (stub, answer) -> stub.decided(ShardProtos.decidedRequest(shard, version, commit), answer),
                    (dev.txkv.proto.DecidedResponse r) -> (Void) null);
        }

        @Override
        public CompletableFuture<Outcome> queryDecision(int coordinator, long version) {
            return onLeader(coordinator, "queryDecision", e -> e.queryDecision(version), CONTROL_CALL_MS, null,
                    (stub, answer) -> stub.queryDecision(ShardProtos.queryDecisionRequest(coordinator, version), answer),
                    (dev.txkv.proto.QueryDecisionResponse r) -> ShardProtos.outcome(r));
        }
    }

    // ---- The client service's view of the cluster -------------------------------------------

    private final class Gateway implements ShardRouter.Shards {
        @Override
        public ShardMap map() {
            return map;
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
        public CompletableFuture<CommitResult> commit(int shard, CommitRequest request) {
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
