package dev.txkv.server;

import dev.txkv.ByteArrays;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.spi.AtomicOps;
import dev.txkv.spi.Mutation;
import java.util.Arrays;

/**
 * The write conflict range a mutation implies, which the server records for the resolver
 * whatever the client sent: a commit that only lists its mutations must still make every
 * concurrent reader of what it wrote conflict, or a read-modify-write elsewhere loses its
 * update. These are the ranges FoundationDB's client adds for each write:
 *
 * <ul>
 *   <li>a set or an atomic operation (set versionstamped value included): the key,
 *       {@code [key, key + 0x00)};
 *   <li>a clear range: the cleared range {@code [begin, end)};
 *   <li>a set versionstamped key: every key the stamp can produce, from the key with its
 *       10-byte stamp all 0x00 to the key with it all 0xFF, inclusive (the end clamped to
 *       0xFF, the end of the user keyspace). The engine also records the one key written.
 * </ul>
 *
 * Both gRPC Commit and CommitMany, and through them every commit of the HTTP gateway, get
 * their ranges here ({@link RequestValidator#commit}). A mutation sent with
 * {@code no_write_conflict} gets none, as FoundationDB's next_write_no_write_conflict_range.
 */
final class WriteConflicts {
    private static final byte[] USER_KEYSPACE_END = {(byte) 0xFF};
    private static final byte[] STAMP_LOWEST = new byte[AtomicOps.VERSIONSTAMP_BYTES];
    private static final byte[] STAMP_HIGHEST = new byte[AtomicOps.VERSIONSTAMP_BYTES];

    static {
        Arrays.fill(STAMP_HIGHEST, (byte) 0xFF);
    }

    private WriteConflicts() {
    }

    /** The range {@code m} writes, or null when it writes nothing (an empty clear range); {@code m} is checked. */
    static Range of(Mutation m) {
        if (m.type() == Mutation.CLEAR_RANGE) {
            return Arrays.compareUnsigned(m.key(), m.param()) < 0 ? new Range(m.key(), m.param()) : null;
        }
        if (m.type() == MutationType.SET_VERSIONSTAMPED_KEY.code()) {
            byte[] lowest = AtomicOps.placeVersionstamp(m.key(), STAMP_LOWEST);
            byte[] end = ByteArrays.keyAfter(AtomicOps.placeVersionstamp(m.key(), STAMP_HIGHEST));
            return new Range(lowest, Arrays.compareUnsigned(end, USER_KEYSPACE_END) > 0 ? USER_KEYSPACE_END : end);
        }
        return new Range(m.key(), ByteArrays.keyAfter(m.key()));
    }
}
