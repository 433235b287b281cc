package dev.txkv.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.proto.ConflictDetails;
import dev.txkv.proto.KeyRange;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;

/**
 * How txkv errors travel over gRPC: a gRPC status whose code tells generic gRPC tooling what
 * kind of failure it is, plus trailers that carry the exact txkv error, so that a client
 * rebuilds the same {@link TxkvException} (and retries exactly when the embedded API would).
 *
 * <p>Trailers: {@value #ERROR_CODE_TRAILER} (the decimal code, e.g. "1020"),
 * {@value #ERROR_NAME_TRAILER} (e.g. "not_committed") and, for a conflict of a commit that
 * asked for it, {@value #ERROR_DETAILS_TRAILER} holding a serialized {@link ConflictDetails}.
 *
 * <p>Status codes: retryable conflicts (1007, 1020) are ABORTED, other retryable errors
 * UNAVAILABLE, overload (1042, 1032) RESOURCE_EXHAUSTED, an unknown commit outcome (1021)
 * UNKNOWN, invalid requests INVALID_ARGUMENT, a protocol version the server does not speak
 * FAILED_PRECONDITION, a closed database and a member that does not lead (1060) UNAVAILABLE
 * (another server may answer).
 */
public final class ErrorMapping {
    /** Trailer name of the decimal txkv error code. */
    public static final String ERROR_CODE_TRAILER = "txkv-error-code";
    /** Trailer name of the txkv error name. */
    public static final String ERROR_NAME_TRAILER = "txkv-error-name";
    /** Trailer name of the serialized {@link ConflictDetails} of a not_committed error. */
    public static final String ERROR_DETAILS_TRAILER = "txkv-error-details-bin";

    /** Key of the {@value #ERROR_CODE_TRAILER} trailer. */
    public static final Metadata.Key<String> ERROR_CODE =
            Metadata.Key.of(ERROR_CODE_TRAILER, Metadata.ASCII_STRING_MARSHALLER);
    /** Key of the {@value #ERROR_NAME_TRAILER} trailer. */
    public static final Metadata.Key<String> ERROR_NAME =
            Metadata.Key.of(ERROR_NAME_TRAILER, Metadata.ASCII_STRING_MARSHALLER);
    /** Key of the {@value #ERROR_DETAILS_TRAILER} trailer. */
    public static final Metadata.Key<byte[]> ERROR_DETAILS =
            Metadata.Key.of(ERROR_DETAILS_TRAILER, Metadata.BINARY_BYTE_MARSHALLER);

    private ErrorMapping() {
    }

