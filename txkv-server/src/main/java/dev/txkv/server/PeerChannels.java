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
