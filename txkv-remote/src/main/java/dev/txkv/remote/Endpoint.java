package dev.txkv.remote;

import dev.txkv.proto.TxkvGrpc;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One server and the single channel to it (plaintext, or TLS: {@link RemoteSettings#tls}).
 *
 * <p>Implementation notes. gRPC reconnects by itself with an exponential backoff, but its
 * cap (two minutes) would keep a restarted server unused for far too long, and calls fail at
 * once while the backoff runs. So after a refused connection this class cuts gRPC's backoff
 * short on its own, shorter schedule: {@code reconnectBackoffInitial} doubling up to
 * {@code reconnectBackoffMax}. Together with {@link RemoteBackend}'s rotation to the next
 * server, a client finds a server that comes back within that cap.
 */
final class Endpoint {
    private final ServerAddress address;
    private final ManagedChannel channel;
    private final TxkvGrpc.TxkvStub stub;
    private final long backoffInitialNanos;
    private final long backoffMaxNanos;
    private int failures;
    private long nextReconnectNanos;
    /** Coalesces Gets into GetMany calls; set once by {@link RemoteBackend}. */
    Coalescer<dev.txkv.proto.GetRequest, dev.txkv.proto.GetResponse> reads;
    /** Coalesces Commits into CommitMany calls; set once by {@link RemoteBackend}. */
    Coalescer<dev.txkv.proto.CommitRequest, dev.txkv.proto.CommitResponse> commits;
    /** The server answered a batch call with UNIMPLEMENTED (an older server): send single calls only. */
    volatile boolean batchUnsupported;

    Endpoint(ServerAddress address, RemoteSettings settings, SignIn signIn) {
        this.address = address;
        NettyChannelBuilder builder = NettyChannelBuilder.forAddress(address.host(), address.port(), settings.channelCredentials());
        if (signIn != null) {
            builder.intercept(signIn);
        }
        this.channel = builder
                .keepAliveTime(settings.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
                .keepAliveTimeout(settings.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS)
                .maxInboundMessageSize(settings.maxInboundMessageBytes())
                .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        settings.connectTimeout().toMillis()))
                .userAgent("txkv-remote")
                .build();
        this.stub = TxkvGrpc.newStub(channel);
        this.backoffInitialNanos = settings.reconnectBackoffInitial().toNanos();
        this.backoffMaxNanos = Math.max(backoffInitialNanos, settings.reconnectBackoffMax().toNanos());
    }

    ServerAddress address() {
        return address;
    }

    ManagedChannel channel() {
        return channel;
    }

    /** The stub for one call, with {@code deadline} unless it is zero. */
    TxkvGrpc.TxkvStub stub(Duration deadline) {
        return deadline.isZero() ? stub : stub.withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Before a call: reconnect now if gRPC is backing off and our own, shorter backoff has run out. */
    void beforeCall() {
        ConnectivityState state = channel.getState(true);
        if (state != ConnectivityState.TRANSIENT_FAILURE) {
            return;
        }
        long now = System.nanoTime();
        synchronized (this) {
            if (now - nextReconnectNanos < 0) {
                return;
            }
            long backoff = failures >= 20 ? backoffMaxNanos : Math.min(backoffMaxNanos, backoffInitialNanos << failures);
            failures++;
            nextReconnectNanos = now + backoff;
        }
        channel.resetConnectBackoff();
    }

    /** A call got an answer from this server (an error answer counts): the backoff starts over. */
    synchronized void answered() {
        failures = 0;
        nextReconnectNanos = 0;
    }

    @Override
    public String toString() {
        return address.toString();
    }
}
