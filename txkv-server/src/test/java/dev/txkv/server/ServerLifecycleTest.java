package dev.txkv.server;

import static dev.txkv.server.TestServers.bytes;
import static dev.txkv.server.TestServers.failure;
import static dev.txkv.server.TestServers.grpcCode;
import static dev.txkv.server.TestServers.readVersion;
import static dev.txkv.server.TestServers.setCommit;
import static dev.txkv.server.TestServers.txkvCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.testkit.Poll;
import java.time.Duration;
import com.google.protobuf.ByteString;
import dev.txkv.ErrorCode;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.engine.Engine;
import dev.txkv.proto.GetRequest;
import dev.txkv.proto.GetResponse;
import dev.txkv.proto.TxkvGrpc;
import dev.txkv.proto.WatchRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Limits under load, start failures and graceful shutdown. */
class ServerLifecycleTest {
    private static final int V = ProtocolVersion.CURRENT;
    @TempDir
    Path dir;

    @BeforeAll
    static void quiet() {
        TestServers.quietLogs();
    }

    private ServerConfig config(String name) {
        return new ServerConfig().dataDir(dir.resolve(name)).grpcAddress("127.0.0.1", 0);
    }

    @Test
    void aFullRequestQueueIsRefusedWith1042() throws Exception {
        // One thread, one waiting request: reads at a version not yet reached hold the thread.
        ServerConfig config = config("overload").executorThreads(1).executorQueueMax(1)
                .txkvConfig(new TxkvConfig().futureVersionWaitMs(2_000));
        try (TxkvServer server = TxkvServer.start(config)) {
            ManagedChannel channel = TestServers.channel(server);
            try {
                TxkvGrpc.TxkvStub async = TxkvGrpc.newStub(channel);
                // 4 s ahead: not reached within the 2 s wait, although the server commits its health probe every second.
                long future = readVersion(TxkvGrpc.newBlockingStub(channel)) + 4_000_000;
                List<CompletableFuture<Throwable>> calls = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    CompletableFuture<Throwable> outcome = new CompletableFuture<>();
                    async.get(GetRequest.newBuilder().setProtocolVersion(V).setKey(bytes("k")).setReadVersion(future).build(),
                            observer(outcome));
                    calls.add(outcome);
                }
                List<Integer> codes = new ArrayList<>();
                for (CompletableFuture<Throwable> call : calls) {
                    StatusRuntimeException e = (StatusRuntimeException) call.get(20, TimeUnit.SECONDS);
                    codes.add(txkvCode(e));
                    if (txkvCode(e) == 1042) {
                        assertThat(grpcCode(e)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                        assertThat(ErrorMapping.fromStatus(e.getStatus(), e.getTrailers()).isRetryable()).isTrue();
                    }
                }
                assertThat(codes).contains(1042, 1009);
                assertThat(server.meterRegistry().scrape()).containsPattern("txkv_executor_rejected_total [1-9]");
            } finally {
                TestServers.close(channel);
            }
        }
    }

