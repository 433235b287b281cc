package dev.txkv.remote;

import com.google.protobuf.ByteString;
import dev.txkv.ErrorCode;
import dev.txkv.KeyValue;
import dev.txkv.TxkvException;
import dev.txkv.proto.CommitManyRequest;
import dev.txkv.proto.CommitManyResponse;
import dev.txkv.proto.CommitResponse;
import dev.txkv.proto.GetManyRequest;
import dev.txkv.proto.GetManyResponse;
import dev.txkv.proto.GetRangeRequest;
import dev.txkv.proto.GetRangeResponse;
import dev.txkv.proto.GetReadVersionRequest;
import dev.txkv.proto.GetReadVersionResponse;
import dev.txkv.proto.GetRequest;
import dev.txkv.proto.GetResponse;
import dev.txkv.proto.NotLeader;
import dev.txkv.proto.StatusRequest;
import dev.txkv.proto.StatusResponse;
import dev.txkv.proto.WatchRequest;
import dev.txkv.proto.WatchResponse;
import dev.txkv.spi.Backend;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.RangeChunk;
import dev.txkv.spi.VersionedValues;
import dev.txkv.wire.WireErrors;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Backend} of {@code Txkv.open("host:port[,host:port...]")}: read versions, reads,
 * commits and watches as gRPC calls (protocol version 1) to txkv servers. Transactions stay in
 * the client ({@code txkv-client}) exactly as over the embedded engine.
 *
 * <p>Implementation notes.
 * <ul>
 *   <li>One plaintext channel per server; calls go to a preferred server and the preference
 *       moves on to the next server after a transport failure.</li>
 *   <li>Reads and read versions are idempotent, so a transport failure is retried at once on
 *       each other server; only when all failed does the caller see connection_failed (1026,
 *       retryable).</li>
 *   <li>A commit goes to one server. It moves on to the next server only while it is certain
 *       that the previous one never received it (the connection could not be made); any other
 *       loss of the call leaves the outcome unknown: commit_unknown_result (1021). Idempotency
 *       ids make the retry of such a commit safe.</li>
 *   <li>Against a replicated cluster only the leader takes commits and hands out read
 *       versions; another member answers not_leader (1060), which proves the request was
 *       never appended. Such a commit or read version request is sent again to the next
 *       server (first to the leader the answer's NotLeader detail names, when that is one of
 *       ours), after a short backoff, until one takes it or the call's deadline passes; the
 *       server that answered becomes the preferred one. Reads go to the preferred server, which may be
 *       a follower: every member serves reads at a version.</li>
 *   <li>Every call but a watch has a deadline ({@link RemoteSettings}).</li>
 *   <li>Concurrent gets and commits to one server are coalesced ({@link Coalescer}): while
 *       fewer than {@value #BATCH_CALLS_IN_FLIGHT} batch calls are outstanding to the server a
 *       request goes out at once (alone, as a plain Get or Commit); otherwise it waits for the
 *       next call to return and goes out with everything else queued meanwhile, as one GetMany
 *       or CommitMany. Per-call gRPC overhead, not the engine, limits a busy client otherwise.
 *       Every element keeps the error semantics of its single call: a server error is that
 *       element's alone, and a failed batch call fails each element exactly as its own call's
 *       failure would have (1026 for reads, retried elsewhere; 1021 for commits that may have
 *       been sent).</li>
 * </ul>
 */
public final class RemoteBackend implements Backend {
    private static final Logger LOG = LoggerFactory.getLogger(RemoteBackend.class);
    /** Batch calls to one server before further requests queue; two keep the pipe full. */
    static final int BATCH_CALLS_IN_FLIGHT = 2;
    /** Most gets per GetMany; their values (at most 100,000 bytes each) must fit one answer. */
    static final int READ_BATCH_MAX = 128;
    /** Most commits per CommitMany. */
    static final int COMMIT_BATCH_MAX = 256;
    /** About the most bytes of one batch request, well below the server's 16 MiB message limit. */
    static final int BATCH_BYTES_MAX = 4 << 20;
    /** A commit larger than this goes alone, as a plain Commit, so that it never delays a batch. */
    static final int COMMIT_ALONE_BYTES = 1 << 20;
    /** First wait before asking the next server after not_leader answers. */
    static final long LEADER_BACKOFF_INITIAL_MS = 10;
    /**
     * Longest wait between not_leader retries. The new leader takes commits at a moment the
     * client cannot know, so about half of this wait is added to every failover.
     */
    static final long LEADER_BACKOFF_MAX_MS = 50;
    /** How long a call without a deadline looks for a leader before it reports not_leader. */
    static final long LEADER_SEARCH_UNBOUNDED_MS = 30_000;
    /** Room per element in a GetMany answer: the largest value plus framing. */
    private static final int READ_ANSWER_BYTES_MAX = 110_000;
    /** A Get's read version asking the server for a new one (protocol: GetRequest.read_version). */
    static final long ASSIGN_READ_VERSION = -1;

    private final List<Endpoint> endpoints;
    private final RemoteSettings settings;
    private final AtomicInteger preferred = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** A server refused a Get with read version -1 (an older server): reads no longer take versions. */
    private volatile boolean assignUnsupported;
    /** Where calls to a sharded cluster go (null: routing off); learned from a server's status. */
    private final ShardRouting routing;
    private final AtomicBoolean learning = new AtomicBoolean();
    /** Outstanding watches, so that close() can end them: a watch call never ends by itself. */
    private final Map<CompletableFuture<Void>, ClientCallStreamObserver<WatchRequest>> watches = new ConcurrentHashMap<>();

    private RemoteBackend(List<ServerAddress> servers, RemoteSettings settings) {
        this.settings = settings;
        List<Endpoint> list = new ArrayList<>(servers.size());
        int readBatchMax = Math.max(1, Math.min(READ_BATCH_MAX, settings.maxInboundMessageBytes() / READ_ANSWER_BYTES_MAX));
        SignIn signIn = settings.newSignIn();
        for (ServerAddress a : servers) {
            Endpoint e = new Endpoint(a, settings, signIn);
            e.reads = new Coalescer<>(BATCH_CALLS_IN_FLIGHT, readBatchMax, BATCH_BYTES_MAX,
                    (batch, done) -> sendReads(e, batch, done));
            e.commits = new Coalescer<>(BATCH_CALLS_IN_FLIGHT, COMMIT_BATCH_MAX, BATCH_BYTES_MAX,
                    (batch, done) -> sendCommits(e, batch, done));
            list.add(e);
        }
        this.endpoints = List.copyOf(list);
        if (signIn != null) {
            signIn.channels(endpoints.stream().map(e -> (io.grpc.Channel) e.channel()).toList());
        }
        this.routing = settings.shardRouting() ? new ShardRouting(servers()) : null;
    }

    /**
     * A backend for the servers in {@code connection} ({@code host:port[,host:port...]}).
     * Connecting is lazy: an unreachable server shows up as a retryable error on first use.
     *
     * @throws TxkvException client_invalid_operation (2000) for a malformed connection string
     */
    public static RemoteBackend connect(String connection, RemoteSettings settings) {
        return new RemoteBackend(ServerAddress.parseConnection(connection), settings);
    }

    /** Concurrent chains of warm-up calls: more than two in flight also warm the batch calls. */
    private static final int WARM_UP_CHAINS = 4;

    /**
     * Makes up to {@code calls} harmless calls (read versions, and reads of the empty key at a
     * new read version, which change nothing on the server) from a few concurrent chains, so
     * that the connections are open and the classes and the JIT-compiled code of the call path
     * are ready before the first transaction; also encodes a sample commit. Returns after
     * {@code timeout} at the latest; stops at the first failure without reporting it (an
     * unreachable server shows on first use, as without warm-up).
     */
    public void warmUp(int calls, Duration timeout) {
        if (calls <= 0 || timeout.isZero()) {
            return;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Endpoint e : endpoints) {
            e.channel().getState(true);
        }
        ProtoCodec.commitRequest(new CommitRequest(0, List.of(new dev.txkv.Range(new byte[] {1}, new byte[] {1, 0})),
                List.of(), List.of(new dev.txkv.spi.Mutation(dev.txkv.spi.Mutation.SET, new byte[] {1}, new byte[] {2})), null, false)).toByteArray();
        AtomicInteger left = new AtomicInteger(calls);
        AtomicBoolean failed = new AtomicBoolean();
        java.util.concurrent.CountDownLatch chains = new java.util.concurrent.CountDownLatch(WARM_UP_CHAINS);
        for (int c = 0; c < WARM_UP_CHAINS; c++) {
            warmUpChain(left, failed, deadline, chains);
        }
        try {
            chains.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Calls still out when the time is up finish on their own; nobody waits for them.
        left.set(0);
    }

    private void warmUpChain(AtomicInteger left, AtomicBoolean failed, long deadline,
            java.util.concurrent.CountDownLatch chains) {
        int n = left.getAndDecrement();
        if (n <= 0 || failed.get() || closed.get() || System.nanoTime() - deadline >= 0) {
            chains.countDown();
            return;
        }
        CompletableFuture<?> call;
        try {
            call = n % 2 == 0 ? getReadVersion()
                    : getAtNewReadVersion(n % 3 == 0 ? List.of(new byte[0], new byte[0]) : List.of(new byte[0]));
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        call.whenComplete((ignored, error) -> {
            if (error != null) {
                failed.set(true);
                LOG.debug("warm-up call failed; the error shows on first use", error);
            }
            warmUpChain(left, failed, deadline, chains);
        });
    }

    /** The servers of the connection string, in order, as {@code host:port}. */
    public List<String> servers() {
        List<String> out = new ArrayList<>(endpoints.size());
        for (Endpoint e : endpoints) {
            out.add(e.address().toString());
        }
        return out;
    }

    // ---------------------------------------------------------------- reads

    @Override
    public CompletableFuture<Long> getReadVersion() {
        GetReadVersionRequest request = GetReadVersionRequest.newBuilder()
                .setProtocolVersion(ProtoCodec.PROTOCOL_VERSION).build();
        return withLeaderFailover(GrpcErrors.Call.READ, settings.requestTimeout(), e -> {
            Unary<GetReadVersionResponse> call = new Unary<>();
            e.stub(settings.requestTimeout()).getReadVersion(request, call);
            return call.future.thenApply(GetReadVersionResponse::getReadVersion);
        });
    }

    @Override
    public CompletableFuture<byte[]> get(byte[] key, long readVersion) {
        GetRequest request = GetRequest.newBuilder().setProtocolVersion(ProtoCodec.PROTOCOL_VERSION)
                .setKey(ByteString.copyFrom(key)).setReadVersion(readVersion).build();
        int bytes = request.getSerializedSize();
        return withFailover(GrpcErrors.Call.READ, e -> e.reads.submit(request, bytes)
                .thenApply(r -> r.getPresent() ? r.getValue().toByteArray() : null));
    }

    /**
     * Gets with read version -1: the server takes one new read version for them (only a leader
     * does, so the call looks for the leader as a read-version request does) and returns it
     * with the values. One key goes as a Get, coalesced like any other; several as one GetMany
     * of their own, so that they share the version. A server that does not know -1 answers
     * version_invalid (2011): then, and from then on, the version comes from GetReadVersion.
     */
    @Override
    public CompletableFuture<VersionedValues> getAtNewReadVersion(List<byte[]> keys) {
        if (!readsAssignVersions() || keys.isEmpty()) {
            return Backend.super.getAtNewReadVersion(keys);
        }
        List<GetRequest> requests = new ArrayList<>(keys.size());
        for (byte[] key : keys) {
            requests.add(GetRequest.newBuilder().setProtocolVersion(ProtoCodec.PROTOCOL_VERSION)
                    .setKey(ByteString.copyFrom(key)).setReadVersion(ASSIGN_READ_VERSION).build());
        }
        CompletableFuture<List<GetResponse>> call;
        if (requests.size() == 1) {
            int bytes = requests.get(0).getSerializedSize();
            call = withLeaderFailover(GrpcErrors.Call.READ, settings.requestTimeout(),
                    e -> e.reads.submit(requests.get(0), bytes).thenApply(List::of));
        } else {
            GetManyRequest message = GetManyRequest.newBuilder().setProtocolVersion(ProtoCodec.PROTOCOL_VERSION)
                    .addAllRequests(requests).build();
            call = withLeaderFailover(GrpcErrors.Call.READ, settings.requestTimeout(), e -> assignedGetMany(e, message));
        }
        return call.handle((responses, error) -> {
            if (error == null && responses.get(0).hasReadVersion()) {
                long version = responses.get(0).getReadVersion().getValue();
                List<byte[]> values = new ArrayList<>(responses.size());
                for (GetResponse r : responses) {
                    values.add(r.getPresent() ? r.getValue().toByteArray() : null);
                }
                return CompletableFuture.completedFuture(new VersionedValues(version, values));
            }
            Throwable cause = error == null ? null : GrpcErrors.unwrap(error);
            if (error == null || (cause instanceof TxkvException
                    && ((TxkvException) cause).getError() == ErrorCode.VERSION_INVALID)) {
                // An older server: it refused -1 (or, had it read, returned no version).
                assignUnsupported = true;
                return Backend.super.getAtNewReadVersion(keys);
            }
            return CompletableFuture.<VersionedValues>failedFuture(cause);
        }).thenCompose(f -> f);
    }

    /** One GetMany whose elements all take the new read version; the first failed element fails it. */
    private CompletableFuture<List<GetResponse>> assignedGetMany(Endpoint e, GetManyRequest message) {
        if (e.batchUnsupported) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.VERSION_INVALID,
                    "Server " + e.address() + " has no GetMany, so no reads that take a read version"));
        }
        Unary<GetManyResponse> call = new Unary<>();
        e.stub(settings.requestTimeout()).getMany(message, call);
        return call.future.handle((response, error) -> {
            if (error != null) {
                if (unimplemented(error)) {
                    e.batchUnsupported = true;
                    throw new TxkvException(ErrorCode.VERSION_INVALID,
                            "Server " + e.address() + " has no GetMany, so no reads that take a read version");
                }
                throw error instanceof java.util.concurrent.CompletionException
                        ? (java.util.concurrent.CompletionException) error : new java.util.concurrent.CompletionException(error);
            }
            if (response.getResultsCount() != message.getRequestsCount()) {
                throw new TxkvException(ErrorCode.INTERNAL_ERROR, "Server " + e.address() + " answered "
                        + response.getResultsCount() + " of " + message.getRequestsCount() + " reads");
            }
            List<GetResponse> out = new ArrayList<>(response.getResultsCount());
            for (dev.txkv.proto.GetOutcome outcome : response.getResultsList()) {
                if (outcome.hasError()) {
                    throw GrpcErrors.elementFailure(outcome.getError());
                }
                out.add(outcome.getResponse());
            }
            return out;
        });
    }

    @Override
    public boolean readsAssignVersions() {
        return !assignUnsupported;
    }

    @Override
    public CompletableFuture<RangeChunk> getRange(byte[] begin, byte[] end, int rowLimit, long byteLimit,
            boolean reverse, long readVersion) {
        if (rowLimit <= 0 || byteLimit <= 0) {
            // The wire gives 0 the meaning "server maximum"; the SPI has no such meaning.
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.RANGE_LIMITS_INVALID,
                    "Row and byte limits must be positive, got " + rowLimit + " and " + byteLimit));
        }
        GetRangeRequest request = GetRangeRequest.newBuilder().setProtocolVersion(ProtoCodec.PROTOCOL_VERSION)
                .setBegin(ByteString.copyFrom(begin)).setEnd(ByteString.copyFrom(end))
                .setRowLimit(rowLimit).setByteLimit(byteLimit).setReverse(reverse)
                .setReadVersion(readVersion).build();
        return withFailover(GrpcErrors.Call.READ, e -> {
            RangeCollector call = new RangeCollector(rowLimit);
            e.stub(settings.requestTimeout()).getRange(request, call);
            return call.future;
        });
    }

    /** The status of the first server that answers; all tries end by {@code deadline}. */
    CompletableFuture<dev.txkv.proto.Status> status(Deadline deadline) {
        StatusRequest request = StatusRequest.newBuilder().setProtocolVersion(ProtoCodec.PROTOCOL_VERSION).build();
        return withFailover(GrpcErrors.Call.STATUS, e -> {
            Unary<StatusResponse> call = new Unary<>();
            e.stub(Duration.ZERO).withDeadline(deadline).status(request, call);
            return call.future.thenApply(StatusResponse::getStatus);
        });
    }

    /**
     * Replaces the cluster's membership (id -> Raft address) through its leader, which is
     * found as for commits; returns the membership in force afterwards. Repeating the call
     * with the same list is harmless, so a transport failure is retried on the next server.
     */
    CompletableFuture<Map<String, String>> setMembers(Map<String, String> members, Duration timeout) {
        dev.txkv.proto.SetMembersRequest.Builder request = dev.txkv.proto.SetMembersRequest.newBuilder()
                .setProtocolVersion(ProtoCodec.PROTOCOL_VERSION);
        for (Map.Entry<String, String> m : members.entrySet()) {
            request.addMembers(dev.txkv.proto.Member.newBuilder().setId(m.getKey()).setRaftAddress(m.getValue()));
        }
        dev.txkv.proto.SetMembersRequest message = request.build();
        Deadline deadline = Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
        return withLeaderFailover(GrpcErrors.Call.STATUS, timeout, e -> {
            Unary<dev.txkv.proto.SetMembersResponse> call = new Unary<>();
            e.stub(Duration.ZERO).withDeadline(deadline).setMembers(message, call);
            return call.future.thenApply(r -> {
                Map<String, String> out = new java.util.LinkedHashMap<>();
                for (dev.txkv.proto.Member m : r.getMembersList()) {
                    out.put(m.getId(), m.getRaftAddress());
                }
                return out;
            });
        });
    }

    /**
     * Splits the shard that holds {@code key} at it: the server asked takes the request to the
     * control group's leader; not_leader on the way is tried again on the next server.
     */
    CompletableFuture<dev.txkv.proto.SplitResponse> split(byte[] key, Duration timeout) {
        dev.txkv.proto.SplitRequest message = dev.txkv.proto.SplitRequest.newBuilder()
                .setProtocolVersion(ProtoCodec.PROTOCOL_VERSION).setKey(com.google.protobuf.ByteString.copyFrom(key)).build();
        Deadline deadline = Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
        return withLeaderFailover(GrpcErrors.Call.STATUS, timeout, e -> {
            Unary<dev.txkv.proto.SplitResponse> call = new Unary<>();
            dev.txkv.proto.ShardPeerGrpc.newStub(e.channel()).withDeadline(deadline).split(message, call);
            return call.future;
        });
    }

    /**
     * Moves shard {@code shard}'s replicas to exactly {@code members}: the server asked takes the
     * request to the control group's leader; not_leader on the way is tried again on the next server.
     */
    CompletableFuture<dev.txkv.proto.MoveResponse> move(int shard, java.util.List<String> members, String reason,
            Duration timeout) {
        dev.txkv.proto.MoveRequest message = dev.txkv.proto.MoveRequest.newBuilder()
                .setProtocolVersion(ProtoCodec.PROTOCOL_VERSION).setShard(shard).addAllMembers(members).setReason(reason)
                .build();
        Deadline deadline = Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
        return withLeaderFailover(GrpcErrors.Call.STATUS, timeout, e -> {
            Unary<dev.txkv.proto.MoveResponse> call = new Unary<>();
            dev.txkv.proto.ShardPeerGrpc.newStub(e.channel()).withDeadline(deadline).move(message, call);
            return call.future;
        });
    }

    /**
     * Merges shard {@code shard} with its right neighbour (the next shard in key order): the server
     * asked takes the request to the control group's leader; not_leader on the way is tried again
     * on the next server.
     */
    CompletableFuture<dev.txkv.proto.MergeResponse> merge(int shard, String reason, Duration timeout) {
        dev.txkv.proto.MergeRequest message = dev.txkv.proto.MergeRequest.newBuilder()
                .setProtocolVersion(ProtoCodec.PROTOCOL_VERSION).setShard(shard).setReason(reason).build();
        Deadline deadline = Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
        return withLeaderFailover(GrpcErrors.Call.STATUS, timeout, e -> {
            Unary<dev.txkv.proto.MergeResponse> call = new Unary<>();
            dev.txkv.proto.ShardPeerGrpc.newStub(e.channel()).withDeadline(deadline).merge(message, call);
            return call.future;
        });
    }

    /** Excludes or includes a member of a sharded cluster, through the control group's leader. */
    CompletableFuture<dev.txkv.proto.ExcludeResponse> exclude(String member, boolean include, Duration timeout) {
        dev.txkv.proto.ExcludeRequest message = dev.txkv.proto.ExcludeRequest.newBuilder()
                .setProtocolVersion(ProtoCodec.PROTOCOL_VERSION).setMember(member).setInclude(include).build();
        Deadline deadline = Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
        return withLeaderFailover(GrpcErrors.Call.STATUS, timeout, e -> {
            Unary<dev.txkv.proto.ExcludeResponse> call = new Unary<>();
            dev.txkv.proto.ShardPeerGrpc.newStub(e.channel()).withDeadline(deadline).exclude(message, call);
            return call.future;
        });
    }

    /**
     * Makes one change to users and roles through the server that leads the group keeping
     * them (not_leader answers are tried on the next server).
     */
    CompletableFuture<dev.txkv.proto.AuthDescription> changeAuth(dev.txkv.proto.ChangeAuthRequest message,
            Duration timeout) {
        Deadline deadline = Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
        return withLeaderFailover(GrpcErrors.Call.STATUS, timeout, e -> {
            Unary<dev.txkv.proto.AuthDescription> call = new Unary<>();
            dev.txkv.proto.AuthGrpc.newStub(e.channel()).withDeadline(deadline).changeAuth(message, call);
            return call.future;
        });
    }

    /** Users and roles, from the first server that answers. */
    CompletableFuture<dev.txkv.proto.AuthDescription> describeAuth(Duration timeout) {
        Deadline deadline = Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
        dev.txkv.proto.DescribeAuthRequest message = dev.txkv.proto.DescribeAuthRequest.newBuilder()
                .setProtocolVersion(ProtoCodec.PROTOCOL_VERSION).build();
        return withFailover(GrpcErrors.Call.STATUS, e -> {
            Unary<dev.txkv.proto.AuthDescription> call = new Unary<>();
            dev.txkv.proto.AuthGrpc.newStub(e.channel()).withDeadline(deadline).describeAuth(message, call);
            return call.future;
        });
    }

    /**
     * Runs an idempotent call on the preferred server and, after a transport failure, on each
     * other server once; the last failure is reported.
     */
    private <T> CompletableFuture<T> withFailover(GrpcErrors.Call kind, Function<Endpoint, CompletableFuture<T>> call) {
        if (closed.get()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.DATABASE_CLOSED));
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        attempt(kind, call, readIndex(kind), 0, result);
        return result;
    }

    /**
     * As {@link #withFailover}, for calls only the leader serves (read versions, membership
     * changes): a not_leader answer is tried again on the next server after a short backoff,
     * until {@code timeout} has passed since the first try (zero: one round of the servers).
     */
    private <T> CompletableFuture<T> withLeaderFailover(GrpcErrors.Call kind, Duration timeout,
            Function<Endpoint, CompletableFuture<T>> call) {
        if (closed.get()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.DATABASE_CLOSED));
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        LeaderSearch search = new LeaderSearch(timeout);
        attempt(kind, call, readIndex(kind), 0, result, search);
        return result;
    }

    /**
     * Where a call starts: reads, read versions and watches of a sharded cluster at the server
     * that runs its sequencer (when known, {@link ShardRouting}); everything else, and every
     * call to an unsharded cluster, at the preferred server.
     */
    private int readIndex(GrpcErrors.Call kind) {
        int preferredIndex = preferred.get();
        if (routing == null || kind == GrpcErrors.Call.STATUS) {
            return preferredIndex;
        }
        learnShards();
        return routing.readEndpoint(preferredIndex);
    }

    /** Asks the preferred server for its status when the routing view is due (one ask at a time, never waited for). */
    private void learnShards() {
        if (routing == null || !routing.due(System.nanoTime()) || closed.get() || !learning.compareAndSet(false, true)) {
            return;
        }
        Endpoint e = endpoints.get(Math.floorMod(preferred.get(), endpoints.size()));
        Unary<StatusResponse> call = new Unary<>();
        try {
            e.stub(settings.requestTimeout()).status(StatusRequest.newBuilder()
                    .setProtocolVersion(ProtoCodec.PROTOCOL_VERSION).setMemberOnly(true).build(), call);
        } catch (RuntimeException ex) {
            call.future.completeExceptionally(ex);
        }
        long asked = System.nanoTime();
        call.future.whenComplete((response, error) -> {
            if (error == null) {
                routing.learn(response.getStatus(), asked);
            } else if (GrpcErrors.map(error, GrpcErrors.Call.STATUS, e.address(), false).error().getError()
                    == ErrorCode.PERMISSION_DENIED) {
                // A user without the status right (docs/security.md): nothing to learn, so do not ask again.
                LOG.info("The user lacks the status right, so the client cannot learn the shards' leaders: calls go to"
                        + " the preferred server, which forwards them (grant the role 'monitor' to route)");
                routing.stopAsking();
            } else {
                LOG.debug("asking {} for the shards' leaders failed; calls go to the preferred server", e.address(), error);
            }
            learning.set(false);
        });
    }

    private <T> void attempt(GrpcErrors.Call kind, Function<Endpoint, CompletableFuture<T>> call, int index,
            int tried, CompletableFuture<T> result) {
        attempt(kind, call, index, tried, result, null);
    }

    private <T> void attempt(GrpcErrors.Call kind, Function<Endpoint, CompletableFuture<T>> call, int index,
            int tried, CompletableFuture<T> result, LeaderSearch search) {
        Endpoint e = endpoints.get(Math.floorMod(index, endpoints.size()));
        CompletableFuture<T> sent;
        try {
            e.beforeCall();
            sent = call.apply(e);
        } catch (RuntimeException ex) {
            sent = CompletableFuture.failedFuture(ex);
        }
        sent.whenComplete((value, error) -> {
            if (error == null) {
                e.answered();
                if (search != null) {
                    preferLeader(index);
                }
                result.complete(value);
                return;
            }
            GrpcErrors.Mapped m = GrpcErrors.map(error, kind, e.address(), closed.get());
            if (search != null && m.error().getError() == ErrorCode.NOT_LEADER) {
                e.answered();
                int next = search.next(index, m.leader());
                if (next >= 0 && !closed.get()) {
                    search.afterBackoff(() -> attempt(kind, call, next, 0, result, search));
                } else {
                    result.completeExceptionally(m.error());
                }
                return;
            }
            if (!m.transport()) {
                if (!m.neverSent()) {
                    e.answered();
                }
                result.completeExceptionally(m.error());
                return;
            }
            moveOn(index);
            if (routing != null) {
                routing.forget();
            }
            boolean retryElsewhere = m.error().getError() == ErrorCode.CONNECTION_FAILED
                    && (tried + 1 < endpoints.size() || (search != null && search.sawNotLeader() && search.timeLeft()))
                    && !closed.get();
            if (retryElsewhere && isDeadline(m.error())) {
                // A server that is merely slow is not worth a second full deadline elsewhere.
                retryElsewhere = false;
            }
            if (retryElsewhere && search != null && tried + 1 >= endpoints.size()) {
                // Every server was tried and some answered not_leader: an election is running.
                search.afterBackoff(() -> attempt(kind, call, index + 1, 0, result, search));
            } else if (retryElsewhere) {
                attempt(kind, call, index + 1, tried + 1, result, search);
            } else {
                result.completeExceptionally(m.error());
            }
        });
    }

    private static boolean isDeadline(TxkvException e) {
        return e.getCause() instanceof io.grpc.StatusRuntimeException
                && ((io.grpc.StatusRuntimeException) e.getCause()).getStatus().getCode()
                        == io.grpc.Status.Code.DEADLINE_EXCEEDED;
    }

    /** A server at {@code index} took a commit or handed out a read version: it leads; prefer it. */
    private void preferLeader(int index) {
        preferred.set(Math.floorMod(index, endpoints.size()));
    }

    /**
     * The search for the leader during one call: where to go after a not_leader answer, and
     * the backoff (starting at {@value #LEADER_BACKOFF_INITIAL_MS} ms, doubling to
     * {@value #LEADER_BACKOFF_MAX_MS} ms) within the call's deadline.
     */
    private final class LeaderSearch {
        private final long deadlineNanos;
        private long backoffMs = LEADER_BACKOFF_INITIAL_MS;
        private int notLeaderAnswers;

        /** @param timeout the call's deadline; zero (none) searches for at most {@value #LEADER_SEARCH_UNBOUNDED_MS} ms */
        LeaderSearch(Duration timeout) {
            long nanos = timeout.isZero() ? TimeUnit.MILLISECONDS.toNanos(LEADER_SEARCH_UNBOUNDED_MS) : timeout.toNanos();
            this.deadlineNanos = System.nanoTime() + nanos;
        }

        boolean sawNotLeader() {
            return notLeaderAnswers > 0;
        }

        boolean timeLeft() {
            return System.nanoTime() - deadlineNanos < 0;
        }

        /**
         * The index to try after {@code index} answered not_leader with {@code leader} (null when
         * it sent no detail), or -1 to give up: the leader it names when that is one of our
         * servers (the answering one included), else the next server.
         */
        int next(int index, NotLeader leader) {
            notLeaderAnswers++;
            if (endpoints.size() < 2 || !timeLeft()) {
                return -1;
            }
            int named = namedLeader(leader);
            if (named >= 0) {
                // A server that names itself was just elected and is applying what earlier
                // leaders committed before it takes commits: ask it again after the backoff.
                return named;
            }
            return index + 1;
        }

        /** Runs {@code retry} after the backoff, which grows with each not_leader round. */
        void afterBackoff(Runnable retry) {
            long delay = Math.min(backoffMs, Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime())));
            backoffMs = Math.min(LEADER_BACKOFF_MAX_MS, backoffMs * 2);
            CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS).execute(retry);
        }
    }

    /**
     * The index of our server that a not_leader answer's detail names as leader, or -1. The
     * leader's client address decides when it is one of the connection string's servers (host
     * compared without case, the same port); failing that, a server whose host is the leader's
     * member id (where hosts are named after their members).
     */
    int namedLeader(NotLeader leader) {
        if (leader == null) {
            return -1;
        }
        if (!leader.getLeaderAddress().isEmpty()) {
            ServerAddress named = parseAddress(leader.getLeaderAddress());
            for (int i = 0; named != null && i < endpoints.size(); i++) {
                ServerAddress a = endpoints.get(i).address();
                if (a.host().equalsIgnoreCase(named.host()) && a.port() == named.port()) {
                    return i;
                }
            }
        }
        String id = leader.getLeaderId();
        for (int i = 0; !id.isEmpty() && i < endpoints.size(); i++) {
            ServerAddress a = endpoints.get(i).address();
            if (a.host().equalsIgnoreCase(id) || a.toString().equalsIgnoreCase(id)) {
                return i;
            }
        }
        return -1;
    }

    /** {@code host:port} as a server address, or null when it is not one. */
    private static ServerAddress parseAddress(String address) {
        try {
            List<ServerAddress> parsed = ServerAddress.parseConnection(address);
            return parsed.size() == 1 ? parsed.get(0) : null;
        } catch (TxkvException e) {
            return null;
        }
    }

    /** After a transport failure at {@code index}, later calls prefer the next server. */
    private void moveOn(int index) {
        int n = endpoints.size();
        if (n > 1) {
            int failed = Math.floorMod(index, n);
            preferred.compareAndSet(failed, (failed + 1) % n);
        }
    }

    // ---------------------------------------------------------------- commits

    @Override
    public CompletableFuture<CommitResult> commit(CommitRequest request) {
        if (closed.get()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.DATABASE_CLOSED));
        }
        dev.txkv.proto.CommitRequest message = ProtoCodec.commitRequest(request);
        CompletableFuture<CommitResult> result = new CompletableFuture<>();
        int start = preferred.get();
        if (routing != null) {
            learnShards();
            start = routing.commitEndpoint(request, start);
        }
        commitAttempt(message, start, 0, result, new LeaderSearch(settings.commitTimeout()));
        return result;
    }

    /**
     * Sends to one server; moves to the next only when the previous one certainly saw nothing:
     * it could not be reached, or it answered not_leader (nothing appended).
     */
    private void commitAttempt(dev.txkv.proto.CommitRequest message, int index, int tried,
            CompletableFuture<CommitResult> result, LeaderSearch search) {
        Endpoint e = endpoints.get(Math.floorMod(index, endpoints.size()));
        CompletableFuture<CommitResponse> call;
        try {
            e.beforeCall();
            int bytes = message.getSerializedSize();
            call = bytes > COMMIT_ALONE_BYTES ? commitAlone(e, message) : e.commits.submit(message, bytes);
        } catch (RuntimeException ex) {
            call = CompletableFuture.failedFuture(ex);
        }
        call.whenComplete((response, error) -> {
            if (error == null) {
                e.answered();
                if (routing == null || routing.view() == null) {
                    // Routed commits go to several servers of a sharded cluster: the preferred
                    // one (where the reads go when no view is known) stays as it is.
                    preferLeader(index);
                }
                result.complete(ProtoCodec.commitResult(response));
                return;
            }
            GrpcErrors.Mapped m = GrpcErrors.map(error, GrpcErrors.Call.COMMIT, e.address(), closed.get());
            if (m.error().getError() == ErrorCode.NOT_LEADER) {
                e.answered();
                int next = search.next(index, m.leader());
                if (next >= 0 && !closed.get()) {
                    search.afterBackoff(() -> commitAttempt(message, next, 0, result, search));
                } else {
                    result.completeExceptionally(m.error());
                }
                return;
            }
            if (m.transport() || m.neverSent()) {
                moveOn(index);
                if (routing != null) {
                    routing.forget();
                }
            } else {
                e.answered();
            }
            boolean refused = m.neverSent() && m.error().getError() == ErrorCode.CONNECTION_FAILED && !closed.get();
            if (refused && tried + 1 < endpoints.size()) {
                commitAttempt(message, index + 1, tried + 1, result, search);
            } else if (refused && search.sawNotLeader() && search.timeLeft()) {
                // Every server was tried and some answered not_leader: an election is running.
                search.afterBackoff(() -> commitAttempt(message, index + 1, 0, result, search));
            } else {
                result.completeExceptionally(m.error());
            }
        });
    }

    // ---------------------------------------------------------------- batches

    private CompletableFuture<CommitResponse> commitAlone(Endpoint e, dev.txkv.proto.CommitRequest message) {
        Unary<CommitResponse> call = new Unary<>();
        e.stub(settings.commitTimeout()).commit(message, call);
        return call.future;
    }

    /**
     * Sends a batch of gets: one alone as a plain Get, more as one GetMany. A failed GetMany
     * fails each element with the call's raw failure, which its caller maps as a failed Get.
     */
    private void sendReads(Endpoint e, List<Coalescer.Element<GetRequest, GetResponse>> batch, Runnable done) {
        if (batch.size() == 1 || e.batchUnsupported) {
            sendAlone(batch, done, element -> {
                Unary<GetResponse> call = new Unary<>();
                e.stub(settings.requestTimeout()).get(element.request, call);
                return call.future;
            });
            return;
        }
        GetManyRequest.Builder request = GetManyRequest.newBuilder().setProtocolVersion(ProtoCodec.PROTOCOL_VERSION);
        for (Coalescer.Element<GetRequest, GetResponse> element : batch) {
            request.addRequests(element.request);
        }
        Unary<GetManyResponse> call = new Unary<>();
        e.stub(settings.requestTimeout()).getMany(request.build(), call);
        call.future.whenComplete((response, error) -> {
            if (error != null && unimplemented(error)) {
                e.batchUnsupported = true;
                sendReads(e, batch, done);
                return;
            }
            for (int i = 0; i < batch.size(); i++) {
                CompletableFuture<GetResponse> future = batch.get(i).future;
                if (error != null) {
                    future.completeExceptionally(error);
                } else if (i >= response.getResultsCount()) {
                    future.completeExceptionally(new TxkvException(ErrorCode.INTERNAL_ERROR,
                            "Server " + e.address() + " answered " + response.getResultsCount() + " of " + batch.size() + " reads"));
                } else if (response.getResults(i).hasError()) {
                    future.completeExceptionally(GrpcErrors.elementFailure(response.getResults(i).getError()));
                } else {
                    future.complete(response.getResults(i).getResponse());
                }
            }
            done.run();
        });
    }

    /**
     * Sends a batch of commits: one alone as a plain Commit, more as one CommitMany. A failed
     * CommitMany fails each element with the call's raw failure, which its caller maps exactly
     * as a failed Commit: commit_unknown_result unless the request was provably never sent.
     */
    private void sendCommits(Endpoint e, List<Coalescer.Element<dev.txkv.proto.CommitRequest, CommitResponse>> batch,
            Runnable done) {
        if (batch.size() == 1 || e.batchUnsupported) {
            sendAlone(batch, done, element -> commitAlone(e, element.request));
            return;
        }
        CommitManyRequest.Builder request = CommitManyRequest.newBuilder().setProtocolVersion(ProtoCodec.PROTOCOL_VERSION);
        for (Coalescer.Element<dev.txkv.proto.CommitRequest, CommitResponse> element : batch) {
            request.addRequests(element.request);
        }
        Unary<CommitManyResponse> call = new Unary<>();
        e.stub(settings.commitTimeout()).commitMany(request.build(), call);
        call.future.whenComplete((response, error) -> {
            if (error != null && unimplemented(error)) {
                // The server does not know CommitMany and so applied none of it: safe to resend.
                e.batchUnsupported = true;
                sendCommits(e, batch, done);
                return;
            }
            for (int i = 0; i < batch.size(); i++) {
                CompletableFuture<CommitResponse> future = batch.get(i).future;
                if (error != null) {
                    future.completeExceptionally(error);
                } else if (i >= response.getResultsCount()) {
                    future.completeExceptionally(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                            "Server " + e.address() + " answered " + response.getResultsCount() + " of " + batch.size()
                                    + " commits; the transaction may or may not have committed"));
                } else if (response.getResults(i).hasError()) {
                    future.completeExceptionally(GrpcErrors.elementFailure(response.getResults(i).getError()));
                } else {
                    future.complete(response.getResults(i).getResponse());
                }
            }
            done.run();
        });
    }

    /** Sends each element as its own call; the batch is done when all are. */
    private static <Q, R> void sendAlone(List<Coalescer.Element<Q, R>> batch, Runnable done,
            Function<Coalescer.Element<Q, R>, CompletableFuture<R>> send) {
        AtomicInteger left = new AtomicInteger(batch.size());
        for (Coalescer.Element<Q, R> element : batch) {
            CompletableFuture<R> call;
            try {
                call = send.apply(element);
            } catch (RuntimeException ex) {
                call = CompletableFuture.failedFuture(ex);
            }
            call.whenComplete((value, error) -> {
                if (error != null) {
                    element.future.completeExceptionally(error);
                } else {
                    element.future.complete(value);
                }
                if (left.decrementAndGet() == 0) {
                    done.run();
                }
            });
        }
    }

    /** A batch call refused by a server that predates it: no txkv code, status UNIMPLEMENTED. */
    private static boolean unimplemented(Throwable error) {
        Throwable t = GrpcErrors.unwrap(error);
        if (!(t instanceof io.grpc.StatusRuntimeException)) {
            return false;
        }
        io.grpc.StatusRuntimeException s = (io.grpc.StatusRuntimeException) t;
        return s.getStatus().getCode() == io.grpc.Status.Code.UNIMPLEMENTED
                && (s.getTrailers() == null || s.getTrailers().get(WireErrors.ERROR_CODE) == null);
    }

    /** Batch calls sent to each server and the elements they carried: {batches, elements} for gets and commits. */
    Map<String, long[]> batchCounts() {
        Map<String, long[]> out = new java.util.LinkedHashMap<>();
        for (Endpoint e : endpoints) {
            long[] r = e.reads.sent();
            long[] c = e.commits.sent();
            out.put(e.address().toString(), new long[] {r[0], r[1], c[0], c[1]});
        }
        return out;
    }

    // ---------------------------------------------------------------- watches

    @Override
    public CompletableFuture<Void> watch(byte[] key, long version) {
        if (closed.get()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.DATABASE_CLOSED));
        }
        WatchRequest request = WatchRequest.newBuilder().setProtocolVersion(ProtoCodec.PROTOCOL_VERSION)
                .setKey(ByteString.copyFrom(key)).setVersion(version).build();
        Endpoint e = endpoints.get(Math.floorMod(readIndex(GrpcErrors.Call.WATCH), endpoints.size()));
        CompletableFuture<Void> future = new CompletableFuture<>();
        WatchObserver observer = new WatchObserver(future, e);
        try {
            e.beforeCall();
            e.stub(settings.watchTimeout()).watch(request, observer);
        } catch (RuntimeException ex) {
            future.completeExceptionally(GrpcErrors.map(ex, GrpcErrors.Call.WATCH, e.address(), closed.get()).error());
        }
        future.whenComplete((v, error) -> {
            ClientCallStreamObserver<WatchRequest> callStream = watches.remove(future);
            if (future.isCancelled() && callStream != null) {
                // Cancelling the call is what removes the watch on the server.
                callStream.cancel("watch cancelled by the client", null);
            }
        });
        return future;
    }

    /** Completes the watch's future on the first message (a change, or a spurious wake-up, both allowed). */
    private final class WatchObserver implements ClientResponseObserver<WatchRequest, WatchResponse> {
        private final CompletableFuture<Void> future;
        private final Endpoint endpoint;

        WatchObserver(CompletableFuture<Void> future, Endpoint endpoint) {
            this.future = future;
            this.endpoint = endpoint;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<WatchRequest> requestStream) {
            watches.put(future, requestStream);
        }

        @Override
        public void onNext(WatchResponse value) {
            endpoint.answered();
            future.complete(null);
        }

        @Override
        public void onError(Throwable t) {
            future.completeExceptionally(GrpcErrors.map(t, GrpcErrors.Call.WATCH, endpoint.address(), closed.get()).error());
        }

        @Override
        public void onCompleted() {
            // A stream that ends without a message is a spurious fire: the caller rereads and rewatches.
            future.complete(null);
        }
    }

    // ---------------------------------------------------------------- close

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (Map.Entry<CompletableFuture<Void>, ClientCallStreamObserver<WatchRequest>> w : watches.entrySet()) {
            w.getKey().completeExceptionally(new TxkvException(ErrorCode.DATABASE_CLOSED));
            w.getValue().cancel("database closed", null);
        }
        watches.clear();
        for (Endpoint e : endpoints) {
            e.channel().shutdown();
        }
        long deadline = System.nanoTime() + settings.shutdownTimeout().toNanos();
        for (Endpoint e : endpoints) {
            awaitOrCut(e.channel(), deadline);
        }
    }

    private static void awaitOrCut(ManagedChannel channel, long deadlineNanos) {
        try {
            if (!channel.awaitTermination(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                channel.shutdownNow();
                if (!channel.awaitTermination(1, TimeUnit.SECONDS)) {
                    LOG.warn("A txkv channel did not terminate within a second of shutdownNow");
                }
            }
        } catch (InterruptedException ie) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- call adapters

    /** A unary call's answer as a future; the failure is the raw gRPC one, mapped by the caller. */
    private static final class Unary<T> implements StreamObserver<T> {
        final CompletableFuture<T> future = new CompletableFuture<>();
        private T value;

        @Override
        public void onNext(T v) {
            value = v;
        }

        @Override
        public void onError(Throwable t) {
            future.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            if (value == null) {
                future.completeExceptionally(new TxkvException(ErrorCode.INTERNAL_ERROR, "The server sent no answer"));
            } else {
                future.complete(value);
            }
        }
    }

    /** Gathers a streamed range read into one chunk; the last message says whether rows remain. */
    private static final class RangeCollector implements StreamObserver<GetRangeResponse> {
        final CompletableFuture<RangeChunk> future = new CompletableFuture<>();
        private final List<KeyValue> rows;
        private boolean more;

        RangeCollector(int rowLimit) {
            this.rows = ProtoCodec.newRowList(rowLimit);
        }

        @Override
        public void onNext(GetRangeResponse message) {
            ProtoCodec.addRows(rows, message.getRowsList());
            more = message.getMore();
        }

        @Override
        public void onError(Throwable t) {
            future.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            future.complete(new RangeChunk(List.copyOf(rows), more));
        }
    }
}
