package dev.txkv.server;

import com.google.protobuf.ByteString;
import dev.txkv.KeyValue;
import dev.txkv.engine.ShardNetwork;
import dev.txkv.engine.VersionSequencer;
import dev.txkv.proto.CoordinatorOfRequest;
import dev.txkv.proto.DecidedRequest;
import dev.txkv.proto.EpochRequest;
import dev.txkv.proto.GrantRequest;
import dev.txkv.proto.GrantResponse;
import dev.txkv.proto.PeerReadVersionRequest;
import dev.txkv.proto.PrepareRequest;
import dev.txkv.proto.QueryDecisionRequest;
import dev.txkv.proto.QueryDecisionResponse;
import dev.txkv.proto.ReadStampMessage;
import dev.txkv.proto.ShardCommitRequest;
import dev.txkv.proto.ShardGetRangeRequest;
import dev.txkv.proto.ShardGetRangeResponse;
import dev.txkv.proto.ShardGetRequest;
import dev.txkv.proto.ShardStamp;
import dev.txkv.proto.ShardWatchRequest;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.RangeChunk;
import dev.txkv.spi.ReadStamp;
import dev.txkv.wire.WireCommits;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

/** The engine's and the router's records as {@code txkv.v1.ShardPeer} messages (shard.proto), both ways. */
final class ShardProtos {
    private static final int V = WireCommits.PROTOCOL_VERSION;

    private ShardProtos() {
    }

    static PeerReadVersionRequest readVersionRequest() {
        return PeerReadVersionRequest.newBuilder().setProtocolVersion(V).build();
    }

    static ReadStampMessage stamp(ReadStamp s) {
        return ReadStampMessage.newBuilder().setVersion(s.version()).setEpoch(s.epoch()).putAllLastGrants(s.lastGrants())
                .build();
    }

    static ReadStamp stamp(ReadStampMessage m) {
        return new ReadStamp(m.getVersion(), m.getEpoch(), new HashMap<>(m.getLastGrantsMap()));
    }

    private static ShardStamp shardStamp(int shard, ReadStamp s) {
        return ShardStamp.newBuilder().setVersion(s.version()).setEpoch(s.epoch()).setLastGrant(s.lastGrant(shard)).build();
    }

    static GrantRequest grantRequest(int coordinator, int[] participants) {
        GrantRequest.Builder b = GrantRequest.newBuilder().setProtocolVersion(V).setCoordinator(coordinator);
        for (int p : participants) {
            b.addParticipants(p);
        }
        return b.build();
    }

