package dev.txkv.bench.scale;

/**
 * The inputs of {@link ScaleSim}: the cluster's shape, the measured CPU costs, the latencies of
 * the network and the disk, and the workload. Times are in microseconds ({@code Us}) or
 * milliseconds ({@code Ms}) as their names say. The defaults are the figures of
 * docs/benchmarks.md ("A model of sharded txkv at 100+ processes" lists where each comes from).
 */
public final class ScaleParams implements Cloneable {
    // Shape
    /** Server processes. */
    public int processes = 8;
    /** Shards; 0 means {@code processes * leadersPerProcess}. */
    public int shards = 0;
    /** Shard leaders per process when {@link #shards} is 0. */
    public int leadersPerProcess = 1;
    /** Replicas per shard, capped at the number of processes. */
    public int replication = 3;
    /** CPU cores of each server process. */
    public int coresPerProcess = 1;
    /** When above 0, every process (servers, sequencer, clients) shares one pool of this many cores. */
    public int sharedCores = 0;

    // Sequencer
    /** Versions from a sequencer (sharded txkv); false: each leader versions its own batches (today's one-shard cluster). */
    public boolean sequencer = true;
    /** The sequencer on a process of its own; false: on server process 0, beside its replicas. */
    public boolean sequencerDedicated = true;
    public int sequencerCores = 1;
    /** Sequencer CPU per grant request (one per shard batch, one per cross-shard transaction), the call included. */
    public double grantUs = 10;
    /** Sequencer CPU per extra participant of a grant. */
    public double grantPerParticipantUs = 1;
    /** Sequencer CPU per batch of read versions (one request answers every transaction waiting in a client process). */
    public double readVersionUs = 10;
    /** Each transaction takes a read version from the sequencer (batched per client process). */
    public boolean readVersions = true;

    // Costs per commit
    /** Leader CPU per commit (resolve, append, apply, reply): measured on the replicated path. */
    public double leaderUs = 26;
    /** Follower CPU per commit (receive, append, apply). */
    public double followerUs = 11;
    /** Client CPU per commit. */
    public double clientUs = 22;
    /** Extra leader and follower CPU per batch (per Raft round), beyond the per-commit costs. */
    public double leaderBatchUs = 0;
    public double followerBatchUs = 0;
    /** CPU at each end of a server-to-server call outside Raft (grant, prepare, vote, decision). */
    public double rpcUs = 5;
    /** A DECIDE, DECIDED or FORGET record costs this share of a commit's leader and follower CPU. */
    public double recordShare = 0.5;
    /** Heartbeat CPU per message, and the interval of a Raft group's heartbeats. */
    public double heartbeatUs = 20;
    public double heartbeatMs = 500;

    // Latencies
    /** One-way network latency between any two processes (mean). */
    public double netMs = 0.087;
    /** Latency of one fsync of a log append (mean). */
    public double fsyncMs = 0.145;
    /** Fixed extra delay of every Raft round (the replication library's own hand-offs); 0 by default. */
    public double raftOverheadMs = 0;
    /**
     * A shard leader's own batches between closing and resolved (awaiting their grant, waiting
     * for their slot, resolving); a batch closes when fewer are. 1 in the engine today. The Raft
     * rounds after resolving are not limited.
     */
    public int pipeline = 1;
    /** Share of the leader's per-commit cost spent resolving (one batch at a time); the rest (apply, answer) after the Raft round. */
    public double resolveShare = 0.5;
    /** Most commits in one batch; 0: no limit. */
    public int maxBatch = 0;

    // Workload
    /** Share of transactions that write more than one shard. */
    public double crossShard = 0;
    /** Shards a cross-shard transaction touches (its home shard included). */
    public int participants = 2;
    /** Closed-loop clients in all; 0 means {@code clientsPerShard * shards}. */
    public int clients = 0;
    public int clientsPerShard = 256;
    /** Client processes (each batches its read versions); 0 means one per server process. */
    public int clientProcesses = 0;
    public int clientCores = 1;

    // Run
    public double warmupMs = 20;
    public double measureMs = 100;

    public int shardCount() {
        return shards > 0 ? shards : processes * leadersPerProcess;
    }

    public int replicas() {
        return Math.min(replication, processes);
    }

    public int clientCount() {
        return clients > 0 ? clients : clientsPerShard * shardCount();
    }

    public int clientProcessCount() {
        return clientProcesses > 0 ? clientProcesses : processes;
    }

    @Override
    public ScaleParams clone() {
        try {
            return (ScaleParams) super.clone();
        } catch (CloneNotSupportedException e) {
            throw new AssertionError(e);
        }
    }
}
