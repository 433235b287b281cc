package dev.txkv.server;

import static dev.txkv.server.TestServers.bytes;
import static dev.txkv.server.TestServers.failure;
import static dev.txkv.server.TestServers.grpcCode;
import static dev.txkv.server.TestServers.keyAfter;
import static dev.txkv.server.TestServers.range;
import static dev.txkv.server.TestServers.readVersion;
import static dev.txkv.server.TestServers.set;
import static dev.txkv.server.TestServers.setCommit;
import static dev.txkv.server.TestServers.txkvCode;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.txkv.proto.CommitManyRequest;
import dev.txkv.proto.CommitManyResponse;
import dev.txkv.proto.CommitOutcome;
import dev.txkv.proto.CommitRequest;
import dev.txkv.proto.GetManyRequest;
import dev.txkv.proto.GetManyResponse;
import dev.txkv.proto.GetRequest;
import dev.txkv.proto.Mutation;
import dev.txkv.proto.TxkvGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GetMany and CommitMany: per-element validation and errors, batch limits, conflicts inside one batch. */
class BatchRpcTest {
    private static final int V = ProtocolVersion.CURRENT;
    @TempDir
    static Path dir;
    static TxkvServer server;
    static ManagedChannel channel;
    static TxkvGrpc.TxkvBlockingStub stub;

    @BeforeAll
    static void start() throws Exception {
        TestServers.quietLogs();
        server = TxkvServer.start(new ServerConfig().dataDir(dir.resolve("data")).grpcAddress("127.0.0.1", 0));
        channel = TestServers.channel(server);
        stub = TxkvGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        TestServers.close(channel);
        server.close();
    }

    private static GetRequest get(ByteString key, long rv) {
        return GetRequest.newBuilder().setProtocolVersion(V).setKey(key).setReadVersion(rv).build();
    }

    @Test
    void getManyAnswersEachElementOnItsOwn() {
        stub.commit(setCommit(bytes("gm/a"), bytes("A")));
        long rv = readVersion(stub);
        GetManyResponse r = stub.getMany(GetManyRequest.newBuilder().setProtocolVersion(V)
                .addRequests(get(bytes("gm/a"), rv))
                .addRequests(get(bytes("gm/missing"), rv))
                .addRequests(get(bytes(0xFF, 1), rv))                       // system keyspace: 2004
                .addRequests(get(bytes("gm/a"), -5))                        // 2011
                .addRequests(get(bytes("gm/a"), rv).toBuilder().setProtocolVersion(99).build()) // 2200
                .addRequests(get(ByteString.copyFrom(new byte[10_001]), rv)) // 2102
                .addRequests(get(bytes("gm/a"), rv))
                .build());
        assertThat(r.getResultsCount()).isEqualTo(7);
        assertThat(r.getResults(0).getResponse().getPresent()).isTrue();
        assertThat(r.getResults(0).getResponse().getValue().toStringUtf8()).isEqualTo("A");
        assertThat(r.getResults(1).hasResponse()).isTrue();
        assertThat(r.getResults(1).getResponse().getPresent()).isFalse();
        assertThat(r.getResults(2).getError().getCode()).isEqualTo(2004);
        assertThat(r.getResults(2).getError().getName()).isEqualTo("key_outside_legal_range");
        assertThat(r.getResults(3).getError().getCode()).isEqualTo(2011);
        assertThat(r.getResults(4).getError().getCode()).isEqualTo(2200);
        assertThat(r.getResults(5).getError().getCode()).isEqualTo(2102);
        assertThat(r.getResults(5).getError().getMessage()).contains("10001");
        assertThat(r.getResults(6).getResponse().getValue().toStringUtf8()).isEqualTo("A");
    }

    @Test
    void emptyBatchesGetEmptyAnswers() {
        assertThat(stub.getMany(GetManyRequest.newBuilder().setProtocolVersion(V).build()).getResultsCount()).isZero();
        assertThat(stub.commitMany(CommitManyRequest.newBuilder().setProtocolVersion(V).build()).getResultsCount()).isZero();
    }

    @Test
    void batchesAboveTheLimitAreRefusedWhole() {
        long rv = readVersion(stub);
        GetManyRequest.Builder gets = GetManyRequest.newBuilder().setProtocolVersion(V);
        CommitManyRequest.Builder commits = CommitManyRequest.newBuilder().setProtocolVersion(V);
        for (int i = 0; i <= TxkvService.BATCH_ELEMENTS_MAX; i++) {
            gets.addRequests(get(bytes("lim/" + i), rv));
            commits.addRequests(setCommit(bytes("lim/" + i), bytes("x")));
        }
        StatusRuntimeException g = failure(() -> stub.getMany(gets.build()));
        assertThat(grpcCode(g)).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(txkvCode(g)).isEqualTo(2000);
        assertThat(g.getStatus().getDescription()).contains("1025").contains("1024");
        StatusRuntimeException c = failure(() -> stub.commitMany(commits.build()));
        assertThat(txkvCode(c)).isEqualTo(2000);
        // Nothing of the refused batch was applied.
        assertThat(stub.get(get(bytes("lim/0"), readVersion(stub))).getPresent()).isFalse();
        // Exactly the maximum is fine.
        gets.removeRequests(0);
        assertThat(stub.getMany(gets.build()).getResultsCount()).isEqualTo(TxkvService.BATCH_ELEMENTS_MAX);
    }

