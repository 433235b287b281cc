package dev.txkv.client;

import dev.txkv.Database;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.testkit.TxkvSeed;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/** {@link RywPropertyContract} over {@link FakeBackend}, with a random number of rows per range batch. */
@AddLifecycleHook(TxkvSeed.class)
class RywPropertyTest extends RywPropertyContract {
    @Override
    protected Database open(int rowsPerBatch) {
        FakeBackend backend = new FakeBackend(VALUE_SIZE_LIMIT);
        backend.rangeRowsMax(rowsPerBatch);
        return Txkv.open(backend, new TxkvConfig().valueSizeMax(VALUE_SIZE_LIMIT));
    }
}
