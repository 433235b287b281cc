package dev.txkv.queue;

import dev.txkv.tuple.Versionstamp;

/**
 * A delivered message with the lease that must accompany its ack, nack or extension.
 * {@code payload} is the caller's array as stored; do not modify it.
 *
 * @param id the item's id: the versionstamp of the enqueuing transaction, unique and in commit order
 * @param partition the partition (tenant) it was enqueued to
 * @param priority its priority level (0 is served first)
 * @param payload the bytes enqueued
 * @param attempt which delivery this is, counting from 1
 * @param enqueuedAtMs when it was first enqueued, by the enqueuer's clock
 * @param lastError the error given with the latest nack, or null
 * @param lease the lease under which this delivery holds the item
 */
public record Message(Versionstamp id, String partition, int priority, byte[] payload, int attempt,
        long enqueuedAtMs, String lastError, Lease lease) {
}
