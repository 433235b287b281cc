package dev.txkv.remote;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.replication.ReplicationConfig;
import dev.txkv.proto.GetReadVersionRequest;
import dev.txkv.proto.NotLeader;
import dev.txkv.proto.TxkvGrpc;
import dev.txkv.server.ServerConfig;
import dev.txkv.server.TxkvServer;
import dev.txkv.server.TxkvService;
import dev.txkv.spi.Backend;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Mutation;
import dev.txkv.spi.RangeChunk;
import dev.txkv.wire.ErrorTable;
import dev.txkv.wire.WireErrors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The wire contract end to end, the real service on one side and the remote client on the
 * other: every error code keeps its code and retryability from server to client, and a
 * follower of a real three-member cluster names the leader in the typed not_leader detail,
 * which a raw gRPC stub reads and which sends the client to the leader first.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WireContractTest {
    @TempDir
    Path dir;
    private final List<TxkvServer> servers = new ArrayList<>();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
        for (TxkvServer s : servers) {
            s.close();
        }
    }

    /** A backend whose read versions and commits all fail with {@code error}. */
    private static final class FailingBackend implements Backend {
        volatile ErrorCode error = ErrorCode.INTERNAL_ERROR;

        private <T> CompletableFuture<T> fail() {
            ErrorCode e = error;
            return CompletableFuture.failedFuture(new TxkvException(e, "scripted " + e.errorName()));
        }

        @Override
        public CompletableFuture<Long> getReadVersion() {
            return fail();
        }

        @Override
        public CompletableFuture<byte[]> get(byte[] key, long readVersion) {
            return fail();
        }

        @Override
        public CompletableFuture<RangeChunk> getRange(byte[] begin, byte[] end, int rowLimit, long byteLimit,
                boolean reverse, long readVersion) {
            return fail();
        }

        @Override
        public CompletableFuture<CommitResult> commit(CommitRequest request) {
            return fail();
        }

        @Override
        public CompletableFuture<Void> watch(byte[] key, long version) {
            return fail();
        }

        @Override
        public void close() {
        }
    }

    @Test
    void everyErrorCodeKeepsItsCodeAndRetryabilityFromServerToClient() throws Exception {
        FailingBackend failing = new FailingBackend();
        ExecutorService executor = Executors.newFixedThreadPool(2);
        closing.add(executor::shutdownNow);
        TxkvService service = new TxkvService(failing, new ServerConfig(), executor, new SimpleMeterRegistry());
        Server grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service).build()
                .start();
        closing.add(() -> grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        RemoteBackend client = RemoteBackend.connect("127.0.0.1:" + grpc.getPort(), new RemoteSettings());
        closing.add(0, client::close);
        CommitRequest commit = new CommitRequest(-1, List.of(), List.of(new Range(new byte[] {3}, new byte[] {3, 0})),
                List.of(new Mutation(Mutation.SET, new byte[] {3}, new byte[] {9})), null, false);
        for (ErrorTable.Row row : ErrorTable.rows()) {
            failing.error = row.error();
            // A closed engine on the server did nothing: the client is sent to another server
            // (ErrorMapping.answer); its own database is not closed.
            ErrorCode expected = row.error() == ErrorCode.DATABASE_CLOSED ? ErrorCode.NOT_LEADER : row.error();
            for (CompletableFuture<?> call : List.of(client.getReadVersion(), client.commit(commit))) {
                TxkvException e = RemoteBackendProtocolTest.failure(call);
                assertThat(e.getError()).as(row.name()).isEqualTo(expected);
                assertThat(e.isRetryable()).as(row.name()).isEqualTo(new TxkvException(expected).isRetryable());
                assertThat(e.getMessage()).as(row.name()).contains("scripted " + row.name());
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void aFollowerOfARealClusterNamesTheLeaderInTheNotLeaderTrailer() throws Exception {
        Map<String, String> members = new LinkedHashMap<>();
        Map<String, String> clients = new LinkedHashMap<>();
        for (String id : List.of("a", "b", "c")) {
            members.put(id, "127.0.0.1:" + freePort());
            clients.put(id, "127.0.0.1:" + freePort());
        }
        for (String id : members.keySet()) {
            String client = clients.get(id);
            servers.add(TxkvServer.start(new ServerConfig().dataDir(dir.resolve(id))
                    .grpcAddress("127.0.0.1", Integer.parseInt(client.substring(client.indexOf(':') + 1)))
                    .txkvConfig(new TxkvConfig().durable(false))
                    .peerClientAddresses(clients)
                    .replication(new ReplicationConfig(id, members).clusterName("wire-test").electionTimeoutMs(500, 1000))));
        }
        TxkvServer leader = awaitLeaderThatCommits();
        String leaderId = leader.engine().replicationState().orElseThrow().id();
        TxkvServer follower = servers.get((servers.indexOf(leader) + 1) % 3);
        String followerId = follower.engine().replicationState().orElseThrow().id();
        TxkvServer other = servers.get((servers.indexOf(leader) + 2) % 3);

        // A raw stub: the detail is a binary trailer that parses as txkv.v1.NotLeader.
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", follower.grpcPort()).usePlaintext().build();
        closing.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        StatusRuntimeException refused = null;
        try {
            TxkvGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .getReadVersion(GetReadVersionRequest.newBuilder().setProtocolVersion(1).build());
        } catch (StatusRuntimeException e) {
            refused = e;
        }
        assertThat(refused).as("a follower refuses read versions").isNotNull();
        byte[] detail = refused.getTrailers().get(Metadata.Key.of("txkv-not-leader-bin", Metadata.BINARY_BYTE_MARSHALLER));
        NotLeader expected = NotLeader.newBuilder().setLeaderId(leaderId).setLeaderAddress(clients.get(leaderId))
                .setMemberId(followerId).build();
        assertThat(NotLeader.parseFrom(detail)).isEqualTo(expected);
        assertThat(refused.getTrailers().get(WireErrors.ERROR_CODE)).isEqualTo("1060");

        // The client reads the same detail, keeps code and retryability, and would go to the leader next.
        ServerAddress followerAddress = new ServerAddress("127.0.0.1", follower.grpcPort());
        GrpcErrors.Mapped mapped = GrpcErrors.map(refused, GrpcErrors.Call.READ, followerAddress, false);
        assertThat(mapped.error().getError()).isEqualTo(ErrorCode.NOT_LEADER);
        assertThat(mapped.error().isRetryableNotCommitted()).isTrue();
        assertThat(mapped.leader()).isEqualTo(expected);
        String connection = "127.0.0.1:" + follower.grpcPort() + ",127.0.0.1:" + other.grpcPort() + ",127.0.0.1:"
                + leader.grpcPort();
        try (RemoteBackend client = RemoteBackend.connect(connection, new RemoteSettings())) {
            assertThat(client.namedLeader(mapped.leader())).isEqualTo(2);
            CommitResult committed = client.commit(new CommitRequest(-1, List.of(),
                    List.of(new Range(new byte[] {7}, new byte[] {7, 0})),
                    List.of(new Mutation(Mutation.SET, new byte[] {7}, new byte[] {1})), null, false)).join();
            assertThat(committed.version()).isPositive();
            assertThat(client.getReadVersion().join()).isGreaterThanOrEqualTo(committed.version());
        }

        // Through the follower alone the client gives up with the same retryable not_leader.
        try (RemoteBackend alone = RemoteBackend.connect("127.0.0.1:" + follower.grpcPort(),
                new RemoteSettings().requestTimeout(Duration.ofSeconds(2)))) {
            TxkvException e = RemoteBackendProtocolTest.failure(alone.getReadVersion());
            assertThat(e.getError()).isEqualTo(ErrorCode.NOT_LEADER);
            assertThat(e.isRetryableNotCommitted()).isTrue();
        }
    }

    /** The member that leads and whose followers know it (they name it), within 30 s. */
    private TxkvServer awaitLeaderThatCommits() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (TxkvServer s : servers) {
                if (s.isReady() && s.engine().isLeading()) {
                    String id = s.engine().replicationState().orElseThrow().id();
                    boolean known = servers.stream().filter(o -> o != s)
                            .allMatch(o -> o.engine().leaderId().filter(id::equals).isPresent());
                    if (known) {
                        return s;
                    }
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no leader known to every member within 30 s");
    }
}
