package dev.txkv.server;

import dev.txkv.ByteArrays;
import dev.txkv.Range;
import dev.txkv.TxkvConfig;
import dev.txkv.engine.ReplicaHealth;
import dev.txkv.engine.EngineCounters;
import dev.txkv.engine.ReplicationState.FollowerProgress;
import dev.txkv.server.EngineStatusReader.ReplicationView;
import dev.txkv.spi.Backend;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.Mutation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * Builds this server's status ({@link ClusterStatus}) and health ({@link Health}), shaped like
 * FoundationDB's {@code status json}: whether the database is available, every member as a
 * process, and this member's workload, queues against their limits, limits and a latency probe.
 *
 * <p>Implementation notes. Rates ("hz") are the change of a counter between the last two
 * samples, taken once a second by the server. The latency probe times a read version, a read
 * and a one-key commit under {@link #PROBE_KEY} in the system keyspace, which clients cannot
 * write; it runs at most once a second however often status is asked, so asking for status
 * in a loop cannot flood the commit pipeline.
 *
 * <p>Other members. A member knows the others' ids, Raft addresses and the leader from its Raft
 * group, but not their applied versions or health: {@link #clusterStatus()} asks each other
 * member whose client address it was given (ServerConfig#peerClientAddresses, the
 * {@code --peer-clients} option) for its own process status, all at once and for at most
 * {@link PeerStatusClient#PEER_STATUS_TIMEOUT_MS} ms, with {@code member_only} set so that
 * nobody asks further. A member that does not answer, or whose address is not known, is
 * listed as unreachable with the reason. The lag behind the leader is computed from those
 * answers. Asking over the client port, not the Raft port, keeps Raft's port to Raft alone
 * (it refuses every other request) and needs no change to the replicated state.
 */
final class StatusDocument {
    /** The key the latency probe writes: in the system keyspace, so no client data is touched. */
    static final byte[] PROBE_KEY = "\u00ff/probe".getBytes(StandardCharsets.ISO_8859_1);
    private static final long PROBE_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long PROBE_TIMEOUT_MS = 5_000;
    /** A member that has applied no commit batch for this long reports the database unavailable. */
    static final long APPLY_STALE_MS = 5_000;

    private final Backend backend;
    private final EngineStatusReader engine;
    /** On a leader: followers behind its commits by more than a few seconds. */
    private final FollowerLag followerLag = new FollowerLag();
    private final ServerConfig config;
    private final String processId;
    private final Supplier<String> grpcAddress;
    private final Supplier<Integer> watchStreams;
    private final PeerStatusClient peers;
    private final long startNanos = System.nanoTime();
    private EngineCounters previousSample;
    private EngineCounters lastSample;
    private long previousSampleNanos;
    private long lastSampleNanos;
    private ClusterStatus.LatencyProbe lastProbe;
    private long lastProbeNanos;

    /**
     * @param backend what the probe reads and commits through
     * @param engine the engine's status, typed
     * @param processId this process's id when it is not a cluster member
     * @param grpcAddress this server's client address
     * @param watchStreams open Watch calls
     * @param peers asks other members for their status
     */
    /** The sharded part of the server; null when it is not sharded. */
    private volatile ShardedNode sharded;

    StatusDocument(Backend backend, EngineStatusReader engine, ServerConfig config, String processId,
            Supplier<String> grpcAddress, Supplier<Integer> watchStreams, PeerStatusClient peers) {
        this.backend = backend;
        this.engine = engine;
        this.config = config;
        this.processId = processId;
        this.grpcAddress = grpcAddress;
        this.watchStreams = watchStreams;
        this.peers = peers;
    }

    /** Makes the status show the shards and the sequencer of {@code node}'s cluster. */
    void sharded(ShardedNode node) {
        this.sharded = node;
    }

    /** Takes a sample of the engine's counters for the rates; called once a second. */
    synchronized void sample() {
        previousSample = lastSample;
        previousSampleNanos = lastSampleNanos;
        lastSample = engine.counters();
        lastSampleNanos = System.nanoTime();
    }

    /**
     * Whether the database is available and healthy as this member sees it, and why not. It
     * comes from what the member actually does, never from the process being up:
     * <ul>
     *   <li>A member that failed to apply the log is neither.
     *   <li>The leader (and a server without replication) is available when its probe, a real
     *       one-key commit through the commit pipeline and the log, succeeded within
     *       {@value #PROBE_TIMEOUT_MS} ms. The server asks for its health every second, so the
     *       leader commits that probe every second, and every member applies a commit batch at
     *       least once a second while the cluster can commit.
     *   <li>Any other member is available while it knows a leader and has applied a commit
     *       batch within the last {@value #APPLY_STALE_MS} ms.
     *   <li>Healthy: available, and on the leader every follower answered within an election
     *       timeout and holds what the leader had committed {@value FollowerLag#LAG_MS} ms ago.
     * </ul>
     */
    Health health() {
        List<Health.Message> messages = new ArrayList<>();
        ReplicaHealth self = engine.health();
        if (self.failed()) {
            messages.add(new Health.Message("replica_failed", self.failure()
                    + ". Rebuild this member from the others: docs/replication.md, \"Rebuild a failed member\"."));
            return new Health(false, false, messages);
        }
        boolean available;
        boolean healthy = true;
        ReplicationView replica = engine.replication();
        if (replica == null || engine.isLeading()) {
            String error = probe().error();
            available = error.isEmpty();
            if (!available) {
                messages.add(new Health.Message("commit_probe_failed",
                        "A probe commit through this server failed: " + error));
            }
        } else if (replica.role() == MemberRole.REMOVED) {
            available = false;
            messages.add(new Health.Message("removed", "This server was removed from the cluster's membership"));
        } else if (replica.leader().isEmpty()) {
            available = false;
            messages.add(new Health.Message("no_leader", "No leader is known to this member (an election may be "
                    + "running, or a majority of members is unreachable)"));
        } else if (self.millisSinceApply() > APPLY_STALE_MS) {
            available = false;
            messages.add(new Health.Message("no_commits_applied", "This member has applied no commit for "
                    + self.millisSinceApply() + " ms (the leader commits a probe every second while the cluster "
                    + "can commit); it may be cut off from the leader, or the cluster cannot commit"));
        } else {
            available = true;
        }
        if (replica != null && engine.isLeading()) {
            long within = config.replication().electionTimeoutMaxMs();
            java.util.Set<String> unreachable = new java.util.HashSet<>();
            for (FollowerProgress f : replica.followers()) {
                if (f.lastContactMs() < 0 || f.lastContactMs() > within) {
                    healthy = false;
                    unreachable.add(f.id());
                    messages.add(new Health.Message("member_unreachable", "Member " + f.id() + " has not answered "
                            + "the leader for " + f.lastContactMs() + " ms; if it failed, its own status says why"));
                }
            }
            for (FollowerLag.Lagging l : followerLag.lagging(System.nanoTime(), replica.term(), replica.commitIndex(),
                    replica.followers())) {
                if (!unreachable.contains(l.id())) {
                    healthy = false;
                    messages.add(new Health.Message("member_lagging", "Member " + l.id() + " has not replicated what "
                            + "the leader had committed " + FollowerLag.LAG_MS + " ms ago (it holds the log up to index "
                            + l.matchIndex() + "; the leader had committed " + l.committedThen() + " then, "
                            + l.committedNow() + " now); it may be catching up after a restart or from a snapshot"));
                }
            }
        }
        if (self.refusedRaftCalls() + self.refusedLogEntries() > 0) {
            messages.add(new Health.Message("raft_port_strangers", (self.refusedRaftCalls() + self.refusedLogEntries())
                    + " requests to the Raft port that did not come from a member were refused since start"));
        }
        return new Health(available, available && healthy, messages);
    }

    /**
     * The status with every member: this one, and each other member as it answered (or as
     * unreachable). Completes within about {@link PeerStatusClient#PEER_STATUS_TIMEOUT_MS} ms.
     */
    CompletableFuture<ClusterStatus> clusterStatus() {
        ClusterStatus local = memberStatus();
        ReplicationView replica = engine.replication();
        if (replica == null) {
            return CompletableFuture.completedFuture(local);
        }
        ProcessStatus self = local.processes().get(0);
        ShardedNode node = sharded;
        // A sharded member also knows the members that joined later, from the map.
        Map<String, String> clientAddresses = node != null ? node.clientAddresses() : config.peerClientAddresses();
        List<CompletableFuture<ProcessStatus>> asked = new ArrayList<>();
        for (Map.Entry<String, String> member : replica.members().entrySet()) {
            String id = member.getKey();
            String client = clientAddresses.get(id);
            if (id.equals(self.id())) {
                asked.add(CompletableFuture.completedFuture(self));
            } else if (client == null) {
                asked.add(CompletableFuture.completedFuture(ProcessStatus.unreachable(id, "", member.getValue(),
                        "this server does not know the member's client address (start the servers with "
                                + "--peer-clients)")));
            } else {
                asked.add(peers.fetch(id, client, member.getValue()));
            }
        }
        if (!replica.members().containsKey(self.id())) {
            // Removed from the membership: still list itself, first.
            asked.add(0, CompletableFuture.completedFuture(self));
        }
        return CompletableFuture.allOf(asked.toArray(new CompletableFuture<?>[0])).thenApply(ignored -> {
            List<ProcessStatus> processes = new ArrayList<>();
            for (CompletableFuture<ProcessStatus> p : asked) {
                processes.add(p.join());
            }
            return local.withProcesses(withProgress(processes, replica));
        });
    }

    /** The status with this member alone: what another member asks for. */
    ClusterStatus memberStatus() {
        EngineCounters stats = engine.counters();
        ClusterStatus.LatencyProbe probe = probe();
        Health health = health();
        ReplicationView replica = engine.replication();
        long uptimeSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos);
        StorageStatus storage = storage(stats);
        ProcessStatus self;
        ClusterStatus.Cluster cluster = null;
        if (replica == null) {
            self = new ProcessStatus(processId, grpcAddress.get(), "", MemberRole.STANDALONE, "",
                    new MemberStatus(health, engine.isLeading(), 0, stats.versionCommitted(), 0, 0, uptimeSeconds,
                            storage), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty());
        } else {
            String raftAddress = replica.members().getOrDefault(replica.id(),
                    config.replication().members().getOrDefault(replica.id(), ""));
            self = new ProcessStatus(replica.id(), grpcAddress.get(), raftAddress, replica.role(), "",
                    new MemberStatus(health, replica.acceptingCommits(), replica.term(), replica.appliedVersion(),
                            replica.appliedIndex(), replica.commitIndex(), uptimeSeconds, storage),
                    OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty());
            ShardedNode node = sharded;
            cluster = node == null
                    ? new ClusterStatus.Cluster(config.replication().clusterName(), replica.leader(), replica.term())
                    : new ClusterStatus.Cluster(config.replication().clusterName(), replica.leader(), replica.term(),
                            node.shardStatus(), node.sequencerStatus(), node.clusterMap().excluded());
        }
        TxkvConfig limits = config.txkvConfig();
        return new ClusterStatus(System.currentTimeMillis(), ProtocolVersion.CURRENT, self.id(), health, cluster,
                replica == null ? List.of(self) : withProgress(List.of(self), replica), stats.versionCommitted(),
                new ClusterStatus.Workload(
                        rate(stats, EngineCounters::commits),
                        rate(stats, EngineCounters::commitConflicts),
                        rate(stats, EngineCounters::commitTooOld),
                        rate(stats, EngineCounters::commitRejectedQueueFull),
                        rate(stats, EngineCounters::reads),
                        rate(stats, EngineCounters::commitBatches)),
                new ClusterStatus.Queues(stats.commitQueueDepth(), limits.commitQueueMax(), stats.watches(),
                        limits.watchesMax(), watchStreams.get(), config.watchStreamsMax()),
                new ClusterStatus.Limits(limits.keySizeMax(), limits.valueSizeMax(), limits.transactionSizeMax(),
                        limits.mvccWindowMs(), config.rangeRowsMax(), config.rangeBytesMax()),
                probe);
    }

    /**
     * Each process's lag behind the leader (from the answers of both) and, on the leader, its
     * last contact with each follower.
     */
    private static List<ProcessStatus> withProgress(List<ProcessStatus> processes, ReplicationView replica) {
        ProcessStatus leader = null;
        for (ProcessStatus p : processes) {
            if (p.role() == MemberRole.LEADER && (leader == null || p.report().term() > leader.report().term())) {
                leader = p;
            }
        }
        List<ProcessStatus> out = new ArrayList<>();
        for (ProcessStatus p : processes) {
            OptionalLong lagVersions = OptionalLong.empty();
            OptionalLong lagEntries = OptionalLong.empty();
            if (leader != null && p.report() != null) {
                lagVersions = OptionalLong.of(Math.max(0, leader.report().appliedVersion() - p.report().appliedVersion()));
                lagEntries = OptionalLong.of(Math.max(0, leader.report().commitIndex() - p.report().appliedIndex()));
            }
            // The leader knows when each follower last answered it, whether or not the follower could be asked.
            OptionalLong lastContact = OptionalLong.empty();
            for (FollowerProgress f : replica.followers()) {
                if (f.id().equals(p.id())) {
                    lastContact = OptionalLong.of(f.lastContactMs());
                }
            }
            out.add(p.withProgress(lagVersions, lagEntries, lastContact));
        }
        return out;
    }

    private StorageStatus storage(EngineCounters stats) {
        EngineStatusReader.StorageEngine storageEngine = engine.storageEngine();
        return new StorageStatus(storageEngine.name(), storageEngine.version(), config.dataDir().toString(),
                diskUsedBytes(config.dataDir()), stats.liveBytesEstimate(), stats.mvccViews());
    }

    /**
     * The bytes of every file under {@code dir}. The storage engine deletes and creates files
     * all the time, so a file that vanishes during the walk is skipped, not an error.
     */
    static long diskUsedBytes(Path dir) {
        long[] total = new long[1];
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                    if (attributes.isRegularFile()) {
                        total[0] += attributes.size();
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // Only the start directory can fail here; whatever was counted stands.
        }
        return total[0];
    }

    private synchronized ClusterStatus.Rate rate(EngineCounters now, ToLongFunction<EngineCounters> counter) {
        double hz = 0;
        if (previousSample != null && lastSampleNanos > previousSampleNanos) {
            long delta = counter.applyAsLong(lastSample) - counter.applyAsLong(previousSample);
            hz = delta / ((lastSampleNanos - previousSampleNanos) / 1e9);
        }
        return new ClusterStatus.Rate(counter.applyAsLong(now), hz);
    }

    /** Times a read version, a read and a commit; reuses the last result within a second. */
    private synchronized ClusterStatus.LatencyProbe probe() {
        long now = System.nanoTime();
        if (lastProbe != null && now - lastProbeNanos < PROBE_EVERY_NANOS) {
            return lastProbe;
        }
        ReplicationView replica = engine.replication();
        if (replica != null && !engine.isLeading()) {
            lastProbe = followerProbe(replica);
            lastProbeNanos = System.nanoTime();
            return lastProbe;
        }
        OptionalDouble grvSeconds = OptionalDouble.empty();
        OptionalDouble readSeconds = OptionalDouble.empty();
        OptionalDouble commitSeconds = OptionalDouble.empty();
        String error = "";
        try {
            long t0 = System.nanoTime();
            long readVersion = backend.getReadVersion().get(PROBE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            long t1 = System.nanoTime();
            backend.get(PROBE_KEY, readVersion).get(PROBE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            long t2 = System.nanoTime();
            byte[] value = Long.toString(System.currentTimeMillis()).getBytes(StandardCharsets.US_ASCII);
            backend.commit(new CommitRequest(-1, List.of(),
                    List.of(new Range(PROBE_KEY, ByteArrays.keyAfter(PROBE_KEY))),
                    List.of(new Mutation(Mutation.SET, PROBE_KEY, value)), null, false))
                    .get(PROBE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            long t3 = System.nanoTime();
            grvSeconds = OptionalDouble.of((t1 - t0) / 1e9);
            readSeconds = OptionalDouble.of((t2 - t1) / 1e9);
            commitSeconds = OptionalDouble.of((t3 - t2) / 1e9);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error = "interrupted";
        } catch (Exception e) {
            error = String.valueOf(ErrorMapping.toTxkvException(e).getMessage());
        }
        lastProbe = new ClusterStatus.LatencyProbe(grvSeconds, readSeconds, commitSeconds, error);
        lastProbeNanos = System.nanoTime();
        return lastProbe;
    }

    /**
     * A member that does not lead takes no commits and hands out no read versions: it times a
     * read at its newest applied version, and counts the database available when it knows a
     * leader (clients reach the leader through their other servers).
     */
    private ClusterStatus.LatencyProbe followerProbe(ReplicationView replica) {
        OptionalDouble readSeconds = OptionalDouble.empty();
        String error = "";
        try {
            long t0 = System.nanoTime();
            backend.get(PROBE_KEY, replica.appliedVersion()).get(PROBE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            readSeconds = OptionalDouble.of((System.nanoTime() - t0) / 1e9);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error = "interrupted";
        } catch (Exception e) {
            // Reading at an applied version can age out between the two calls; not a failure of the cluster.
            readSeconds = OptionalDouble.empty();
        }
        if (error.isEmpty() && replica.leader().isEmpty()) {
            error = "no leader is known to this member (an election may be running)";
        }
        return new ClusterStatus.LatencyProbe(OptionalDouble.empty(), readSeconds, OptionalDouble.empty(), error);
    }
}