    /** The txkv error that {@code failure} stands for; anything unexpected is internal_error (4100). */
    public static TxkvException toTxkvException(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof TxkvException) {
            return (TxkvException) t;
        }
        if (t instanceof RejectedExecutionException) {
            return new TxkvException(ErrorCode.PROXY_MEMORY_LIMIT_EXCEEDED,
                    "The server's request queue is full; retry later");
        }
        if (t instanceof CancellationException) {
            return new TxkvException(ErrorCode.TRANSACTION_CANCELLED, "The operation was cancelled");
        }
        if (t instanceof StatusRuntimeException || t instanceof StatusException) {
            Status status = Status.fromThrowable(t);
            return fromStatus(status, Status.trailersFromThrowable(t));
        }
        // The message of an unexpected exception may say what broke; its stack stays in the log.
        return new TxkvException(ErrorCode.INTERNAL_ERROR, String.valueOf(t), t);
    }

    /**
     * Errors that say the request itself is wrong (a limit, a malformed range or argument):
     * retrying the same request cannot help. The gRPC and HTTP mappings share this list.
     */
    public static boolean isInvalidRequest(ErrorCode error) {
        switch (error) {
            case INVERTED_RANGE:
            case INVALID_OPTION_VALUE:
            case KEY_OUTSIDE_LEGAL_RANGE:
            case VERSION_INVALID:
            case RANGE_LIMITS_INVALID:
            case INVALID_MUTATION_TYPE:
            case READ_VERSION_ALREADY_SET:
            case TRANSACTION_TOO_LARGE:
            case KEY_TOO_LARGE:
            case VALUE_TOO_LARGE:
            case CLIENT_INVALID_OPERATION:
            case USED_DURING_COMMIT:
            case ACCESSED_UNREADABLE:
                return true;
            default:
                return false;
        }
    }

    /** The gRPC status for {@code failure}, without trailers; see {@link #toStatusException}. */
    public static Status toStatus(Throwable failure) {
        TxkvException e = toTxkvException(failure);
        return statusCode(e.getError()).withDescription(e.getMessage());
    }

    /** The gRPC status and trailers for {@code failure}, ready for {@code StreamObserver.onError}. */
    public static StatusRuntimeException toStatusException(Throwable failure) {
        TxkvException e = toTxkvException(failure);
        return toStatus(e).asRuntimeException(trailers(e));
    }

    /** The trailers that carry {@code e}: code, name and, for a reported conflict, its ranges. */
    public static Metadata trailers(TxkvException e) {
        Metadata trailers = new Metadata();
        trailers.put(ERROR_CODE, Integer.toString(e.getCode()));
        trailers.put(ERROR_NAME, e.getError().errorName());
        ConflictDetails details = conflictDetails(e);
        if (details != null) {
            trailers.put(ERROR_DETAILS, details.toByteArray());
        }
        return trailers;
    }

    /**
     * The conflicting read ranges of a not_committed error that reported them, or null: the
     * details of the {@value #ERROR_DETAILS_TRAILER} trailer and of a CommitMany element's error.
     */
    public static ConflictDetails conflictDetails(TxkvException e) {
        if (e.getError() != ErrorCode.NOT_COMMITTED || e.getConflictingKeyRanges().isEmpty()) {
            return null;
        }
        ConflictDetails.Builder details = ConflictDetails.newBuilder();
        for (Range r : e.getConflictingKeyRanges()) {
            details.addConflictingRanges(KeyRange.newBuilder()
                    .setBegin(ByteString.copyFrom(r.begin)).setEnd(ByteString.copyFrom(r.end)));
        }
        return details.build();
    }

    /** The gRPC status code that carries {@code error}. */
    public static Status statusCode(ErrorCode error) {
        if (isInvalidRequest(error)) {
            return Status.INVALID_ARGUMENT;
        }
        switch (error) {
            case NOT_COMMITTED:
            case TRANSACTION_TOO_OLD:
                return Status.ABORTED;
            case FUTURE_VERSION:
            case PROCESS_BEHIND:
            case DATABASE_LOCKED:
            case CONNECTION_FAILED:
            case DATABASE_CLOSED:
            case NOT_LEADER:
                return Status.UNAVAILABLE;
            case PROXY_MEMORY_LIMIT_EXCEEDED:
            case TOO_MANY_WATCHES:
                return Status.RESOURCE_EXHAUSTED;
            case COMMIT_UNKNOWN_RESULT:
                return Status.UNKNOWN;
            case TRANSACTION_CANCELLED:
                return Status.CANCELLED;
            case TRANSACTION_TIMED_OUT:
                return Status.DEADLINE_EXCEEDED;
            case PROTOCOL_VERSION_UNSUPPORTED:
                return Status.FAILED_PRECONDITION;
            default:
                return Status.INTERNAL;
        }
    }

    /**
     * The txkv error a failed call carries. With the {@value #ERROR_CODE_TRAILER} trailer it
     * is the server's error exactly; without it the failure came from the network or gRPC
     * itself, and only the status code is known: UNAVAILABLE becomes connection_failed (1026),
     * CANCELLED transaction_cancelled, DEADLINE_EXCEEDED transaction_timed_out, anything else
     * internal_error. A caller that sent a commit must treat a transport failure as
     * commit_unknown_result (1021) itself: only it knows whether the request may have arrived.
     */
    public static TxkvException fromStatus(Status status, Metadata trailers) {
        String codeText = trailers == null ? null : trailers.get(ERROR_CODE);
        String description = status.getDescription();
        if (codeText != null) {
            int code;
            try {
                code = Integer.parseInt(codeText.trim());
            } catch (NumberFormatException e) {
                return new TxkvException(ErrorCode.INTERNAL_ERROR,
                        "Unreadable error code '" + codeText + "': " + description);
            }
            ErrorCode error = ErrorCode.of(code);
            String message = description == null ? error.description() : description;
            if (error.code() != code) {
                message = "error " + code + " " + trailers.get(ERROR_NAME) + ": " + message;
            }
            return new TxkvException(error, message, status.getCause(), conflictingRanges(trailers));
        }
        String message = "gRPC " + status.getCode() + (description == null ? "" : ": " + description);
        switch (status.getCode()) {
            case UNAVAILABLE:
                return new TxkvException(ErrorCode.CONNECTION_FAILED, message, status.getCause());
            case CANCELLED:
                return new TxkvException(ErrorCode.TRANSACTION_CANCELLED, message, status.getCause());
            case DEADLINE_EXCEEDED:
                return new TxkvException(ErrorCode.TRANSACTION_TIMED_OUT, message, status.getCause());
            default:
                return new TxkvException(ErrorCode.INTERNAL_ERROR, message, status.getCause());
        }
    }

    private static List<Range> conflictingRanges(Metadata trailers) {
        byte[] details = trailers.get(ERROR_DETAILS);
        if (details == null) {
            return List.of();
        }
        try {
            List<Range> ranges = new ArrayList<>();
            for (KeyRange r : ConflictDetails.parseFrom(details).getConflictingRangesList()) {
                ranges.add(new Range(r.getBegin().toByteArray(), r.getEnd().toByteArray()));
            }
            return ranges;
        } catch (InvalidProtocolBufferException e) {
            // The conflict itself is still reported; only its optional detail is lost.
            return List.of();
        }
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
