package dev.txkv.server;

import dev.txkv.proto.StatusRequest;
import dev.txkv.proto.StatusResponse;
import dev.txkv.proto.TxkvGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Asks other members for their own process status over their client (gRPC) address, with
 * {@code member_only} set so that they ask nobody in turn, over channels kept until
 * {@link #close()} ({@link PeerChannels}).
 */
final class PeerStatusClient implements AutoCloseable {
    /** How long a member waits for another's status: a member that answers at all answers in milliseconds. */
    static final long PEER_STATUS_TIMEOUT_MS = 2_000;
    private final PeerChannels channels;

    /** With {@code credentials} for the calls (plaintext, or the member certificate over TLS). */
    PeerStatusClient(io.grpc.ChannelCredentials credentials) {
        this.channels = new PeerChannels(credentials);
    }

    /**
     * The process {@code id} reports about itself at {@code clientAddress}; never fails: a
     * member that does not answer within {@link #PEER_STATUS_TIMEOUT_MS} comes back unreachable
     * with the error.
     */
    CompletableFuture<ProcessStatus> fetch(String id, String clientAddress, String raftAddress) {
        CompletableFuture<ProcessStatus> result = new CompletableFuture<>();
        ManagedChannel channel;
        try {
            channel = channels.channel(clientAddress);
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

    @Override
    public void close() {
        channels.close();
    }
}
