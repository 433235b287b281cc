package dev.txkv.outbox;

import dev.txkv.tuple.Versionstamp;

/**
 * Where a named consumer stands in a change feed: it has processed every event at or before
 * {@code position}.
 *
 * @param consumer the consumer's name
 * @param position the last processed event's position; {@link Outbox#START} before the first
 */
public record Cursor(String consumer, Versionstamp position) {
}
