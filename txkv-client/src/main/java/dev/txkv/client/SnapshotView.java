package dev.txkv.client;

import dev.txkv.AsyncIterable;
import dev.txkv.KeySelector;
import dev.txkv.KeyValue;
import dev.txkv.Range;
import dev.txkv.ReadTransaction;
import dev.txkv.StreamingMode;
import dev.txkv.TransactionOptions;
import java.util.concurrent.CompletableFuture;

/** The snapshot view of a transaction: same reads, no read conflict ranges. */
final class SnapshotView implements ReadTransaction {
    private final ClientTransaction tr;

    SnapshotView(ClientTransaction tr) {
        this.tr = tr;
    }

    @Override
    public CompletableFuture<byte[]> get(byte[] key) {
        return tr.get(key, true);
    }

    @Override
    public CompletableFuture<byte[]> getKey(KeySelector selector) {
        return tr.getKey(selector, true);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(byte[] begin, byte[] end) {
        return tr.range(begin, end, 0, false, StreamingMode.ITERATOR, true);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(byte[] begin, byte[] end, int limit) {
        return tr.range(begin, end, limit, false, StreamingMode.ITERATOR, true);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(byte[] begin, byte[] end, int limit, boolean reverse) {
        return tr.range(begin, end, limit, reverse, StreamingMode.ITERATOR, true);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(byte[] begin, byte[] end, int limit, boolean reverse, StreamingMode mode) {
        return tr.range(begin, end, limit, reverse, mode, true);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(Range range) {
        return tr.range(range.begin, range.end, 0, false, StreamingMode.ITERATOR, true);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(Range range, int limit) {
        return tr.range(range.begin, range.end, limit, false, StreamingMode.ITERATOR, true);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(Range range, int limit, boolean reverse) {
        return tr.range(range.begin, range.end, limit, reverse, StreamingMode.ITERATOR, true);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(Range range, int limit, boolean reverse, StreamingMode mode) {
        return tr.range(range.begin, range.end, limit, reverse, mode, true);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(KeySelector begin, KeySelector end) {
        return tr.range(begin, end, 0, false, StreamingMode.ITERATOR, true);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(KeySelector begin, KeySelector end, int limit) {
        return tr.range(begin, end, limit, false, StreamingMode.ITERATOR, true);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(KeySelector begin, KeySelector end, int limit, boolean reverse) {
        return tr.range(begin, end, limit, reverse, StreamingMode.ITERATOR, true);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(KeySelector begin, KeySelector end, int limit, boolean reverse,
            StreamingMode mode) {
        return tr.range(begin, end, limit, reverse, mode, true);
    }

    @Override
    public CompletableFuture<Long> getReadVersion() {
        return tr.getReadVersion();
    }

    @Override
    public void setReadVersion(long version) {
        tr.setReadVersion(version);
    }

    @Override
    public boolean isSnapshot() {
        return true;
    }

    @Override
    public ReadTransaction snapshot() {
        return this;
    }

    @Override
    public boolean addReadConflictRangeIfNotSnapshot(byte[] begin, byte[] end) {
        return false;
    }

    @Override
    public boolean addReadConflictKeyIfNotSnapshot(byte[] key) {
        return false;
    }

    @Override
    public TransactionOptions options() {
        return tr.options();
    }
}
