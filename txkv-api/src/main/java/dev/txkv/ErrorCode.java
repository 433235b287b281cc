package dev.txkv;

/**
 * Error codes, numbered and named as FoundationDB's where the meaning is the same, so that
 * users' knowledge of which errors a retry loop handles carries over.
 */
public enum ErrorCode {
    OPERATION_FAILED(1000, "operation_failed", "Operation failed"),
    WRONG_SHARD_SERVER(1001, "wrong_shard_server", "Shard is not available from this server"),
    TRANSACTION_TOO_OLD(1007, "transaction_too_old", "Transaction is too old to perform reads or be committed"),
    FUTURE_VERSION(1009, "future_version", "Request for future version"),
    NOT_COMMITTED(1020, "not_committed", "Transaction not committed due to conflict with another transaction"),
    COMMIT_UNKNOWN_RESULT(1021, "commit_unknown_result", "Transaction may or may not have committed"),
    TRANSACTION_CANCELLED(1025, "transaction_cancelled", "Operation aborted because the transaction was cancelled"),
    TRANSACTION_TIMED_OUT(1031, "transaction_timed_out", "Operation aborted because the transaction timed out"),
    TOO_MANY_WATCHES(1032, "too_many_watches", "Too many watches currently set"),
    ACCESSED_UNREADABLE(1036, "accessed_unreadable", "Read or wrote an unreadable key"),
    PROCESS_BEHIND(1037, "process_behind", "Storage process does not have recent mutations"),
    DATABASE_LOCKED(1038, "database_locked", "Database is locked"),
    PROXY_MEMORY_LIMIT_EXCEEDED(1042, "proxy_memory_limit_exceeded", "Commit queue is full; retry later"),
    USED_DURING_COMMIT(2017, "used_during_commit", "Operation issued while a commit was outstanding"),
    INVERTED_RANGE(2005, "inverted_range", "Range begin key larger than end key"),
    INVALID_OPTION_VALUE(2006, "invalid_option_value", "Option set with an invalid value"),
    KEY_OUTSIDE_LEGAL_RANGE(2004, "key_outside_legal_range", "Key outside legal range"),
    VERSION_INVALID(2011, "version_invalid", "Version not valid"),
    RANGE_LIMITS_INVALID(2012, "range_limits_invalid", "Range request limits not valid"),
    INVALID_MUTATION_TYPE(2018, "invalid_mutation_type", "Invalid mutation type or parameter"),
    READ_VERSION_ALREADY_SET(2010, "read_version_already_set", "Transaction already has a read version set"),
    TRANSACTION_TOO_LARGE(2101, "transaction_too_large", "Transaction exceeds byte limit"),
    KEY_TOO_LARGE(2102, "key_too_large", "Key length exceeds limit"),
    VALUE_TOO_LARGE(2103, "value_too_large", "Value length exceeds limit"),
    PROTOCOL_VERSION_UNSUPPORTED(2200, "protocol_version_unsupported", "The server does not speak this protocol version"),
    NOT_LEADER(1060, "not_leader", "This server does not lead the cluster now; retry on another server"),
    CONNECTION_FAILED(1026, "connection_failed", "Network connection failed"),
    CLIENT_INVALID_OPERATION(2000, "client_invalid_operation", "Invalid API call"),
    DATABASE_CLOSED(2107, "database_closed", "The database has been closed"),
    INTERNAL_ERROR(4100, "internal_error", "An internal error occurred"),
    DATA_DIRECTORY_INVALID(4200, "data_directory_invalid", "The data directory is corrupt or of another format version"),
    DATA_DIRECTORY_LOCKED(4201, "data_directory_locked", "The data directory is in use by another process"),
    IO_ERROR(1510, "io_error", "Disk i/o operation failed"),
    TAG_THROTTLED(1213, "tag_throttled", "Too many requests from this principal; retry later"),
    PERMISSION_DENIED(6000, "permission_denied", "The credentials do not allow this operation"),
    UNAUTHORIZED_ATTEMPT(6001, "unauthorized_attempt", "No or wrong credentials"),
    AUTHORIZATION_TOKEN_VERIFY_FAILED(6003, "authorization_token_verify_failed", "The token is invalid, expired or revoked; sign in again");

    private final int code;
    private final String errorName;
    private final String description;

    ErrorCode(int code, String errorName, String description) {
        this.code = code;
        this.errorName = errorName;
        this.description = description;
    }

    /** The numeric code, as FoundationDB's where one exists. */
    public int code() {
        return code;
    }

    /** The snake_case name, as FoundationDB's where one exists. */
    public String errorName() {
        return errorName;
    }

    /** A one-line human description. */
    public String description() {
        return description;
    }

    /** The error with this numeric code, or {@link #INTERNAL_ERROR} if none has it. */
    public static ErrorCode of(int code) {
        for (ErrorCode e : values()) {
            if (e.code == code) {
                return e;
            }
        }
        return INTERNAL_ERROR;
    }
}
