package dev.txkv.wire;

import static io.grpc.Status.Code.ABORTED;
import static io.grpc.Status.Code.CANCELLED;
import static io.grpc.Status.Code.DEADLINE_EXCEEDED;
import static io.grpc.Status.Code.FAILED_PRECONDITION;
import static io.grpc.Status.Code.INTERNAL;
import static io.grpc.Status.Code.INVALID_ARGUMENT;
import static io.grpc.Status.Code.PERMISSION_DENIED;
import static io.grpc.Status.Code.RESOURCE_EXHAUSTED;
import static io.grpc.Status.Code.UNAUTHENTICATED;
import static io.grpc.Status.Code.UNAVAILABLE;
import static io.grpc.Status.Code.UNKNOWN;

import dev.txkv.ErrorCode;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one table of txkv's error codes on the wire: for every {@link ErrorCode}, the gRPC status
 * code a failed call carries, the HTTP status the gateway answers with, and whether a client
 * retries it. The server, its HTTP gateway and the remote client all read it, and
 * docs/errors.md is checked against it by a test, so the three cannot drift apart.
 *
 * <p>How the statuses are chosen: conflicts and too-old read versions (the transaction must
 * start again) are ABORTED / 409; other conditions that pass, where another try or another
 * server may succeed, UNAVAILABLE / 503; overload RESOURCE_EXHAUSTED (503 for the commit queue,
 * 429 for the watch limit); an unknown commit outcome UNKNOWN / 503; invalid requests, which no
 * retry can fix, INVALID_ARGUMENT / 400; a protocol version the server does not speak
 * FAILED_PRECONDITION / 400; server faults INTERNAL / 500; no or wrong credentials
 * UNAUTHENTICATED / 401, an operation the credentials do not allow PERMISSION_DENIED / 403, and
 * too many failed sign-ins RESOURCE_EXHAUSTED / 429. Retryability is
 * {@link dev.txkv.TxkvException#isRetryable()}'s (FoundationDB's), which the table repeats so
 * that clients in other languages can read it from docs/errors.md.
 */
public final class ErrorTable {
    /**
     * One error code on the wire.
     *
     * @param error the error (its number and name)
     * @param grpcStatus the status code of a failed gRPC call that carries it
     * @param httpStatus the HTTP status the gateway answers it with
     * @param retryable whether running the transaction again may succeed
     */
    public record Row(ErrorCode error, Status.Code grpcStatus, int httpStatus, boolean retryable) {
        /** The numeric code, e.g. 1020. */
        public int code() {
            return error.code();
        }

        /** The snake_case name, e.g. "not_committed". */
        public String name() {
            return error.errorName();
        }
    }

    private static final boolean RETRY = true;
    private static final boolean FINAL = false;

    /** In code order; the check below refuses a code listed twice or left out. */
    private static final List<Row> ROWS = List.of(
            row(ErrorCode.OPERATION_FAILED, INTERNAL, 500, FINAL),
            row(ErrorCode.WRONG_SHARD_SERVER, UNAVAILABLE, 503, RETRY),
            row(ErrorCode.TRANSACTION_TOO_OLD, ABORTED, 409, RETRY),
            row(ErrorCode.FUTURE_VERSION, UNAVAILABLE, 503, RETRY),
            row(ErrorCode.NOT_COMMITTED, ABORTED, 409, RETRY),
            row(ErrorCode.COMMIT_UNKNOWN_RESULT, UNKNOWN, 503, RETRY),
            row(ErrorCode.TRANSACTION_CANCELLED, CANCELLED, 503, FINAL),
            row(ErrorCode.CONNECTION_FAILED, UNAVAILABLE, 503, RETRY),
            row(ErrorCode.TRANSACTION_TIMED_OUT, DEADLINE_EXCEEDED, 504, FINAL),
            row(ErrorCode.TOO_MANY_WATCHES, RESOURCE_EXHAUSTED, 429, FINAL),
            row(ErrorCode.ACCESSED_UNREADABLE, INVALID_ARGUMENT, 400, FINAL),
            row(ErrorCode.PROCESS_BEHIND, UNAVAILABLE, 503, RETRY),
            row(ErrorCode.DATABASE_LOCKED, UNAVAILABLE, 503, RETRY),
            row(ErrorCode.PROXY_MEMORY_LIMIT_EXCEEDED, RESOURCE_EXHAUSTED, 503, RETRY),
            row(ErrorCode.NOT_LEADER, UNAVAILABLE, 503, RETRY),
            row(ErrorCode.TAG_THROTTLED, RESOURCE_EXHAUSTED, 429, RETRY),
            row(ErrorCode.IO_ERROR, INTERNAL, 500, FINAL),
            row(ErrorCode.CLIENT_INVALID_OPERATION, INVALID_ARGUMENT, 400, FINAL),
            row(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE, INVALID_ARGUMENT, 400, FINAL),
            row(ErrorCode.INVERTED_RANGE, INVALID_ARGUMENT, 400, FINAL),
            row(ErrorCode.INVALID_OPTION_VALUE, INVALID_ARGUMENT, 400, FINAL),
            row(ErrorCode.READ_VERSION_ALREADY_SET, INVALID_ARGUMENT, 400, FINAL),
            row(ErrorCode.VERSION_INVALID, INVALID_ARGUMENT, 400, FINAL),
            row(ErrorCode.RANGE_LIMITS_INVALID, INVALID_ARGUMENT, 400, FINAL),
            row(ErrorCode.USED_DURING_COMMIT, INVALID_ARGUMENT, 400, FINAL),
            row(ErrorCode.INVALID_MUTATION_TYPE, INVALID_ARGUMENT, 400, FINAL),
            row(ErrorCode.TRANSACTION_TOO_LARGE, INVALID_ARGUMENT, 400, FINAL),
            row(ErrorCode.KEY_TOO_LARGE, INVALID_ARGUMENT, 400, FINAL),
            row(ErrorCode.VALUE_TOO_LARGE, INVALID_ARGUMENT, 400, FINAL),
            row(ErrorCode.DATABASE_CLOSED, UNAVAILABLE, 503, FINAL),
            row(ErrorCode.PROTOCOL_VERSION_UNSUPPORTED, FAILED_PRECONDITION, 400, FINAL),
            row(ErrorCode.INTERNAL_ERROR, INTERNAL, 500, FINAL),
            row(ErrorCode.DATA_DIRECTORY_INVALID, INTERNAL, 500, FINAL),
            row(ErrorCode.DATA_DIRECTORY_LOCKED, INTERNAL, 500, FINAL),
            row(ErrorCode.PERMISSION_DENIED, PERMISSION_DENIED, 403, FINAL),
            row(ErrorCode.UNAUTHORIZED_ATTEMPT, UNAUTHENTICATED, 401, FINAL),
            row(ErrorCode.AUTHORIZATION_TOKEN_VERIFY_FAILED, UNAUTHENTICATED, 401, RETRY));

    private static final Map<ErrorCode, Row> BY_ERROR = new EnumMap<>(ErrorCode.class);
    private static final Map<Integer, Row> BY_CODE = new HashMap<>();

    static {
        for (Row r : ROWS) {
            if (BY_ERROR.put(r.error(), r) != null || BY_CODE.put(r.code(), r) != null) {
                throw new IllegalStateException("The error table lists " + r.name() + " (" + r.code() + ") twice");
            }
        }
        List<ErrorCode> missing = new ArrayList<>();
        for (ErrorCode e : ErrorCode.values()) {
            if (!BY_ERROR.containsKey(e)) {
                missing.add(e);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("The error table lacks " + missing);
        }
    }

    private ErrorTable() {
    }

    private static Row row(ErrorCode error, Status.Code grpcStatus, int httpStatus, boolean retryable) {
        return new Row(error, grpcStatus, httpStatus, retryable);
    }

    /** Every row, in code order. */
    public static List<Row> rows() {
        return ROWS;
    }

    /** The row of {@code error}; every error code has one. */
    public static Row of(ErrorCode error) {
        return BY_ERROR.get(error);
    }

    /** The row of the numeric {@code code}; empty for a code this table does not know (a newer peer's). */
    public static Optional<Row> forCode(int code) {
        return Optional.ofNullable(BY_CODE.get(code));
    }
}
