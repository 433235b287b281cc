package dev.txkv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Ports;
import io.grpc.ConnectivityState;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PeerChannelsTest {
    /**
     * A member that comes back after an outage is reached at once: its channel, whose gRPC
     * reconnect backoff grew while the member was down (about 4 s after 6 s of failures, and up
     * to two minutes), reconnects when a call finds it failed. Without that the first call
     * reached it after 4.0 s here (and not within 10 s after a 30 s outage); with it, after
     * 0.55 s. gRPC's next attempt is jittered, so a channel without the reconnect may now and
     * then be lucky within the bound.
     */
    @Test
    void aMemberBackAfterAnOutageIsReachedWithoutWaitingOutTheReconnectBackoff() throws Exception {
        int port = Ports.freePorts(1)[0];
        String address = "127.0.0.1:" + port;
        try (PeerChannels channels = new PeerChannels(InsecureChannelCredentials.create())) {
            // The member is down: calls fail for 6 s, while gRPC backs off further each time.
            long downUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
            while (System.nanoTime() < downUntil) {
                assertThat(call(channels.channel(address))).isFalse();
                Thread.sleep(100);
            }
            assertThat(channels.channel(address).getState(false)).isEqualTo(ConnectivityState.TRANSIENT_FAILURE);
            Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                    .addService(new HealthStatusManager().getHealthService()).build().start();
            try {
                long back = System.nanoTime();
                boolean reached = false;
                while (!reached && System.nanoTime() - back < TimeUnit.SECONDS.toNanos(10)) {
                    reached = call(channels.channel(address));
                    if (!reached) {
                        Thread.sleep(50);
                    }
                }
                long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - back);
                // gRPC alone would wait for its next attempt, seconds away; a reconnect at once
                // takes a connection's time (the margin is for a loaded machine).
                assertThat(reached).isTrue();
                assertThat(tookMs).as("ms from the member's return to the first call that reached it").isLessThan(2_000);
            } finally {
                server.shutdownNow();
            }
        }
    }

    private static boolean call(ManagedChannel channel) {
        try {
            HealthGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance());
            return true;
        } catch (io.grpc.StatusRuntimeException e) {
            return false;
        }
    }
}
