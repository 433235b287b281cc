package dev.txkv.spi;

import java.util.concurrent.CompletableFuture;

/**
 * What a client-side transaction needs from the database: read versions, reads at a version,
 * commits and watches. The embedded engine implements it in-process; the remote client over
 * the network. Keys here are already checked against the limits by the client.
 */
public interface Backend extends AutoCloseable {
    /** The newest committed version; every acknowledged commit is visible at it. */
    CompletableFuture<Long> getReadVersion();

    /** The value of {@code key} at {@code readVersion}, or null. */
    CompletableFuture<byte[]> get(byte[] key, long readVersion);

    /**
     * Rows in {@code [begin, end)} at {@code readVersion}, ascending (or descending when
     * {@code reverse}), at most {@code rowLimit} rows and about {@code byteLimit} bytes (at
     * least one row is returned when one exists).
     */
    CompletableFuture<RangeChunk> getRange(byte[] begin, byte[] end, int rowLimit, long byteLimit,
            boolean reverse, long readVersion);

    /** Resolves, sequences and durably commits; fails with not_committed on a conflict. */
    CompletableFuture<CommitResult> commit(CommitRequest request);

    /**
     * Completes when a version after {@code version} changes the value that {@code key} had at
     * {@code version}. Cancelling the future removes the watch. Fails with too_many_watches
     * when the backend's watch limit is reached.
     */
    CompletableFuture<Void> watch(byte[] key, long version);

    /** Releases everything; outstanding operations fail with database_closed. */
    @Override
    void close();
}
