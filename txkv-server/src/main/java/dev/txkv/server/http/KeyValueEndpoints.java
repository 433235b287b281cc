package dev.txkv.server.http;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Int64Value;
import com.google.protobuf.Message;
import dev.txkv.ErrorCode;
import dev.txkv.proto.CommitRequest;
import dev.txkv.proto.CommitResponse;
import dev.txkv.proto.GetRangeRequest;
import dev.txkv.proto.GetRangeResponse;
import dev.txkv.proto.GetReadVersionRequest;
import dev.txkv.proto.GetRequest;
import dev.txkv.proto.GetResponse;
import dev.txkv.proto.KeyRange;
import dev.txkv.proto.KeyValue;
import dev.txkv.proto.Mutation;
import dev.txkv.proto.MutationType;
import dev.txkv.proto.TxkvGrpc;
import dev.txkv.server.ProtocolVersion;
import dev.txkv.server.TxkvService;
import io.grpc.Channel;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The curl-friendly endpoints: {@code /v1/kv/{key}} (GET, PUT, DELETE), {@code GET /v1/range}
 * and {@code POST /v1/transaction}. They only assemble requests of the gRPC service and call it
 * through the channel, so the service's checks (sizes, ranges, versions) are the only checks.
 *
 * <p>A stateless client does an optimistic read-modify-write in two requests: a read returns
 * its read version in {@value #READ_VERSION_HEADER}, and a one-shot transaction sent with that
 * {@code readVersion} and the keys read as {@code reads} commits only if none of them changed
 * meanwhile (409, not_committed, otherwise: read again and retry).
 */
final class KeyValueEndpoints {
    static final String READ_VERSION_HEADER = "X-Txkv-Read-Version";
    static final String COMMIT_VERSION_HEADER = "X-Txkv-Commit-Version";
    static final String KV_PREFIX = "/v1/kv/";
    /** The most rows one GET /v1/range returns; more is refused rather than silently capped. */
    static final int RANGE_ROWS_MAX = 10_000;
    static final int RANGE_ROWS_DEFAULT = 1_000;

    private final Channel channel;
    private final long deadlineMs;

    KeyValueEndpoints(Channel channel, long deadlineMs) {
        this.channel = channel;
        this.deadlineMs = deadlineMs;
    }

    private TxkvGrpc.TxkvBlockingStub stub() {
        return TxkvGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------- /v1/kv/{key}

    void get(HttpCall call) throws IOException {
        call.allowQuery(Set.of("encoding", "readVersion"));
        KeyEncoding encoding = KeyEncoding.of(call.query("encoding"));
        ByteString key = pathKey(call, encoding);
        // Without ?readVersion= one Get that takes a new read version and returns it.
        long asked = call.query("readVersion") == null ? TxkvService.ASSIGN_READ_VERSION : readVersion(call);
        GetResponse response = grpc(() -> stub().get(GetRequest.newBuilder()
                .setProtocolVersion(ProtocolVersion.CURRENT).setKey(key).setReadVersion(asked).build()));
        long readVersion = response.hasReadVersion() ? response.getReadVersion().getValue() : asked;
        call.header(READ_VERSION_HEADER, Long.toString(readVersion));
        if (!response.getPresent()) {
            throw HttpError.httpOnly(404, "key_not_found", "The key is absent at read version " + readVersion);
        }
        if (!call.acceptsJson()) {
            call.respond(200, "application/octet-stream", response.getValue().toByteArray());
            return;
        }
        Descriptor type = encoding == KeyEncoding.BASE64 ? GatewayDocuments.BINARY_ENTRY : GatewayDocuments.ENTRY;
        DynamicMessage entry = GatewayDocuments.builder(type)
                .setField(field(type, "key"), encoding.encode(key, "key"))
                .setField(field(type, "value"), encoding.encode(response.getValue(), "value"))
                .setField(field(type, "read_version"), readVersion)
                .build();
        call.respondJson(200, GatewayDocuments.print(entry));
    }

    void put(HttpCall call) throws IOException {
        call.allowQuery(Set.of("encoding"));
        KeyEncoding encoding = KeyEncoding.of(call.query("encoding"));
        ByteString key = pathKey(call, encoding);
        // The body is the value's bytes as sent: encoding applies to the key in the path only.
        ByteString value = ByteString.copyFrom(call.body());
        commitOne(call, Mutation.newBuilder().setType(MutationType.SET_VALUE).setKey(key).setParam(value).build());
    }

    void delete(HttpCall call) throws IOException {
        call.allowQuery(Set.of("encoding"));
        KeyEncoding encoding = KeyEncoding.of(call.query("encoding"));
        ByteString key = pathKey(call, encoding);
        commitOne(call, Mutation.newBuilder().setType(MutationType.CLEAR_RANGE).setKey(key).setParam(keyAfter(key)).build());
    }

    /**
     * A blind one-key write: it read nothing, so it needs no read version and cannot conflict.
     * The service records the key as written for the resolver.
     */
    private void commitOne(HttpCall call, Mutation mutation) throws IOException {
        CommitRequest request = CommitRequest.newBuilder()
                .setProtocolVersion(ProtocolVersion.CURRENT)
                .setReadVersion(-1)
                .addMutations(mutation)
                .build();
        respondCommit(call, grpc(() -> stub().commit(request)));
    }

    private static void respondCommit(HttpCall call, CommitResponse response) throws IOException {
        call.header(COMMIT_VERSION_HEADER, Long.toString(response.getVersion()));
        call.respondJson(200, GatewayDocuments.print(response));
    }

    private static ByteString pathKey(HttpCall call, KeyEncoding encoding) {
        String raw = call.rawPath.substring(KV_PREFIX.length());
        return encoding.decodeUrlBytes(HttpCall.percentDecode(raw, false), "key in the path");
    }

    /** The read version the client gave, or a fresh one from GetReadVersion. */
    private long readVersion(HttpCall call) {
        String given = call.query("readVersion");
        if (given != null) {
            long version;
            try {
                version = Long.parseLong(given);
            } catch (NumberFormatException e) {
                throw HttpError.of(400, ErrorCode.VERSION_INVALID, "readVersion must be an integer, not '" + given + "'");
            }
            if (version < 0) {
                throw HttpError.of(400, ErrorCode.VERSION_INVALID, "readVersion must not be negative, got " + version);
            }
            return version;
        }
        return grpc(() -> stub().getReadVersion(GetReadVersionRequest.newBuilder()
                .setProtocolVersion(ProtocolVersion.CURRENT).build())).getReadVersion();
    }

    // ---------------------------------------------------------------- /v1/range

    void range(HttpCall call) throws IOException {
        call.allowQuery(Set.of("begin", "end", "limit", "reverse", "encoding", "readVersion"));
        KeyEncoding encoding = KeyEncoding.of(call.query("encoding"));
        byte[] beginText = call.queryBytes("begin");
        byte[] endText = call.queryBytes("end");
        // Without bounds: the whole user keyspace, [empty, \xff), as FoundationDB's.
        ByteString begin = beginText == null ? ByteString.EMPTY : encoding.decodeUrlBytes(beginText, "begin key");
        ByteString end = endText == null ? ByteString.copyFrom(new byte[] {(byte) 0xff}) : encoding.decodeUrlBytes(endText, "end key");
        int limit = limit(call.query("limit"));
        boolean reverse = bool(call.query("reverse"), "reverse");
        long readVersion = readVersion(call);
        GetRangeRequest request = GetRangeRequest.newBuilder()
                .setProtocolVersion(ProtocolVersion.CURRENT)
                .setBegin(begin).setEnd(end).setRowLimit(limit).setReverse(reverse).setReadVersion(readVersion)
                .build();
        Descriptor rowsType = encoding == KeyEncoding.BASE64 ? GatewayDocuments.BINARY_ROWS : GatewayDocuments.ROWS;
        DynamicMessage.Builder rows = GatewayDocuments.builder(rowsType);
        boolean more = grpc(() -> {
            boolean last = false;
            int count = 0;
            Iterator<GetRangeResponse> it = stub().getRange(request);
            while (it.hasNext()) {
                GetRangeResponse chunk = it.next();
                for (KeyValue kv : chunk.getRowsList()) {
                    rows.addRepeatedField(field(rowsType, "rows"), row(encoding, kv));
                    count++;
                }
                last = chunk.getMore();
            }
            if (count > limit) {
                throw HttpError.of(500, ErrorCode.INTERNAL_ERROR, "The service returned " + count + " rows for limit " + limit);
            }
            return last;
        });
        rows.setField(field(rowsType, "more"), more)
                .setField(field(rowsType, "read_version"), readVersion);
        call.header(READ_VERSION_HEADER, Long.toString(readVersion));
        call.respondJson(200, GatewayDocuments.print(rows));
    }

    private static Message row(KeyEncoding encoding, KeyValue kv) {
        Descriptor type = encoding == KeyEncoding.BASE64 ? GatewayDocuments.BINARY_ROW : GatewayDocuments.ROW;
        return GatewayDocuments.builder(type)
                .setField(field(type, "key"), encoding.encode(kv.getKey(), "key"))
                .setField(field(type, "value"), encoding.encode(kv.getValue(), "value"))
                .build();
    }

    private static int limit(String text) {
        if (text == null) {
            return RANGE_ROWS_DEFAULT;
        }
        long limit;
        try {
            limit = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw HttpError.of(400, ErrorCode.RANGE_LIMITS_INVALID, "limit must be an integer, not '" + text + "'");
        }
        if (limit < 1 || limit > RANGE_ROWS_MAX) {
            throw HttpError.of(400, ErrorCode.RANGE_LIMITS_INVALID, "limit must be between 1 and " + RANGE_ROWS_MAX);
        }
        return (int) limit;
    }

    private static boolean bool(String text, String name) {
        if (text == null || text.equals("false")) {
            return false;
        }
        if (text.equals("true") || text.isEmpty()) {
            return true;
        }
        throw HttpError.badRequest(name + " must be true or false, not '" + text + "'");
    }

    // ---------------------------------------------------------------- /v1/transaction

    void transaction(HttpCall call) throws IOException {
        call.allowQuery(Set.of());
        DynamicMessage.Builder document = GatewayDocuments.builder(GatewayDocuments.TRANSACTION);
        GatewayDocuments.parse(call.bodyText(), document);
        CommitRequest request = commitRequest(document.build());
        respondCommit(call, grpc(() -> stub().commit(request)));
    }

    /**
     * The CommitRequest a transaction document stands for: the write conflicts given explicitly
     * only, since the service adds those the mutations imply to every commit.
     */
    static CommitRequest commitRequest(DynamicMessage doc) {
        Descriptor t = GatewayDocuments.TRANSACTION;
        KeyEncoding encoding = KeyEncoding.of((String) doc.getField(field(t, "encoding")));
        CommitRequest.Builder request = CommitRequest.newBuilder().setProtocolVersion(ProtocolVersion.CURRENT);
        request.setReadVersion(doc.hasField(field(t, "read_version"))
                ? readVersionOf((Message) doc.getField(field(t, "read_version"))) : -1);
        for (Object key : list(doc, "reads")) {
            ByteString k = encoding.decode((String) key, "read key");
            request.addReadConflicts(KeyRange.newBuilder().setBegin(k).setEnd(keyAfter(k)));
        }
        for (Object range : list(doc, "read_conflicts")) {
            request.addReadConflicts(range(encoding, (Message) range, "read conflict"));
        }
        for (Object range : list(doc, "write_conflicts")) {
            request.addWriteConflicts(range(encoding, (Message) range, "write conflict"));
        }
        for (Object m : list(doc, "mutations")) {
            request.addMutations(mutation(encoding, (Message) m));
        }
        String idempotencyId = (String) doc.getField(field(t, "idempotency_id"));
        if (!idempotencyId.isEmpty()) {
            request.setIdempotencyId(encoding.decode(idempotencyId, "idempotencyId"));
        }
        request.setReportConflictingKeys((Boolean) doc.getField(field(t, "report_conflicting_keys")));
        return request.build();
    }

    private static long readVersionOf(Message wrapper) {
        return ((Int64Value) Int64Value.newBuilder().mergeFrom(wrapper).build()).getValue();
    }

    private static List<?> list(DynamicMessage doc, String name) {
        return (List<?>) doc.getField(field(GatewayDocuments.TRANSACTION, name));
    }

    private static KeyRange range(KeyEncoding encoding, Message range, String what) {
        return KeyRange.newBuilder()
                .setBegin(encoding.decode((String) range.getField(field(GatewayDocuments.RANGE, "begin")), what + " begin"))
                .setEnd(encoding.decode((String) range.getField(field(GatewayDocuments.RANGE, "end")), what + " end"))
                .build();
    }

    private static Mutation mutation(KeyEncoding encoding, Message m) {
        Descriptor d = GatewayDocuments.MUTATION;
        int type = ((com.google.protobuf.Descriptors.EnumValueDescriptor) m.getField(field(d, "type"))).getNumber();
        MutationType mutationType = MutationType.forNumber(type);
        if (mutationType == null) {
            throw HttpError.of(400, ErrorCode.INVALID_MUTATION_TYPE, "Unknown mutation type " + type);
        }
        return Mutation.newBuilder()
                .setType(mutationType)
                .setKey(encoding.decode((String) m.getField(field(d, "key")), "mutation key"))
                .setParam(encoding.decode((String) m.getField(field(d, "param")), "mutation param"))
                .build();
    }

    // ---------------------------------------------------------------- helpers

    static ByteString keyAfter(ByteString key) {
        return key.concat(ByteString.copyFrom(new byte[] {0}));
    }

    private static com.google.protobuf.Descriptors.FieldDescriptor field(Descriptor type, String name) {
        return GatewayDocuments.field(type, name);
    }

    /** Runs a gRPC call; its failure becomes the HTTP error its trailers name. */
    static <T> T grpc(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (HttpError e) {
            throw e;
        } catch (RuntimeException e) {
            throw HttpError.fromGrpc(e);
        }
    }
}
