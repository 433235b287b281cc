package dev.txkv.remote.contract;

import dev.txkv.Database;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.server.ServerConfig;
import dev.txkv.server.TxkvServer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The contract through the whole network path: {@code Txkv.open("127.0.0.1:port")}, the remote
 * backend, gRPC over TCP, and a {@link TxkvServer} started in this JVM.
 */
class InProcessServerContractTest extends DatabaseContract {
    private Path dir;
    private TxkvServer server;

    @Override
    protected Database openDatabase() throws Exception {
        dir = Files.createTempDirectory("txkv-contract-server");
        server = TxkvServer.start(new ServerConfig().dataDir(dir)
                .grpcAddress("127.0.0.1", 0)
                .txkvConfig(new TxkvConfig().durable(false)));
        return Txkv.open("127.0.0.1:" + server.grpcPort());
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
