package dev.txkv.queue;

import dev.txkv.tuple.Versionstamp;

/**
 * A message that used up its attempts and waits in the dead-letter queue for inspection or
 * {@link Queue#replayDeadLetters replay}.
 *
 * @param id the item's id, kept from enqueue
 * @param partition the partition it belongs to
 * @param priority its priority level
 * @param payload the bytes enqueued
 * @param attempts how many deliveries were made
 * @param enqueuedAtMs when it was first enqueued
 * @param deadAtMs when it was dead-lettered
 * @param lastError the error of the last nack, or why it was dead-lettered
 */
public record DeadLetter(Versionstamp id, String partition, int priority, byte[] payload, int attempts,
        long enqueuedAtMs, long deadAtMs, String lastError) {
}
