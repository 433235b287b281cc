package dev.txkv.server.http;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.NotLeader;
import dev.txkv.server.ErrorMapping;
import dev.txkv.wire.ErrorTable;
import dev.txkv.wire.WireErrors;
import io.grpc.Metadata;
import io.grpc.Status;

/**
 * A failed HTTP request: the HTTP status and the txkv error the JSON body names
 * ({@code {"error":{"code":..,"name":..,"message":..,"retryable":..}}}, with
 * {@code "leader":{"id":..,"address":..}} for not_leader).
 *
 * <p>Errors of the service keep their txkv code and name exactly as the gRPC trailers carry
 * them, so an HTTP client sees the same code an embedded or gRPC client would; the HTTP status
 * and retryability are those of {@link ErrorTable}, the table the gRPC side uses too.
 * Conditions that exist only in HTTP (no such path, wrong method, a body over the limit) have
 * no txkv code; they use the HTTP status as their code, which never collides with txkv's codes
 * (all 1000 and up).
 */
final class HttpError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int httpStatus;
    final int code;
    final String name;
    final boolean retryable;
    /** For not_leader: who leads, as the service said; null otherwise. */
    final NotLeader leader;

    private HttpError(int httpStatus, int code, String name, String message, boolean retryable, NotLeader leader) {
        super(message);
        this.httpStatus = httpStatus;
        this.code = code;
        this.name = name;
        this.retryable = retryable;
        this.leader = leader;
    }

    /** A txkv error found by the gateway itself, at the HTTP status of its {@link ErrorTable} row. */
    static HttpError of(ErrorCode error, String message) {
        return of(ErrorTable.of(error).httpStatus(), error, message);
    }

    /** A txkv error at an explicit HTTP status. */
    static HttpError of(int httpStatus, ErrorCode error, String message) {
        return new HttpError(httpStatus, error.code(), error.errorName(), message, ErrorTable.of(error).retryable(),
                null);
    }

    /** A malformed request: client_invalid_operation (2000), HTTP 400. */
    static HttpError badRequest(String message) {
        return of(400, ErrorCode.CLIENT_INVALID_OPERATION, message);
    }

    /** A condition only HTTP has; its code is the HTTP status. */
    static HttpError httpOnly(int httpStatus, String name, String message) {
        return new HttpError(httpStatus, httpStatus, name, message, false, null);
    }

    /**
     * The error a failed gRPC call carries. The txkv code comes from the trailers; without them
     * the failure happened in gRPC itself and {@link ErrorMapping#fromStatus} decides from the
     * status code alone, as every other client of the service does.
     */
    static HttpError fromGrpc(Throwable failure) {
        Status status = Status.fromThrowable(failure);
        Metadata trailers = Status.trailersFromThrowable(failure);
        WireErrors.ServerError server = WireErrors.fromTrailers(status, trailers);
        if (server != null) {
            String message = server.description() != null ? server.description() : server.error().description();
            if (!server.known()) {
                // A code this gateway does not know (a newer server): pass it through untouched.
                return new HttpError(500, server.code(), server.name(), message, false, null);
            }
            ErrorTable.Row row = ErrorTable.of(server.error());
            return new HttpError(row.httpStatus(), row.code(), row.name(), message, row.retryable(),
                    server.leader().orElse(null));
        }
        String message = status.getDescription();
        if (status.getCode() == Status.Code.INVALID_ARGUMENT) {
            // gRPC's own refusal of a request (no txkv code): still the caller's fault.
            return of(400, ErrorCode.CLIENT_INVALID_OPERATION,
                    message != null ? message : ErrorCode.CLIENT_INVALID_OPERATION.description());
        }
        TxkvException mapped = ErrorMapping.fromStatus(status, trailers);
        return of(mapped.getError(), message != null ? message : mapped.getError().description());
    }
}
