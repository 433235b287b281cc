package dev.txkv.server;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * gRPC channels to other members' client addresses, one per address, made at first use and
 * kept until {@link #close()}: a channel per call would pay a TCP, TLS and HTTP/2 handshake
 * each time.
 */
final class PeerChannels implements AutoCloseable {
    /** Most channels kept; a membership has far fewer members, so more means addresses keep changing. */
    private static final int CHANNELS_MAX = 64;

    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private final io.grpc.ChannelCredentials credentials;

    /** Channels with {@code credentials}: plaintext, or TLS with this member's certificate. */
    PeerChannels(io.grpc.ChannelCredentials credentials) {
        this.credentials = credentials;
    }

    /**
     * The channel to {@code address} (host:port).
     *
     * @throws IllegalStateException once closed, or past {@value #CHANNELS_MAX} addresses
     * @throws IllegalArgumentException for an address that is not host:port
     */
    ManagedChannel channel(String address) {
        if (closed) {
            throw new IllegalStateException("the server is shutting down");
        }
        ManagedChannel existing = channels.get(address);
        if (existing != null) {
            reconnectSoon(address, existing);
            return existing;
        }
        if (channels.size() >= CHANNELS_MAX) {
            throw new IllegalStateException("more than " + CHANNELS_MAX + " member addresses were asked");
        }
        int colon = address.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("not a host:port client address: '" + address + "'");
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = Integer.parseInt(address.substring(colon + 1));
        String h = host;
        return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forAddress(h, port, credentials).build());
    }

    /**
     * A channel whose connection failed waits out gRPC's reconnect backoff (growing to two
     * minutes) and fails every call meanwhile, so a member back after an outage stayed
     * unreachable through it for seconds to minutes: status listed it unreachable, and calls
     * between shards (prepares, decisions, forwarded commits) failed on. A call finding it so
     * makes it reconnect at once, at most every {@value #RECONNECT_EVERY_MS} ms per address (a
     * try at a stopped member is one refused connection).
     */
    private void reconnectSoon(String address, ManagedChannel channel) {
        if (channel.getState(false) != io.grpc.ConnectivityState.TRANSIENT_FAILURE) {
            return;
        }
        long now = System.nanoTime();
        Long last = lastReconnect.get(address);
        if (last == null || now - last >= TimeUnit.MILLISECONDS.toNanos(RECONNECT_EVERY_MS)) {
            lastReconnect.put(address, now);
            channel.resetConnectBackoff();
        }
    }

    /** The least time between two reconnects that calls ask of one channel. */
    static final long RECONNECT_EVERY_MS = 250;
    private final Map<String, Long> lastReconnect = new ConcurrentHashMap<>();

    @Override
    public void close() {
        closed = true;
        for (ManagedChannel c : channels.values()) {
            c.shutdownNow();
        }
        for (ManagedChannel c : channels.values()) {
            try {
                c.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
