package dev.txkv.replication;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.proto.grpc.RaftServerProtocolServiceGrpc;
import org.apache.ratis.thirdparty.io.grpc.Grpc;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.ServerCall;
import org.apache.ratis.thirdparty.io.grpc.ServerCallHandler;
import org.apache.ratis.thirdparty.io.grpc.ServerInterceptor;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the Raft port to Raft peer traffic. Ratis serves three gRPC services on a member's
 * port: the server protocol (append entries, votes, snapshots, ReadIndex between members), the
 * client protocol (anyone could submit a log entry) and the admin protocol (anyone could change
 * the membership or remove the group). txkv needs only the first over the network: its own log
 * entries, read confirmations and membership changes go to the local Raft server in-process.
 * So every call to another service is refused with PERMISSION_DENIED before Ratis sees it,
 * counted, and logged (the first refusal from each minute in full, the rest counted).
 *
 * <p>This does not authenticate peers: a stranger can still speak the server protocol. That
 * needs mutual TLS between members (docs/replication.md, "The Raft port").
 */
final class RaftPortGuard implements ServerInterceptor {
    private static final Logger LOG = LoggerFactory.getLogger(RaftPortGuard.class);
    private static final String PEER_SERVICE = RaftServerProtocolServiceGrpc.SERVICE_NAME;
    private static final long LOG_EVERY_NANOS = 60_000_000_000L;

    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong lastLogNanos = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
            ServerCallHandler<Q, A> next) {
        String service = call.getMethodDescriptor().getServiceName();
        if (PEER_SERVICE.equals(service)) {
            return next.startCall(call, headers);
        }
        long count = refused.incrementAndGet();
        long now = System.nanoTime();
        long last = lastLogNanos.get();
        if (now - last >= LOG_EVERY_NANOS && lastLogNanos.compareAndSet(last, now)) {
            LOG.warn("Refused {} from {} on the Raft port: only Raft members' traffic is served there "
                    + "({} such calls refused since start)", call.getMethodDescriptor().getFullMethodName(),
                    call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), count);
        }
        call.close(Status.PERMISSION_DENIED.withDescription(
                "txkv serves only Raft peer traffic on this port; clients use the txkv client port"), new Metadata());
        return new ServerCall.Listener<>() {
        };
    }

    /** Calls refused since start. */
    long refusedCalls() {
        return refused.get();
    }
}
