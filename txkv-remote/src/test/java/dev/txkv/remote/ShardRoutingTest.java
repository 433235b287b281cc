package dev.txkv.remote;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.txkv.Range;
import dev.txkv.proto.Status;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.Mutation;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShardRoutingTest {
    private static final List<String> SERVERS = List.of("127.0.0.1:1001", "127.0.0.1:1002", "127.0.0.1:1003");

    /** Two shards split at 0x80: shard 0 led at the second server, shard 1 at an address not in the list. */
    private static Status twoShards(String sequencerAddress) {
        return Status.newBuilder().setCluster(Status.Cluster.newBuilder()
                .addShards(Status.Shard.newBuilder().setId(0).setBegin(ByteString.EMPTY)
                        .setEnd(ByteString.copyFrom(new byte[] {(byte) 0x80})).setLeader("b")
                        .setLeaderAddress("127.0.0.1:1002"))
                .addShards(Status.Shard.newBuilder().setId(1).setBegin(ByteString.copyFrom(new byte[] {(byte) 0x80}))
                        .setLeader("x").setLeaderAddress("10.0.0.9:1009"))
                .setSequencer(Status.Sequencer.newBuilder().setLeader("c").setLeaderAddress(sequencerAddress)))
                .build();
    }

    private static CommitRequest write(int firstByte, byte[] id) {
        byte[] key = {(byte) firstByte, 1};
        return new CommitRequest(5, List.of(), List.of(new Range(key, new byte[] {(byte) firstByte, 2})),
                List.of(new Mutation(Mutation.SET, key, new byte[] {7})), id, false);
    }

    @Test
    void callsGoToTheLeadersThatTheConnectionStringNamesElseToThePreferredServer() {
        ShardRouting routing = new ShardRouting(SERVERS);
        assertThat(routing.due(0)).isTrue();
        assertThat(routing.readEndpoint(0)).isZero();
        assertThat(routing.commitEndpoint(write(0x10, null), 0)).isZero();

        routing.learn(twoShards("127.0.0.1:1003"), 100);
        assertThat(routing.due(100 + ShardRouting.REFRESH_NANOS)).isFalse();
        assertThat(routing.due(101 + ShardRouting.REFRESH_NANOS)).isTrue();
        assertThat(routing.readEndpoint(0)).isEqualTo(2);
        assertThat(routing.commitEndpoint(write(0x10, null), 0)).isEqualTo(1);
        // Shard 1's leader is not in the connection string: the preferred server forwards.
        assertThat(routing.commitEndpoint(write(0x90, null), 0)).isZero();

        // A server that cannot be reached drops the view until it is learned again.
        routing.forget();
        assertThat(routing.readEndpoint(0)).isZero();
        assertThat(routing.commitEndpoint(write(0x10, null), 0)).isZero();
        assertThat(routing.due(200)).isTrue();
    }

    @Test
    void everyAttemptWithOneIdempotencyIdGoesWhereTheFirstWent() {
        ShardRouting routing = new ShardRouting(SERVERS);
        routing.learn(twoShards(""), 0);
        byte[] id = {1, 2, 3};
        assertThat(routing.commitEndpoint(write(0x10, id), 0)).isEqualTo(1);
        // The retry writes elsewhere (shard 1, through the preferred server): it still goes to the first's server.
        assertThat(routing.commitEndpoint(write(0x90, id.clone()), 0)).isEqualTo(1);
        assertThat(routing.readEndpoint(2)).as("no sequencer address: the preferred server").isEqualTo(2);
    }

    @Test
    void anUnshardedClusterIsAskedOnceAndNeverRouted() {
        ShardRouting routing = new ShardRouting(SERVERS);
        routing.learn(Status.newBuilder().setCluster(Status.Cluster.newBuilder().setLeader("a")).build(), 0);
        assertThat(routing.unsharded()).isTrue();
        assertThat(routing.due(Long.MAX_VALUE)).isFalse();
        assertThat(routing.readEndpoint(1)).isEqualTo(1);
        assertThat(routing.commitEndpoint(write(0x10, new byte[] {9}), 2)).isEqualTo(2);
    }
}
