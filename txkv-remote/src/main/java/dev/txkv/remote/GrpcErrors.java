package dev.txkv.remote;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.proto.ConflictDetails;
import dev.txkv.proto.ElementError;
import dev.txkv.proto.KeyRange;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Turns a failed gRPC call back into the {@link TxkvException} the server meant, or into the
 * error a transport failure means for the kind of call.
 *
 * <p>Implementation notes. A server error carries its txkv code in the "txkv-error-code"
 * trailer and is passed through as is. Without that trailer the failure happened in the
 * network or in gRPC, and what it means depends on whether the request may have reached the
 * server: a read can always be repeated (connection_failed, 1026, retryable), but a commit that
 * may have been sent has an unknown outcome (commit_unknown_result, 1021). Only a failure to
 * connect at all proves that nothing was sent: gRPC fails such calls with the connect error as
 * the status's cause.
 */
final class GrpcErrors {
    static final Metadata.Key<String> ERROR_CODE = Metadata.Key.of("txkv-error-code", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<String> ERROR_NAME = Metadata.Key.of("txkv-error-name", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<byte[]> ERROR_DETAILS = Metadata.Key.of("txkv-error-details-bin", Metadata.BINARY_BYTE_MARSHALLER);

    /** What was being done when the call failed; it decides what a transport failure means. */
    enum Call { READ, COMMIT, WATCH, STATUS }

    /** The mapped error and whether another server may be tried for the same call. */
    record Mapped(TxkvException error, boolean transport, boolean neverSent) {
    }

    private GrpcErrors() {
    }

    /** Maps any failure of a call to {@code server}; {@code closed} says the backend was closed meanwhile. */
    static Mapped map(Throwable failure, Call call, ServerAddress server, boolean closed) {
        Throwable t = unwrap(failure);
        if (t instanceof TxkvException) {
            return new Mapped((TxkvException) t, false, false);
        }
        Status status;
        Metadata trailers;
        if (t instanceof StatusRuntimeException) {
            status = ((StatusRuntimeException) t).getStatus();
            trailers = ((StatusRuntimeException) t).getTrailers();
        } else if (t instanceof StatusException) {
            status = ((StatusException) t).getStatus();
            trailers = ((StatusException) t).getTrailers();
        } else {
            status = Status.fromThrowable(t);
            trailers = null;
        }
        TxkvException serverError = fromTrailers(status, trailers, server);
        if (serverError != null) {
            return new Mapped(serverError, false, false);
        }
        return fromTransport(status, call, server, closed);
    }

    /** The server's own error, or null when the trailers carry no txkv code. */
    private static TxkvException fromTrailers(Status status, Metadata trailers, ServerAddress server) {
        String codeText = trailers == null ? null : trailers.get(ERROR_CODE);
        if (codeText == null) {
            return null;
        }
        int code;
        try {
            code = Integer.parseInt(codeText.trim());
        } catch (NumberFormatException e) {
            return new TxkvException(ErrorCode.INTERNAL_ERROR,
                    "Server " + server + " sent an unreadable error code '" + codeText + "': " + status.getDescription());
        }
        return serverError(code, trailers.get(ERROR_NAME), status.getDescription(), conflictRanges(trailers), server);
    }

    /**
     * The error of one element of GetMany or CommitMany: the same exception a failed single
     * call with these trailers would have given.
     */
    static TxkvException elementError(ElementError e, ServerAddress server) {
        List<Range> ranges = List.of();
        if (e.hasConflict()) {
            ranges = new ArrayList<>();
            for (KeyRange r : e.getConflict().getConflictingRangesList()) {
                ranges.add(new Range(r.getBegin().toByteArray(), r.getEnd().toByteArray()));
            }
        }
        return serverError(e.getCode(), e.getName(), e.getMessage().isEmpty() ? null : e.getMessage(), ranges, server);
    }

    private static TxkvException serverError(int code, String name, String serverDescription, List<Range> conflicts,
            ServerAddress server) {
        ErrorCode error = ErrorCode.of(code);
        String description = serverDescription == null ? error.description() : serverDescription;
        if (error.code() != code) {
            // A code this client does not know (a newer server): keep its number and name visible.
            description = "server error " + code + " " + name + ": " + description;
        }
        return new TxkvException(error, description + " (server " + server + ")", null, conflicts);
    }

    private static List<Range> conflictRanges(Metadata trailers) {
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
            // The conflict itself is still reported; only the optional detail is lost.
            return List.of();
        }
    }

    private static Mapped fromTransport(Status status, Call call, ServerAddress server, boolean closed) {
        boolean neverSent = neverSent(status);
        String what = "server " + server + ": " + status.getCode()
                + (status.getDescription() == null ? "" : " " + status.getDescription());
        if (closed) {
            if (call == Call.COMMIT && !neverSent) {
                return new Mapped(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                        "The database was closed while a commit was in flight; it may or may not have committed ("
                                + what + ")", status.asRuntimeException()), false, false);
            }
            return new Mapped(new TxkvException(ErrorCode.DATABASE_CLOSED), false, neverSent);
        }
        switch (status.getCode()) {
            case UNIMPLEMENTED:
                return new Mapped(new TxkvException(ErrorCode.PROTOCOL_VERSION_UNSUPPORTED,
                        "The server does not implement the txkv v1 protocol (" + what + ")",
                        status.asRuntimeException()), false, true);
            case FAILED_PRECONDITION:
                // The protocol's answer to a version it does not speak, from a server that sent no code.
                return new Mapped(new TxkvException(ErrorCode.PROTOCOL_VERSION_UNSUPPORTED, what,
                        status.asRuntimeException()), false, true);
            case INVALID_ARGUMENT:
            case OUT_OF_RANGE:
                // Only the server's own checks produce these, before anything is applied.
                return new Mapped(new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, what,
                        status.asRuntimeException()), false, false);
            case RESOURCE_EXHAUSTED:
                if (call == Call.COMMIT) {
                    // Message size checks run before the server looks at the commit.
                    return new Mapped(new TxkvException(ErrorCode.TRANSACTION_TOO_LARGE,
                            "The server refused the commit message (" + what + ")", status.asRuntimeException()),
                            false, false);
                }
                return new Mapped(new TxkvException(ErrorCode.INTERNAL_ERROR, what, status.asRuntimeException()),
                        false, false);
            default:
                break;
        }
        if (call == Call.COMMIT && !neverSent) {
            String why = status.getCode() == Status.Code.DEADLINE_EXCEEDED
                    ? "No answer before the commit deadline" : "The connection failed after the commit may have been sent";
            return new Mapped(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                    why + "; the transaction may or may not have committed (" + what + ")",
                    status.asRuntimeException()), true, false);
        }
        switch (status.getCode()) {
            case UNAVAILABLE:
            case DEADLINE_EXCEEDED:
            case CANCELLED:
            case ABORTED:
                return new Mapped(new TxkvException(ErrorCode.CONNECTION_FAILED, what, status.asRuntimeException()),
                        true, neverSent);
            default:
                return new Mapped(new TxkvException(ErrorCode.INTERNAL_ERROR, what, status.asRuntimeException()),
                        false, neverSent);
        }
    }

    /** True when the call failed before any connection existed, so the server saw nothing. */
    static boolean neverSent(Status status) {
        if (status.getCode() != Status.Code.UNAVAILABLE) {
            return false;
        }
        for (Throwable c = status.getCause(); c != null; c = c.getCause()) {
            if (c instanceof ConnectException || c instanceof NoRouteToHostException || c instanceof UnknownHostException) {
                return true;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return false;
    }

    static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
