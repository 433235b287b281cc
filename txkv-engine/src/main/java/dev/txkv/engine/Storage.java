package dev.txkv.engine;

import dev.txkv.ErrorCode;
import dev.txkv.KeyValue;
import dev.txkv.TxkvException;
import dev.txkv.spi.RangeChunk;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * RocksDB as txkv's store: the latest state of every key, the commit log (RocksDB's own
 * write-ahead log, fsynced once per commit batch) and metadata, in three column families.
 *
 * <pre>
 * column family "default"      user key            -> value
 * column family "meta"         "version"           -> 8-byte big-endian last committed version
 * column family "idempotency"  idempotency id      -> [version 8][batch order 2][commit time ms 8]
 * </pre>
 *
 * Older versions are read through RocksDB snapshots ({@link VersionView}).
 */
final class Storage implements AutoCloseable {
    static final byte[] META_VERSION = "version".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** Replicated engines: the Raft log index of the last applied batch, written with it. */
    static final byte[] META_RAFT_APPLIED = "raft_applied".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** Range deletions a memtable may hold before it is flushed. */
    static final int MEMTABLE_RANGE_DELETIONS_MAX = 256;

    static {
        RocksDB.loadLibrary();
    }

    final RocksDB db;
    final ColumnFamilyHandle data;
    final ColumnFamilyHandle meta;
    final ColumnFamilyHandle idempotency;
    private final List<ColumnFamilyHandle> handles;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final LRUCache cache;
    private final WriteOptions writeOptions;

