package dev.txkv.server.http;

import com.google.protobuf.ByteString;
import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.CommitRequest;
import dev.txkv.proto.CommitResponse;
import dev.txkv.proto.GetRangeRequest;
import dev.txkv.proto.GetRangeResponse;
import dev.txkv.proto.GetReadVersionRequest;
import dev.txkv.proto.GetReadVersionResponse;
import dev.txkv.proto.GetRequest;
import dev.txkv.proto.GetResponse;
import dev.txkv.proto.KeyValue;
import dev.txkv.proto.StatusRequest;
import dev.txkv.proto.StatusResponse;
import dev.txkv.proto.TxkvGrpc;
import dev.txkv.proto.WatchRequest;
import dev.txkv.proto.WatchResponse;
import dev.txkv.server.ErrorMapping;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A scripted Txkv service: a few keys with fixed answers and errors, so that the gateway's
 * transcoding and error mapping are tested without an engine. Its errors travel exactly as the
 * real service's do, through {@link ErrorMapping}.
 */
final class FakeTxkvService extends TxkvGrpc.TxkvImplBase {
    static final long READ_VERSION = 1_000_000_000_123L;

    final Map<ByteString, ByteString> store = new ConcurrentHashMap<>();
    final List<CommitRequest> commits = new CopyOnWriteArrayList<>();
    final List<GetRequest> gets = new CopyOnWriteArrayList<>();
    final CountDownLatch slowEntered = new CountDownLatch(1);
    final CountDownLatch slowRelease = new CountDownLatch(1);

    @Override
    public void getReadVersion(GetReadVersionRequest request, StreamObserver<GetReadVersionResponse> out) {
        out.onNext(GetReadVersionResponse.newBuilder().setReadVersion(READ_VERSION).build());
        out.onCompleted();
    }

    @Override
    public void get(GetRequest request, StreamObserver<GetResponse> out) {
        gets.add(request);
        String key = request.getKey().toStringUtf8();
        if (request.getProtocolVersion() != 1) {
            out.onError(ErrorMapping.toStatusException(new TxkvException(ErrorCode.PROTOCOL_VERSION_UNSUPPORTED)));
            return;
        }
        switch (key) {
            case "overloaded":
                out.onError(ErrorMapping.toStatusException(new TxkvException(ErrorCode.PROXY_MEMORY_LIMIT_EXCEEDED)));
                return;
            case "internal":
                out.onError(new IllegalStateException("planted bug"));
                return;
            case "too_old":
                out.onError(ErrorMapping.toStatusException(new TxkvException(ErrorCode.TRANSACTION_TOO_OLD)));
                return;
            case "slow":
                slowEntered.countDown();
                try {
                    slowRelease.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                break;
            default:
                break;
        }
        ByteString value = store.get(request.getKey());
        GetResponse.Builder response = value == null ? GetResponse.newBuilder().setPresent(false)
                : GetResponse.newBuilder().setPresent(true).setValue(value);
        if (request.getReadVersion() == -1) {
            // As the real service: a read that asked for a new read version gets one back.
            response.setReadVersion(com.google.protobuf.Int64Value.of(READ_VERSION));
        }
        out.onNext(response.build());
        out.onCompleted();
    }

    @Override
    public void getRange(GetRangeRequest request, StreamObserver<GetRangeResponse> out) {
        if (request.getBegin().toStringUtf8().compareTo(request.getEnd().toStringUtf8()) > 0) {
            out.onError(ErrorMapping.toStatusException(new TxkvException(ErrorCode.INVERTED_RANGE, "begin > end")));
            return;
        }
        // Two messages, so the gateway must merge a stream.
        out.onNext(GetRangeResponse.newBuilder()
                .addRows(KeyValue.newBuilder().setKey(ByteString.copyFromUtf8("a")).setValue(ByteString.copyFromUtf8("1"))).build());
        out.onNext(GetRangeResponse.newBuilder()
                .addRows(KeyValue.newBuilder().setKey(ByteString.copyFromUtf8("b")).setValue(ByteString.copyFrom(new byte[] {(byte) 0xff})))
                .setMore(true).build());
        out.onCompleted();
    }

    @Override
    public void commit(CommitRequest request, StreamObserver<CommitResponse> out) {
        commits.add(request);
        for (var m : request.getMutationsList()) {
            if (m.getKey().toStringUtf8().equals("conflict")) {
                out.onError(ErrorMapping.toStatusException(new TxkvException(ErrorCode.NOT_COMMITTED)));
                return;
            }
        }
        if (request.getReadVersion() == -1 && request.getReadConflictsCount() > 0) {
            out.onError(ErrorMapping.toStatusException(new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                    "read conflicts without a read version")));
            return;
        }
        out.onNext(CommitResponse.newBuilder().setVersion(READ_VERSION + 1).setBatchOrder(3).build());
        out.onCompleted();
    }

    @Override
    public void watch(WatchRequest request, StreamObserver<WatchResponse> out) {
        if (request.getKey().toStringUtf8().equals("fires")) {
            out.onNext(WatchResponse.newBuilder().setChanged(true).build());
            out.onCompleted();
        }
        // Any other key never fires: the caller's deadline ends the call.
    }

    @Override
    public void status(StatusRequest request, StreamObserver<StatusResponse> out) {
        out.onNext(StatusResponse.newBuilder().setStatus(dev.txkv.proto.Status.newBuilder().setAnsweredBy("fake")).build());
        out.onCompleted();
    }
}
