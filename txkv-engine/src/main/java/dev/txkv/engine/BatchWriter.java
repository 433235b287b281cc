package dev.txkv.engine;

import dev.txkv.MutationType;
import dev.txkv.spi.AtomicOps;
import dev.txkv.spi.Mutation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Turns the mutations of one commit batch into one RocksDB write batch, computing atomic
 * operations against the latest state plus the batch's own earlier writes (an overlay), so
 * that every transaction in the batch sees those before it. Also records which keys and
 * ranges changed, for watches.
 */
final class BatchWriter implements AutoCloseable {
    /** A key's value after this batch so far; null value means cleared. */
    private final TreeMap<byte[], byte[]> overlay = new TreeMap<>(Arrays::compareUnsigned);
    private final List<byte[]> clearedRanges = new ArrayList<>();
    private final Storage storage;
    private final int valueSizeMax;
    final WriteBatch batch = new WriteBatch();

    BatchWriter(Storage storage, int valueSizeMax) {
        this.storage = storage;
        this.valueSizeMax = valueSizeMax;
    }

    /** Applies one mutation; returns the key actually written for versionstamped keys, else null. */
    byte[] apply(Mutation m, byte[] versionstamp) throws RocksDBException {
        switch (m.type()) {
            case Mutation.SET:
                put(m.key(), m.param());
                return null;
            case Mutation.CLEAR_RANGE:
                if (m.isPointClear()) {
                    delete(m.key());
                } else {
                    clearRange(m.key(), m.param());
                }
                return null;
            default:
                break;
        }
        MutationType type = MutationType.ofCode(m.type());
        if (type == MutationType.SET_VERSIONSTAMPED_KEY) {
            byte[] key = AtomicOps.placeVersionstamp(m.key(), versionstamp);
            put(key, m.param());
            return key;
        }
        if (type == MutationType.SET_VERSIONSTAMPED_VALUE) {
            put(m.key(), AtomicOps.placeVersionstamp(m.param(), versionstamp));
            return null;
        }
        byte[] result = AtomicOps.apply(type, current(m.key()), m.param(), valueSizeMax);
        if (result == null) {
            delete(m.key());
        } else {
            put(m.key(), result);
        }
        return null;
    }

    private void put(byte[] key, byte[] value) throws RocksDBException {
        overlay.put(key, value);
        batch.put(storage.data, key, value);
    }

    private void delete(byte[] key) throws RocksDBException {
        overlay.put(key, null);
        batch.delete(storage.data, key);
    }

    private void clearRange(byte[] begin, byte[] end) throws RocksDBException {
        overlay.subMap(begin, true, end, false).clear();
        clearedRanges.add(begin);
        clearedRanges.add(end);
        batch.deleteRange(storage.data, begin, end);
    }

    /** The key's value as of the batch so far. */
    private byte[] current(byte[] key) {
        if (overlay.containsKey(key)) {
            return overlay.get(key);
        }
        for (int i = 0; i < clearedRanges.size(); i += 2) {
            if (Arrays.compareUnsigned(clearedRanges.get(i), key) <= 0
                    && Arrays.compareUnsigned(key, clearedRanges.get(i + 1)) < 0) {
                return null;
            }
        }
        return storage.getLatest(storage.data, key);
    }

    /** Keys set or cleared one by one, with their final values in this batch. */
    Map<byte[], byte[]> pointChanges() {
        return overlay;
    }

    /** Cleared ranges as begin, end pairs. */
    List<byte[]> clearedRanges() {
        return clearedRanges;
    }

    boolean isEmpty() {
        return overlay.isEmpty() && clearedRanges.isEmpty();
    }

    @Override
    public void close() {
        batch.close();
    }
}