    @Test
    void messagesAboveSixteenMebibytesAreRefusedByGrpc() {
        CommitManyRequest.Builder commits = CommitManyRequest.newBuilder().setProtocolVersion(V);
        ByteString value = ByteString.copyFrom(new byte[100_000]);
        for (int i = 0; i < 180; i++) {
            commits.addRequests(setCommit(bytes("big/" + i), value));
        }
        StatusRuntimeException e = failure(() -> stub.commitMany(commits.build()));
        assertThat(grpcCode(e)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    }

    @Test
    void wrongProtocolVersionOfTheBatchRefusesTheBatch() {
        StatusRuntimeException e = failure(() -> stub.getMany(GetManyRequest.newBuilder().setProtocolVersion(7).build()));
        assertThat(grpcCode(e)).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(txkvCode(e)).isEqualTo(2200);
        StatusRuntimeException c = failure(() -> stub.commitMany(CommitManyRequest.newBuilder()
                .addRequests(setCommit(bytes("pv"), bytes("x"))).build()));
        assertThat(txkvCode(c)).isEqualTo(2200);
    }

    @Test
    void commitManyCommitsValidElementsAndFailsInvalidOnes() {
        CommitRequest tooOldVersion = setCommit(bytes("cm/bad"), bytes("x")).toBuilder().setReadVersion(-7).build();
        CommitRequest badMutation = setCommit(bytes("cm/bad2"), bytes("x")).toBuilder()
                .addMutations(Mutation.newBuilder().setTypeValue(99).setKey(bytes("cm/bad2"))).build();
        CommitRequest bigValue = setCommit(bytes("cm/bad3"), ByteString.copyFrom(new byte[100_001]));
        CommitManyResponse r = stub.commitMany(CommitManyRequest.newBuilder().setProtocolVersion(V)
                .addRequests(setCommit(bytes("cm/1"), bytes("one")))
                .addRequests(tooOldVersion)
                .addRequests(badMutation)
                .addRequests(bigValue)
                .addRequests(setCommit(bytes("cm/2"), bytes("two")))
                .build());
        assertThat(r.getResultsCount()).isEqualTo(5);
        assertThat(r.getResults(0).hasResponse()).isTrue();
        assertThat(r.getResults(0).getResponse().getVersionstamp().size()).isEqualTo(10);
        assertThat(r.getResults(1).getError().getCode()).isEqualTo(2011);
        assertThat(r.getResults(2).getError().getCode()).isEqualTo(2018);
        assertThat(r.getResults(3).getError().getCode()).isEqualTo(2103);
        assertThat(r.getResults(4).hasResponse()).isTrue();
        long rv = readVersion(stub);
        assertThat(stub.get(get(bytes("cm/1"), rv)).getValue().toStringUtf8()).isEqualTo("one");
        assertThat(stub.get(get(bytes("cm/2"), rv)).getValue().toStringUtf8()).isEqualTo("two");
        assertThat(stub.get(get(bytes("cm/bad2"), rv)).getPresent()).isFalse();
    }

    @Test
    void twoConflictingCommitsInOneBatchCommitExactlyOnce() {
        assertExactlyOneOfTwoCommits(bytes("cm/conflict"), true);
    }

    @Test
    void readModifyWritesThatSendNoWriteConflictsConflictInOneBatch() {
        // The server derives each element's write conflicts from its mutations.
        assertExactlyOneOfTwoCommits(bytes("cm/derived"), false);
    }

    /**
     * Sends two read-modify-writes of {@code key} at one read version in one CommitMany, with
     * or without their write conflict ranges: exactly one commits.
     */
    private static void assertExactlyOneOfTwoCommits(ByteString key, boolean sendWriteConflicts) {
        stub.commit(setCommit(key, bytes("0")));
        CommitRequest.Builder readModifyWrite = CommitRequest.newBuilder().setProtocolVersion(V)
                .setReadVersion(readVersion(stub)).addReadConflicts(range(key, keyAfter(key)))
                .setReportConflictingKeys(true);
        if (sendWriteConflicts) {
            readModifyWrite.addWriteConflicts(range(key, keyAfter(key)));
        }
        CommitManyResponse r = stub.commitMany(CommitManyRequest.newBuilder().setProtocolVersion(V)
                .addRequests(readModifyWrite.clone().addMutations(set(key, bytes("a"))))
                .addRequests(readModifyWrite.clone().addMutations(set(key, bytes("b"))))
                .build());
        int committed = 0;
        String winner = null;
        for (int i = 0; i < 2; i++) {
            CommitOutcome o = r.getResults(i);
            if (o.hasResponse()) {
                committed++;
                winner = i == 0 ? "a" : "b";
            } else {
                assertThat(o.getError().getCode()).isEqualTo(1020);
                assertThat(o.getError().getName()).isEqualTo("not_committed");
                assertThat(o.getError().getConflict().getConflictingRangesCount()).isEqualTo(1);
                assertThat(o.getError().getConflict().getConflictingRanges(0).getBegin()).isEqualTo(key);
            }
        }
        assertThat(committed).isEqualTo(1);
        assertThat(stub.get(get(key, readVersion(stub))).getValue().toStringUtf8()).isEqualTo(winner);
    }

    @Test
    void batchSizesAreMetered() {
        long rv = readVersion(stub);
        stub.getMany(GetManyRequest.newBuilder().setProtocolVersion(V).addRequests(get(bytes("m"), rv))
                .addRequests(get(bytes("m"), rv)).addRequests(get(bytes("m"), rv)).build());
        String scrape = server.meterRegistry().scrape();
        assertThat(scrape).contains("txkv_rpc_batch_size_count{method=\"get_many\"}")
                .contains("txkv_rpc_batch_size_count{method=\"commit_many\"}");
    }

    @Test
    void singleRpcsStillWork() {
        stub.commit(setCommit(bytes("single"), bytes("s")));
        assertThat(stub.get(get(bytes("single"), readVersion(stub))).getValue().toStringUtf8()).isEqualTo("s");
    }
}
