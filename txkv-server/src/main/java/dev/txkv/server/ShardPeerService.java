package dev.txkv.server;

import com.google.protobuf.ByteString;
import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.engine.CrashPoints;
import dev.txkv.engine.Engine;
import dev.txkv.proto.ArmCrashPointRequest;
import dev.txkv.proto.ArmCrashPointResponse;
import dev.txkv.proto.CommitResponse;
import dev.txkv.proto.CoordinatorOfRequest;
import dev.txkv.proto.CoordinatorOfResponse;
import dev.txkv.proto.DecidedRequest;
import dev.txkv.proto.DecidedResponse;
import dev.txkv.proto.EpochRequest;
import dev.txkv.proto.EpochResponse;
import dev.txkv.proto.GetResponse;
import dev.txkv.proto.GrantRequest;
import dev.txkv.proto.GrantResponse;
import dev.txkv.proto.PeerReadVersionRequest;
import dev.txkv.proto.PrepareRequest;
import dev.txkv.proto.PrepareResponse;
import dev.txkv.proto.QueryDecisionRequest;
import dev.txkv.proto.QueryDecisionResponse;
import dev.txkv.proto.ReadStampMessage;
import dev.txkv.proto.ShardCommitRequest;
import dev.txkv.proto.ShardGetRangeRequest;
import dev.txkv.proto.ShardGetRangeResponse;
import dev.txkv.proto.ShardGetRequest;
import dev.txkv.proto.ShardPeerGrpc;
import dev.txkv.proto.ShardStamp;
import dev.txkv.proto.ShardWatchRequest;
import dev.txkv.proto.ShardWatchResponse;
import dev.txkv.spi.CommitRequest;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The server side of {@code txkv.v1.ShardPeer} (shard.proto): what other members of a sharded
 * cluster ask of this member's replicas. Every call is answered here alone: on the replica of
 * the group asked for when it leads, else with not_leader (1060) naming the leader this member
 * knows. Requests are checked as client requests are (keys, ranges, commits).
 */
final class ShardPeerService extends ShardPeerGrpc.ShardPeerImplBase {
    private final ShardedNode node;
    private final RequestValidator validator;

    ShardPeerService(ShardedNode node, dev.txkv.TxkvConfig config) {
        this.node = node;
        this.validator = new RequestValidator(config);
    }

    @Override
    public void readVersion(PeerReadVersionRequest request, StreamObserver<ReadStampMessage> observer) {
        answer(observer, () -> ShardLayout.CONTROL, request.getProtocolVersion(),
                e -> node.sequencer().readVersion().thenApply(ShardProtos::stamp));
    }

    @Override
    public void grant(GrantRequest request, StreamObserver<GrantResponse> observer) {
        answer(observer, () -> ShardLayout.CONTROL, request.getProtocolVersion(), e -> node.sequencer()
                .grant(shard(request.getCoordinator()), participants(request.getParticipantsList()))
                .thenApply(ShardProtos::grant));
    }

    @Override
    public void epoch(EpochRequest request, StreamObserver<EpochResponse> observer) {
        answer(observer, () -> ShardLayout.CONTROL, request.getProtocolVersion(),
                e -> node.sequencer().epoch().thenApply(epoch -> EpochResponse.newBuilder().setEpoch(epoch).build()));
    }

    @Override
    public void coordinatorOf(CoordinatorOfRequest request, StreamObserver<CoordinatorOfResponse> observer) {
        answer(observer, () -> ShardLayout.CONTROL, request.getProtocolVersion(), e -> node.sequencer()
                .coordinatorOf(request.getVersion())
                .thenApply(c -> CoordinatorOfResponse.newBuilder().setCoordinator(c).build()));
    }

    @Override
    public void prepare(PrepareRequest request, StreamObserver<PrepareResponse> observer) {
        answer(observer, () -> shard(request.getShard()), request.getProtocolVersion(), e -> {
            participants(request.getParticipantsList());
            shard(request.getCoordinator());
            CommitRequest slice = validator.commit(request.getSlice());
            return e.prepare(ShardProtos.prepare(request, slice)).thenApply(x -> PrepareResponse.getDefaultInstance());
        });
    }

