package dev.txkv.server;

import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The status of a txkv cluster as the member that answers sees it: the typed form of the
 * Status RPC's {@code dev.txkv.proto.Status} (see {@link StatusProtos}), shaped like
 * FoundationDB's {@code status json}: whether the database is available, every member as a
 * process, and the answering member's workload, queues, limits and latency probe.
 *
 * @param timestampMs when it was built, in milliseconds since the Unix epoch
 * @param protocolVersion the protocol version the answering server speaks
 * @param answeredBy the id of the process that answered
 * @param database the database as the answering member sees it (what {@code /health} says)
 * @param cluster the replicated cluster as the answering member knows it; null when unreplicated
 * @param processes every member, in membership order (only the answering one when unreplicated
 *     or when only the member itself was asked)
 * @param latestVersion the newest version committed or applied on the answering member
 * @param workload the answering member's counters and rates
 * @param queues the answering member's queues against their limits
 * @param limits the limits the answering server enforces
 * @param latencyProbe the answering member's timing of a read version, a read and a commit
 */
record ClusterStatus(long timestampMs, int protocolVersion, String answeredBy, Health database, Cluster cluster,
        List<ProcessStatus> processes, long latestVersion, Workload workload, Queues queues, Limits limits,
        LatencyProbe latencyProbe) {
    ClusterStatus {
        Objects.requireNonNull(answeredBy, "answeredBy");
        Objects.requireNonNull(database, "database");
        processes = List.copyOf(processes);
        Objects.requireNonNull(workload, "workload");
        Objects.requireNonNull(queues, "queues");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(latencyProbe, "latencyProbe");
        if (processes.stream().noneMatch(p -> p.id().equals(answeredBy))) {
            throw new IllegalArgumentException("The answering process " + answeredBy + " is not among the processes");
        }
    }

    /** The same status with {@code processes} instead. */
    ClusterStatus withProcesses(List<ProcessStatus> processes) {
        return new ClusterStatus(timestampMs, protocolVersion, answeredBy, database, cluster, processes, latestVersion,
                workload, queues, limits, latencyProbe);
    }

    /**
     * The replicated cluster as one member knows it.
     *
     * @param name the cluster name every member was started with
     * @param leader the id of the leader it knows, or empty
     * @param term its Raft term (of the control group when sharded)
     * @param shards a sharded cluster's shards in key order; empty when not sharded
     * @param sequencer a sharded cluster's sequencer; null when not sharded
     */
    record Cluster(String name, String leader, long term, List<Shard> shards, Sequencer sequencer, List<String> excluded) {
        Cluster {
            shards = List.copyOf(shards);
            excluded = List.copyOf(excluded);
        }

        Cluster(String name, String leader, long term) {
            this(name, leader, term, List.of(), null, List.of());
        }
    }

    /**
     * One shard as the answering member knows it.
     *
     * @param end empty for the last shard
     * @param leader the member that leads it, or empty
     * @param appliedVersion the answering member's replica's newest applied version; empty when it keeps none
     * @param kvBytesEstimate the live bytes of the answering member's replica; empty when it keeps none
     * @param twoPhase the answering member's replica's two-phase state in words, or empty
     * @param undecided the answering member's replica's prepared slices in doubt; empty when it keeps none
     * @param leaderAddress the leader's client address, or empty
     */
    record Shard(int id, byte[] begin, byte[] end, List<String> replicas, String leader, OptionalLong appliedVersion,
            OptionalLong kvBytesEstimate, String twoPhase, OptionalLong undecided, String leaderAddress,
            List<String> movingTo, String moveReason) {
        Shard {
            replicas = List.copyOf(replicas);
            movingTo = List.copyOf(movingTo);
        }
    }

    /**
     * The sequencer as the answering member knows it.
     *
     * @param leader the member that runs it (leads the control group), or empty
     * @param epoch its epoch, when the answering member runs it
     * @param leaderAddress the leader's client address, or empty
     */
    record Sequencer(String leader, OptionalLong epoch, String leaderAddress) {
    }

    /** Counters since start with their rates over the last second. */
    record Workload(Rate committed, Rate conflicted, Rate tooOld, Rate rejectedForQueueFull, Rate reads,
            Rate commitBatches) {
    }

    /** A counter since start and its change per second between the last two samples. */
    record Rate(long counter, double hz) {
    }

    /** Queue depths against their limits. */
    record Queues(long commitQueueDepth, long commitQueueLimit, long watches, long watchesLimit, long watchStreams,
            long watchStreamsLimit) {
    }

    /** The limits the server enforces. */
    record Limits(long keySizeBytes, long valueSizeBytes, long transactionSizeBytes, long mvccWindowMs,
            long rangeRowsPerCall, long rangeBytesPerCall) {
    }

    /**
     * The probe's timings; a step not timed (a follower takes no commits) is empty.
     *
     * @param error why the probe failed, or empty
     */
    record LatencyProbe(OptionalDouble readVersionSeconds, OptionalDouble readSeconds, OptionalDouble commitSeconds,
            String error) {
        LatencyProbe {
            Objects.requireNonNull(error, "error");
        }
    }
}
