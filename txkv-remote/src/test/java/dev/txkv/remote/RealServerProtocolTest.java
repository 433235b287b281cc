package dev.txkv.remote;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.proto.GetReadVersionRequest;
import dev.txkv.proto.TxkvGrpc;
import dev.txkv.server.ServerConfig;
import dev.txkv.server.TxkvServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The client against the real server where the contract suite cannot reach: versions and status. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RealServerProtocolTest {
    @TempDir
    Path dir;

    @Test
    void anotherProtocolVersionSurfacesAsTheServersError2200() throws Exception {
        try (TxkvServer server = TxkvServer.start(new ServerConfig().dataDir(dir).grpcAddress("127.0.0.1", 0)
                .txkvConfig(new TxkvConfig().durable(false)))) {
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
            try {
                Throwable failure = null;
                try {
                    TxkvGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                            .getReadVersion(GetReadVersionRequest.newBuilder().setProtocolVersion(2).build());
                } catch (RuntimeException e) {
                    failure = e;
                }
                assertThat(failure).isNotNull();
                TxkvException mapped = GrpcErrors.map(failure, GrpcErrors.Call.READ,
                        new ServerAddress("127.0.0.1", server.grpcPort()), false).error();
                assertThat(mapped.getError()).isEqualTo(ErrorCode.PROTOCOL_VERSION_UNSUPPORTED);
                assertThat(mapped.isRetryable()).isFalse();
                assertThat(mapped.getMessage()).contains("2");
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void statusFetchesTheServersTypedStatus() throws Exception {
        try (TxkvServer server = TxkvServer.start(new ServerConfig().dataDir(dir).grpcAddress("127.0.0.1", 0)
                .txkvConfig(new TxkvConfig().durable(false)))) {
            dev.txkv.proto.Status status = RemoteStatus.fetch("127.0.0.1:" + server.grpcPort(), Duration.ofSeconds(10));
            assertThat(status.getProcessesCount()).isEqualTo(1);
            assertThat(status.getProcesses(0).getRole()).isEqualTo("standalone");
            assertThat(status.getProcesses(0).getClientAddress()).isEqualTo("127.0.0.1:" + server.grpcPort());
            assertThat(status.getProcesses(0).getStorage().getEngine()).isEqualTo("RocksDB");
        }
    }
}
