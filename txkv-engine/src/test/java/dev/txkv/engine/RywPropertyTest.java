package dev.txkv.engine;

import dev.txkv.ByteArrays;
import dev.txkv.Database;
import dev.txkv.ReadTransaction;
import dev.txkv.Transaction;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.client.RywPropertyContract;
import dev.txkv.testkit.TxkvSeed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * txkv-client's {@link RywPropertyContract} over the real engine: the same random histories,
 * with atomic operations and versionstamps applied by the real commit path. One engine serves
 * every case (opening RocksDB per case would dominate the run); each case starts from an empty
 * keyspace.
 */
@AddLifecycleHook(TxkvSeed.class)
class RywPropertyTest extends RywPropertyContract {
    private static Path dir;
    private static Database db;

    @BeforeContainer
    static void openEngine() throws IOException {
        dir = Files.createTempDirectory("txkv-ryw");
        db = Txkv.openEmbedded(dir, new TxkvConfig().durable(false).valueSizeMax(VALUE_SIZE_LIMIT));
    }

    @AfterContainer
    static void closeEngine() throws IOException {
        if (db != null) {
            db.close();
        }
        if (dir != null) {
            DataDirectory.deleteTree(dir);
        }
    }

    /** The shared engine, emptied; closing the returned database leaves the engine open. The engine has no row limit to set. */
    @Override
    protected Database open(int rowsPerBatch) {
        db.run(tr -> {
            tr.clear(ByteArrays.EMPTY, new byte[] {(byte) 0xFF});
            return null;
        });
        return new Database() {
            @Override
            public Transaction createTransaction() {
                return db.createTransaction();
            }

            @Override
            public <T> T run(Function<? super Transaction, T> retryable) {
                return db.run(retryable);
            }

            @Override
            public <T> CompletableFuture<T> runAsync(
                    Function<? super Transaction, ? extends CompletableFuture<T>> retryable) {
                return db.runAsync(retryable);
            }

            @Override
            public <T> T read(Function<? super ReadTransaction, T> retryable) {
                return db.read(retryable);
            }

            @Override
            public <T> CompletableFuture<T> readAsync(
                    Function<? super ReadTransaction, ? extends CompletableFuture<T>> retryable) {
                return db.readAsync(retryable);
            }

            @Override
            public void close() {
                // The engine is shared by every case and closed once at the end.
            }
        };
    }
}
