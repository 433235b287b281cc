package dev.txkv.wire;

import com.google.protobuf.ByteString;
import dev.txkv.Range;
import dev.txkv.proto.KeyRange;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.Mutation;

/**
 * A commit as it travels: the backend SPI's {@link CommitRequest} as the wire's
 * {@code txkv.v1.CommitRequest}, for clients (service Txkv) and for servers that forward a
 * commit or a two-phase slice to another (service ShardPeer). Servers read one back with their
 * request checks.
 */
public final class WireCommits {
    /** The protocol version every request carries. */
    public static final int PROTOCOL_VERSION = 1;

    private WireCommits() {
    }

    /** {@code request} as a wire message of protocol version 1. */
    public static dev.txkv.proto.CommitRequest toProto(CommitRequest request) {
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

    /** {@code r} as a wire key range. */
    public static KeyRange keyRange(Range r) {
        return KeyRange.newBuilder().setBegin(ByteString.copyFrom(r.begin)).setEnd(ByteString.copyFrom(r.end)).build();
    }
}
