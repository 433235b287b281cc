package dev.txkv;

import java.util.concurrent.CompletableFuture;

/**
 * The read operations of a transaction. All reads see one consistent snapshot (at the read
 * version) together with the transaction's own writes. A read through {@link #snapshot()}
 * adds no read conflict range.
 */
public interface ReadTransaction {
    /** Default limit meaning "no limit" for range reads. */
    int ROW_LIMIT_UNLIMITED = 0;

    /** The value of {@code key}, or null if it has none. */
    CompletableFuture<byte[]> get(byte[] key);

    /** The key a selector names, resolved over the transaction's view of the database. */
    CompletableFuture<byte[]> getKey(KeySelector selector);

    /** Key-values with keys in {@code [begin, end)} in ascending order. */
    AsyncIterable<KeyValue> getRange(byte[] begin, byte[] end);

    /** As {@link #getRange(byte[], byte[])} with at most {@code limit} rows (0: no limit). */
    AsyncIterable<KeyValue> getRange(byte[] begin, byte[] end, int limit);

    /** As above; {@code reverse} reads from the end of the range backwards. */
    AsyncIterable<KeyValue> getRange(byte[] begin, byte[] end, int limit, boolean reverse);

    /** As above, with a streaming mode that only changes how rows are fetched. */
    AsyncIterable<KeyValue> getRange(byte[] begin, byte[] end, int limit, boolean reverse, StreamingMode mode);

    /** Key-values in a {@link Range}. */
    AsyncIterable<KeyValue> getRange(Range range);

    /** As above with a limit. */
    AsyncIterable<KeyValue> getRange(Range range, int limit);

    /** As above with a limit and direction. */
    AsyncIterable<KeyValue> getRange(Range range, int limit, boolean reverse);

    /** As above with a streaming mode. */
    AsyncIterable<KeyValue> getRange(Range range, int limit, boolean reverse, StreamingMode mode);

    /** Key-values between two selectors. */
    AsyncIterable<KeyValue> getRange(KeySelector begin, KeySelector end);

    /** As above with a limit. */
    AsyncIterable<KeyValue> getRange(KeySelector begin, KeySelector end, int limit);

    /** As above with a limit and direction. */
    AsyncIterable<KeyValue> getRange(KeySelector begin, KeySelector end, int limit, boolean reverse);

    /** As above with a streaming mode. */
    AsyncIterable<KeyValue> getRange(KeySelector begin, KeySelector end, int limit, boolean reverse, StreamingMode mode);

    /** The read version, fetched (and batched with other transactions) on first need. */
    CompletableFuture<Long> getReadVersion();

    /** Fixes the read version instead of fetching one. Must come before any read. */
    void setReadVersion(long version);

    /** True for the view returned by {@link #snapshot()}. */
    boolean isSnapshot();

    /** A view of this transaction whose reads add no read conflict ranges. */
    ReadTransaction snapshot();

    /** Adds a read conflict range unless this is a snapshot view; returns whether it did. */
    boolean addReadConflictRangeIfNotSnapshot(byte[] begin, byte[] end);

    /** Adds a read conflict on one key unless this is a snapshot view; returns whether it did. */
    boolean addReadConflictKeyIfNotSnapshot(byte[] key);

    /** The options of this transaction. */
    TransactionOptions options();
}