    @Override
    public void decided(DecidedRequest request, StreamObserver<DecidedResponse> observer) {
        answer(observer, () -> shard(request.getShard()), request.getProtocolVersion(), e -> e
                .decided(request.getVersion(), request.getCommit()).thenApply(x -> DecidedResponse.getDefaultInstance()));
    }

    @Override
    public void queryDecision(QueryDecisionRequest request, StreamObserver<QueryDecisionResponse> observer) {
        answer(observer, () -> shard(request.getCoordinator()), request.getProtocolVersion(),
                e -> e.queryDecision(request.getVersion()).thenApply(ShardProtos::outcome));
    }

    @Override
    public void shardGet(ShardGetRequest request, StreamObserver<GetResponse> observer) {
        answer(observer, () -> shard(request.getShard()), request.getProtocolVersion(), e -> {
            byte[] key = validator.key(request.getKey());
            ShardStamp s = request.getStamp();
            return e.getAt(key, s.getVersion(), s.getEpoch(), s.getLastGrant()).thenApply(value -> {
                GetResponse.Builder b = GetResponse.newBuilder().setPresent(value != null);
                if (value != null) {
                    b.setValue(ByteString.copyFrom(value));
                }
                return b.build();
            });
        });
    }

    @Override
    public void shardGetRange(ShardGetRangeRequest request, StreamObserver<ShardGetRangeResponse> observer) {
        answer(observer, () -> shard(request.getShard()), request.getProtocolVersion(), e -> {
            Range range = validator.range(request.getBegin(), request.getEnd());
            ShardStamp s = request.getStamp();
            return e.getRangeAt(range.begin, range.end, request.getRowLimit(), request.getByteLimit(),
                    request.getReverse(), s.getVersion(), s.getEpoch(), s.getLastGrant()).thenApply(ShardProtos::chunk);
        });
    }

    @Override
    public void shardCommit(ShardCommitRequest request, StreamObserver<CommitResponse> observer) {
        answer(observer, () -> shard(request.getShard()), request.getProtocolVersion(), e -> e
                .commit(validator.commit(request.getCommit()))
                .thenApply(r -> CommitResponse.newBuilder().setVersion(r.version()).setBatchOrder(r.batchOrder())
                        .setVersionstamp(ByteString.copyFrom(r.versionstamp())).build()));
    }

    @Override
    public void shardWatch(ShardWatchRequest request, StreamObserver<ShardWatchResponse> observer) {
        answer(observer, () -> shard(request.getShard()), request.getProtocolVersion(), e -> {
            byte[] key = validator.key(request.getKey());
            ShardStamp s = request.getStamp();
            return e.watchAt(key, s.getVersion(), s.getEpoch(), s.getLastGrant())
                    .thenApply(x -> ShardWatchResponse.getDefaultInstance());
        });
    }

    @Override
    public void armCrashPoint(ArmCrashPointRequest request, StreamObserver<ArmCrashPointResponse> observer) {
        CompletableFuture<ArmCrashPointResponse> result;
        try {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            CrashPoints points = node.crashPoints();
            if (points == CrashPoints.NONE) {
                throw new TxkvException(ErrorCode.OPERATION_FAILED,
                        "Crash points are off on member " + node.self() + " (a server started with --crash-points has them)");
            }
            CrashPoints.Point point;
            try {
                point = CrashPoints.Point.ofToken(request.getPoint());
            } catch (IllegalArgumentException e) {
                throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, e.getMessage());
            }
            boolean was = points.armed().contains(point);
            if (request.getDisarm()) {
                points.disarm(point);
            } else {
                points.arm(point);
            }
            ArmCrashPointResponse.Builder b = ArmCrashPointResponse.newBuilder().setWasArmed(was);
            points.armed().forEach(p -> b.addArmed(p.token()));
            result = CompletableFuture.completedFuture(b.build());
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        reply(observer, result, () -> null);
    }

