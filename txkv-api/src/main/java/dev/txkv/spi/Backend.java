package dev.txkv.spi;

import java.util.ArrayList;
import java.util.List;
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
     * The values of {@code keys} at one new read version, taken as {@link #getReadVersion()}
     * takes one (every commit acknowledged before the call is visible at it), with that version:
     * the first reads of a transaction, which then reads and commits at the version returned.
     * The default asks for the version, then reads; a backend for which one call saves a round
     * trip overrides it and {@link #readsAssignVersions()}.
     */
    default CompletableFuture<VersionedValues> getAtNewReadVersion(List<byte[]> keys) {
        return getReadVersion().thenCompose(rv -> {
            List<CompletableFuture<byte[]>> reads = new ArrayList<>(keys.size());
            for (byte[] key : keys) {
                reads.add(get(key, rv));
            }
            return CompletableFuture.allOf(reads.toArray(new CompletableFuture<?>[0])).thenApply(ignored -> {
                List<byte[]> values = new ArrayList<>(reads.size());
                for (CompletableFuture<byte[]> read : reads) {
                    values.add(read.join());
                }
                return new VersionedValues(rv, values);
            });
        });
    }

    /**
     * Whether a transaction should let its first reads take its read version
     * ({@link #getAtNewReadVersion}) rather than ask for it first; false by default.
     */
    default boolean readsAssignVersions() {
        return false;
    }

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
