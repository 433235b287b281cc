package dev.txkv.server;

import com.google.protobuf.ByteString;
import dev.txkv.ErrorCode;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.proto.KeyRange;
import dev.txkv.spi.AtomicOps;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.Mutation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks every request against the limits before it reaches the engine, which trusts its
 * caller, and turns wire messages into the SPI's types. A request that fails here never
 * touches the database; the error says which limit and by how much.
 *
 * <p>Keys from 0xFF are the system keyspace. The server offers no system-key access yet, so
 * every key read or written must be below 0xFF; only a range's end may be exactly 0xFF (the
 * end of the user keyspace), as in FoundationDB without the access-system-keys option.
 */
final class RequestValidator {
    /** The end of the user keyspace. */
    private static final byte[] USER_KEYSPACE_END = {(byte) 0xFF};
    /** Longest idempotency id, as FoundationDB's. */
    static final int IDEMPOTENCY_ID_BYTES_MAX = 255;

    private final TxkvConfig limits;

    RequestValidator(TxkvConfig limits) {
        this.limits = limits;
    }

    static void checkProtocol(int version) {
        if (!ProtocolVersion.isSupported(version)) {
            throw new TxkvException(ErrorCode.PROTOCOL_VERSION_UNSUPPORTED, "Protocol version "
                    + Integer.toUnsignedString(version) + " is not supported; this server speaks " + ProtocolVersion.CURRENT);
        }
    }

    /** A key to read or write: within the size limit and below 0xFF. */
    byte[] key(ByteString key) {
        checkKeyLength(key.size(), limits.keySizeMax());
        if (!key.isEmpty() && key.byteAt(0) == (byte) 0xFF) {
            throw new TxkvException(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE,
                    "Keys from 0xFF are the system keyspace, which this server does not offer");
        }
        return key.toByteArray();
    }

    /** A read version of a read or watch: a version, never -1. */
    static long readVersion(long version) {
        if (version < 0) {
            throw new TxkvException(ErrorCode.VERSION_INVALID, "Read version must not be negative, got " + version);
        }
        return version;
    }

    /**
     * A range {@code [begin, end)} of user keys: not inverted, its end at most 0xFF, each bound
     * at most one byte longer than a key (a key's successor, key + 0x00, ends a point range).
     */
    Range range(ByteString begin, ByteString end) {
        byte[] b = begin.toByteArray();
        byte[] e = end.toByteArray();
        checkKeyLength(b.length, limits.keySizeMax() + 1);
        checkKeyLength(e.length, limits.keySizeMax() + 1);
        if (Arrays.compareUnsigned(b, e) > 0) {
            throw new TxkvException(ErrorCode.INVERTED_RANGE, "Range begin is after its end");
        }
        if (Arrays.compareUnsigned(e, USER_KEYSPACE_END) > 0) {
            throw new TxkvException(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE,
                    "Range end is past 0xFF, the end of the user keyspace");
        }
        return new Range(b, e);
    }

    /** Row limit of one GetRange call: 0 and anything above the server's maximum become the maximum. */
    static int rowLimit(int requested, int serverMax) {
        long rows = Integer.toUnsignedLong(requested);
        return rows == 0 || rows > serverMax ? serverMax : (int) rows;
    }

    /** Byte limit of one GetRange call: 0 and anything above the server's maximum become the maximum. */
    static long byteLimit(long requested, long serverMax) {
        // uint64 on the wire: a "negative" long is a value above 2^63, far above any maximum.
        return requested <= 0 || requested > serverMax ? serverMax : requested;
    }

