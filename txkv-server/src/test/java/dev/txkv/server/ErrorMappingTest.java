package dev.txkv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.wire.WireErrors;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

class ErrorMappingTest {
    @Test
    void statusCodesFollowTheKindOfError() {
        assertThat(code(ErrorCode.NOT_COMMITTED)).isEqualTo(Status.Code.ABORTED);
        assertThat(code(ErrorCode.TRANSACTION_TOO_OLD)).isEqualTo(Status.Code.ABORTED);
        assertThat(code(ErrorCode.FUTURE_VERSION)).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(code(ErrorCode.COMMIT_UNKNOWN_RESULT)).isEqualTo(Status.Code.UNKNOWN);
        assertThat(code(ErrorCode.PROXY_MEMORY_LIMIT_EXCEEDED)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(code(ErrorCode.DATABASE_CLOSED)).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(code(ErrorCode.KEY_TOO_LARGE)).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(code(ErrorCode.PROTOCOL_VERSION_UNSUPPORTED)).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(code(ErrorCode.INTERNAL_ERROR)).isEqualTo(Status.Code.INTERNAL);
    }

    @Test
    void everyErrorCodeSurvivesTheRoundTrip() {
        for (ErrorCode error : ErrorCode.values()) {
            StatusRuntimeException e = ErrorMapping.toStatusException(new TxkvException(error, "why"));
            TxkvException back = ErrorMapping.fromStatus(e.getStatus(), e.getTrailers());
            assertThat(back.getError()).isEqualTo(error);
            assertThat(back.isRetryable()).isEqualTo(new TxkvException(error).isRetryable());
        }
    }

    @Test
    void aClosedEngineSendsTheClientToAnotherServerExceptForAWatch() {
        TxkvException closed = new TxkvException(ErrorCode.DATABASE_CLOSED, "The server is shutting down");
        TxkvException commit = ErrorMapping.answer("Commit", closed);
        assertThat(commit.getError()).isEqualTo(ErrorCode.NOT_LEADER);
        assertThat(commit.isRetryable()).isTrue();
        assertThat(commit.getMessage()).contains("shutting down", "retry on another server");
        assertThat(ErrorMapping.answer("Watch", closed)).isSameAs(closed);
        TxkvException conflict = new TxkvException(ErrorCode.NOT_COMMITTED);
        assertThat(ErrorMapping.answer("Commit", conflict)).isSameAs(conflict);
    }

    @Test
    void conflictingRangesTravelInTheDetailsTrailer() {
        Range r = new Range(new byte[] {1}, new byte[] {2});
        TxkvException conflict = new TxkvException(ErrorCode.NOT_COMMITTED, "conflict", null, List.of(r));
        StatusRuntimeException e = ErrorMapping.toStatusException(new CompletionException(conflict));
        assertThat(e.getTrailers().get(WireErrors.ERROR_DETAILS)).isNotNull();
        assertThat(ErrorMapping.fromStatus(e.getStatus(), e.getTrailers()).getConflictingKeyRanges()).containsExactly(r);
    }

    @Test
    void overloadAndUnexpectedFailuresAndTransportErrors() {
        assertThat(ErrorMapping.toTxkvException(new RejectedExecutionException()).getCode()).isEqualTo(1042);
        assertThat(ErrorMapping.toTxkvException(new IllegalStateException("boom")).getCode()).isEqualTo(4100);
        TxkvException transport = ErrorMapping.fromStatus(Status.UNAVAILABLE.withDescription("down"), new Metadata());
        assertThat(transport.getCode()).isEqualTo(1026);
        assertThat(transport.isRetryable()).isTrue();
        Metadata unknown = new Metadata();
        unknown.put(WireErrors.ERROR_CODE, "9999");
        unknown.put(WireErrors.ERROR_NAME, "from_the_future");
        assertThat(ErrorMapping.fromStatus(Status.INTERNAL, unknown).getMessage()).contains("9999", "from_the_future");
    }

    private static Status.Code code(ErrorCode error) {
        return ErrorMapping.toStatus(new TxkvException(error)).getCode();
    }
}
