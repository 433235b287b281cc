package dev.txkv;

import java.util.concurrent.CompletableFuture;

/**
 * A transaction: reads at one read version, buffered writes, and one atomic commit that
 * fails with {@code not_committed} (1020) if anything it read was written by a transaction
 * that committed after its read version. Not thread-safe for concurrent writes; close it (or
 * let the retry loop close it) when done.
 */
public interface Transaction extends ReadTransaction, AutoCloseable {
    /** Sets {@code key} to {@code value}. */
    void set(byte[] key, byte[] value);

    /** Clears {@code key}. */
    void clear(byte[] key);

    /** Clears every key in {@code [begin, end)}. */
    void clear(byte[] begin, byte[] end);

    /** Clears every key in {@code range}. */
    void clear(Range range);

    /** Applies an atomic mutation at commit time; adds no read conflict. */
    void mutate(MutationType type, byte[] key, byte[] param);

    /** Adds a read conflict range, as if the range had been read. */
    void addReadConflictRange(byte[] begin, byte[] end);

    /** Adds a read conflict on one key. */
    void addReadConflictKey(byte[] key);

    /** Adds a write conflict range, as if the range had been written. */
    void addWriteConflictRange(byte[] begin, byte[] end);

    /** Adds a write conflict on one key. */
    void addWriteConflictKey(byte[] key);

    /** Commits; completes once the commit is durable. A read-only transaction commits at once. */
    CompletableFuture<Void> commit();

    /** The version at which this transaction committed; -1 if it wrote nothing. Valid after commit. */
    long getCommittedVersion();

    /** Completes with the 10-byte versionstamp of this transaction once it has committed. */
    CompletableFuture<byte[]> getVersionstamp();

    /** An estimate of the bytes this transaction would commit (mutations and conflict ranges). */
    CompletableFuture<Long> getApproximateSize();

    /**
     * Completes when the value of {@code key} changes after this transaction commits (or, for
     * a read-only transaction, after its read version). Counted against the database's watch
     * limit until it fires or is cancelled.
     */
    CompletableFuture<Void> watch(byte[] key);

    /**
     * Decides what to do after an error: for a retryable one, waits an exponential backoff,
     * resets this transaction and completes with it; otherwise completes exceptionally with
     * the error.
     */
    CompletableFuture<Transaction> onError(Throwable error);

    /** Discards all reads, writes and the read version, as a new transaction. Keeps options. */
    void reset();

    /** Cancels; every outstanding and later operation fails with {@code transaction_cancelled}. */
    void cancel();

    /** The database this transaction belongs to. */
    Database getDatabase();

    /** Releases the transaction's resources; cancels it if still running. */
    @Override
    void close();
}