    @Test
    void watchStreamsAreCappedPerServer() throws Exception {
        try (TxkvServer server = TxkvServer.start(config("watches").watchStreamsMax(1))) {
            ManagedChannel channel = TestServers.channel(server);
            try {
                TxkvGrpc.TxkvBlockingStub stub = TxkvGrpc.newBlockingStub(channel);
                long rv = readVersion(stub);
                CompletableFuture<Throwable> first = new CompletableFuture<>();
                TxkvGrpc.newStub(channel).watch(WatchRequest.newBuilder().setProtocolVersion(V).setKey(bytes("a"))
                        .setVersion(rv).build(), observer(first));
                Poll.until("the first watch to register", Duration.ofSeconds(10), () -> server.engine().counters().watches() == 1);
                StatusRuntimeException e = failure(() -> stub.watch(WatchRequest.newBuilder().setProtocolVersion(V)
                        .setKey(bytes("b")).setVersion(rv).build()));
                assertThat(txkvCode(e)).isEqualTo(1032);
                assertThat(grpcCode(e)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                // Closing the server ends the open watch with database_closed rather than waiting for it.
                server.close();
                StatusRuntimeException ended = (StatusRuntimeException) first.get(10, TimeUnit.SECONDS);
                assertThat(txkvCode(ended)).isEqualTo(2107);
                assertThat(grpcCode(ended)).isEqualTo(Status.Code.UNAVAILABLE);
            } finally {
                TestServers.close(channel);
            }
        }
    }

    @Test
    void gracefulCloseLosesNoAcknowledgedCommit() throws Exception {
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        TxkvServer server = TxkvServer.start(config("graceful"));
        ManagedChannel channel = TestServers.channel(server);
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch someCommitted = new CountDownLatch(50);
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 8; w++) {
            int writer = w;
            Thread t = new Thread(() -> {
                TxkvGrpc.TxkvBlockingStub stub = TxkvGrpc.newBlockingStub(channel);
                for (int i = 0; !stop.get(); i++) {
                    String key = "w" + writer + "/" + i;
                    try {
                        stub.commit(setCommit(bytes(key), bytes("v")));
                        acknowledged.add(key);
                        someCommitted.countDown();
                    } catch (StatusRuntimeException e) {
                        // Refused or cut off by the shutdown: not acknowledged, so not checked.
                        if (grpcCode(e) == Status.Code.UNAVAILABLE && server.isReady()) {
                            continue;
                        }
                    }
                }
            });
            t.start();
            writers.add(t);
        }
        assertThat(someCommitted.await(20, TimeUnit.SECONDS)).isTrue();
        server.close();
        stop.set(true);
        for (Thread t : writers) {
            t.join(10_000);
        }
        TestServers.close(channel);
        assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(50);
        try (Engine engine = Engine.open(dir.resolve("graceful"), new TxkvConfig())) {
            long rv = engine.getReadVersion().get();
            for (String key : acknowledged) {
                assertThat(engine.get(key.getBytes(java.nio.charset.StandardCharsets.UTF_8), rv).get())
                        .as(key).isNotNull();
            }
        }
    }

    @Test
    void aLockedDataDirectoryOrABusyPortFailsTheStartCleanly() throws Exception {
        try (TxkvServer first = TxkvServer.start(config("a"))) {
            assertThatThrownBy(() -> TxkvServer.start(config("a")))
                    .isInstanceOfSatisfying(TxkvException.class,
                            e -> assertThat(e.getError()).isEqualTo(ErrorCode.DATA_DIRECTORY_LOCKED));
            assertThatThrownBy(() -> TxkvServer.start(config("b").grpcAddress("127.0.0.1", first.grpcPort())))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("Cannot listen for gRPC on 127.0.0.1:" + first.grpcPort());
            // The failed start released its data directory.
            try (TxkvServer second = TxkvServer.start(config("b"))) {
                assertThat(second.grpcPort()).isPositive().isNotEqualTo(first.grpcPort());
            }
            // The command reports the same as a one-line error and exit code 1; bad addresses are usage errors.
            assertThat(TestServers.serverCommand("--data", dir.resolve("a").toString(), "--listen", "127.0.0.1:0", "--http", "none"))
                    .isEqualTo(1);
            assertThat(TestServers.serverCommand("--data", dir.resolve("c").toString(), "--listen", "nohostport")).isEqualTo(2);
            assertThat(TestServers.serverCommand("--listen", "127.0.0.1:99999")).isEqualTo(2);
        }
    }

    @Test
    void inProcessServerAnswersTheSameService() throws Exception {
        try (TxkvServer server = TxkvServer.start(config("inprocess"))) {
            ManagedChannel channel = io.grpc.inprocess.InProcessChannelBuilder.forName(server.inProcessName()).build();
            try {
                TxkvGrpc.TxkvBlockingStub stub = TxkvGrpc.newBlockingStub(channel);
                stub.commit(setCommit(bytes("ip"), bytes("x")));
                GetResponse got = stub.get(GetRequest.newBuilder().setProtocolVersion(V).setKey(bytes("ip"))
                        .setReadVersion(readVersion(stub)).build());
                assertThat(got.getValue()).isEqualTo(ByteString.copyFromUtf8("x"));
            } finally {
                TestServers.close(channel);
            }
        }
    }

    private static <T> StreamObserver<T> observer(CompletableFuture<Throwable> outcome) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
            }

            @Override
            public void onError(Throwable t) {
                outcome.complete(t);
            }

            @Override
            public void onCompleted() {
                outcome.complete(null);
            }
        };
    }

}
