package dev.txkv.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.testkit.Ports;
import com.google.protobuf.ByteString;
import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.proto.ConflictDetails;
import dev.txkv.proto.GetRangeResponse;
import dev.txkv.proto.KeyRange;
import dev.txkv.proto.WatchResponse;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Mutation;
import dev.txkv.spi.RangeChunk;
import dev.txkv.wire.WireErrors;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The client's side of the protocol against a scripted server: what is sent, how answers and
 * every kind of failure come back as txkv errors, failover between servers, watches and close.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RemoteBackendProtocolTest {
    private FakeServer fake;
    private RemoteBackend backend;

    @BeforeEach
    void start() throws IOException {
        fake = new FakeServer();
    }

    @AfterEach
    void stop() {
        if (backend != null) {
            backend.close();
        }
        fake.close();
    }

    private RemoteBackend connect(String connection, RemoteSettings settings) {
        backend = RemoteBackend.connect(connection, settings);
        return backend;
    }

    /** A port on 127.0.0.1 that nothing listens on, so connecting is refused. */
    static int refusedPort() {
        return Ports.freePort();
    }

    static TxkvException failure(CompletableFuture<?> f) {
        try {
            f.get(20, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(TxkvException.class);
            return (TxkvException) e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("expected a failure");
    }

    private static CommitRequest someCommit() {
        return new CommitRequest(7, List.of(new Range(new byte[] {1}, new byte[] {2})),
                List.of(new Range(new byte[] {3}, new byte[] {3, 0})),
                List.of(new Mutation(Mutation.SET, new byte[] {3}, new byte[] {9}),
                        new Mutation(2, new byte[] {4}, new byte[] {1, 0})),
                new byte[] {5, 5}, true);
    }

    private static Metadata txkvTrailers(ErrorCode error) {
        Metadata m = new Metadata();
        m.put(WireErrors.ERROR_CODE, Integer.toString(error.code()));
        m.put(WireErrors.ERROR_NAME, error.errorName());
        return m;
    }

    @Test
    void everyRequestCarriesProtocolVersionOneAndTheCommitIsEncodedFaithfully() {
        RemoteBackend b = connect(fake.connection(), new RemoteSettings());
        assertThat(b.getReadVersion().join()).isEqualTo(42);
        assertThat(b.get(new byte[] {1}, 42).join()).isNull();
        CommitResult result = b.commit(someCommit()).join();
        assertThat(result).isEqualTo(new CommitResult(100, 3));
        // Besides the three calls, the client asked once for the server's own status, to learn
        // whether the cluster is sharded (ShardRouting).
        assertThat(fake.requests).hasSize(4);
        assertThat(fake.requests).allSatisfy(r -> assertThat(r.toString()).contains("protocol_version: 1"));
        assertThat(fake.requests).filteredOn(r -> r instanceof dev.txkv.proto.StatusRequest).singleElement()
                .satisfies(r -> assertThat(((dev.txkv.proto.StatusRequest) r).getMemberOnly()).isTrue());
        List<Object> calls = fake.requests.stream().filter(r -> !(r instanceof dev.txkv.proto.StatusRequest))
                .map(r -> (Object) r).toList();
        dev.txkv.proto.CommitRequest sent = (dev.txkv.proto.CommitRequest) calls.get(2);
        assertThat(sent.getReadVersion()).isEqualTo(7);
        assertThat(sent.getReadConflictsList()).hasSize(1);
        assertThat(sent.getWriteConflicts(0).getEnd().toByteArray()).containsExactly(3, 0);
        assertThat(sent.getMutations(0).getType()).isEqualTo(dev.txkv.proto.MutationType.SET_VALUE);
        assertThat(sent.getMutations(1).getType()).isEqualTo(dev.txkv.proto.MutationType.ADD);
        assertThat(sent.getIdempotencyId().toByteArray()).containsExactly(5, 5);
        assertThat(sent.getReportConflictingKeys()).isTrue();
    }

    @Test
    void streamedRangeMessagesBecomeOneChunkWithTheLastMessagesMoreFlag() {
        fake.onGetRange = (r, o) -> {
            for (int i = 0; i < 3; i++) {
                o.onNext(GetRangeResponse.newBuilder().addRows(dev.txkv.proto.KeyValue.newBuilder()
                        .setKey(ByteString.copyFrom(new byte[] {(byte) i})).setValue(ByteString.copyFromUtf8("v" + i)))
                        .setMore(i == 2).build());
            }
            o.onCompleted();
        };
        RangeChunk chunk = connect(fake.connection(), new RemoteSettings())
                .getRange(new byte[] {0}, new byte[] {9}, 3, 1 << 20, false, 42).join();
        assertThat(chunk.rows()).hasSize(3);
        assertThat(chunk.more()).isTrue();
        assertThat(chunk.rows().get(2).getValue()).isEqualTo("v2".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(failure(backend.getRange(new byte[] {0}, new byte[] {9}, 0, 1, false, 42)).getError())
                .isEqualTo(ErrorCode.RANGE_LIMITS_INVALID);
    }

    @Test
    void serverErrorsComeBackWithTheirCodeAndConflictingRanges() {
        Metadata trailers = txkvTrailers(ErrorCode.NOT_COMMITTED);
        trailers.put(WireErrors.ERROR_DETAILS, ConflictDetails.newBuilder().addConflictingRanges(KeyRange.newBuilder()
                .setBegin(ByteString.copyFrom(new byte[] {1})).setEnd(ByteString.copyFrom(new byte[] {2}))).build()
                .toByteArray());
        fake.onCommit = (r, o) -> o.onError(Status.ABORTED.withDescription("conflict").asRuntimeException(trailers));
        TxkvException e = failure(connect(fake.connection(), new RemoteSettings()).commit(someCommit()));
        assertThat(e.getError()).isEqualTo(ErrorCode.NOT_COMMITTED);
        assertThat(e.isRetryable()).isTrue();
        assertThat(e.getConflictingKeyRanges()).containsExactly(new Range(new byte[] {1}, new byte[] {2}));

        fake.onGrv = (r, o) -> o.onError(Status.FAILED_PRECONDITION.withDescription("protocol version 1 is not spoken here")
                .asRuntimeException(txkvTrailers(ErrorCode.PROTOCOL_VERSION_UNSUPPORTED)));
        e = failure(backend.getReadVersion());
        assertThat(e.getError()).isEqualTo(ErrorCode.PROTOCOL_VERSION_UNSUPPORTED);
        assertThat(e.getMessage()).contains("protocol version 1 is not spoken here").contains(fake.connection());
        assertThat(e.isRetryable()).isFalse();

        Metadata unknown = new Metadata();
        unknown.put(WireErrors.ERROR_CODE, "9999");
        unknown.put(WireErrors.ERROR_NAME, "brand_new_error");
        fake.onGet = (r, o) -> o.onError(Status.INTERNAL.withDescription("new").asRuntimeException(unknown));
        e = failure(backend.get(new byte[] {1}, 1));
        assertThat(e.getError()).isEqualTo(ErrorCode.INTERNAL_ERROR);
        assertThat(e.getMessage()).contains("9999").contains("brand_new_error");
    }

    @Test
    void refusedConnectionIsConnectionFailedForReadsAndForCommitsThatWereNeverSent() throws IOException {
        RemoteBackend b = connect("127.0.0.1:" + refusedPort(), new RemoteSettings());
        TxkvException read = failure(b.getReadVersion());
        assertThat(read.getError()).isEqualTo(ErrorCode.CONNECTION_FAILED);
        assertThat(read.isRetryable()).isTrue();
        TxkvException commit = failure(b.commit(someCommit()));
        assertThat(commit.getError()).as(commit.getMessage()).isEqualTo(ErrorCode.CONNECTION_FAILED);
        assertThat(commit.isRetryableNotCommitted()).isTrue();
    }

    @Test
    void readsAndCommitsMoveOnToTheNextServerWhenOneRefusesConnections() throws IOException {
        RemoteBackend b = connect("127.0.0.1:" + refusedPort() + ",127.0.0.1:" + fake.port(), new RemoteSettings());
        assertThat(b.getReadVersion().join()).isEqualTo(42);
        assertThat(b.commit(someCommit()).join().version()).isEqualTo(100);
    }

    @Test
    void commitWithoutAnAnswerBeforeTheDeadlineIsCommitUnknownResult() {
        fake.onCommit = (r, o) -> { };
        RemoteBackend b = connect(fake.connection(), new RemoteSettings().commitTimeout(Duration.ofMillis(300)));
        TxkvException e = failure(b.commit(someCommit()));
        assertThat(e.getError()).isEqualTo(ErrorCode.COMMIT_UNKNOWN_RESULT);
        assertThat(e.isMaybeCommitted()).isTrue();
    }

    @Test
    void readWithoutAnAnswerBeforeTheDeadlineIsConnectionFailed() {
        fake.onGet = (r, o) -> { };
        RemoteBackend b = connect(fake.connection(), new RemoteSettings().requestTimeout(Duration.ofMillis(300)));
        assertThat(failure(b.get(new byte[] {1}, 1)).getError()).isEqualTo(ErrorCode.CONNECTION_FAILED);
    }

    @Test
    void connectionLostWhileACommitIsInFlightIsCommitUnknownResult() throws Exception {
        fake.onCommit = (r, o) -> { };
        RemoteBackend b = connect(fake.connection(), new RemoteSettings());
        CompletableFuture<CommitResult> commit = b.commit(someCommit());
        assertThat(fake.commitArrived.await(10, TimeUnit.SECONDS)).isTrue();
        fake.kill();
        TxkvException e = failure(commit);
        assertThat(e.getError()).as(e.getMessage()).isEqualTo(ErrorCode.COMMIT_UNKNOWN_RESULT);
    }

    @Test
    void unavailableWithoutATxkvCodeAfterSendingIsCommitUnknownResult() {
        fake.onCommit = (r, o) -> o.onError(Status.UNAVAILABLE.withDescription("proxy lost its upstream").asRuntimeException());
        TxkvException e = failure(connect(fake.connection(), new RemoteSettings()).commit(someCommit()));
        assertThat(e.getError()).isEqualTo(ErrorCode.COMMIT_UNKNOWN_RESULT);
        fake.onGrv = (r, o) -> o.onError(Status.UNAVAILABLE.withDescription("proxy lost its upstream").asRuntimeException());
        assertThat(failure(backend.getReadVersion()).getError()).isEqualTo(ErrorCode.CONNECTION_FAILED);
    }

    @Test
    void watchCompletesOnTheFirstMessageAndCancellingItCancelsTheCall() throws Exception {
        RemoteBackend b = connect(fake.connection(), new RemoteSettings());
        fake.onWatch = (r, o) -> o.onNext(WatchResponse.newBuilder().setChanged(true).build());
        b.watch(new byte[] {1}, 5).get(10, TimeUnit.SECONDS);

        fake.onWatch = (r, o) -> { };
        CompletableFuture<Void> pending = b.watch(new byte[] {2}, 5);
        Thread.sleep(100);
        assertThat(pending).isNotDone();
        pending.cancel(false);
        assertThat(fake.watchCancelled.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void closeFailsOutstandingWatchesAndLaterCallsWithDatabaseClosed() throws Exception {
        fake.onWatch = (r, o) -> { };
        RemoteBackend b = connect(fake.connection(), new RemoteSettings());
        CompletableFuture<Void> pending = b.watch(new byte[] {2}, 5);
        Thread.sleep(100);
        long start = System.nanoTime();
        b.close();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(3_000);
        assertThat(failure(pending).getError()).isEqualTo(ErrorCode.DATABASE_CLOSED);
        assertThat(failure(b.getReadVersion()).getError()).isEqualTo(ErrorCode.DATABASE_CLOSED);
        assertThat(failure(b.commit(someCommit())).getError()).isEqualTo(ErrorCode.DATABASE_CLOSED);
    }

    @Test
    void statusReturnsTheFirstReachableServersStatus() throws IOException {
        dev.txkv.proto.Status status = RemoteStatus.fetch("127.0.0.1:" + refusedPort() + "," + fake.connection(),
                Duration.ofSeconds(5));
        assertThat(status.getAnsweredBy()).isEqualTo("fake");
        assertThatThrownBy(() -> RemoteStatus.fetch("127.0.0.1:" + refusedPort(), Duration.ofSeconds(2)))
                .isInstanceOfSatisfying(TxkvException.class,
                        e -> assertThat(e.getError()).isEqualTo(ErrorCode.CONNECTION_FAILED));
        assertThatThrownBy(() -> RemoteStatus.fetch("nonsense", Duration.ofSeconds(2)))
                .isInstanceOfSatisfying(TxkvException.class,
                        e -> assertThat(e.getError()).isEqualTo(ErrorCode.CLIENT_INVALID_OPERATION));
    }
}
