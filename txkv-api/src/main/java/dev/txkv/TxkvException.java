package dev.txkv;

import java.util.List;

/**
 * The one exception type of the txkv API. {@link #getCode()} gives FoundationDB's numeric
 * code; {@link #isRetryable()} and {@link #isMaybeCommitted()} follow FoundationDB's
 * classification, which {@link Transaction#onError(Throwable)} uses.
 */
public class TxkvException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode error;
    private final transient List<Range> conflictingKeyRanges;

    public TxkvException(ErrorCode error) {
        this(error, error.description(), null, List.of());
    }

    public TxkvException(ErrorCode error, String message) {
        this(error, message, null, List.of());
    }

    public TxkvException(ErrorCode error, String message, Throwable cause) {
        this(error, message, cause, List.of());
    }

    public TxkvException(ErrorCode error, String message, Throwable cause, List<Range> conflictingKeyRanges) {
        super(error.errorName() + " (" + error.code() + "): " + message, cause);
        this.error = error;
        this.conflictingKeyRanges = List.copyOf(conflictingKeyRanges);
    }

    /** The numeric error code, as FoundationDB's. */
    public int getCode() {
        return error.code();
    }

    /** The error as an enum constant. */
    public ErrorCode getError() {
        return error;
    }

    /**
     * True when running the transaction again may succeed: conflicts, too-old read versions,
     * overload and unknown commit results.
     */
    public boolean isRetryable() {
        switch (error) {
            case WRONG_SHARD_SERVER:
            case TRANSACTION_TOO_OLD:
            case FUTURE_VERSION:
            case NOT_COMMITTED:
            case COMMIT_UNKNOWN_RESULT:
            case PROCESS_BEHIND:
            case DATABASE_LOCKED:
            case PROXY_MEMORY_LIMIT_EXCEEDED:
            case CONNECTION_FAILED:
            case NOT_LEADER:
            case TAG_THROTTLED:
            case AUTHORIZATION_TOKEN_VERIFY_FAILED:
                return true;
            default:
                return false;
        }
    }

    /** True when the transaction may have committed although the commit call failed. */
    public boolean isMaybeCommitted() {
        return error == ErrorCode.COMMIT_UNKNOWN_RESULT;
    }

    /** True when the error is retryable and the transaction certainly did not commit. */
    public boolean isRetryableNotCommitted() {
        return isRetryable() && !isMaybeCommitted();
    }

    /**
     * For {@code not_committed} with the {@code reportConflictingKeys} option set: the read
     * conflict ranges of this transaction that met a newer write. Empty otherwise.
     */
    public List<Range> getConflictingKeyRanges() {
        return conflictingKeyRanges == null ? List.of() : conflictingKeyRanges;
    }
}
