package dev.txkv.remote;

import dev.txkv.KeyValue;
import dev.txkv.Range;
import dev.txkv.proto.KeyRange;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.wire.WireCommits;
import java.util.ArrayList;
import java.util.List;

/** Conversions between the backend SPI's records and the wire messages of protocol version 1. */
final class ProtoCodec {
    /** The protocol version every request carries. */
    static final int PROTOCOL_VERSION = WireCommits.PROTOCOL_VERSION;

    private ProtoCodec() {
    }

    static dev.txkv.proto.CommitRequest commitRequest(CommitRequest request) {
        return WireCommits.toProto(request);
    }

    static CommitResult commitResult(dev.txkv.proto.CommitResponse response) {
        return new CommitResult(response.getVersion(), response.getBatchOrder());
    }

    static KeyRange keyRange(Range r) {
        return WireCommits.keyRange(r);
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
