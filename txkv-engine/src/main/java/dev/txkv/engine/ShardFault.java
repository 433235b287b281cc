package dev.txkv.engine;

/**
 * Bugs a test can plant in a sharded engine, to show that the simulation and its checker
 * catch each one (a checker is trusted only once it has caught a planted bug). Production
 * engines always run {@link #NONE}.
 */
enum ShardFault {
    NONE,
    /** The coordinator answers the client as soon as it appends its decision, before the decision is durable. */
    ACK_BEFORE_DECISION_DURABLE,
    /** A participant applies its prepared slice at once, as if the decision were already commit. */
    APPLY_BEFORE_DECISION,
    /** A shard serves a read without waiting for every slot at or below its version to resolve. */
    READ_BEFORE_RESOLVED,
    /** A shard takes commits and reads for keys it gave away by a split, as a stale shard map asks. */
    STALE_MAP_ACCEPTED,
    /**
     * A slot whose append failed counts as rolled back at once, although its record may still
     * land in the log (reads above it are then served without it, and see it later).
     */
    DROP_FAILED_APPEND,
    /**
     * The outcome of a commit whose batch the log refused stays known: a retry with the same
     * idempotency id is told it committed, although nothing of it ever applied.
     */
    KEEP_REFUSED_OUTCOMES,
    /**
     * A shard that gives all its keys away (the right shard of a merge) goes on taking commits
     * for them from routers with an older map: the shard that absorbed them never sees those
     * writes.
     */
    MERGED_AWAY_KEYS_ACCEPTED
}
