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

import dev.txkv.testkit.Poll;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import com.google.protobuf.ByteString;
import dev.txkv.TxkvConfig;
import dev.txkv.proto.CommitRequest;
import dev.txkv.proto.CommitResponse;
import dev.txkv.proto.ConflictDetails;
import dev.txkv.proto.GetRangeRequest;
import dev.txkv.proto.GetRangeResponse;
import dev.txkv.proto.GetReadVersionRequest;
import dev.txkv.proto.GetRequest;
import dev.txkv.proto.GetResponse;
import dev.txkv.proto.Mutation;
import dev.txkv.proto.MutationType;
import dev.txkv.proto.StatusRequest;
import dev.txkv.proto.TxkvGrpc;
import dev.txkv.proto.WatchRequest;
import dev.txkv.proto.WatchResponse;
import dev.txkv.wire.WireErrors;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every RPC through a real gRPC channel to 127.0.0.1: the happy paths and every validation error. */
class TxkvServiceTest {
    private static final int V = ProtocolVersion.CURRENT;
    @TempDir
    static Path dir;
    static TxkvServer server;
    static ManagedChannel channel;
    static TxkvGrpc.TxkvBlockingStub stub;

    @BeforeAll
    static void start() throws Exception {
        TestServers.quietLogs();
        server = TxkvServer.start(new ServerConfig().dataDir(dir.resolve("data")).grpcAddress("127.0.0.1", 0)
                .rangeRowsMax(1000)
                .txkvConfig(new TxkvConfig().transactionSizeMax(150_000)));
        channel = TestServers.channel(server);
        stub = TxkvGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        TestServers.close(channel);
        server.close();
    }

    @Test
    void commitThenGetAndGetReadVersion() {
        long before = readVersion(stub);
        CommitResponse committed = stub.commit(setCommit(bytes("hello"), bytes("world")));
        assertThat(committed.getVersion()).isGreaterThan(before);
        assertThat(committed.getVersionstamp().size()).isEqualTo(10);
        long rv = readVersion(stub);
        assertThat(rv).isGreaterThanOrEqualTo(committed.getVersion());
        GetResponse got = stub.get(GetRequest.newBuilder().setProtocolVersion(V).setKey(bytes("hello")).setReadVersion(rv).build());
        assertThat(got.getPresent()).isTrue();
        assertThat(got.getValue().toStringUtf8()).isEqualTo("world");
        GetResponse missing = stub.get(GetRequest.newBuilder().setProtocolVersion(V).setKey(bytes("nope")).setReadVersion(rv).build());
        assertThat(missing.getPresent()).isFalse();
    }

