package dev.txkv.remote.contract;

import dev.txkv.Database;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/** The contract on the embedded engine: the reference the remote runs are held to. */
class EmbeddedContractTest extends DatabaseContract {
    private Path dir;

    @Override
    protected Database openDatabase() throws Exception {
        dir = Files.createTempDirectory("txkv-contract-embedded");
        return Txkv.openEmbedded(dir, new TxkvConfig().durable(false));
    }

    @Override
    protected void stopBackend() throws Exception {
        TestFiles.deleteRecursively(dir);
    }
}
