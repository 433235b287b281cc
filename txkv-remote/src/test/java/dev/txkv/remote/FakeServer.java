package dev.txkv.remote;

import dev.txkv.proto.CommitManyRequest;
import dev.txkv.proto.CommitManyResponse;
import dev.txkv.proto.CommitRequest;
import dev.txkv.proto.CommitResponse;
import dev.txkv.proto.GetManyRequest;
import dev.txkv.proto.GetManyResponse;
import dev.txkv.proto.GetRangeRequest;
import dev.txkv.proto.GetRangeResponse;
import dev.txkv.proto.GetReadVersionRequest;
import dev.txkv.proto.GetReadVersionResponse;
import dev.txkv.proto.GetRequest;
import dev.txkv.proto.GetResponse;
import dev.txkv.proto.StatusRequest;
import dev.txkv.proto.StatusResponse;
import dev.txkv.proto.TxkvGrpc;
import dev.txkv.proto.WatchRequest;
import dev.txkv.proto.WatchResponse;
import io.grpc.Context;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * A scripted txkv gRPC server for testing the client's side of the protocol: each call is
 * answered by a replaceable handler, and every request is recorded.
 */
final class FakeServer implements AutoCloseable {
    final List<Object> requests = new CopyOnWriteArrayList<>();
    final CountDownLatch watchCancelled = new CountDownLatch(1);
    final CountDownLatch commitArrived = new CountDownLatch(1);
    volatile BiConsumer<GetReadVersionRequest, StreamObserver<GetReadVersionResponse>> onGrv =
            (r, o) -> {
                o.onNext(GetReadVersionResponse.newBuilder().setReadVersion(42).build());
                o.onCompleted();
            };
    volatile BiConsumer<GetRequest, StreamObserver<GetResponse>> onGet = (r, o) -> {
        o.onNext(GetResponse.newBuilder().build());
        o.onCompleted();
    };
    volatile BiConsumer<GetRangeRequest, StreamObserver<GetRangeResponse>> onGetRange = (r, o) -> o.onCompleted();
    volatile BiConsumer<CommitRequest, StreamObserver<CommitResponse>> onCommit = (r, o) -> {
        o.onNext(CommitResponse.newBuilder().setVersion(100).setBatchOrder(3).build());
        o.onCompleted();
    };
    volatile BiConsumer<WatchRequest, StreamObserver<WatchResponse>> onWatch = (r, o) -> { };
    /** By default the batch calls are unknown, as on a server that predates them. */
    volatile BiConsumer<GetManyRequest, StreamObserver<GetManyResponse>> onGetMany =
            (r, o) -> o.onError(Status.UNIMPLEMENTED.withDescription("GetMany").asRuntimeException());
    volatile BiConsumer<CommitManyRequest, StreamObserver<CommitManyResponse>> onCommitMany =
            (r, o) -> o.onError(Status.UNIMPLEMENTED.withDescription("CommitMany").asRuntimeException());
    volatile dev.txkv.proto.Status status = dev.txkv.proto.Status.newBuilder().setAnsweredBy("fake").build();
    private final Server server;

    FakeServer() throws IOException {
        this(0);
    }

    FakeServer(int port) throws IOException {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                .addService(new Service()).build().start();
    }

    int port() {
        return server.getPort();
    }

    String connection() {
        return "127.0.0.1:" + port();
    }

    /** Cuts every connection at once, as a crashed server would. */
    void kill() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        kill();
    }

    private final class Service extends TxkvGrpc.TxkvImplBase {
        @Override
        public void getReadVersion(GetReadVersionRequest request, StreamObserver<GetReadVersionResponse> out) {
            requests.add(request);
            onGrv.accept(request, out);
        }

        @Override
        public void get(GetRequest request, StreamObserver<GetResponse> out) {
            requests.add(request);
            onGet.accept(request, out);
        }

        @Override
        public void getRange(GetRangeRequest request, StreamObserver<GetRangeResponse> out) {
            requests.add(request);
            onGetRange.accept(request, out);
        }

        @Override
        public void commit(CommitRequest request, StreamObserver<CommitResponse> out) {
            requests.add(request);
            commitArrived.countDown();
            onCommit.accept(request, out);
        }

        @Override
        public void getMany(GetManyRequest request, StreamObserver<GetManyResponse> out) {
            requests.add(request);
            onGetMany.accept(request, out);
        }

        @Override
        public void commitMany(CommitManyRequest request, StreamObserver<CommitManyResponse> out) {
            requests.add(request);
            onCommitMany.accept(request, out);
        }

        @Override
        public void watch(WatchRequest request, StreamObserver<WatchResponse> out) {
            requests.add(request);
            Context.current().addListener(c -> watchCancelled.countDown(), Runnable::run);
            onWatch.accept(request, out);
        }

        @Override
        public void status(StatusRequest request, StreamObserver<StatusResponse> out) {
            requests.add(request);
            out.onNext(StatusResponse.newBuilder().setStatus(status).build());
            out.onCompleted();
        }
    }
}
