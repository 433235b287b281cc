package dev.txkv;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * A txkv database, embedded or remote. Thread-safe; one instance serves a whole process.
 * The retry loops ({@code run}, {@code runAsync}, {@code read}, {@code readAsync}) commit the
 * function's writes and rerun it on retryable errors, so the function must be safe to run
 * more than once.
 */
public interface Database extends AutoCloseable {
    /** A new transaction; the caller commits and closes it. */
    Transaction createTransaction();

    /** Runs {@code retryable} in a transaction, commits, and retries on retryable errors. */
    <T> T run(Function<? super Transaction, T> retryable);

    /** The asynchronous form of {@link #run(Function)}. */
    <T> CompletableFuture<T> runAsync(Function<? super Transaction, ? extends CompletableFuture<T>> retryable);

    /** Runs a read-only function with retries; nothing is committed. */
    <T> T read(Function<? super ReadTransaction, T> retryable);

    /** The asynchronous form of {@link #read(Function)}. */
    <T> CompletableFuture<T> readAsync(Function<? super ReadTransaction, ? extends CompletableFuture<T>> retryable);

    /** Closes the database; outstanding operations fail with {@code database_closed}. */
    @Override
    void close();
}