    @Test
    void getRangeStreamsRowsInMessagesAndSaysWhetherMoreRemain() {
        CommitRequest.Builder commit = CommitRequest.newBuilder().setProtocolVersion(V).setReadVersion(-1);
        for (int i = 0; i < 1200; i++) {
            ByteString key = bytes(String.format("range/%05d", i));
            commit.addMutations(set(key, bytes("v" + i)));
            commit.addWriteConflicts(range(key, keyAfter(key)));
        }
        stub.commit(commit.build());
        long rv = readVersion(stub);
        GetRangeRequest all = GetRangeRequest.newBuilder().setProtocolVersion(V).setReadVersion(rv)
                .setBegin(bytes("range/")).setEnd(bytes("range0")).build();
        List<GetRangeResponse> messages = new ArrayList<>();
        stub.getRange(all).forEachRemaining(messages::add);
        // Row limit 0 means the server's maximum, 1000 here: four messages of at most 256 rows.
        assertThat(messages).hasSize(4);
        assertThat(messages.stream().mapToInt(GetRangeResponse::getRowsCount).sum()).isEqualTo(1000);
        assertThat(messages.get(3).getMore()).isTrue();
        assertThat(messages.get(0).getRows(0).getKey().toStringUtf8()).isEqualTo("range/00000");

        List<GetRangeResponse> limited = new ArrayList<>();
        stub.getRange(all.toBuilder().setRowLimit(10).setReverse(true).build()).forEachRemaining(limited::add);
        assertThat(limited).hasSize(1);
        assertThat(limited.get(0).getRowsCount()).isEqualTo(10);
        assertThat(limited.get(0).getRows(0).getKey().toStringUtf8()).isEqualTo("range/01199");
        assertThat(limited.get(0).getMore()).isTrue();

        // A row limit above the server's maximum is clamped, not refused.
        List<GetRangeResponse> clamped = new ArrayList<>();
        stub.getRange(all.toBuilder().setRowLimit(-1).build()).forEachRemaining(clamped::add);
        assertThat(clamped.stream().mapToInt(GetRangeResponse::getRowsCount).sum()).isEqualTo(1000);

        // The end of the user keyspace, 0xFF, is a valid range end.
        Iterator<GetRangeResponse> toEnd = stub.getRange(all.toBuilder().setEnd(bytes(0xFF)).setRowLimit(1).build());
        assertThat(toEnd.next().getRowsCount()).isEqualTo(1);

        List<GetRangeResponse> empty = new ArrayList<>();
        stub.getRange(all.toBuilder().setBegin(bytes("zz")).setEnd(bytes("zz")).build()).forEachRemaining(empty::add);
        assertThat(empty).hasSize(1);
        assertThat(empty.get(0).getRowsCount()).isZero();
        assertThat(empty.get(0).getMore()).isFalse();
    }

    @Test
    void conflictIsAbortedWithCodeAndReportedRanges() {
        ByteString key = bytes("conflict");
        long rv = readVersion(stub);
        stub.commit(setCommit(key, bytes("first")));
        CommitRequest late = CommitRequest.newBuilder().setProtocolVersion(V).setReadVersion(rv)
                .addReadConflicts(range(key, keyAfter(key))).addWriteConflicts(range(key, keyAfter(key)))
                .addMutations(set(key, bytes("second"))).setReportConflictingKeys(true).build();
        StatusRuntimeException e = failure(() -> stub.commit(late));
        assertThat(grpcCode(e)).isEqualTo(Status.Code.ABORTED);
        assertThat(txkvCode(e)).isEqualTo(1020);
        assertThat(e.getTrailers().get(WireErrors.ERROR_NAME)).isEqualTo("not_committed");
        byte[] details = e.getTrailers().get(WireErrors.ERROR_DETAILS);
        assertThat(details).isNotNull();
        dev.txkv.TxkvException parsed = ErrorMapping.fromStatus(e.getStatus(), e.getTrailers());
        assertThat(parsed.getCode()).isEqualTo(1020);
        assertThat(parsed.isRetryable()).isTrue();
        assertThat(parsed.getConflictingKeyRanges()).hasSize(1);
    }

    /** A transaction that read {@code key} at {@code rv} and writes {@code other}; no write conflicts sent. */
    private static CommitRequest readKeyThenWrite(long rv, ByteString key, ByteString other) {
        return CommitRequest.newBuilder().setProtocolVersion(V).setReadVersion(rv)
                .addReadConflicts(range(key, keyAfter(key))).addMutations(set(other, bytes("mine"))).build();
    }

    /** A blind commit of {@code m} alone, without write conflicts. */
    private static CommitRequest mutationOnly(Mutation m) {
        return CommitRequest.newBuilder().setProtocolVersion(V).setReadVersion(-1).addMutations(m).build();
    }

