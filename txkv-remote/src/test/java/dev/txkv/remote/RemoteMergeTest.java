package dev.txkv.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.MergeRequest;
import dev.txkv.proto.MergeResponse;
import dev.txkv.proto.ShardMapRecord;
import dev.txkv.proto.ShardPeerGrpc;
import dev.txkv.wire.WireErrors;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link RemoteStatus#merge} against scripted ShardPeer servers: the request carries the protocol
 * version, the shard and the reason; not_leader moves on to the next server; the server's
 * refusals come back as its errors.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RemoteMergeTest {
    /** A server whose ShardPeer.Merge {@link #onMerge} answers; every request is recorded. */
    private static final class Peer extends ShardPeerGrpc.ShardPeerImplBase implements AutoCloseable {
        final List<MergeRequest> requests = new CopyOnWriteArrayList<>();
        volatile BiConsumer<MergeRequest, StreamObserver<MergeResponse>> onMerge = (r, o) -> {
            o.onNext(MergeResponse.newBuilder().setShard(r.getShard()).setAbsorbed(r.getShard() + 1)
                    .setMap(ShardMapRecord.newBuilder().setEpoch(7)).build());
            o.onCompleted();
        };
        private final Server server;

        Peer() throws IOException {
            server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(this).build().start();
        }

        String connection() {
            return "127.0.0.1:" + server.getPort();
        }

        @Override
        public void merge(MergeRequest request, StreamObserver<MergeResponse> responseObserver) {
            requests.add(request);
            onMerge.accept(request, responseObserver);
        }

        @Override
        public void close() {
            server.shutdownNow();
        }
    }

    private final List<Peer> peers = new ArrayList<>();

    private Peer peer() throws IOException {
        Peer p = new Peer();
        peers.add(p);
        return p;
    }

    @AfterEach
    void stop() {
        peers.forEach(Peer::close);
    }

    private static void refuse(StreamObserver<?> o, ErrorCode code, String message) {
        o.onError(WireErrors.toStatusException(new TxkvException(code, message), null));
    }

    @Test
    void aMergeCarriesTheShardAndReasonAndFindsTheControlGroupsLeader() throws IOException {
        Peer follower = peer();
        Peer leader = peer();
        follower.onMerge = (r, o) -> refuse(o, ErrorCode.NOT_LEADER, "This server does not lead the control group");
        MergeResponse r = RemoteStatus.merge(follower.connection() + "," + leader.connection(), 3, "txkv check",
                Duration.ofSeconds(20));
        assertThat(r.getShard()).isEqualTo(3);
        assertThat(r.getAbsorbed()).isEqualTo(4);
        assertThat(r.getMap().getEpoch()).isEqualTo(7);
        assertThat(follower.requests).hasSizeGreaterThanOrEqualTo(1);
        assertThat(leader.requests).hasSize(1);
        MergeRequest sent = leader.requests.get(0);
        assertThat(sent.getProtocolVersion()).isEqualTo(dev.txkv.wire.WireCommits.PROTOCOL_VERSION);
        assertThat(sent.getShard()).isEqualTo(3);
        assertThat(sent.getReason()).isEqualTo("txkv check");
        assertThat(sent.getForwarded()).as("only a server sets forwarded").isFalse();
    }

    @Test
    void theServersRefusalsComeBackAsItsErrors() throws IOException {
        Peer p = peer();
        p.onMerge = (r, o) -> refuse(o, ErrorCode.OPERATION_FAILED,
                "Shard 3 is on a,b and shard 4 on b,c; move one onto the other's members first (txkv move)");
        assertThatThrownBy(() -> RemoteStatus.merge(p.connection(), 3, "", Duration.ofSeconds(10)))
                .isInstanceOfSatisfying(TxkvException.class,
                        e -> assertThat(e.getError()).isEqualTo(ErrorCode.OPERATION_FAILED))
                .hasMessageContaining("move one onto the other's members first");
        assertThat(p.requests).hasSize(1);
        p.onMerge = (r, o) -> refuse(o, ErrorCode.INVALID_OPTION_VALUE, "Shard 9 is the last shard");
        assertThatThrownBy(() -> RemoteStatus.merge(p.connection(), 9, "", Duration.ofSeconds(10)))
                .isInstanceOfSatisfying(TxkvException.class,
                        e -> assertThat(e.getError()).isEqualTo(ErrorCode.INVALID_OPTION_VALUE));
    }

    @Test
    void theTimeoutMustBePositive() {
        assertThatThrownBy(() -> RemoteStatus.merge("127.0.0.1:1", 0, "", Duration.ZERO))
                .isInstanceOfSatisfying(TxkvException.class,
                        e -> assertThat(e.getError()).isEqualTo(ErrorCode.CLIENT_INVALID_OPERATION))
                .hasMessageContaining("timeout must be positive");
    }
}
