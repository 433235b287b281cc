package dev.txkv.server;

import com.google.protobuf.ByteString;
import dev.txkv.TxkvConfig;
import dev.txkv.proto.CommitRequest;
import dev.txkv.proto.GetReadVersionRequest;
import dev.txkv.proto.KeyRange;
import dev.txkv.proto.Mutation;
import dev.txkv.proto.MutationType;
import dev.txkv.proto.TxkvGrpc;
import dev.txkv.wire.WireErrors;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Helpers shared by the server tests: channels to a server and request builders. */
final class TestServers {
    static {
        // Libraries (Netty, gRPC) log at DEBUG without a configuration; the tests need WARN and up.
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
    }

    private TestServers() {
    }

    /** Loads this class, which quiets the libraries' logging. */
    static void quietLogs() {
    }

    /** Runs {@code txkv server ARGS} as the launcher would and returns its exit code (2: usage error). */
    static int serverCommand(String... args) {
        return new picocli.CommandLine(new ServerCommand()).execute(args);
    }

    /** A non-durable server on 127.0.0.1 (data in {@code dir}) and a channel to it, closed together. */
    static final class Running implements AutoCloseable {
        final TxkvServer server;
        final ManagedChannel channel;

        Running(Path dir) throws Exception {
            quietLogs();
            server = TxkvServer.start(new ServerConfig().dataDir(dir.resolve("data")).grpcAddress("127.0.0.1", 0)
                    .txkvConfig(new TxkvConfig().durable(false)));
            channel = channel(server);
        }

        @Override
        public void close() throws Exception {
            TestServers.close(channel);
            server.close();
        }
    }

    static ManagedChannel channel(TxkvServer server) {
        return ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext()
                .maxInboundMessageSize(32 << 20).build();
    }

    static void close(ManagedChannel channel) throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    static ByteString bytes(String s) {
        return ByteString.copyFrom(s, StandardCharsets.UTF_8);
    }

    static ByteString bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return ByteString.copyFrom(b);
    }

    static KeyRange range(ByteString begin, ByteString end) {
        return KeyRange.newBuilder().setBegin(begin).setEnd(end).build();
    }

    static ByteString keyAfter(ByteString key) {
        return key.concat(bytes(0));
    }

    static Mutation set(ByteString key, ByteString value) {
        return Mutation.newBuilder().setType(MutationType.SET_VALUE).setKey(key).setParam(value).build();
    }

    /** A blind write of key = value: write conflict on the key, no read conflicts. */
    static CommitRequest setCommit(ByteString key, ByteString value) {
        return CommitRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT).setReadVersion(-1)
                .addWriteConflicts(range(key, keyAfter(key))).addMutations(set(key, value)).build();
    }

    static long readVersion(TxkvGrpc.TxkvBlockingStub stub) {
        return stub.getReadVersion(GetReadVersionRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT).build())
                .getReadVersion();
    }

    /** The failure of {@code call}, which must fail. */
    static StatusRuntimeException failure(Supplier<?> call) {
        try {
            Object result = call.get();
            if (result instanceof java.util.Iterator) {
                // A server-streaming call fails when its stream is read.
                java.util.Iterator<?> it = (java.util.Iterator<?>) result;
                while (it.hasNext()) {
                    it.next();
                }
            }
        } catch (StatusRuntimeException e) {
            return e;
        }
        throw new AssertionError("The call succeeded but should have failed");
    }

    static int txkvCode(StatusRuntimeException e) {
        Metadata trailers = e.getTrailers();
        String code = trailers == null ? null : trailers.get(WireErrors.ERROR_CODE);
        if (code == null) {
            throw new AssertionError("No txkv error code in " + e.getStatus(), e);
        }
        return Integer.parseInt(code);
    }

    static Status.Code grpcCode(StatusRuntimeException e) {
        return e.getStatus().getCode();
    }
}