    @Test
    void writesSentWithoutWriteConflictsStillConflictWithTheirReaders() {
        ByteString key = bytes("derived/key");
        long rv = readVersion(stub);
        stub.commit(mutationOnly(set(key, bytes("new"))));
        assertThat(txkvCode(failure(() -> stub.commit(readKeyThenWrite(rv, key, bytes("derived/out")))))).isEqualTo(1020);

        long rv2 = readVersion(stub);
        stub.commit(mutationOnly(Mutation.newBuilder().setType(MutationType.CLEAR_RANGE)
                .setKey(bytes("derived/")).setParam(bytes("derived0")).build()));
        assertThat(txkvCode(failure(() -> stub.commit(readKeyThenWrite(rv2, key, bytes("derived/out")))))).isEqualTo(1020);

        long rv3 = readVersion(stub);
        stub.commit(mutationOnly(Mutation.newBuilder().setType(MutationType.ADD).setKey(key).setParam(bytes(1)).build()));
        assertThat(txkvCode(failure(() -> stub.commit(readKeyThenWrite(rv3, key, bytes("derived/out")))))).isEqualTo(1020);

        // A reader of a key the stamp could produce conflicts, whatever stamp the commit gets.
        ByteString log = bytes("derived/log/");
        ByteString maybe = log.concat(bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
        long rv4 = readVersion(stub);
        stub.commit(mutationOnly(Mutation.newBuilder().setType(MutationType.SET_VERSIONSTAMPED_KEY)
                .setKey(log.concat(ByteString.copyFrom(new byte[10])).concat(bytes(log.size(), 0, 0, 0)))
                .setParam(bytes("e")).build()));
        assertThat(txkvCode(failure(() -> stub.commit(readKeyThenWrite(rv4, maybe, bytes("derived/out")))))).isEqualTo(1020);

        // Unrelated keys do not conflict.
        long rv5 = readVersion(stub);
        stub.commit(mutationOnly(set(key, bytes("newer"))));
        stub.commit(readKeyThenWrite(rv5, bytes("derived0/elsewhere"), bytes("derived/out")));
    }

    @Test
    void noWriteConflictLeavesAWriteOutOfConflictChecking() {
        ByteString key = bytes("quiet/key");
        long rv = readVersion(stub);
        stub.commit(mutationOnly(set(key, bytes("unseen")).toBuilder().setNoWriteConflict(true).build()));
        // Dangerous on purpose: the reader of the key does not notice the write.
        stub.commit(readKeyThenWrite(rv, key, bytes("quiet/out")));

        // An explicit write conflict still counts.
        long rv2 = readVersion(stub);
        stub.commit(mutationOnly(set(key, bytes("seen")).toBuilder().setNoWriteConflict(true).build()).toBuilder()
                .addWriteConflicts(range(key, keyAfter(key))).build());
        assertThat(txkvCode(failure(() -> stub.commit(readKeyThenWrite(rv2, key, bytes("quiet/out")))))).isEqualTo(1020);
    }

    @Test
    void atomicAndVersionstampMutationsCommit() throws Exception {
        ByteString counter = bytes("counter");
        CommitRequest add = CommitRequest.newBuilder().setProtocolVersion(V).setReadVersion(-1)
                .addWriteConflicts(range(counter, keyAfter(counter)))
                .addMutations(Mutation.newBuilder().setType(MutationType.ADD).setKey(counter).setParam(bytes(1, 0, 0, 0)))
                .addMutations(Mutation.newBuilder().setType(MutationType.SET_VERSIONSTAMPED_KEY)
                        .setKey(bytes("vs/").concat(ByteString.copyFrom(new byte[10])).concat(bytes(3, 0, 0, 0)))
                        .setParam(bytes("x")))
                .setIdempotencyId(bytes("id-1"))
                .build();
        CommitResponse first = stub.commit(add);
        // The same idempotency id learns the earlier outcome instead of adding twice.
        CommitResponse again = stub.commit(add);
        assertThat(again.getVersion()).isEqualTo(first.getVersion());
        long rv = readVersion(stub);
        GetResponse value = stub.get(GetRequest.newBuilder().setProtocolVersion(V).setKey(counter).setReadVersion(rv).build());
        assertThat(value.getValue()).isEqualTo(bytes(1, 0, 0, 0));
        List<GetRangeResponse> stamped = new ArrayList<>();
        stub.getRange(GetRangeRequest.newBuilder().setProtocolVersion(V).setReadVersion(rv)
                .setBegin(bytes("vs/")).setEnd(bytes("vs0")).build()).forEachRemaining(stamped::add);
        assertThat(stamped.get(0).getRows(0).getKey().substring(3)).isEqualTo(first.getVersionstamp());
    }

    @Test
    void watchFiresWhenTheKeyChanges() throws Exception {
        ByteString key = bytes("watched");
        long rv = readVersion(stub);
        CompletableFuture<WatchResponse> fired = CompletableFuture.supplyAsync(() -> {
            Iterator<WatchResponse> it = stub.watch(WatchRequest.newBuilder().setProtocolVersion(V).setKey(key).setVersion(rv).build());
            WatchResponse r = it.next();
            assertThat(it.hasNext()).isFalse();
            return r;
        });
        waitForWatches("the watch to register", () -> server.engine().counters().watches() >= 1);
        stub.commit(setCommit(key, bytes("changed")));
        assertThat(fired.get(10, TimeUnit.SECONDS).getChanged()).isTrue();
    }

    @Test
    void cancellingAWatchRemovesItFromTheEngine() throws Exception {
        long rv = readVersion(stub);
        long watchesBefore = server.engine().counters().watches();
        Context.CancellableContext context = Context.current().withCancellation();
        CompletableFuture<Void> call = CompletableFuture.runAsync(() -> context.run(() -> {
            try {
                stub.watch(WatchRequest.newBuilder().setProtocolVersion(V).setKey(bytes("never")).setVersion(rv).build()).next();
            } catch (StatusRuntimeException expected) {
                // cancelled
            }
        }));
        waitForWatches("the watch to register", () -> server.engine().counters().watches() > watchesBefore);
        context.cancel(null);
        call.get(10, TimeUnit.SECONDS);
        waitForWatches("the cancelled watch to be removed", () -> server.engine().counters().watches() == watchesBefore);
    }

    @Test
    void statusIsTypedWithEverySection() throws Exception {
        stub.commit(setCommit(bytes("status"), bytes("x")));
        dev.txkv.proto.Status status = stub.status(StatusRequest.newBuilder().setProtocolVersion(V).build()).getStatus();
        assertThat(status.getDatabase().getAvailable()).isTrue();
        assertThat(status.hasCluster()).as("unreplicated").isFalse();
        assertThat(status.getProcessesCount()).isEqualTo(1);
        dev.txkv.proto.Status.Process process = status.getProcesses(0);
        assertThat(process.getId()).isEqualTo(status.getAnsweredBy());
        assertThat(process.getClientAddress()).isEqualTo("127.0.0.1:" + server.grpcPort());
        assertThat(process.getRole()).isEqualTo("standalone");
        assertThat(process.getAcceptingCommits().getValue()).isTrue();
        assertThat(process.getAppliedVersion().getValue()).isEqualTo(status.getLatestVersion()).isGreaterThan(0);
        assertThat(process.getStorage().getEngine()).isEqualTo("RocksDB");
        assertThat(process.getStorage().getEngineVersion()).matches("\\d+\\.\\d+\\.\\d+");
        assertThat(process.getStorage().getDiskUsedBytes()).isGreaterThan(0);
        assertThat(process.getStorage().getDataDirectory()).isEqualTo(dir.resolve("data").toString());
        assertThat(status.getLatencyProbe().getCommitSeconds().getValue()).isGreaterThan(0);
        assertThat(status.getWorkload().getCommitted().getCounter()).isGreaterThan(0);
        assertThat(status.getQueues().getCommitQueueLimit()).isGreaterThan(0);
        assertThat(status.getQueues().getWatchesLimit()).isGreaterThan(0);
        // The probe's key is in the system keyspace, which clients cannot read.
        StatusRuntimeException e = failure(() -> stub.get(GetRequest.newBuilder().setProtocolVersion(V)
                .setKey(ByteString.copyFrom(StatusDocument.PROBE_KEY)).setReadVersion(readVersion(stub)).build()));
        assertThat(txkvCode(e)).isEqualTo(2004);
    }

    @Test
    void healthServiceSaysServing() {
        HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.newBuilder().build());
        assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        HealthCheckResponse txkv = HealthGrpc.newBlockingStub(channel)
                .check(HealthCheckRequest.newBuilder().setService(TxkvGrpc.SERVICE_NAME).build());
        assertThat(txkv.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void metricsRegistryHasTheMeters() {
        stub.commit(setCommit(bytes("metrics"), bytes("x")));
        long rv = readVersion(stub);
        stub.get(GetRequest.newBuilder().setProtocolVersion(V).setKey(bytes("metrics")).setReadVersion(rv).build());
        failure(() -> stub.get(GetRequest.newBuilder().setProtocolVersion(V).setKey(bytes(0xFF)).setReadVersion(rv).build()));
        String scrape = server.meterRegistry().scrape();
        assertThat(scrape).contains("txkv_commits_total", "txkv_commit_conflicts_total", "txkv_commit_too_old_total",
                "txkv_commit_latency_seconds_bucket", "txkv_read_latency_seconds_bucket", "txkv_grv_latency_seconds_bucket",
                "txkv_commit_batch_size", "txkv_reads_total", "txkv_read_bytes_total", "txkv_written_bytes_total",
                "txkv_commit_queue_depth", "txkv_watches", "txkv_rpc_errors_total", "code=\"2004\"",
                "txkv_executor_queue_depth", "txkv_storage_size_estimate");
    }

    // ------------------------------------------------------------------ validation

    @Test
    void everyRpcRefusesAnotherProtocolVersion() {
        List<Supplier<?>> calls = List.of(
                () -> stub.getReadVersion(GetReadVersionRequest.newBuilder().setProtocolVersion(2).build()),
                () -> stub.get(GetRequest.newBuilder().setKey(bytes("a")).build()),
                () -> stub.getRange(GetRangeRequest.newBuilder().setProtocolVersion(7).setEnd(bytes("b")).build()),
                () -> stub.commit(setCommit(bytes("a"), bytes("b")).toBuilder().setProtocolVersion(0).build()),
                () -> stub.watch(WatchRequest.newBuilder().setProtocolVersion(2).setKey(bytes("a")).build()),
                () -> stub.status(StatusRequest.newBuilder().setProtocolVersion(99).build()));
        for (Supplier<?> call : calls) {
            StatusRuntimeException e = failure(call);
            assertThat(grpcCode(e)).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(txkvCode(e)).isEqualTo(2200);
        }
    }

    @Test
    void readsAreValidated() {
        long rv = readVersion(stub);
        GetRequest get = GetRequest.newBuilder().setProtocolVersion(V).setReadVersion(rv).setKey(bytes("k")).build();
        expect(2102, () -> stub.get(get.toBuilder().setKey(ByteString.copyFrom(new byte[10_001])).build()));
        expect(2004, () -> stub.get(get.toBuilder().setKey(bytes(0xFF, 1)).build()));
        expect(2011, () -> stub.get(get.toBuilder().setReadVersion(-2).build()));
        GetRangeRequest range = GetRangeRequest.newBuilder().setProtocolVersion(V).setReadVersion(rv)
                .setBegin(bytes("a")).setEnd(bytes("b")).build();
        expect(2005, () -> stub.getRange(range.toBuilder().setBegin(bytes("c")).build()));
        expect(2004, () -> stub.getRange(range.toBuilder().setEnd(bytes(0xFF, 0)).build()));
        expect(2102, () -> stub.getRange(range.toBuilder().setEnd(ByteString.copyFrom(new byte[10_002])).build()));
        expect(2011, () -> stub.getRange(range.toBuilder().setReadVersion(-5).build()));
        expect(2004, () -> stub.watch(WatchRequest.newBuilder().setProtocolVersion(V).setKey(bytes(0xFF)).setVersion(rv).build()));
        expect(2011, () -> stub.watch(WatchRequest.newBuilder().setProtocolVersion(V).setKey(bytes("k")).setVersion(-1).build()));
    }

    @Test
    void commitsAreValidated() {
        long rv = readVersion(stub);
        ByteString k = bytes("k");
        CommitRequest base = setCommit(k, bytes("v"));
        expect(2102, () -> stub.commit(withMutation(base, set(ByteString.copyFrom(new byte[10_001]), bytes("v")))));
        expect(2103, () -> stub.commit(withMutation(base, set(k, ByteString.copyFrom(new byte[100_001])))));
        expect(2004, () -> stub.commit(withMutation(base, set(bytes(0xFF, 'x'), bytes("v")))));
        expect(2018, () -> stub.commit(withMutation(base, Mutation.newBuilder().setTypeValue(99).setKey(k).setParam(k).build())));
        expect(2018, () -> stub.commit(withMutation(base, Mutation.newBuilder().setTypeValue(3).setKey(k).setParam(k).build())));
        expect(2005, () -> stub.commit(withMutation(base,
                Mutation.newBuilder().setType(MutationType.CLEAR_RANGE).setKey(bytes("z")).setParam(bytes("a")).build())));
        expect(2004, () -> stub.commit(withMutation(base,
                Mutation.newBuilder().setType(MutationType.CLEAR_RANGE).setKey(bytes("a")).setParam(bytes(0xFF, 0xFF)).build())));
        // Versionstamp offsets must leave room for the 10-byte stamp.
        expect(2000, () -> stub.commit(withMutation(base, Mutation.newBuilder().setType(MutationType.SET_VERSIONSTAMPED_KEY)
                .setKey(bytes("abc").concat(bytes(0, 0, 0, 0))).setParam(k).build())));
        expect(2000, () -> stub.commit(withMutation(base, Mutation.newBuilder().setType(MutationType.SET_VERSIONSTAMPED_VALUE)
                .setKey(k).setParam(bytes(1, 2)).build())));
        expect(2006, () -> stub.commit(base.toBuilder().setIdempotencyId(ByteString.copyFrom(new byte[256])).build()));
        expect(2000, () -> stub.commit(base.toBuilder().addReadConflicts(range(k, keyAfter(k))).build()));
        expect(2011, () -> stub.commit(base.toBuilder().setReadVersion(-2).build()));
        expect(2005, () -> stub.commit(base.toBuilder().setReadVersion(rv).addReadConflicts(range(bytes("b"), bytes("a"))).build()));
        expect(2004, () -> stub.commit(base.toBuilder().addWriteConflicts(range(bytes("a"), bytes(0xFF, 1))).build()));
        // Two values within the value limit, together above this server's 150,000-byte transaction limit.
        CommitRequest large = base.toBuilder().addMutations(set(bytes("l1"), ByteString.copyFrom(new byte[80_000])))
                .addMutations(set(bytes("l2"), ByteString.copyFrom(new byte[80_000]))).build();
        expect(2101, () -> stub.commit(large));
        // A range may end at 0xFF, and an idempotency id of 255 bytes is fine.
        stub.commit(base.toBuilder().addWriteConflicts(range(bytes("a"), bytes(0xFF)))
                .setIdempotencyId(ByteString.copyFrom(new byte[255])).build());
    }

    private static CommitRequest withMutation(CommitRequest base, Mutation m) {
        return base.toBuilder().addMutations(m).build();
    }

    private static void expect(int code, Supplier<?> call) {
        StatusRuntimeException e = failure(call);
        assertThat(txkvCode(e)).as(e.getStatus().toString()).isEqualTo(code);
        assertThat(grpcCode(e)).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    private static void waitForWatches(String what, BooleanSupplier condition) {
        Poll.until(what, Duration.ofSeconds(10), condition);
    }
}
