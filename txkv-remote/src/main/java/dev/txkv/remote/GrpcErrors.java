package dev.txkv.remote;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.ElementError;
import dev.txkv.proto.NotLeader;
import dev.txkv.wire.WireErrors;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;

/**
 * Turns a failed gRPC call back into the {@link TxkvException} the server meant, or into the
 * error a transport failure means for the kind of call.
 *
 * <p>Implementation notes. A server error carries its txkv code in the "txkv-error-code"
 * trailer ({@link WireErrors} reads it) and is passed through as is, with the not_leader
 * detail, when one came, for the leader search. Without that trailer the failure happened in the
 * network or in gRPC, and what it means depends on whether the request may have reached the
 * server: a read can always be repeated (connection_failed, 1026, retryable), but a commit that
 * may have been sent has an unknown outcome (commit_unknown_result, 1021). Only a failure to
 * connect at all proves that nothing was sent: gRPC fails such calls with the connect error as
 * the status's cause.
 */
final class GrpcErrors {
    /** What was being done when the call failed; it decides what a transport failure means. */
    enum Call { READ, COMMIT, WATCH, STATUS }

    /**
     * The mapped error and whether another server may be tried for the same call.
     *
     * @param leader for a server's not_leader answer, who leads as that server said; else null
     */
    record Mapped(TxkvException error, boolean transport, boolean neverSent, NotLeader leader) {
        Mapped(TxkvException error, boolean transport, boolean neverSent) {
            this(error, transport, neverSent, null);
        }
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
        if (status.getCause() instanceof TxkvException signIn) {
            // The client's own sign-in failed before the call was sent (SignIn).
            return new Mapped(signIn, signIn.getError() == ErrorCode.CONNECTION_FAILED, true);
        }
        WireErrors.ServerError serverError = WireErrors.fromTrailers(status, trailers);
        if (serverError != null) {
            return new Mapped(serverError.toException("server " + server, null), false, false,
                    serverError.leader().orElse(null));
        }
        return fromTransport(status, call, server, closed);
    }

    /**
     * The failure of one element of GetMany or CommitMany, as its own call would have failed:
     * {@link #map} then reads it exactly as that call's failure, details included.
     */
    static StatusRuntimeException elementFailure(ElementError e) {
        return WireErrors.fromElement(e).asCallFailure();
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
        return dev.txkv.spi.Causes.unwrap(t);
    }
}
