package dev.txkv.remote;

import com.google.protobuf.ByteString;
import dev.txkv.KeyValue;
import dev.txkv.Range;
import dev.txkv.proto.KeyRange;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Mutation;
import java.util.ArrayList;
import java.util.List;

/** Conversions between the backend SPI's records and the wire messages of protocol version 1. */
final class ProtoCodec {
    /** The protocol version every request carries. */
    static final int PROTOCOL_VERSION = 1;

    private ProtoCodec() {
    }

    static dev.txkv.proto.CommitRequest commitRequest(CommitRequest request) {
        dev.txkv.proto.CommitRequest.Builder b = dev.txkv.proto.CommitRequest.newBuilder()
                .setProtocolVersion(PROTOCOL_VERSION)
                .setReadVersion(request.readVersion())
                .setReportConflictingKeys(request.reportConflictingKeys());
        for (Range r : request.readConflicts()) {
            b.addReadConflicts(keyRange(r));
        }
        for (Range r : request.writeConflicts()) {
            b.addWriteConflicts(keyRange(r));
        }
        for (Mutation m : request.mutations()) {
            // The SPI's type codes are FoundationDB's, as are the wire enum's numbers.
            b.addMutations(dev.txkv.proto.Mutation.newBuilder()
                    .setTypeValue(m.type())
                    .setKey(ByteString.copyFrom(m.key()))
                    .setParam(m.param() == null ? ByteString.EMPTY : ByteString.copyFrom(m.param())));
        }
        if (request.idempotencyId() != null) {
            b.setIdempotencyId(ByteString.copyFrom(request.idempotencyId()));
        }
        return b.build();
    }

    static CommitResult commitResult(dev.txkv.proto.CommitResponse response) {
        return new CommitResult(response.getVersion(), response.getBatchOrder());
    }

    static KeyRange keyRange(Range r) {
        return KeyRange.newBuilder().setBegin(ByteString.copyFrom(r.begin)).setEnd(ByteString.copyFrom(r.end)).build();
    }

    static void addRows(List<KeyValue> out, List<dev.txkv.proto.KeyValue> rows) {
        for (dev.txkv.proto.KeyValue kv : rows) {
            out.add(new KeyValue(kv.getKey().toByteArray(), kv.getValue().toByteArray()));
        }
    }

    static List<KeyValue> newRowList(int rowLimit) {
        return new ArrayList<>(Math.min(Math.max(rowLimit, 0), 1_024));
    }
}
