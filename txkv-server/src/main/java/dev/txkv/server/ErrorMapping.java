package dev.txkv.server;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.NotLeader;
import dev.txkv.wire.ErrorTable;
import dev.txkv.wire.WireErrors;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.RejectedExecutionException;

/**
 * The server's side of how txkv errors travel over gRPC: which txkv error a failure inside the
 * server stands for, and the status and trailers that carry it ({@link WireErrors}, with the
 * gRPC status code of {@link ErrorTable}), so that a client rebuilds the same
 * {@link TxkvException} and retries exactly when the embedded API would. It also reads a
 * failed call back, for the HTTP gateway, which calls the service in-process.
 */
public final class ErrorMapping {
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
     * The error to answer a call of {@code method} with. A request that met a closed engine here
     * (the server is stopping, or a move took its replica of the shard away) did nothing: it may
     * go to another server, so it is answered not_leader (1060, retryable) rather than
     * database_closed, which would tell the client that its own database is closed. Only a
     * watch keeps database_closed: the client sets it again.
     */
    public static TxkvException answer(String method, TxkvException e) {
        if (e.getError() != ErrorCode.DATABASE_CLOSED || method.equals("Watch")) {
            return e;
        }
        return new TxkvException(ErrorCode.NOT_LEADER, "This server is stopping or no longer keeps this data"
                + " (" + e.getMessage() + "); retry on another server", e);
    }

    /** The gRPC status for {@code failure}, without trailers; see {@link #toStatusException}. */
    public static Status toStatus(Throwable failure) {
        return WireErrors.status(toTxkvException(failure));
    }

    /**
     * The gRPC status and trailers for {@code failure}, ready for {@code StreamObserver.onError};
     * a not_leader error carries an empty {@link NotLeader} (see {@link #toStatusException(Throwable, NotLeader)}).
     */
    public static StatusRuntimeException toStatusException(Throwable failure) {
        return toStatusException(failure, null);
    }

    /** As {@link #toStatusException(Throwable)}, with {@code notLeader} as a not_leader error's detail. */
    public static StatusRuntimeException toStatusException(Throwable failure, NotLeader notLeader) {
        return WireErrors.toStatusException(toTxkvException(failure), notLeader);
    }

    /**
     * The txkv error a failed call carries. With the {@value WireErrors#ERROR_CODE_TRAILER}
     * trailer it is the server's error exactly; without it the failure came from the network or
     * gRPC itself, and only the status code is known: UNAVAILABLE becomes connection_failed
     * (1026), CANCELLED transaction_cancelled, DEADLINE_EXCEEDED transaction_timed_out, anything
     * else internal_error. A caller that sent a commit must treat a transport failure as
     * commit_unknown_result (1021) itself: only it knows whether the request may have arrived.
     */
    public static TxkvException fromStatus(Status status, Metadata trailers) {
        WireErrors.ServerError server = WireErrors.fromTrailers(status, trailers);
        if (server != null) {
            return server.toException(null, status.getCause());
        }
        String description = status.getDescription();
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

    private static Throwable unwrap(Throwable t) {
        return dev.txkv.spi.Causes.unwrap(t);
    }
}
