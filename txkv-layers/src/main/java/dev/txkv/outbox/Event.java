package dev.txkv.outbox;

import dev.txkv.tuple.Versionstamp;

/**
 * One event of an {@link Outbox}. {@code payload} is the stored array; do not modify it.
 *
 * @param position the versionstamp of the committing transaction plus the event's order
 *     within it: unique, and ascending in commit order
 * @param key the entity the event is about (e.g. an order id); events of one key are in the
 *     order their transactions committed
 * @param type the kind of event, e.g. {@code "order-placed"}
 * @param payload the event body
 * @param createdAtMs when the publishing transaction ran, by the publisher's clock (informative only)
 */
public record Event(Versionstamp position, String key, String type, byte[] payload, long createdAtMs) {
}
