package dev.txkv.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.NotLeader;
import dev.txkv.wire.ErrorTable;
import dev.txkv.wire.WireErrors;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

/** The gateway answers every txkv code at the status of the one error table, the not_leader detail included. */
class HttpErrorTest {
    @Test
    void everyCodeOfTheServiceGetsTheTablesHttpStatusAndRetryability() {
        for (ErrorTable.Row row : ErrorTable.rows()) {
            HttpError e = HttpError.fromGrpc(WireErrors.toStatusException(new TxkvException(row.error(), "why"), null));
            assertThat(e.httpStatus).as(row.name()).isEqualTo(row.httpStatus());
            assertThat(e.code).as(row.name()).isEqualTo(row.code());
            assertThat(e.name).as(row.name()).isEqualTo(row.name());
            assertThat(e.retryable).as(row.name()).isEqualTo(row.retryable());
            assertThat(HttpError.of(row.error(), "x").httpStatus).as(row.name()).isEqualTo(row.httpStatus());
        }
    }

    @Test
    void notLeaderNamesTheLeaderInTheJsonBody() {
        NotLeader leader = NotLeader.newBuilder().setLeaderId("node-1").setLeaderAddress("127.0.0.1:4510")
                .setMemberId("node-0").build();
        HttpError e = HttpError.fromGrpc(WireErrors.toStatusException(new TxkvException(ErrorCode.NOT_LEADER), leader));
        assertThat(e.httpStatus).isEqualTo(503);
        String json = GatewayDocuments.errorJson(e);
        assertThat(json.replaceAll("\\s", "")).contains("\"code\":1060", "\"retryable\":true",
                "\"leader\":{\"id\":\"node-1\",\"address\":\"127.0.0.1:4510\"}");
        String other = GatewayDocuments.errorJson(HttpError.fromGrpc(
                WireErrors.toStatusException(new TxkvException(ErrorCode.NOT_COMMITTED), leader)));
        assertThat(other).doesNotContain("leader");
    }

    @Test
    void failuresOfGrpcItselfAndCodesFromANewerServer() {
        HttpError transport = HttpError.fromGrpc(Status.UNAVAILABLE.withDescription("down").asRuntimeException());
        assertThat(transport.code).isEqualTo(1026);
        assertThat(transport.httpStatus).isEqualTo(503);
        assertThat(transport.retryable).isTrue();
        assertThat(HttpError.fromGrpc(Status.INVALID_ARGUMENT.asRuntimeException()).httpStatus).isEqualTo(400);
        io.grpc.Metadata future = new io.grpc.Metadata();
        future.put(WireErrors.ERROR_CODE, "9999");
        future.put(WireErrors.ERROR_NAME, "from_the_future");
        HttpError newer = HttpError.fromGrpc(Status.INTERNAL.withDescription("new").asRuntimeException(future));
        assertThat(newer.code).isEqualTo(9999);
        assertThat(newer.name).isEqualTo("from_the_future");
        assertThat(newer.httpStatus).isEqualTo(500);
        assertThat(newer.retryable).isFalse();
    }
}
