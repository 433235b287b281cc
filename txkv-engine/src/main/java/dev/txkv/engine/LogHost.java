package dev.txkv.engine;

import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.spi.Environment;
import java.nio.file.Path;

/**
 * What a {@link CommitLog} may ask of the engine it serves: apply what became durable, start
 * and end terms of taking commits, report a member's failure, and take or install storage
 * checkpoints for snapshots. Implemented by the engine; the only way a log reaches into it.
 */
public interface LogHost {
    TxkvConfig config();

    Environment environment();

    /**
     * Applies a batch the log made durable, in log order, in one storage write, and publishes
     * its version. {@code logIndex} is the batch's position in the log, recorded with it so
     * that a restart knows where to resume; -1 when the log has no positions of its own.
     * Batches apply exactly once and in increasing version order (checked).
     */
    void apply(CommittedBatch batch, long logIndex);

    /** The log position of the newest batch applied (from storage at start), or -1. */
    long appliedLogIndex();

    /** The newest version applied. */
    long appliedVersion();

    /**
     * This member takes commits from now on. The log calls it once every batch of earlier
     * terms is applied. Read and commit versions jump {@code versionsAhead} past the newest
     * applied version or the clock, so that they pass every version an earlier leader may have
     * handed out while the clocks of members disagree by less than that.
     */
    void beginTerm(long versionsAhead);

    /** This member stops taking commits at once (it lost leadership, or stopped serving). */
    void endTerm();

    /** A membership change took effect; {@code member} says whether this member is in it. */
    void membershipChanged(boolean member);

    /**
     * This member could not apply log entry {@code logIndex}: it stops applying and serving
     * until rebuilt. Returns the error it now answers with.
     */
    TxkvException fail(long logIndex, Throwable cause);

    /** Non-null once {@link #fail} was called: the error this member answers with. */
    TxkvException failure();

    /** Makes every applied batch durable in storage (before a log prefix is purged). */
    void syncStorage();

    /** Writes a consistent copy of storage into the new directory {@code target} (hard links where possible). */
    void writeCheckpoint(Path target);

    /**
     * Replaces storage with a checkpoint written by {@link #writeCheckpoint} on another member;
     * files of {@code checkpoint} that {@code isCheckpointFile} rejects (the log's own
     * bookkeeping) are left out. Reads in flight finish first; watches fire (their keys may
     * have changed).
     */
    void installCheckpoint(Path checkpoint, java.util.function.Predicate<Path> isCheckpointFile);

    /** Whether the engine is closing or closed. */
    boolean closed();
}
