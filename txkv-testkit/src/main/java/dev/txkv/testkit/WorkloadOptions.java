package dev.txkv.testkit;

import java.time.Duration;

/**
 * The settings every workload shares: how many threads, how many attempts each, the seed, and
 * the time bounds. Each workload's {@code Options} extends it with its own settings.
 *
 * @param <T> the concrete options type, so that setters chain
 */
public abstract class WorkloadOptions<T extends WorkloadOptions<T>> {
    int threads = 4;
    int txnsPerThread = 100;
    long seed;
    Duration maxTime = Duration.ofSeconds(30);
    Duration opTimeout = Duration.ofSeconds(10);
    boolean spreadFirstByte;

    /** This object, typed as the concrete options. */
    protected abstract T self();

    /** Worker threads, each one process in the history (default 4). */
    public T threads(int threads) {
        WorkloadSupport.requirePositive(threads, "threads");
        this.threads = threads;
        return self();
    }

    /** Attempts per thread, each recorded as one operation (default 100). */
    public T txnsPerThread(int txnsPerThread) {
        WorkloadSupport.requirePositive(txnsPerThread, "txnsPerThread");
        this.txnsPerThread = txnsPerThread;
        return self();
    }

    /** Seed of the random choices. */
    public T seed(long seed) {
        this.seed = seed;
        return self();
    }

    /** No attempt starts after this much time from the start of the run (default 30 s). */
    public T maxTime(Duration maxTime) {
        WorkloadSupport.requirePositive(maxTime.toNanos(), "maxTime");
        this.maxTime = maxTime;
        return self();
    }

    /** Longest wait for any one database call (default 10 s); past it, the call counts as failed. */
    public T opTimeout(Duration opTimeout) {
        WorkloadSupport.requirePositive(opTimeout.toNanos(), "opTimeout");
        this.opTimeout = opTimeout;
        return self();
    }

    /**
     * Whether each key starts with a byte derived from its number, ahead of the prefix, so that
     * the keys spread evenly over the first bytes 0x00 to 0xFE (default false: every key starts
     * with the prefix). A sharded cluster splits the keyspace by the first key byte; spread keys
     * reach every shard, and transactions span shards. See {@link FirstByteSpread}.
     */
    public T spreadFirstByte(boolean spreadFirstByte) {
        this.spreadFirstByte = spreadFirstByte;
        return self();
    }
}
