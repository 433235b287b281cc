package dev.txkv.engine;

/**
 * The engine's counters and gauges at one moment, for status, metrics and benchmarks.
 *
 * @param versionCommitted the newest version committed (or applied, on a member that does not lead)
 * @param commitWriteNanosTotal time spent writing commit batches to storage, summed
 * @param liveBytesEstimate the storage engine's estimate of the live keys' and values' bytes
 * @param replicaFailed whether this member failed to apply the log
 * @param msSinceApply milliseconds since a commit batch was last applied (or the engine opened)
 * @param raftRefusedCalls calls refused on the replication port because they were not replication traffic
 * @param raftRefusedEntries log entries refused before they reached the log
 */
public record EngineCounters(long versionCommitted, long commits, long commitBatches, long commitConflicts,
        long commitTooOld, long commitRejectedQueueFull, long commitQueueDepth, long commitWriteNanosTotal, long reads,
        long watches, long mvccViews, long liveBytesEstimate, boolean replicaFailed, long msSinceApply,
        long raftRefusedCalls, long raftRefusedEntries) {
    /** Counters of an engine that is no longer asked (closed): all zero. */
    public static final EngineCounters NONE = new EngineCounters(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0, 0);
}
