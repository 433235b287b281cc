package dev.txkv;

/**
 * Settings of a database, with FoundationDB's defaults for the limits. Mutable until handed
 * to {@link Txkv}; every setter checks its argument.
 */
public final class TxkvConfig {
    private int keySizeMax = 10_000;
    private int valueSizeMax = 100_000;
    private long transactionSizeMax = 10_000_000;
    private long mvccWindowMs = 5_000;
    private int watchesMax = 10_000;
    private boolean durable = true;
    private int commitQueueMax = 8_192;
    private int batchBytesMax = 4 << 20;
    private int batchTransactionsMax = 2_048;
    private long futureVersionWaitMs = 1_000;

    /** Largest key in bytes (default 10,000); larger gives {@code key_too_large} (2102). */
    public TxkvConfig keySizeMax(int bytes) {
        this.keySizeMax = positive(bytes, "keySizeMax");
        return this;
    }

    /** Largest value in bytes (default 100,000); larger gives {@code value_too_large} (2103). */
    public TxkvConfig valueSizeMax(int bytes) {
        this.valueSizeMax = positive(bytes, "valueSizeMax");
        return this;
    }

    /** Largest transaction in bytes of mutations and conflict ranges (default 10,000,000) → 2101. */
    public TxkvConfig transactionSizeMax(long bytes) {
        this.transactionSizeMax = positive(bytes, "transactionSizeMax");
        return this;
    }

    /** How old a read version may be before {@code transaction_too_old} (1007); default 5,000 ms. */
    public TxkvConfig mvccWindowMs(long ms) {
        this.mvccWindowMs = positive(ms, "mvccWindowMs");
        return this;
    }

    /** Most outstanding watches per database (default 10,000) → {@code too_many_watches} (1032). */
    public TxkvConfig watchesMax(int count) {
        this.watchesMax = positive(count, "watchesMax");
        return this;
    }

    /**
     * Whether a commit waits for fsync (default true). Turning it off loses the most recent
     * commits on a machine crash (not on a process crash); for tests and scratch data only.
     */
    public TxkvConfig durable(boolean durable) {
        this.durable = durable;
        return this;
    }

    /** Most commits waiting for the commit pipeline; beyond it commits fail with 1042 (retryable). */
    public TxkvConfig commitQueueMax(int count) {
        this.commitQueueMax = positive(count, "commitQueueMax");
        return this;
    }

    /** Most mutation bytes in one commit batch (one fsync). */
    public TxkvConfig batchBytesMax(int bytes) {
        this.batchBytesMax = positive(bytes, "batchBytesMax");
        return this;
    }

    /** Most transactions in one commit batch (one fsync). At most 65,536 (the versionstamp's order field). */
    public TxkvConfig batchTransactionsMax(int count) {
        positive(count, "batchTransactionsMax");
        if (count > 65_536) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "batchTransactionsMax must be at most 65536");
        }
        this.batchTransactionsMax = count;
        return this;
    }

    /** How long a read at a version not yet applied waits before {@code future_version} (1009). */
    public TxkvConfig futureVersionWaitMs(long ms) {
        this.futureVersionWaitMs = positive(ms, "futureVersionWaitMs");
        return this;
    }

    public int keySizeMax() {
        return keySizeMax;
    }

    public int valueSizeMax() {
        return valueSizeMax;
    }

    public long transactionSizeMax() {
        return transactionSizeMax;
    }

    public long mvccWindowMs() {
        return mvccWindowMs;
    }

    public int watchesMax() {
        return watchesMax;
    }

    public boolean durable() {
        return durable;
    }

    public int commitQueueMax() {
        return commitQueueMax;
    }

    public int batchBytesMax() {
        return batchBytesMax;
    }

    public int batchTransactionsMax() {
        return batchTransactionsMax;
    }

    public long futureVersionWaitMs() {
        return futureVersionWaitMs;
    }

    private static int positive(int v, String name) {
        if (v <= 0) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, name + " must be positive, got " + v);
        }
        return v;
    }

    private static long positive(long v, String name) {
        if (v <= 0) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, name + " must be positive, got " + v);
        }
        return v;
    }
}
