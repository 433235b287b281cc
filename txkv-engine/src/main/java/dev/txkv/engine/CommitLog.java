package dev.txkv.engine;

import java.util.concurrent.CompletableFuture;

/**
 * Where resolved batches become durable and applied. Batches arrive in version order; the
 * future completes once the batch is durable and applied to this engine's storage (so its
 * version is readable), and fails if the outcome is unknown. The embedded engine's log is
 * RocksDB's own write-ahead log ({@link LocalCommitLog}); a replicated log appends to a
 * consensus group first and applies on every replica.
 */
interface CommitLog extends AutoCloseable {
    CompletableFuture<Void> append(CommittedBatch batch);

    /** Non-null once the log can take no more batches (a storage failure): why. */
    default dev.txkv.TxkvException failure() {
        return null;
    }

    /** Stops after the batches already appended; waits up to {@code waitMs}. */
    @Override
    void close();
}