    Storage(Path dir, boolean durable) {
        cache = new LRUCache(256L << 20);
        BlockBasedTableConfig table = new BlockBasedTableConfig()
                .setBlockCache(cache)
                .setFilterPolicy(new BloomFilter(10, false))
                .setCacheIndexAndFilterBlocks(true);
        // Every read and range clear works through all range deletions still in the memtable, so
        // a workload of small clears would slow down with each one until the memtable filled:
        // flushing after a bounded number keeps their cost constant (SST files index them once).
        cfOptions = new ColumnFamilyOptions().setTableFormatConfig(table).optimizeLevelStyleCompaction()
                .setMemtableMaxRangeDeletions(MEMTABLE_RANGE_DELETIONS_MAX);
        dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
                .setParanoidChecks(true).setMaxBackgroundJobs(2).setKeepLogFileNum(5);
        List<ColumnFamilyDescriptor> descriptors = List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
                new ColumnFamilyDescriptor("meta".getBytes(java.nio.charset.StandardCharsets.US_ASCII), cfOptions),
                new ColumnFamilyDescriptor("idempotency".getBytes(java.nio.charset.StandardCharsets.US_ASCII), cfOptions));
        handles = new ArrayList<>();
        try {
            db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
        } catch (RocksDBException e) {
            cfOptions.close();
            dbOptions.close();
            cache.close();
            throw new TxkvException(ErrorCode.DATA_DIRECTORY_INVALID,
                    "Cannot open the store in " + dir + " (left untouched): " + e.getMessage(), e);
        }
        data = handles.get(0);
        meta = handles.get(1);
        idempotency = handles.get(2);
        writeOptions = new WriteOptions().setSync(durable);
    }

    /** The last committed version recorded in the store; 0 for a new store. */
    long lastVersion() {
        return metaLong(META_VERSION);
    }

    /** The Raft index of the last applied batch; 0 for a new or unreplicated store. */
    long raftAppliedIndex() {
        return metaLong(META_RAFT_APPLIED);
    }

    private long metaLong(byte[] name) {
        byte[] v = getLatest(meta, name);
        if (v == null) {
            return 0;
        }
        if (v.length != 8) {
            throw new TxkvException(ErrorCode.DATA_DIRECTORY_INVALID, "Corrupt version record of " + v.length + " bytes");
        }
        return ByteBuffer.wrap(v).getLong();
    }

    static byte[] versionBytes(long version) {
        return ByteBuffer.allocate(8).putLong(version).array();
    }

    byte[] getLatest(ColumnFamilyHandle cf, byte[] key) {
        try {
            return db.get(cf, key);
        } catch (RocksDBException e) {
            throw ioError("read", e);
        }
    }

    byte[] get(VersionView view, byte[] key) {
        Invariants.check(!view.isReleased(), "a view is never read after its release");
        try {
            return db.get(data, view.readOptions, key);
        } catch (RocksDBException e) {
            throw ioError("read", e);
        }
    }

    RangeChunk getRange(VersionView view, byte[] begin, byte[] end, int rowLimit, long byteLimit, boolean reverse) {
        Invariants.check(!view.isReleased(), "a view is never read after its release");
        List<KeyValue> rows = new ArrayList<>(Math.min(rowLimit, 256));
        long bytes = 0;
        try (RocksIterator it = db.newIterator(data, view.readOptions)) {
            if (reverse) {
                it.seekForPrev(end);
                if (it.isValid() && Arrays.compareUnsigned(it.key(), end) >= 0) {
                    it.prev();
                }
            } else {
                it.seek(begin);
            }
            while (it.isValid()) {
                byte[] key = it.key();
                if (reverse ? Arrays.compareUnsigned(key, begin) < 0 : Arrays.compareUnsigned(key, end) >= 0) {
                    return new RangeChunk(rows, false);
                }
                if (rows.size() >= rowLimit || (bytes >= byteLimit && !rows.isEmpty())) {
                    return new RangeChunk(rows, true);
                }
                byte[] value = it.value();
                rows.add(new KeyValue(key, value));
                bytes += key.length + value.length;
                if (reverse) {
                    it.prev();
                } else {
                    it.next();
                }
            }
            it.status();
        } catch (RocksDBException e) {
            throw ioError("range read", e);
        }
        return new RangeChunk(rows, false);
    }

    void write(WriteBatch batch) {
        try {
            db.write(writeOptions, batch);
        } catch (RocksDBException e) {
            throw ioError("commit write", e);
        }
    }

    static TxkvException ioError(String what, RocksDBException e) {
        return new TxkvException(ErrorCode.IO_ERROR, "Storage " + what + " failed: " + e.getMessage(), e);
    }

    /** Approximate bytes of live data, for status. */
    long approximateSizeBytes() {
        try {
            return db.getLongProperty(data, "rocksdb.estimate-live-data-size");
        } catch (RocksDBException e) {
            return -1;
        }
    }

    /**
     * RocksDB's estimate of the bytes that the keys of [begin, end) take, in its files and its
     * memtables ({@code end} null: to the end of the keyspace, system keys included).
     */
    long approximateSizeBytes(byte[] begin, byte[] end) {
        try (org.rocksdb.Slice b = new org.rocksdb.Slice(begin);
                org.rocksdb.Slice e = new org.rocksdb.Slice(end == null ? KEYSPACE_END : end)) {
            long[] sizes = db.getApproximateSizes(data, List.of(new org.rocksdb.Range(b, e)),
                    org.rocksdb.SizeApproximationFlag.INCLUDE_MEMTABLES, org.rocksdb.SizeApproximationFlag.INCLUDE_FILES);
            return sizes.length == 0 ? 0 : sizes[0];
        }
    }

    /** Above every key a store holds (keys are shorter than this one and none is all 0xFF). */
    private static final byte[] KEYSPACE_END = filled(64 << 10, (byte) 0xFF);

    private static byte[] filled(int length, byte b) {
        byte[] out = new byte[length];
        Arrays.fill(out, b);
        return out;
    }

    /**
     * The key that best halves the key and value bytes of the user keys (below 0xFF) in
     * [begin, end): of the keys with at least one key of the range before them, the one where
     * the bytes before it come closest to half of the whole (so a key bigger than all the rest
     * ends up alone on its side). Empty when the range holds fewer than two such keys. Reads the
     * range's keys twice at most; for a shard's split point, not for a hot path.
     */
    java.util.Optional<byte[]> middleKey(byte[] begin, byte[] end) {
        byte[] stop = end == null || (end.length > 0 && Byte.toUnsignedInt(end[0]) == 0xFF) ? new byte[] {(byte) 0xFF} : end;
        long total = 0;
        try (RocksIterator it = db.newIterator(data)) {
            for (it.seek(begin); it.isValid() && dev.txkv.ByteArrays.compareUnsigned(it.key(), stop) < 0; it.next()) {
                total += it.key().length + it.value().length;
            }
            it.status();
            long before = 0;
            boolean first = true;
            byte[] best = null;
            long bestImbalance = Long.MAX_VALUE;
            for (it.seek(begin); it.isValid() && dev.txkv.ByteArrays.compareUnsigned(it.key(), stop) < 0; it.next()) {
                byte[] key = it.key();
                if (!first) {
                    long imbalance = Math.abs(2 * before - total);
                    if (imbalance < bestImbalance) {
                        best = key;
                        bestImbalance = imbalance;
                    }
                    if (2 * before >= total) {
                        break; // every later key only moves further from half
                    }
                }
                before += key.length + it.value().length;
                first = false;
            }
            it.status();
            return java.util.Optional.ofNullable(best);
        } catch (RocksDBException e) {
            throw ioError("split point scan", e);
        }
    }

    @Override
    public void close() {
        writeOptions.close();
        for (ColumnFamilyHandle h : handles) {
            h.close();
        }
        db.close();
        dbOptions.close();
        cfOptions.close();
        cache.close();
    }
}
