package dev.txkv.testkit;

/**
 * How an operation ended, in Jepsen's terms. The checker relies on the distinction between
 * {@link #FAIL} and {@link #INFO}: a failed transaction's writes must never be seen, while an
 * indeterminate one may or may not have taken effect.
 */
public enum OpType {
    /** Committed (or a read-only transaction that completed). */
    OK,
    /** Certainly did not commit, e.g. a conflict (1020) or an error before commit was sent. */
    FAIL,
    /** Unknown outcome: {@code commit_unknown_result} (1021), a timeout during commit, a crash. */
    INFO;

    /** The lower-case name used in the history file format. */
    public String token() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The inverse of {@link #token()}. */
    public static OpType ofToken(String token) {
        return switch (token) {
            case "ok" -> OK;
            case "fail" -> FAIL;
            case "info" -> INFO;
            default -> throw new IllegalArgumentException("Unknown operation type: " + token);
        };
    }
}
