package dev.txkv.engine;

import dev.txkv.spi.CommitRequest;
import java.util.concurrent.CompletableFuture;

/**
 * What one shard of a sharded cluster needs of the rest of it: the sequencer's grants and read
 * versions, and the two-phase calls to other shards' leaders. A real cluster implements it
 * over the network; a simulation over simulated messages. Every call may fail or never be
 * answered; callers time out and retry.
 */
public interface ShardNetwork {
    /** The outcome of a cross-shard transaction as its coordinator knows it. */
    enum Outcome {
        COMMIT, ABORT,
        /** The coordinator is still collecting votes or making its decision durable: ask again. */
        PENDING
    }

    /**
     * A participant's part of a cross-shard transaction.
     *
     * @param version the transaction's commit version (its slot on every participant)
     * @param epoch the sequencer epoch of the grant
     * @param previous the version granted to this participant before this one, or -1
     * @param coordinator the coordinating shard
     * @param participants every participant
     * @param slice the transaction cut to this participant's keys: mutations, read and write
     *     conflict ranges; versionstamped keys already placed
     */
    record Prepare(long version, long epoch, long previous, int coordinator, int[] participants, CommitRequest slice) {
    }

    /** A commit version for {@code participants}, coordinated by {@code coordinator}. */
    CompletableFuture<VersionSequencer.Grant> grant(int coordinator, int[] participants);

    /** The sequencer's current epoch. */
    CompletableFuture<Long> epoch();

    /** Which shard coordinates the transaction granted {@code version}; -1 if the sequencer does not know. */
    CompletableFuture<Integer> coordinatorOf(long version);

    /**
     * Asks {@code shard}'s leader to prepare: completes once its slice is durably prepared (a
     * yes vote), fails with the reason it refused (a no vote) or when the call failed.
     */
    CompletableFuture<Void> prepare(int shard, Prepare request);

    /** Tells {@code shard}'s leader the outcome; completes once it is durable there. */
    CompletableFuture<Void> decided(int shard, long version, boolean commit);

    /** Asks the coordinating shard's leader for the outcome of {@code version}. */
    CompletableFuture<Outcome> queryDecision(int coordinator, long version);
}