    /** A split's reason as asked, cut to a status line's length, printable characters only. */
    private static String reason(dev.txkv.proto.SplitRequest request) {
        return reason(request.getReason());
    }

    /** A split's or move's reason as asked, cut to a status line's length, printable characters only. */
    private static String reason(String asked) {
        String r = asked.replaceAll("\\p{Cntrl}", " ").strip();
        return r.length() > 200 ? r.substring(0, 200) : r;
    }

    @Override
    public void split(dev.txkv.proto.SplitRequest request, StreamObserver<dev.txkv.proto.SplitResponse> observer) {
        if (request.getForwarded()) {
            answer(observer, () -> ShardLayout.CONTROL, request.getProtocolVersion(),
                    e -> node.split(validator.key(request.getKey()), reason(request)));
            return;
        }
        CompletableFuture<dev.txkv.proto.SplitResponse> result;
        try {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            result = node.splitOnLeader(validator.key(request.getKey()), reason(request));
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        reply(observer, result, () -> node.notLeader(ShardLayout.CONTROL));
    }

    @Override
    public void getShardMap(dev.txkv.proto.GetShardMapRequest request, StreamObserver<dev.txkv.proto.ShardMapRecord> observer) {
        CompletableFuture<dev.txkv.proto.ShardMapRecord> result;
        try {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            result = CompletableFuture.completedFuture(node.clusterMap().toProto());
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        reply(observer, result, () -> null);
    }

    @Override
    public void splitOff(dev.txkv.proto.SplitOffRequest request, StreamObserver<dev.txkv.proto.SplitOffResponse> observer) {
        answer(observer, () -> shard(request.getShard()), request.getProtocolVersion(), e -> e
                .splitOff(validator.key(request.getSplitKey()), nonNegative(request.getNewShard()))
                .thenApply(v -> dev.txkv.proto.SplitOffResponse.newBuilder().setVersion(v).build()));
    }

    @Override
    public void born(dev.txkv.proto.BornRequest request, StreamObserver<dev.txkv.proto.BornResponse> observer) {
        answer(observer, () -> shard(request.getShard()), request.getProtocolVersion(), e -> {
            byte[] begin = validator.key(request.getBegin());
            byte[] end = request.hasEnd() ? validator.key(request.getEnd()) : null;
            return e.born(shard(request.getParent()), request.getVersion(), begin, end)
                    .thenApply(x -> dev.txkv.proto.BornResponse.getDefaultInstance());
        });
    }

    @Override
    public void move(dev.txkv.proto.MoveRequest request, StreamObserver<dev.txkv.proto.MoveResponse> observer) {
        String why = reason(request.getReason());
        if (request.getForwarded()) {
            answer(observer, () -> ShardLayout.CONTROL, request.getProtocolVersion(),
                    e -> node.move(request.getShard(), members(request.getMembersList()), why));
            return;
        }
        CompletableFuture<dev.txkv.proto.MoveResponse> result;
        try {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            result = node.moveOnLeader(request.getShard(), members(request.getMembersList()), why);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        reply(observer, result, () -> node.notLeader(ShardLayout.CONTROL));
    }

    @Override
    public void merge(dev.txkv.proto.MergeRequest request, StreamObserver<dev.txkv.proto.MergeResponse> observer) {
        String why = reason(request.getReason());
        if (request.getForwarded()) {
            answer(observer, () -> ShardLayout.CONTROL, request.getProtocolVersion(),
                    e -> node.merge(request.getShard(), why));
            return;
        }
        CompletableFuture<dev.txkv.proto.MergeResponse> result;
        try {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            result = node.mergeOnLeader(request.getShard(), why);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        reply(observer, result, () -> node.notLeader(ShardLayout.CONTROL));
    }

    @Override
    public void mergeAway(dev.txkv.proto.MergeAwayRequest request, StreamObserver<dev.txkv.proto.MergeAwayResponse> observer) {
        answer(observer, () -> shard(request.getShard()), request.getProtocolVersion(), e -> e
                .mergeAway(shard(request.getInto()))
                .thenApply(v -> dev.txkv.proto.MergeAwayResponse.newBuilder().setVersion(v).build()));
    }

    @Override
    public void absorb(dev.txkv.proto.AbsorbRequest request, StreamObserver<dev.txkv.proto.AbsorbResponse> observer) {
        answer(observer, () -> shard(request.getShard()), request.getProtocolVersion(), e -> {
            byte[] begin = validator.key(request.getBegin());
            byte[] end = request.hasEnd() ? validator.key(request.getEnd()) : null;
            return e.absorb(nonNegative(request.getOther()), request.getFence(), begin, end)
                    .thenApply(x -> dev.txkv.proto.AbsorbResponse.getDefaultInstance());
        });
    }

    @Override
    public void shardStats(dev.txkv.proto.ShardStatsRequest request, StreamObserver<dev.txkv.proto.ShardStatsResponse> observer) {
        answer(observer, () -> shard(request.getShard()), request.getProtocolVersion(),
                e -> CompletableFuture.completedFuture(node.shardStats(request.getShard(), e)));
    }

    @Override
    public void exclude(dev.txkv.proto.ExcludeRequest request, StreamObserver<dev.txkv.proto.ExcludeResponse> observer) {
        if (request.getForwarded()) {
            answer(observer, () -> ShardLayout.CONTROL, request.getProtocolVersion(),
                    e -> node.exclude(members(java.util.List.of(request.getMember())).get(0), !request.getInclude()));
            return;
        }
        CompletableFuture<dev.txkv.proto.ExcludeResponse> result;
        try {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            result = node.excludeOnLeader(members(java.util.List.of(request.getMember())).get(0), !request.getInclude());
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        reply(observer, result, () -> node.notLeader(ShardLayout.CONTROL));
    }

    @Override
    public void join(dev.txkv.proto.JoinRequest request, StreamObserver<dev.txkv.proto.JoinResponse> observer) {
        dev.txkv.proto.JoinedMember m = request.getMember();
        if (request.getForwarded()) {
            answer(observer, () -> ShardLayout.CONTROL, request.getProtocolVersion(),
                    e -> node.join(joined(m)));
            return;
        }
        CompletableFuture<dev.txkv.proto.JoinResponse> result;
        try {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            result = node.joinOnLeader(joined(m));
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        reply(observer, result, () -> node.notLeader(ShardLayout.CONTROL));
    }

    private static ClusterMap.Joined joined(dev.txkv.proto.JoinedMember m) {
        String id = members(java.util.List.of(m.getId())).get(0);
        for (String address : java.util.List.of(m.getRaftAddress(), m.getClientAddress())) {
            if (address.length() > 300) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "A member address is at most 300 characters");
            }
        }
        return new ClusterMap.Joined(id, m.getRaftAddress(), m.getClientAddress());
    }

    /** Member ids as asked: at most {@value ClusterMap#REPLICAS_MAX}, each non-empty and short. */
    private static java.util.List<String> members(java.util.List<String> ids) {
        if (ids.size() > ClusterMap.REPLICAS_MAX) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "A shard has at most " + ClusterMap.REPLICAS_MAX
                    + " replicas; " + ids.size() + " members given");
        }
        for (String id : ids) {
            if (id.isEmpty() || id.length() > 64) {
                throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "A member id is 1 to 64 characters, got '"
                        + (id.length() > 64 ? id.substring(0, 64) + "..." : id) + "'");
            }
        }
        return java.util.List.copyOf(ids);
    }

    @Override
    public void startCopy(dev.txkv.proto.StartCopyRequest request, StreamObserver<dev.txkv.proto.StartCopyResponse> observer) {
        CompletableFuture<dev.txkv.proto.StartCopyResponse> result;
        try {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            result = node.startCopy(nonNegative(request.getShard()));
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        reply(observer, result, () -> null);
    }

    @Override
    public void copyChunk(dev.txkv.proto.CopyChunkRequest request, StreamObserver<dev.txkv.proto.CopyChunkResponse> observer) {
        CompletableFuture<dev.txkv.proto.CopyChunkResponse> result;
        try {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            result = node.copyChunk(request);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        reply(observer, result, () -> null);
    }

    @Override
    public void replicaState(dev.txkv.proto.ReplicaStateRequest request,
            StreamObserver<dev.txkv.proto.ReplicaStateResponse> observer) {
        CompletableFuture<dev.txkv.proto.ReplicaStateResponse> result;
        try {
            RequestValidator.checkProtocol(request.getProtocolVersion());
            result = CompletableFuture.completedFuture(node.replicaState(request.getShard()));
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        reply(observer, result, () -> null);
    }

    @Override
    public void setShardMembers(dev.txkv.proto.SetShardMembersRequest request,
            StreamObserver<dev.txkv.proto.SetShardMembersResponse> observer) {
        answer(observer, () -> shard(request.getShard()), request.getProtocolVersion(), e -> node
                .setShardMembers(e, request.getShard(), members(request.getMembersList()))
                .thenApply(x -> dev.txkv.proto.SetShardMembersResponse.getDefaultInstance()));
    }

    @Override
    public void transferLeader(dev.txkv.proto.TransferLeaderRequest request,
            StreamObserver<dev.txkv.proto.TransferLeaderResponse> observer) {
        answer(observer, () -> shard(request.getShard()), request.getProtocolVersion(), e -> node
                .transferShardLeader(e, request.getShard(), request.getTo())
                .thenApply(x -> dev.txkv.proto.TransferLeaderResponse.getDefaultInstance()));
    }

    /** The id of a shard a split makes: the control group's leader chose it, this member may not know it yet. */
    private static int nonNegative(int id) {
        if (id < 0) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, "A shard id is not negative, got " + id);
        }
        return id;
    }

    /**
     * A shard id of this cluster. A negative one is refused (it cannot come from a member of the
     * same cluster); one this member's map does not have yet (a split made it, and this member
     * has not seen the new map) gets not_leader, so that the caller asks another member or again.
     */
    private int shard(int id) {
        nonNegative(id);
        if (!node.knowsShard(id)) {
            throw new TxkvException(ErrorCode.NOT_LEADER, "Member " + node.self() + " does not know shard " + id
                    + " (its shard map is at epoch " + node.clusterMap().epoch() + ")");
        }
        return id;
    }

    private int[] participants(java.util.List<Integer> ids) {
        if (ids.isEmpty()) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, "A transaction needs at least one participant");
        }
        for (int id : ids) {
            shard(id);
        }
        return ShardProtos.participants(ids);
    }

