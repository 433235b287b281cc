package dev.txkv.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.proto.ElementError;
import dev.txkv.proto.NotLeader;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Errors survive the trip through trailers and batch elements, with their details. */
class WireErrorsTest {
    private static final NotLeader LEADER = NotLeader.newBuilder().setLeaderId("b").setLeaderAddress("10.0.0.2:4500")
            .setMemberId("a").build();

    @Test
    void everyCodeKeepsItsErrorRetryabilityAndStatusThroughTrailersAndElements() {
        for (ErrorCode error : ErrorCode.values()) {
            TxkvException sent = new TxkvException(error, "why");
            StatusRuntimeException call = WireErrors.toStatusException(sent, null);
            assertThat(call.getStatus().getCode()).isEqualTo(ErrorTable.of(error).grpcStatus());
            TxkvException back = WireErrors.fromTrailers(call.getStatus(), call.getTrailers()).toException(null, null);
            assertThat(back.getError()).isEqualTo(error);
            assertThat(back.isRetryable()).isEqualTo(sent.isRetryable());
            assertThat(back.getMessage()).contains("why");

            ElementError element = WireErrors.elementError(sent, null);
            WireErrors.ServerError fromElement = WireErrors.fromElement(element);
            assertThat(fromElement.error()).isEqualTo(error);
            StatusRuntimeException asCall = fromElement.asCallFailure();
            assertThat(asCall.getStatus().getCode()).isEqualTo(call.getStatus().getCode());
            assertThat(WireErrors.fromTrailers(asCall.getStatus(), asCall.getTrailers()).error()).isEqualTo(error);
        }
    }

    @Test
    void notLeaderAlwaysCarriesItsDetailAndOtherErrorsNever() {
        StatusRuntimeException call = WireErrors.toStatusException(new TxkvException(ErrorCode.NOT_LEADER, "x"), LEADER);
        assertThat(WireErrors.fromTrailers(call.getStatus(), call.getTrailers()).leader()).contains(LEADER);
        StatusRuntimeException unknown = WireErrors.toStatusException(new TxkvException(ErrorCode.NOT_LEADER), null);
        assertThat(unknown.getTrailers().get(WireErrors.NOT_LEADER)).isNotNull();
        assertThat(WireErrors.fromTrailers(unknown.getStatus(), unknown.getTrailers()).leader())
                .contains(NotLeader.getDefaultInstance());
        StatusRuntimeException other = WireErrors.toStatusException(new TxkvException(ErrorCode.NOT_COMMITTED), LEADER);
        assertThat(other.getTrailers().get(WireErrors.NOT_LEADER)).isNull();

        ElementError element = WireErrors.elementError(new TxkvException(ErrorCode.NOT_LEADER, "x"), LEADER);
        assertThat(element.getNotLeader()).isEqualTo(LEADER);
        StatusRuntimeException asCall = WireErrors.fromElement(element).asCallFailure();
        assertThat(WireErrors.fromTrailers(asCall.getStatus(), asCall.getTrailers()).leader()).contains(LEADER);
        assertThat(WireErrors.elementError(new TxkvException(ErrorCode.IO_ERROR), LEADER).hasNotLeader()).isFalse();
    }

    @Test
    void conflictingRangesTravelInTheDetailsTrailerAndTheElement() {
        Range r = new Range(new byte[] {1}, new byte[] {2});
        TxkvException conflict = new TxkvException(ErrorCode.NOT_COMMITTED, "conflict", null, List.of(r));
        StatusRuntimeException call = WireErrors.toStatusException(conflict, null);
        assertThat(call.getTrailers().get(WireErrors.ERROR_DETAILS)).isNotNull();
        assertThat(WireErrors.fromTrailers(call.getStatus(), call.getTrailers()).conflictingRanges()).containsExactly(r);
        WireErrors.ServerError element = WireErrors.fromElement(WireErrors.elementError(conflict, null));
        assertThat(element.toException(null, null).getConflictingKeyRanges()).containsExactly(r);
    }

    @Test
    void unknownAndUnreadableCodesAndMissingTrailers() {
        assertThat(WireErrors.fromTrailers(Status.UNAVAILABLE, new Metadata())).isNull();
        assertThat(WireErrors.fromTrailers(Status.UNAVAILABLE, null)).isNull();

        Metadata future = new Metadata();
        future.put(WireErrors.ERROR_CODE, "9999");
        future.put(WireErrors.ERROR_NAME, "from_the_future");
        WireErrors.ServerError e = WireErrors.fromTrailers(Status.INTERNAL.withDescription("new"), future);
        assertThat(e.known()).isFalse();
        TxkvException mapped = e.toException("server h:1", null);
        assertThat(mapped.getError()).isEqualTo(ErrorCode.INTERNAL_ERROR);
        assertThat(mapped.isRetryable()).isFalse();
        assertThat(mapped.getMessage()).contains("9999", "from_the_future", "new", "(server h:1)");
        assertThat(e.asCallFailure().getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN);

        Metadata garbled = new Metadata();
        garbled.put(WireErrors.ERROR_CODE, "ten");
        garbled.put(WireErrors.NOT_LEADER, new byte[] {(byte) 0xFF});
        WireErrors.ServerError unreadable = WireErrors.fromTrailers(Status.INTERNAL, garbled);
        assertThat(unreadable.error()).isEqualTo(ErrorCode.INTERNAL_ERROR);
        assertThat(unreadable.description()).contains("'ten'");
    }
}
