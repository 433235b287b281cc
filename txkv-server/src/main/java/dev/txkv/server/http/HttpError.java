package dev.txkv.server.http;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.server.ErrorMapping;
import io.grpc.Metadata;
import io.grpc.Status;

/**
 * A failed HTTP request: the HTTP status and the txkv error the JSON body names
 * ({@code {"error":{"code":..,"name":..,"message":..,"retryable":..}}}).
 *
 * <p>Errors of the service keep their txkv code and name exactly as the gRPC trailers carry
 * them, so an HTTP client sees the same code an embedded or gRPC client would. Conditions that
 * exist only in HTTP (no such path, wrong method, a body over the limit) have no txkv code; they
 * use the HTTP status as their code, which never collides with txkv's codes (all 1000 and up).
 */
final class HttpError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int httpStatus;
    final int code;
    final String name;
    final boolean retryable;

    private HttpError(int httpStatus, int code, String name, String message, boolean retryable) {
        super(message);
        this.httpStatus = httpStatus;
        this.code = code;
        this.name = name;
        this.retryable = retryable;
    }

    /** A txkv error found by the gateway itself, at the HTTP status txkv errors of its kind get. */
    static HttpError of(ErrorCode error, String message) {
        return of(httpStatus(error), error, message);
    }

    /** A txkv error at an explicit HTTP status. */
    static HttpError of(int httpStatus, ErrorCode error, String message) {
        return new HttpError(httpStatus, error.code(), error.errorName(), message,
                new TxkvException(error).isRetryable());
    }

    /** A malformed request: client_invalid_operation (2000), HTTP 400. */
    static HttpError badRequest(String message) {
        return of(400, ErrorCode.CLIENT_INVALID_OPERATION, message);
    }

    /** A condition only HTTP has; its code is the HTTP status. */
    static HttpError httpOnly(int httpStatus, String name, String message) {
        return new HttpError(httpStatus, httpStatus, name, message, false);
    }

    /**
     * The error a failed gRPC call carries. The txkv code comes from the "txkv-error-code"
     * trailer; without it the failure happened in gRPC itself and {@link ErrorMapping#fromStatus}
     * decides from the status code alone, as every other client of the service does.
     */
    static HttpError fromGrpc(Throwable failure) {
        Status status = Status.fromThrowable(failure);
        Metadata trailers = Status.trailersFromThrowable(failure);
        TxkvException mapped = ErrorMapping.fromStatus(status, trailers);
        String codeText = trailers == null ? null : trailers.get(ErrorMapping.ERROR_CODE);
        String nameText = trailers == null ? null : trailers.get(ErrorMapping.ERROR_NAME);
        String message = status.getDescription() != null ? status.getDescription() : mapped.getError().description();
        if (codeText != null && nameText != null) {
            try {
                int code = Integer.parseInt(codeText.trim());
                if (code != mapped.getCode()) {
                    // A code this gateway does not know (a newer server): pass it through untouched.
                    return new HttpError(500, code, nameText, message, false);
                }
            } catch (NumberFormatException e) {
                // fromStatus already turned an unreadable code into internal_error; keep that.
            }
        }
        if (codeText == null && status.getCode() == Status.Code.INVALID_ARGUMENT) {
            // gRPC's own refusal of a request (no txkv code): still the caller's fault.
            return of(400, ErrorCode.CLIENT_INVALID_OPERATION, message);
        }
        return new HttpError(httpStatus(mapped.getError()), mapped.getCode(), mapped.getError().errorName(),
                message, mapped.isRetryable());
    }

    /**
     * The HTTP status of a txkv error. Conflicts and too-old read versions are 409: the client
     * must start its transaction again. Overload and passing unavailability are 503 (retry
     * later), too many watches 429, timeouts 504, invalid requests 400, the rest 500.
     */
    static int httpStatus(ErrorCode error) {
        if (dev.txkv.server.ErrorMapping.isInvalidRequest(error)) {
            return 400;
        }
        switch (error) {
            case NOT_COMMITTED:
            case TRANSACTION_TOO_OLD:
                return 409;
            case TOO_MANY_WATCHES:
                return 429;
            case PROXY_MEMORY_LIMIT_EXCEEDED:
            case FUTURE_VERSION:
            case PROCESS_BEHIND:
            case DATABASE_LOCKED:
            case CONNECTION_FAILED:
            case DATABASE_CLOSED:
            case NOT_LEADER:
            case COMMIT_UNKNOWN_RESULT:
            case TRANSACTION_CANCELLED:
                return 503;
            case TRANSACTION_TIMED_OUT:
                return 504;
            case PROTOCOL_VERSION_UNSUPPORTED:
                return 400;
            default:
                return 500;
        }
    }
}
