package dev.txkv.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.Int64Value;
import com.google.protobuf.UnsafeByteOperations;
import dev.txkv.ErrorCode;
import dev.txkv.KeyValue;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.proto.CommitManyRequest;
import dev.txkv.proto.CommitManyResponse;
import dev.txkv.proto.CommitOutcome;
import dev.txkv.proto.CommitResponse;
import dev.txkv.proto.ElementError;
import dev.txkv.proto.GetManyRequest;
import dev.txkv.proto.GetManyResponse;
import dev.txkv.proto.GetOutcome;
import dev.txkv.proto.GetRangeRequest;
import dev.txkv.proto.GetRangeResponse;
import dev.txkv.proto.GetReadVersionRequest;
import dev.txkv.proto.GetReadVersionResponse;
import dev.txkv.proto.GetRequest;
import dev.txkv.proto.GetResponse;
import dev.txkv.proto.Member;
import dev.txkv.proto.NotLeader;
import dev.txkv.proto.SetMembersRequest;
import dev.txkv.proto.SetMembersResponse;
import dev.txkv.proto.Status;
import dev.txkv.proto.StatusRequest;
import dev.txkv.proto.StatusResponse;
import dev.txkv.proto.TxkvGrpc;
import dev.txkv.proto.WatchRequest;
import dev.txkv.proto.WatchResponse;
import dev.txkv.spi.Backend;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Mutation;
import dev.txkv.spi.RangeChunk;
import dev.txkv.server.auth.Access;
import dev.txkv.server.auth.AuthInterceptor;
import dev.txkv.server.auth.AuthState;
import dev.txkv.server.auth.PrincipalLimits;
import dev.txkv.wire.WireErrors;
import io.grpc.Context;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The txkv.v1 gRPC service over a {@link Backend} (the engine). It keeps no per-transaction
 * state: every call carries what it needs, so a client may send each call to any server.
 *
 * <p>Implementation notes. gRPC hands calls to this service on its transport threads (the
 * servers run with a direct executor); each call's work is then submitted to one bounded
 * executor, so a flood of requests fills a fixed queue and is refused with
 * proxy_memory_limit_exceeded (1042, retryable) instead of growing threads or memory. The
 * engine trusts its caller, so every request is checked first ({@link RequestValidator}).
 * A commit holds no thread while the commit pipeline works: it answers from the engine's
 * completion thread. A watch holds no thread either; it is counted against
 * {@link ServerConfig#watchStreamsMax()} and removed from the engine when the call is cancelled.
 * A short call that cannot block (a read version, a read that asks for a new read version or
 * reads at one this server handed out, a small commit) runs on the transport thread itself
 * when no call waits for the executor: on a lightly loaded server that saves a hand-off to the
 * executor and back, which is most of a read's time there.
 *
 * <p>GetMany and CommitMany carry many Gets or Commits in one call, so that the per-call cost
 * of gRPC (HTTP/2 frames, headers, a task switch each way) is paid once per batch. Each element
 * goes through the very code of the single call ({@link #readOne}, {@link #validateCommit}) and
 * fails on its own; a batch is one executor task, and every commit of a CommitMany is handed
 * to the engine before any is waited for, so that they can share one commit batch.
 */
public class TxkvService extends TxkvGrpc.TxkvImplBase {
    private static final Logger log = LoggerFactory.getLogger(TxkvService.class);
    /** Rows per GetRange message, so a client can start on the first rows early. */
    static final int RANGE_MESSAGE_ROWS_MAX = 256;
    /** About the most bytes per GetRange message; a single larger row still goes alone. */
    static final int RANGE_MESSAGE_BYTES_MAX = 1 << 20;
    /**
     * Most elements of one GetMany or CommitMany. Beyond some hundreds a batch saves no more
     * per-call overhead, while one huge batch would hold a server thread and the answer of
     * every element until the slowest is done.
     */
    public static final int BATCH_ELEMENTS_MAX = 1_024;
    /** Most elements of a GetMany that may run on the transport thread. */
    static final int INLINE_ELEMENTS_MAX = 16;
    /** Largest Commit (serialized) that may be checked on the transport thread. */
    static final int INLINE_COMMIT_BYTES_MAX = 64 << 10;
    /** A Get's read version asking the server to take a new one and return it. */
    public static final long ASSIGN_READ_VERSION = -1;

    private final Backend backend;
    private final ServerConfig config;
    private final LeaderDirectory leaders;
    private final Executor executor;
    private final RequestValidator validator;
    private final ServerMetrics metrics;
    private final ClusterAdmin admin;
    private final StatusProvider statusProvider;
    /** Open watches, with who set each and on which key: a revocation ends those it no longer allows. */
    private final Map<CompletableFuture<Void>, WatchOwner> watchStreams = new ConcurrentHashMap<>();
    private final AtomicInteger watchStreamCount = new AtomicInteger();
    /** Whether no call waits for the executor: then a short call runs on the transport thread. */
    private final java.util.function.BooleanSupplier executorIdle;
    /** The newest read version this server handed out: readable here, so reads at it never wait. */
    private final java.util.concurrent.atomic.AtomicLong newestHandedOut = new java.util.concurrent.atomic.AtomicLong(-1);
    private volatile boolean closing;

    /**
     * A service over an unreplicated {@code backend} (no membership to change, not_leader
     * answers without a leader, an empty status), enforcing the limits of {@code config},
     * running calls on {@code executor} and recording meters in {@code registry}: for tests of
     * the wire contract against a backend of their own.
     */
    public TxkvService(Backend backend, ServerConfig config, Executor executor, MeterRegistry registry) {
        this(backend, new ClusterAdmin() {
            @Override
            public boolean isReplicated() {
                return false;
            }

            @Override
            public CompletableFuture<Void> setMembers(Map<String, String> members) {
                return CompletableFuture.failedFuture(new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                        "This database is not replicated"));
            }

            @Override
            public Map<String, String> members() {
                return Map.of();
            }
        }, config, executor, new ServerMetrics(registry),
                memberOnly -> CompletableFuture.completedFuture(Status.getDefaultInstance()), LeaderDirectory.NONE);
    }

    /**
     * A service over {@code backend}, changing membership through {@code admin}, enforcing the
     * limits of {@code config}, running calls on {@code executor} (which should be bounded and
     * throw {@link RejectedExecutionException} when full), recording meters in {@code metrics},
     * answering Status with {@code statusProvider} and naming the leader in not_leader answers
     * through {@code leaders}.
     */
    TxkvService(Backend backend, ClusterAdmin admin, ServerConfig config, Executor executor, ServerMetrics metrics,
            StatusProvider statusProvider, LeaderDirectory leaders) {
        this.backend = backend;
        this.admin = admin;
        this.config = config;
        this.leaders = leaders;
        this.executor = executor;
        this.validator = new RequestValidator(config.txkvConfig());
        this.metrics = metrics;
        this.statusProvider = statusProvider;
        if (executor instanceof java.util.concurrent.ThreadPoolExecutor pool) {
            this.executorIdle = () -> pool.getQueue().isEmpty();
        } else {
            this.executorIdle = () -> false;
        }
        metrics.bindWatchStreams(watchStreamCount::get);
    }

    /** Who set a watch, and on which key. */
    private record WatchOwner(Access access, byte[] key) {
    }

    ServerMetrics metrics() {
        return metrics;
    }

    /** Open Watch calls. */
    public int watchStreams() {
        return watchStreamCount.get();
    }

    @Override
    public void getReadVersion(GetReadVersionRequest request, StreamObserver<GetReadVersionResponse> observer) {
        long start = System.nanoTime();
        dispatch("GetReadVersion", observer, true, () -> {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            backend.getReadVersion().whenComplete((version, error) -> {
                if (error != null) {
                    fail("GetReadVersion", observer, error);
                    return;
                }
                handedOut(version);
                metrics.grvLatency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                observer.onNext(GetReadVersionResponse.newBuilder().setReadVersion(version).build());
                observer.onCompleted();
            });
        });
    }

    @Override
    public void get(GetRequest request, StreamObserver<GetResponse> observer) {
        long start = System.nanoTime();
        Access access = AuthInterceptor.current();
        dispatch("Get", observer, readsWithoutWait(request), () -> readOne(request, start, null, access).whenComplete((response, error) -> {
            if (error != null) {
                fail("Get", observer, error);
                return;
            }
            observer.onNext(response);
            observer.onCompleted();
        }));
    }

    /**
     * One Get, checked and read: the path of both Get and every element of GetMany. A check
     * that fails comes back as a failed future, never as an exception. A read version of
     * {@value #ASSIGN_READ_VERSION} reads at {@code assigned} (GetMany's one new version for all
     * such elements) or, when that is null, at a new read version taken for this read alone.
     */
    private CompletableFuture<GetResponse> readOne(GetRequest request, long start, CompletableFuture<Long> assigned,
            Access access) {
        byte[] key;
        long readVersion;
        try {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            key = validator.key(request.getKey());
            access.checkReadKey(key, "Get");
            if (request.getReadVersion() == ASSIGN_READ_VERSION) {
                CompletableFuture<Long> version = assigned != null ? assigned : newReadVersion(start);
                return version.thenCompose(v -> read(key, v, start, true));
            }
            readVersion = RequestValidator.readVersion(request.getReadVersion());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return read(key, readVersion, start, false);
    }

    /** A read version as GetReadVersion takes it, for reads that asked the server to assign one. */
    private CompletableFuture<Long> newReadVersion(long start) {
        CompletableFuture<Long> version;
        try {
            version = backend.getReadVersion();
        } catch (RuntimeException e) {
            version = CompletableFuture.failedFuture(e);
        }
        return version.thenApply(v -> {
            handedOut(v);
            metrics.grvLatency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            return v;
        });
    }

    private void handedOut(long version) {
        newestHandedOut.accumulateAndGet(version, Math::max);
    }

    /**
     * Whether a Get is sure not to wait in the engine: it asks for a new read version, or reads
     * at one this server handed out (reads at a version the server has not reached yet wait
     * for it, up to the future-version wait).
     */
    private boolean readsWithoutWait(GetRequest request) {
        long v = request.getReadVersion();
        return v == ASSIGN_READ_VERSION || (v >= 0 && v <= newestHandedOut.get());
    }

    private CompletableFuture<GetResponse> read(byte[] key, long readVersion, long start, boolean returnVersion) {
        return backend.get(key, readVersion).thenApply(value -> {
            metrics.getLatency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            GetResponse.Builder response = GetResponse.newBuilder().setPresent(value != null);
            if (value != null) {
                metrics.bytesRead.increment(key.length + value.length);
                // The engine's arrays are never modified after it returns them: no copy needed.
                response.setValue(UnsafeByteOperations.unsafeWrap(value));
            }
            if (returnVersion) {
                response.setReadVersion(Int64Value.of(readVersion));
            }
            return response.build();
        });
    }

    /**
     * Many Gets in one call and one executor task. The engine answers a point read at once,
     * so the elements are read one after another on this task; the answer goes out when the
     * last one is done, in request order.
     */
    @Override
    public void getMany(GetManyRequest request, StreamObserver<GetManyResponse> observer) {
        long start = System.nanoTime();
        Access access = AuthInterceptor.current();
        PrincipalLimits.Call limits = AuthInterceptor.limits();
        boolean noWait = request.getRequestsCount() <= INLINE_ELEMENTS_MAX;
        for (int i = 0; noWait && i < request.getRequestsCount(); i++) {
            noWait = readsWithoutWait(request.getRequests(i));
        }
        dispatch("GetMany", observer, noWait, () -> {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            int n = checkBatchSize("GetMany", request.getRequestsCount());
            metrics.getManySize.record(n);
            List<CompletableFuture<GetResponse>> reads = new ArrayList<>(n);
            // One new read version for every element that asks for one, taken only if one does.
            CompletableFuture<Long> assigned = null;
            for (GetRequest r : request.getRequestsList()) {
                if (r.getReadVersion() == ASSIGN_READ_VERSION) {
                    assigned = newReadVersion(start);
                    break;
                }
            }
            for (GetRequest r : request.getRequestsList()) {
                reads.add(readOne(r, start, assigned, access));
            }
            whenAll(reads, "GetMany", observer, () -> {
                GetManyResponse.Builder response = GetManyResponse.newBuilder();
                for (CompletableFuture<GetResponse> read : reads) {
                    GetOutcome.Builder outcome = GetOutcome.newBuilder();
                    Throwable error = failure(read);
                    if (error == null) {
                        outcome.setResponse(read.join());
                    } else {
                        outcome.setError(elementError("GetMany", error));
                    }
                    response.addResults(outcome);
                }
                GetManyResponse answer = response.build();
                limits.charge(answer.getSerializedSize());
                observer.onNext(answer);
                observer.onCompleted();
            });
        });
    }

    @Override
    public void getRange(GetRangeRequest request, StreamObserver<GetRangeResponse> observer) {
        long start = System.nanoTime();
        Access access = AuthInterceptor.current();
        PrincipalLimits.Call limits = AuthInterceptor.limits();
        ignoreCancellation(observer);
        dispatch("GetRange", observer, () -> {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            Range range = validator.range(request.getBegin(), request.getEnd());
            access.checkRead(range.begin, range.end, "GetRange");
            long readVersion = RequestValidator.readVersion(request.getReadVersion());
            int rowLimit = RequestValidator.rowLimit(request.getRowLimit(), config.rangeRowsMax());
            long byteLimit = RequestValidator.byteLimit(request.getByteLimit(), config.rangeBytesMax());
            backend.getRange(range.begin, range.end, rowLimit, byteLimit, request.getReverse(), readVersion)
                    .whenComplete((chunk, error) -> {
                        if (error != null) {
                            fail("GetRange", observer, error);
                            return;
                        }
                        metrics.getRangeLatency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                        try {
                            limits.charge(chunkBytes(chunk));
                        } catch (TxkvException e) {
                            fail("GetRange", observer, e);
                            return;
                        }
                        sendRows(chunk, observer);
                    });
        });
    }

    private static long chunkBytes(RangeChunk chunk) {
        long bytes = 0;
        for (KeyValue row : chunk.rows()) {
            bytes += row.getKey().length + row.getValue().length;
        }
        return bytes;
    }

    private void sendRows(RangeChunk chunk, StreamObserver<GetRangeResponse> observer) {
        if (Context.current().isCancelled()) {
            return;
        }
        GetRangeResponse.Builder message = GetRangeResponse.newBuilder();
        long messageBytes = 0;
        long totalBytes = 0;
        List<KeyValue> rows = chunk.rows();
        for (KeyValue row : rows) {
            long rowBytes = row.getKey().length + row.getValue().length;
            if (message.getRowsCount() >= RANGE_MESSAGE_ROWS_MAX
                    || (message.getRowsCount() > 0 && messageBytes + rowBytes > RANGE_MESSAGE_BYTES_MAX)) {
                observer.onNext(message.build());
                message = GetRangeResponse.newBuilder();
                messageBytes = 0;
            }
            // The engine's arrays are never modified after it returns them: no copy needed.
            message.addRows(dev.txkv.proto.KeyValue.newBuilder()
                    .setKey(UnsafeByteOperations.unsafeWrap(row.getKey()))
                    .setValue(UnsafeByteOperations.unsafeWrap(row.getValue())));
            messageBytes += rowBytes;
            totalBytes += rowBytes;
        }
        metrics.rowsRead.increment(rows.size());
        metrics.bytesRead.increment(totalBytes);
        observer.onNext(message.setMore(chunk.more()).build());
        observer.onCompleted();
    }

    @Override
    public void commit(dev.txkv.proto.CommitRequest request, StreamObserver<CommitResponse> observer) {
        long start = System.nanoTime();
        Access access = AuthInterceptor.current();
        dispatch("Commit", observer, request.getSerializedSize() <= INLINE_COMMIT_BYTES_MAX, () -> commitOne(validateCommit(request, access, "Commit"), start).whenComplete((response, error) -> {
            if (error != null) {
                fail("Commit", observer, error);
                return;
            }
            observer.onNext(response);
            observer.onCompleted();
        }));
    }

    /**
     * The checks of a Commit, shared by Commit and every element of CommitMany: the request's
     * own, then what the caller may write and read (the whole commit is refused when any part
     * is not allowed, before the engine sees any of it). The idempotency id becomes the
     * caller's own ({@link Access#idempotencyId}).
     */
    private CommitRequest validateCommit(dev.txkv.proto.CommitRequest request, Access access, String operation) {
        RequestValidator.checkProtocol(request.getProtocolVersion());
        CommitRequest c = validator.commit(request);
        if (access.isOpen()) {
            return c;
        }
        access.checkCommit(c, operation);
        return c.idempotencyId() == null ? c : new CommitRequest(c.readVersion(), c.readConflicts(), c.writeConflicts(),
                c.mutations(), access.idempotencyId(c.idempotencyId()), c.reportConflictingKeys());
    }

    /** Hands a checked commit to the engine; the future completes from its completion thread. */
    private CompletableFuture<CommitResponse> commitOne(CommitRequest commit, long start) {
        CompletableFuture<CommitResult> result;
        try {
            result = backend.commit(commit);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        return result.handle((r, error) -> {
            long nanos = System.nanoTime() - start;
            metrics.commitLatency.record(nanos, TimeUnit.NANOSECONDS);
            logIfSlow(commit, nanos, error);
            if (error != null) {
                throw error instanceof CompletionException ? (CompletionException) error : new CompletionException(error);
            }
            recordCommit(commit, r);
            return CommitResponse.newBuilder()
                    .setVersion(r.version())
                    .setBatchOrder(r.batchOrder())
                    .setVersionstamp(ByteString.copyFrom(r.versionstamp()))
                    .build();
        });
    }

    /**
     * Many Commits in one call. All valid elements are submitted to the engine before any is
     * waited for, so that they enter its queue together and may share a batch; the answer
     * goes out when the last is decided. Nothing holds a thread meanwhile.
     */
    @Override
    public void commitMany(CommitManyRequest request, StreamObserver<CommitManyResponse> observer) {
        long start = System.nanoTime();
        Access access = AuthInterceptor.current();
        dispatch("CommitMany", observer, () -> {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            int n = checkBatchSize("CommitMany", request.getRequestsCount());
            metrics.commitManySize.record(n);
            List<CompletableFuture<CommitResponse>> commits = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                CompletableFuture<CommitResponse> commit;
                try {
                    commit = commitOne(validateCommit(request.getRequests(i), access, "CommitMany element " + i), start);
                } catch (RuntimeException e) {
                    commit = CompletableFuture.failedFuture(e);
                }
                commits.add(commit);
            }
            whenAll(commits, "CommitMany", observer, () -> {
                CommitManyResponse.Builder response = CommitManyResponse.newBuilder();
                for (CompletableFuture<CommitResponse> commit : commits) {
                    CommitOutcome.Builder outcome = CommitOutcome.newBuilder();
                    Throwable error = failure(commit);
                    if (error == null) {
                        outcome.setResponse(commit.join());
                    } else {
                        outcome.setError(elementError("CommitMany", error));
                    }
                    response.addResults(outcome);
                }
                observer.onNext(response.build());
                observer.onCompleted();
            });
        });
    }

    private static int checkBatchSize(String method, int n) {
        if (n > BATCH_ELEMENTS_MAX) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, method + " of " + n
                    + " requests exceeds the limit of " + BATCH_ELEMENTS_MAX + " per call; send several calls");
        }
        return n;
    }

    /**
     * Runs {@code then} once every future is done (at once when all already are), on the
     * thread that completes the last one. A failure inside {@code then} would otherwise be
     * lost on an engine thread, leaving the call without an answer.
     */
    private void whenAll(List<? extends CompletableFuture<?>> futures, String method, StreamObserver<?> observer,
            Runnable then) {
        CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).whenComplete((ignored, error) -> {
            try {
                then.run();
            } catch (Throwable t) {
                fail(method, observer, t);
            }
        });
    }

    /** The failure of a completed future, or null when it succeeded. */
    private static Throwable failure(CompletableFuture<?> future) {
        if (!future.isCompletedExceptionally()) {
            return null;
        }
        try {
            future.join();
            return null;
        } catch (CompletionException | CancellationException e) {
            return e;
        }
    }

    /** What a single call would have put into its status and trailers, as one element's error. */
    private ElementError elementError(String method, Throwable error) {
        TxkvException e = ErrorMapping.answer(method, ErrorMapping.toTxkvException(error));
        metrics.rpcError(method, e);
        if (e.getError() == ErrorCode.INTERNAL_ERROR) {
            log.error("{} element failed", method, error);
        }
        return WireErrors.elementError(e, notLeaderDetail(e));
    }

    /** Who leads, for a not_leader error (null for any other): every not_leader answer carries it. */
    private NotLeader notLeaderDetail(TxkvException e) {
        return e.getError() == ErrorCode.NOT_LEADER ? leaders.notLeader() : null;
    }

    /** host:port, with an IPv6 host in brackets. */
    static String hostPort(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    private void recordCommit(CommitRequest commit, CommitResult result) {
        long mutationBytes = 0;
        for (Mutation m : commit.mutations()) {
            mutationBytes += m.sizeBytes();
        }
        metrics.bytesWritten.increment(mutationBytes);
        metrics.commitBytes.record(transactionBytes(commit));
        metrics.commitMutations.record(commit.mutations().size());
        metrics.commitResult(result.version(), result.batchOrder());
    }

    private void logIfSlow(CommitRequest commit, long nanos, Throwable error) {
        long ms = TimeUnit.NANOSECONDS.toMillis(nanos);
        if (ms < config.slowCommitThresholdMs()) {
            return;
        }
        log.warn("Slow commit: {} ms, {} mutations, {} bytes, {} read and {} write conflict ranges, read version {}, {}",
                ms, commit.mutations().size(), transactionBytes(commit), commit.readConflicts().size(),
                commit.writeConflicts().size(), commit.readVersion(),
                error == null ? "committed" : ErrorMapping.toTxkvException(error).getError().errorName());
    }

    private static long transactionBytes(CommitRequest commit) {
        long bytes = 0;
        for (Mutation m : commit.mutations()) {
            bytes += m.sizeBytes();
        }
        for (Range r : commit.readConflicts()) {
            bytes += r.begin.length + r.end.length;
        }
        for (Range r : commit.writeConflicts()) {
            bytes += r.begin.length + r.end.length;
        }
        return bytes;
    }

    @Override
    public void watch(WatchRequest request, StreamObserver<WatchResponse> observer) {
        ignoreCancellation(observer);
        Context context = Context.current();
        Access access = AuthInterceptor.current();
        dispatch("Watch", observer, () -> {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            byte[] key = validator.key(request.getKey());
            access.checkReadKey(key, "Watch");
            long version = RequestValidator.readVersion(request.getVersion());
            if (closing) {
                throw new TxkvException(ErrorCode.DATABASE_CLOSED, "The server is shutting down");
            }
            if (watchStreamCount.incrementAndGet() > config.watchStreamsMax()) {
                watchStreamCount.decrementAndGet();
                throw new TxkvException(ErrorCode.TOO_MANY_WATCHES,
                        "This server has " + config.watchStreamsMax() + " open watches, its limit");
            }
            CompletableFuture<Void> stream = new CompletableFuture<>();
            watchStreams.put(stream, new WatchOwner(access, key));
            CompletableFuture<Void> watch = backend.watch(key, version);
            watch.whenComplete((ignored, error) -> {
                if (error == null) {
                    stream.complete(null);
                } else {
                    stream.completeExceptionally(error);
                }
            });
            stream.whenComplete((ignored, error) -> {
                watchStreams.remove(stream);
                watchStreamCount.decrementAndGet();
                // Removes the engine's watch when the call ended first (cancel, shutdown).
                watch.cancel(false);
                if (context.isCancelled() || error instanceof CancellationException) {
                    return;
                }
                if (error != null) {
                    fail("Watch", observer, error);
                    return;
                }
                observer.onNext(WatchResponse.newBuilder().setChanged(true).build());
                observer.onCompleted();
            });
            context.addListener(cancelled -> stream.cancel(false), Runnable::run);
            if (closing) {
                stream.completeExceptionally(new TxkvException(ErrorCode.DATABASE_CLOSED, "The server is shutting down"));
            }
        });
    }

    /**
     * The cluster's status; with member_only, this member's alone. Holds no thread while the
     * other members are asked: the answer goes out from the thread that completes the last one.
     */
    @Override
    public void status(StatusRequest request, StreamObserver<StatusResponse> observer) {
        Access access = AuthInterceptor.current();
        dispatch("Status", observer, () -> {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            access.checkRight(Access.Right.STATUS, "Status");
            statusProvider.status(request.getMemberOnly()).whenComplete((status, error) -> {
                if (error != null) {
                    fail("Status", observer, error);
                    return;
                }
                observer.onNext(StatusResponse.newBuilder().setStatus(status).build());
                observer.onCompleted();
            });
        });
    }

    /**
     * Replaces the cluster's membership (leader only; see txkv.proto). The request must list
     * every member, with unique ids; the engine checks ids and addresses. Answers with the
     * membership in force once the change is committed.
     */
    @Override
    public void setMembers(SetMembersRequest request, StreamObserver<SetMembersResponse> observer) {
        Access access = AuthInterceptor.current();
        dispatch("SetMembers", observer, () -> {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            access.checkRight(Access.Right.ADMIN, "SetMembers");
            if (!admin.isReplicated()) {
                throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                        "This server is not replicated: it has no members to change");
            }
            if (request.getMembersCount() == 0) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "SetMembers needs at least one member");
            }
            Map<String, String> members = new LinkedHashMap<>();
            for (Member m : request.getMembersList()) {
                if (members.put(m.getId(), m.getRaftAddress()) != null) {
                    throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE,
                            "Member id '" + m.getId() + "' appears more than once");
                }
            }
            CompletableFuture<Void> change;
            try {
                change = admin.setMembers(members);
            } catch (RuntimeException e) {
                change = CompletableFuture.failedFuture(e);
            }
            change.whenComplete((ignored, error) -> {
                if (error != null) {
                    fail("SetMembers", observer, error);
                    return;
                }
                log.info("Cluster membership changed to {}", members);
                dev.txkv.server.tls.Audit.event("members_changed", "by", access.isOpen() ? "(authorization off)"
                        : access.principal(), "members", members.toString());
                SetMembersResponse.Builder response = SetMembersResponse.newBuilder();
                Map<String, String> inForce = admin.members();
                for (Map.Entry<String, String> m : (inForce.isEmpty() ? members : inForce).entrySet()) {
                    response.addMembers(Member.newBuilder().setId(m.getKey()).setRaftAddress(m.getValue()));
                }
                observer.onNext(response.build());
                observer.onCompleted();
            });
        });
    }

    /**
     * Ends every open Watch call with database_closed (2107, UNAVAILABLE) and refuses new ones,
     * so that a graceful shutdown is not held up by watches that may never fire; clients set
     * their watches again on another server.
     */
    public void closeWatches() {
        closing = true;
        for (CompletableFuture<Void> stream : watchStreams.keySet()) {
            stream.completeExceptionally(new TxkvException(ErrorCode.DATABASE_CLOSED, "The server is shutting down"));
        }
    }

    /**
     * Ends, with the error a new Watch would get (6000, or 6001 for a user deleted or a caller
     * without credentials), every open watch that {@code state} no longer allows: called with
     * each newer state of users and roles.
     */
    public void recheckWatches(AuthState state) {
        for (Map.Entry<CompletableFuture<Void>, WatchOwner> w : watchStreams.entrySet()) {
            TxkvException refusal = state.watchRefusal(w.getValue().access(), w.getValue().key());
            if (refusal != null) {
                w.getKey().completeExceptionally(refusal);
            }
        }
    }

    private void dispatch(String method, StreamObserver<?> observer, Runnable work) {
        dispatch(method, observer, false, work);
    }

    /**
     * Runs a call's work: on the calling transport thread when it is {@code short} (it neither
     * blocks nor takes long: a read version, a read that cannot wait, a small commit, whose
     * answers come from futures) and no call waits for the executor, which saves two hand-offs
     * between threads on an idle server; otherwise on the bounded executor.
     */
    private void dispatch(String method, StreamObserver<?> observer, boolean isShort, Runnable work) {
        if (isShort && executorIdle.getAsBoolean()) {
            try {
                work.run();
            } catch (Throwable t) {
                fail(method, observer, t);
            }
            return;
        }
        Runnable task = Context.current().wrap(() -> {
            try {
                work.run();
            } catch (Throwable t) {
                fail(method, observer, t);
            }
        });
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            metrics.executorRejected.increment();
            fail(method, observer, e);
        }
    }

    private void fail(String method, StreamObserver<?> observer, Throwable error) {
        TxkvException e = ErrorMapping.answer(method, ErrorMapping.toTxkvException(error));
        metrics.rpcError(method, e);
        if (e.getError() == ErrorCode.INTERNAL_ERROR) {
            log.error("{} failed", method, error);
        }
        try {
            observer.onError(WireErrors.toStatusException(e, notLeaderDetail(e)));
        } catch (RuntimeException alreadyClosed) {
            // The call was cancelled or had already ended: nobody is left to tell.
            log.debug("{}: could not send {}", method, e, alreadyClosed);
        }
    }

    /**
     * Streaming calls may be cancelled by the client while rows or a watch result are on their
     * way; without a handler gRPC would throw at the next onNext.
     */
    private static void ignoreCancellation(StreamObserver<?> observer) {
        if (observer instanceof ServerCallStreamObserver) {
            ((ServerCallStreamObserver<?>) observer).setOnCancelHandler(() -> {
            });
        }
    }
}
