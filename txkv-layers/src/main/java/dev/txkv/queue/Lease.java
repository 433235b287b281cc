package dev.txkv.queue;

import dev.txkv.tuple.Tuple;
import dev.txkv.tuple.Versionstamp;
import java.util.UUID;

/**
 * The right to acknowledge, reject or extend one delivered message, until {@code expiresAtMs}.
 * It names where the leased item now lies ({@code partition}, {@code priority},
 * {@code expiresAtMs}, {@code itemId}) and the random {@code leaseId} that the item's record
 * carries while this lease holds it. Once the lease expires and another consumer takes the
 * item, the record moves and carries another lease id, so this lease no longer works.
 *
 * @param partition the partition (tenant) of the item
 * @param priority the item's priority level
 * @param itemId the item's id: the versionstamp of the transaction that enqueued it
 * @param leaseId this lease's random id
 * @param expiresAtMs when the item becomes visible again, by the queue's clock
 */
public record Lease(String partition, int priority, Versionstamp itemId, UUID leaseId, long expiresAtMs) {
    /** The item's key relative to the queue's item subspace. */
    Tuple itemTuple() {
        return Tuple.from(partition, (long) priority, expiresAtMs, itemId);
    }

    /** The lease id as the 16 bytes stored in the item's record. */
    byte[] leaseIdBytes() {
        return uuidBytes(leaseId);
    }

    static byte[] uuidBytes(UUID id) {
        byte[] out = new byte[16];
        long hi = id.getMostSignificantBits();
        long lo = id.getLeastSignificantBits();
        for (int i = 0; i < 8; i++) {
            out[i] = (byte) (hi >>> (56 - 8 * i));
            out[8 + i] = (byte) (lo >>> (56 - 8 * i));
        }
        return out;
    }
}
