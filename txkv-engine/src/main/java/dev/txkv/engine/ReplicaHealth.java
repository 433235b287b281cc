package dev.txkv.engine;

/**
 * What a member knows of its own health.
 *
 * @param failure why this member failed to apply the replicated log, or null when it has not
 * @param failedLogIndex the Raft index of the entry it could not apply, or -1
 * @param millisSinceApply milliseconds since it last applied a commit batch (or opened)
 * @param refusedRaftCalls calls refused on its Raft port: Ratis client or admin requests from
 *     the network, which txkv never makes
 * @param refusedLogEntries log entries its leader admission refused before they were appended
 */
public record ReplicaHealth(String failure, long failedLogIndex, long millisSinceApply, long refusedRaftCalls,
        long refusedLogEntries) {
    /** Whether this member failed to apply the log and serves nothing. */
    public boolean failed() {
        return failure != null;
    }
}