    /**
     * A commit, checked whole: its read version, ranges, mutations, size and idempotency id.
     * Its write conflicts are the client's plus those its mutations imply ({@link WriteConflicts}),
     * and the size limit counts them all, as FoundationDB counts a transaction's conflict ranges.
     */
    CommitRequest commit(dev.txkv.proto.CommitRequest request) {
        long readVersion = request.getReadVersion();
        if (readVersion < -1) {
            throw new TxkvException(ErrorCode.VERSION_INVALID,
                    "Read version must be -1 (read nothing) or a version, got " + readVersion);
        }
        if (readVersion == -1 && request.getReadConflictsCount() > 0) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                    "A commit with read conflict ranges needs the read version they were read at");
        }
        long sizeBytes = 0;
        List<Range> reads = new ArrayList<>(request.getReadConflictsCount());
        for (KeyRange r : request.getReadConflictsList()) {
            reads.add(range(r.getBegin(), r.getEnd()));
            sizeBytes += r.getBegin().size() + r.getEnd().size();
        }
        // The client's write conflicts, merged with those its mutations imply; a range both
        // sent and implied (as the Java client sends them) goes to the resolver once.
        Set<Range> writes = new LinkedHashSet<>();
        for (KeyRange r : request.getWriteConflictsList()) {
            writes.add(range(r.getBegin(), r.getEnd()));
            sizeBytes += r.getBegin().size() + r.getEnd().size();
        }
        List<Mutation> mutations = new ArrayList<>(request.getMutationsCount());
        for (dev.txkv.proto.Mutation m : request.getMutationsList()) {
            Mutation checked = mutation(m);
            mutations.add(checked);
            sizeBytes += checked.sizeBytes();
            Range written = m.getNoWriteConflict() ? null : WriteConflicts.of(checked);
            if (written != null && writes.add(written)) {
                sizeBytes += written.begin.length + written.end.length;
            }
        }
        if (sizeBytes > limits.transactionSizeMax()) {
            throw new TxkvException(ErrorCode.TRANSACTION_TOO_LARGE, "Transaction of " + sizeBytes
                    + " bytes exceeds the limit of " + limits.transactionSizeMax());
        }
        ByteString id = request.getIdempotencyId();
        if (id.size() > IDEMPOTENCY_ID_BYTES_MAX) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Idempotency id of " + id.size()
                    + " bytes exceeds the limit of " + IDEMPOTENCY_ID_BYTES_MAX);
        }
        return new CommitRequest(readVersion, reads, List.copyOf(writes), mutations, id.isEmpty() ? null : id.toByteArray(),
                request.getReportConflictingKeys());
    }

    private Mutation mutation(dev.txkv.proto.Mutation m) {
        int type = m.getTypeValue();
        if (type == Mutation.SET) {
            byte[] key = key(m.getKey());
            return new Mutation(type, key, value(m.getParam()));
        }
        if (type == Mutation.CLEAR_RANGE) {
            Range r = range(m.getKey(), m.getParam());
            return new Mutation(type, r.begin, r.end);
        }
        MutationType atomic = atomicType(type);
        if (atomic == MutationType.SET_VERSIONSTAMPED_KEY) {
            byte[] key = m.getKey().toByteArray();
            int offset = AtomicOps.versionstampOffset(key);
            // Offset 0 puts the version's high byte first, which is 0 for any real version.
            checkKeyLength(key.length - AtomicOps.OFFSET_BYTES, limits.keySizeMax());
            if (offset > 0 && key[0] == (byte) 0xFF) {
                throw new TxkvException(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE,
                        "Keys from 0xFF are the system keyspace, which this server does not offer");
            }
            return new Mutation(type, key, value(m.getParam()));
        }
        byte[] key = key(m.getKey());
        if (atomic == MutationType.SET_VERSIONSTAMPED_VALUE) {
            byte[] param = m.getParam().toByteArray();
            AtomicOps.versionstampOffset(param);
            value(m.getParam().substring(0, param.length - AtomicOps.OFFSET_BYTES));
            return new Mutation(type, key, param);
        }
        return new Mutation(type, key, value(m.getParam()));
    }

    private static MutationType atomicType(int code) {
        for (MutationType t : MutationType.values()) {
            if (t.code() == code) {
                return t;
            }
        }
        throw new TxkvException(ErrorCode.INVALID_MUTATION_TYPE, "Unknown mutation type " + code);
    }

    private byte[] value(ByteString value) {
        if (value.size() > limits.valueSizeMax()) {
            throw new TxkvException(ErrorCode.VALUE_TOO_LARGE,
                    "Value of " + value.size() + " bytes exceeds the limit of " + limits.valueSizeMax());
        }
        return value.toByteArray();
    }

    private static void checkKeyLength(int length, int max) {
        if (length > max) {
            throw new TxkvException(ErrorCode.KEY_TOO_LARGE, "Key of " + length + " bytes exceeds the limit of " + max);
        }
    }
}
