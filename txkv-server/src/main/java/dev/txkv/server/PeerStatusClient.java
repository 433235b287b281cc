package dev.txkv.server;

import dev.txkv.proto.StatusRequest;
import dev.txkv.proto.StatusResponse;
import dev.txkv.proto.TxkvGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Asks other members for their own process status over their client (gRPC) address, with
 * {@code member_only} set so that they ask nobody in turn. One channel per address, made at
 * first use and kept until {@link #close()}: status is asked rarely, but a channel per call
 * would pay a TCP and HTTP/2 handshake each time.
 */
final class PeerStatusClient implements AutoCloseable {
    /** How long a member waits for another's status: a member that answers at all answers in milliseconds. */
    static final long PEER_STATUS_TIMEOUT_MS = 2_000;
    /** Most channels kept; a membership has far fewer members, so more means addresses keep changing. */
    private static final int CHANNELS_MAX = 64;

    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * The process {@code id} reports about itself at {@code clientAddress}; never fails: a
     * member that does not answer within {@link #PEER_STATUS_TIMEOUT_MS} comes back unreachable
     * with the error.
     */
    CompletableFuture<ProcessStatus> fetch(String id, String clientAddress, String raftAddress) {
        CompletableFuture<ProcessStatus> result = new CompletableFuture<>();
        ManagedChannel channel;
        try {
            channel = channel(clientAddress);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(ProcessStatus.unreachable(id, clientAddress, raftAddress,
                    String.valueOf(e.getMessage())));
        }
        StatusRequest request = StatusRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT)
                .setMemberOnly(true).build();
        TxkvGrpc.newStub(channel).withDeadlineAfter(PEER_STATUS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .status(request, new StreamObserver<StatusResponse>() {
                    @Override
                    public void onNext(StatusResponse response) {
                        result.complete(StatusProtos.fromProto(response.getStatus(), id, clientAddress, raftAddress));
                    }

                    @Override
                    public void onError(Throwable t) {
                        result.complete(ProcessStatus.unreachable(id, clientAddress, raftAddress, describe(t)));
                    }

                    @Override
                    public void onCompleted() {
                        result.complete(ProcessStatus.unreachable(id, clientAddress, raftAddress, "no answer"));
                    }
                });
        return result;
    }

    private static String describe(Throwable t) {
        if (t instanceof StatusRuntimeException) {
            io.grpc.Status s = ((StatusRuntimeException) t).getStatus();
            return s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription());
        }
        return String.valueOf(t);
    }

    private ManagedChannel channel(String address) {
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
        return channels.computeIfAbsent(address, a -> NettyChannelBuilder.forAddress(h, port).usePlaintext().build());
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
