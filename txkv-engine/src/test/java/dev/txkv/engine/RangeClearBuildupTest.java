package dev.txkv.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.ByteArrays;
import dev.txkv.Database;
import dev.txkv.KeyValue;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Regression: range clears piled up in RocksDB's memtable, and every read and every later
 * range clear paid for all of them, so a loop of "clear a range, write, read" slowed down
 * linearly with its own history (6,000 iterations took over four times as long per iteration
 * at the end as at the start). The memtable must be flushed after a bounded number of them.
 */
class RangeClearBuildupTest {
    @TempDir
    Path dir;

    @Test
    void rangeDeletionsInTheMemtableStayBounded() throws RocksDBException, InterruptedException {
        try (Storage storage = new Storage(dir, false)) {
            for (int i = 0; i < 4 * Storage.MEMTABLE_RANGE_DELETIONS_MAX; i++) {
                try (WriteBatch batch = new WriteBatch()) {
                    batch.put(storage.data, new byte[] {'k', (byte) i}, new byte[] {1});
                    batch.deleteRange(storage.data, new byte[] {'a'}, new byte[] {'z'});
                    storage.write(batch);
                }
            }
            // Each batch adds two memtable entries (a put and a range deletion). The flush runs in
            // the background, so give it a moment to switch memtables.
            long bound = 2L * Storage.MEMTABLE_RANGE_DELETIONS_MAX;
            long active = Long.MAX_VALUE;
            for (int attempt = 0; attempt < 100 && active > bound; attempt++) {
                active = storage.db.getLongProperty(storage.data, "rocksdb.num-entries-active-mem-table");
                Thread.sleep(20);
            }
            assertThat(active).isLessThanOrEqualTo(bound);
        }
    }

    @Test
    void dataStaysCorrectAcrossTheFlushesRangeClearsCause() {
        try (Database db = Txkv.openEmbedded(dir, new TxkvConfig().durable(false))) {
            int rounds = 3 * Storage.MEMTABLE_RANGE_DELETIONS_MAX;
            for (int i = 0; i < rounds; i++) {
                byte n = (byte) i;
                db.run(tr -> {
                    tr.clear(new byte[] {'a'}, new byte[] {'z'});
                    tr.set(new byte[] {'b'}, new byte[] {n});
                    tr.set(new byte[] {'c', n}, new byte[] {n});
                    return null;
                });
            }
            List<KeyValue> rows = db.read(tr -> tr.getRange(ByteArrays.EMPTY, new byte[] {(byte) 0xFF}).asList().join());
            byte last = (byte) (rounds - 1);
            assertThat(rows).containsExactly(new KeyValue(new byte[] {'b'}, new byte[] {last}),
                    new KeyValue(new byte[] {'c', last}, new byte[] {last}));
        }
    }
}