    static int[] participants(List<Integer> list) {
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i);
        }
        return out;
    }

    static GrantResponse grant(VersionSequencer.Grant g) {
        GrantResponse.Builder b = GrantResponse.newBuilder().setVersion(g.version()).setEpoch(g.epoch());
        for (long p : g.previous()) {
            b.addPrevious(p);
        }
        return b.build();
    }

    static VersionSequencer.Grant grant(GrantResponse r) {
        long[] previous = new long[r.getPreviousCount()];
        for (int i = 0; i < previous.length; i++) {
            previous[i] = r.getPrevious(i);
        }
        return new VersionSequencer.Grant(r.getVersion(), r.getEpoch(), previous);
    }

    static EpochRequest epochRequest() {
        return EpochRequest.newBuilder().setProtocolVersion(V).build();
    }

    static CoordinatorOfRequest coordinatorOfRequest(long version) {
        return CoordinatorOfRequest.newBuilder().setProtocolVersion(V).setVersion(version).build();
    }

    static PrepareRequest prepareRequest(int shard, ShardNetwork.Prepare p) {
        PrepareRequest.Builder b = PrepareRequest.newBuilder().setProtocolVersion(V).setShard(shard)
                .setVersion(p.version()).setEpoch(p.epoch()).setPrevious(p.previous()).setCoordinator(p.coordinator())
                .setSlice(WireCommits.toProto(p.slice()));
        for (int participant : p.participants()) {
            b.addParticipants(participant);
        }
        return b.build();
    }

    static ShardNetwork.Prepare prepare(PrepareRequest r, CommitRequest slice) {
        return new ShardNetwork.Prepare(r.getVersion(), r.getEpoch(), r.getPrevious(), r.getCoordinator(),
                participants(r.getParticipantsList()), slice);
    }

    static DecidedRequest decidedRequest(int shard, long version, boolean commit) {
        return DecidedRequest.newBuilder().setProtocolVersion(V).setShard(shard).setVersion(version).setCommit(commit)
                .build();
    }

    static QueryDecisionRequest queryDecisionRequest(int coordinator, long version) {
        return QueryDecisionRequest.newBuilder().setProtocolVersion(V).setCoordinator(coordinator).setVersion(version)
                .build();
    }

    static QueryDecisionResponse outcome(ShardNetwork.Outcome o) {
        QueryDecisionResponse.Outcome wire = switch (o) {
            case COMMIT -> QueryDecisionResponse.Outcome.COMMIT;
            case ABORT -> QueryDecisionResponse.Outcome.ABORT;
            case PENDING -> QueryDecisionResponse.Outcome.PENDING;
        };
        return QueryDecisionResponse.newBuilder().setOutcome(wire).build();
    }

    static ShardNetwork.Outcome outcome(QueryDecisionResponse r) {
        return switch (r.getOutcome()) {
            case COMMIT -> ShardNetwork.Outcome.COMMIT;
            case ABORT -> ShardNetwork.Outcome.ABORT;
            // A newer peer's outcome this side does not know is treated as undecided: ask again.
            default -> ShardNetwork.Outcome.PENDING;
        };
    }

    static ShardGetRequest getRequest(int shard, byte[] key, ReadStamp s) {
        return ShardGetRequest.newBuilder().setProtocolVersion(V).setShard(shard).setKey(ByteString.copyFrom(key))
                .setStamp(shardStamp(shard, s)).build();
    }

    static ShardGetRangeRequest getRangeRequest(int shard, byte[] begin, byte[] end, int rowLimit, long byteLimit,
            boolean reverse, ReadStamp s) {
        return ShardGetRangeRequest.newBuilder().setProtocolVersion(V).setShard(shard)
                .setBegin(ByteString.copyFrom(begin)).setEnd(ByteString.copyFrom(end)).setRowLimit(rowLimit)
                .setByteLimit(byteLimit).setReverse(reverse).setStamp(shardStamp(shard, s)).build();
    }

    static ShardGetRangeResponse chunk(RangeChunk chunk) {
        ShardGetRangeResponse.Builder b = ShardGetRangeResponse.newBuilder().setMore(chunk.more());
        for (KeyValue kv : chunk.rows()) {
            b.addRows(dev.txkv.proto.KeyValue.newBuilder().setKey(ByteString.copyFrom(kv.getKey()))
                    .setValue(ByteString.copyFrom(kv.getValue())));
        }
        return b.build();
    }

    static RangeChunk chunk(ShardGetRangeResponse r) {
        List<KeyValue> rows = new ArrayList<>(r.getRowsCount());
        for (dev.txkv.proto.KeyValue kv : r.getRowsList()) {
            rows.add(new KeyValue(kv.getKey().toByteArray(), kv.getValue().toByteArray()));
        }
        return new RangeChunk(rows, r.getMore());
    }

    static ShardCommitRequest commitRequest(int shard, CommitRequest request) {
        return ShardCommitRequest.newBuilder().setProtocolVersion(V).setShard(shard)
                .setCommit(WireCommits.toProto(request)).build();
    }

    static dev.txkv.proto.SplitOffRequest splitOffRequest(int shard, byte[] key, int child) {
        return dev.txkv.proto.SplitOffRequest.newBuilder().setProtocolVersion(V).setShard(shard)
                .setSplitKey(ByteString.copyFrom(key)).setNewShard(child).build();
    }

    static dev.txkv.proto.AbsorbRequest absorbRequest(int shard, int other, long fence, byte[] begin, byte[] end) {
        dev.txkv.proto.AbsorbRequest.Builder b = dev.txkv.proto.AbsorbRequest.newBuilder().setProtocolVersion(V)
                .setShard(shard).setOther(other).setFence(fence).setBegin(ByteString.copyFrom(begin));
        if (end != null) {
            b.setEnd(ByteString.copyFrom(end));
        }
        return b.build();
    }

    static dev.txkv.proto.BornRequest bornRequest(int shard, int parent, long version, byte[] begin, byte[] end) {
        dev.txkv.proto.BornRequest.Builder b = dev.txkv.proto.BornRequest.newBuilder().setProtocolVersion(V)
                .setShard(shard).setParent(parent).setVersion(version).setBegin(ByteString.copyFrom(begin));
        if (end != null) {
            b.setEnd(ByteString.copyFrom(end));
        }
        return b.build();
    }

    static ShardWatchRequest watchRequest(int shard, byte[] key, ReadStamp s) {
        return ShardWatchRequest.newBuilder().setProtocolVersion(V).setShard(shard).setKey(ByteString.copyFrom(key))
                .setStamp(shardStamp(shard, s)).build();
    }
}
