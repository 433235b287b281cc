package dev.txkv.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.txkv.proto.GetRequest;
import dev.txkv.proto.TxkvGrpc;
import dev.txkv.testkit.Poll;
import dev.txkv.wire.WireErrors;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Connections from one address beyond the limit are refused call by call; closing one makes room. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConnectionLimitTest {
    @TempDir
    Path dir;

    /** A Get on its own connection: null when served, else the error code. */
    private static String get(ManagedChannel channel) {
        try {
            TxkvGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).get(GetRequest.newBuilder()
                    .setProtocolVersion(1).setKey(ByteString.copyFromUtf8("k")).setReadVersion(-1).build());
            return null;
        } catch (StatusRuntimeException e) {
            return e.getTrailers() == null ? e.getStatus().toString() : e.getTrailers().get(WireErrors.ERROR_CODE);
        }
    }

    @Test
    void connectionsBeyondTheLimitFromOneAddressAreRefused() throws Exception {
        List<ManagedChannel> channels = new ArrayList<>();
        try (TxkvServer server = TxkvServer.start(new ServerConfig().dataDir(dir).grpcAddress("127.0.0.1", 0)
                .httpAddress(null, 0).connectionsPerAddressMax(2))) {
            for (int i = 0; i < 3; i++) {
                channels.add(NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build());
            }
            assertThat(get(channels.get(0))).isNull();
            assertThat(get(channels.get(1))).isNull();
            assertThat(get(channels.get(2))).isEqualTo("1213");
            // Still refused on the same connection (which counts while open); a new one is
            // served once two have closed.
            assertThat(get(channels.get(2))).isEqualTo("1213");
            channels.get(0).shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            channels.get(2).shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            InetAddress loopback = InetAddress.getByName("127.0.0.1");
            Poll.until("the closed connections are no longer counted", Duration.ofSeconds(10),
                    () -> server.connectionLimit().open(loopback) == 1);
            ManagedChannel fresh = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
            channels.add(fresh);
            assertThat(get(fresh)).isNull();
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
        }
    }
}