    /**
     * Runs {@code work} on this member's replica of {@code group} if it leads and answers with
     * its result; a check that fails, a replica that does not lead or a failed future answer
     * with the txkv error (not_leader naming the leader known here).
     */
    private <T> void answer(StreamObserver<T> observer, java.util.function.IntSupplier group, int protocolVersion,
            Function<Engine, CompletableFuture<T>> work) {
        int g = ShardLayout.CONTROL;
        CompletableFuture<T> result;
        try {
            RequestValidator.checkProtocol(protocolVersion);
            g = group.getAsInt();
            Engine replica = node.replica(g);
            if (replica == null || !replica.isLeading()) {
                throw new TxkvException(ErrorCode.NOT_LEADER, "Member " + node.self() + " does not lead "
                        + ShardLayout.describe(g) + (replica == null ? " (it keeps no replica of it)" : ""));
            }
            result = work.apply(replica);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        int answered = g;
        reply(observer, result, () -> node.notLeader(answered));
    }

    /** Answers with {@code result}'s value or its txkv error (a not_leader error with the detail {@code notLeader} gives). */
    private static <T> void reply(StreamObserver<T> observer, CompletableFuture<T> result,
            java.util.function.Supplier<dev.txkv.proto.NotLeader> notLeader) {
        result.whenComplete((value, error) -> {
            if (error != null) {
                observer.onError(ErrorMapping.toStatusException(error, notLeader.get()));
                return;
            }
            observer.onNext(value);
            observer.onCompleted();
        });
    }
}
