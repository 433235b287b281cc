package dev.txkv.server;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.wire.WireErrors;
import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerTransportFilter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * At most {@code max} client connections from one address are served: the connections beyond
 * it are counted while open and every call on them is refused with tag_throttled (1213,
 * retryable), so that one host cannot take all of a server's connections and calls. (gRPC lets
 * a transport filter see connections come and go but not close one; a refused connection ends
 * by itself when idle, docs/server.md "Limits".)
 */
final class ConnectionLimit extends ServerTransportFilter implements ServerInterceptor {
    private static final Attributes.Key<Boolean> OVER = Attributes.Key.create("txkv-connection-over-limit");
    private static final Attributes.Key<InetAddress> COUNTED = Attributes.Key.create("txkv-connection-counted");

    private final int max;
    private final ConcurrentHashMap<InetAddress, AtomicInteger> open = new ConcurrentHashMap<>();

    ConnectionLimit(int max) {
        this.max = max;
    }

    @Override
    public Attributes transportReady(Attributes attributes) {
        SocketAddress remote = attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        if (!(remote instanceof InetSocketAddress socket) || socket.getAddress() == null) {
            return attributes;
        }
        InetAddress address = socket.getAddress();
        int now = open.computeIfAbsent(address, a -> new AtomicInteger()).incrementAndGet();
        Attributes.Builder b = attributes.toBuilder().set(COUNTED, address);
        if (now > max) {
            dev.txkv.server.tls.Audit.event("connection_limit", "address", address.getHostAddress(),
                    "limit", Integer.toString(max));
            b.set(OVER, Boolean.TRUE);
        }
        return b.build();
    }

    @Override
    public void transportTerminated(Attributes attributes) {
        // A connection that never finished its handshake was never ready, nor counted.
        InetAddress address = attributes == null ? null : attributes.get(COUNTED);
        if (address == null) {
            return;
        }
        open.computeIfPresent(address, (a, n) -> n.decrementAndGet() <= 0 ? null : n);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        if (Boolean.TRUE.equals(call.getAttributes().get(OVER))) {
            TxkvException e = new TxkvException(ErrorCode.TAG_THROTTLED, "This address has more than " + max
                    + " connections open to this server; use fewer connections (one client per process shares one)");
            call.close(WireErrors.status(e), WireErrors.trailers(e, null));
            return new ServerCall.Listener<>() { };
        }
        return next.startCall(call, headers);
    }

    /** Open connections from {@code address}, for tests. */
    int open(InetAddress address) {
        AtomicInteger n = open.get(address);
        return n == null ? 0 : n.get();
    }
}
