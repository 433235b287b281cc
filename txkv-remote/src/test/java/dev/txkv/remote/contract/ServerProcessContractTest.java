package dev.txkv.remote.contract;

import dev.txkv.Database;
import dev.txkv.Txkv;
import java.nio.file.Files;
import java.nio.file.Path;

/** The contract against a real server process, started as {@code txkv server} starts it. */
class ServerProcessContractTest extends DatabaseContract {
    private Path dir;
    private ServerProcess server;

    @Override
    protected Database openDatabase() throws Exception {
        dir = Files.createTempDirectory("txkv-contract-process");
        server = ServerProcess.start(dir, 0);
        return Txkv.open(server.connection());
    }

    @Override
    protected boolean offersSystemKeys() {
        return false;
    }

    @Override
    protected void stopBackend() throws Exception {
        if (server != null) {
            server.close();
        }
        TestFiles.deleteRecursively(dir);
    }
}
