package dev.txkv;

/**
 * Per-transaction options, named as FoundationDB's. Options survive {@link Transaction#reset()}
 * and the resets done by {@link Transaction#onError(Throwable)}, except the idempotency id,
 * which is cleared by {@code reset()} only.
 */
public final class TransactionOptions {
    private long timeoutMs;
    private long retryLimit = -1;
    private long maxRetryDelayMs = 1000;
    private long sizeLimit;
    private boolean reportConflictingKeys;
    private byte[] idempotencyId;
    private boolean automaticIdempotency;
    private boolean accessSystemKeys;

    /** Fails every operation with {@code transaction_timed_out} (1031) after this long; 0 disables. Spans retries. */
    public TransactionOptions setTimeout(long timeoutMs) {
        requireNonNegative(timeoutMs, "timeout");
        this.timeoutMs = timeoutMs;
        return this;
    }

    /** Maximum retries by {@code onError}; -1 means unlimited. */
    public TransactionOptions setRetryLimit(long retryLimit) {
        if (retryLimit < -1) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "retry limit must be -1 or more, got " + retryLimit);
        }
        this.retryLimit = retryLimit;
        return this;
    }

    /** Upper bound of the exponential backoff of {@code onError}, in milliseconds (default 1000); 0 retries at once. */
    public TransactionOptions setMaxRetryDelay(long maxRetryDelayMs) {
        requireNonNegative(maxRetryDelayMs, "max retry delay");
        this.maxRetryDelayMs = maxRetryDelayMs;
        return this;
    }

    /** Byte limit for this transaction (mutations and conflict ranges); 0 means the database's limit. */
    public TransactionOptions setSizeLimit(long sizeLimit) {
        requireNonNegative(sizeLimit, "size limit");
        this.sizeLimit = sizeLimit;
        return this;
    }

    /** On {@code not_committed}, report the conflicting read ranges in the exception. */
    public TransactionOptions setReportConflictingKeys() {
        this.reportConflictingKeys = true;
        return this;
    }

    /**
     * Tags the commit with an id (1 to 255 bytes). A retry after {@code commit_unknown_result}
     * that carries the same id learns the earlier outcome instead of committing twice.
     */
    public TransactionOptions setIdempotencyId(byte[] id) {
        if (id == null || id.length == 0 || id.length > 255) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "idempotency id must be 1 to 255 bytes");
        }
        this.idempotencyId = id.clone();
        return this;
    }

    /** Gives the transaction a random idempotency id, kept across the retries of one run. */
    public TransactionOptions setAutomaticIdempotency() {
        this.automaticIdempotency = true;
        return this;
    }

    /** Allows reading and writing keys that begin with 0xFF. */
    public TransactionOptions setAccessSystemKeys() {
        this.accessSystemKeys = true;
        return this;
    }

    public long getTimeoutMs() {
        return timeoutMs;
    }

    public long getRetryLimit() {
        return retryLimit;
    }

    public long getMaxRetryDelayMs() {
        return maxRetryDelayMs;
    }

    public long getSizeLimit() {
        return sizeLimit;
    }

    public boolean isReportConflictingKeys() {
        return reportConflictingKeys;
    }

    public byte[] getIdempotencyId() {
        return idempotencyId == null ? null : idempotencyId.clone();
    }

    public boolean isAutomaticIdempotency() {
        return automaticIdempotency;
    }

    public boolean isAccessSystemKeys() {
        return accessSystemKeys;
    }

    /** Forgets the idempotency id, as a reset transaction must. */
    public void clearIdempotencyId() {
        this.idempotencyId = null;
    }

    private static void requireNonNegative(long v, String what) {
        if (v < 0) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, what + " must not be negative, got " + v);
        }
    }
}
