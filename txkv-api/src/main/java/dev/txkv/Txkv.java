package dev.txkv;

import dev.txkv.spi.Backend;
import dev.txkv.spi.BackendProvider;
import dev.txkv.spi.DatabaseFactory;
import dev.txkv.spi.RemoteProvider;
import java.nio.file.Path;
import java.util.ServiceLoader;

/**
 * The one entry point for users: opens a database. The implementations are found with
 * {@link ServiceLoader}, so this API module depends on none of them.
 */
public final class Txkv {
    private Txkv() {
    }

    /** Opens (creating if needed) an embedded, durable database in directory {@code dir}. */
    public static Database openEmbedded(Path dir) {
        return openEmbedded(dir, new TxkvConfig());
    }

    /** As {@link #openEmbedded(Path)} with explicit settings. */
    public static Database openEmbedded(Path dir, TxkvConfig config) {
        Backend backend = provider().openEmbedded(dir, config);
        try {
            return databaseFactory().open(backend, config);
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    /**
     * Connects to a txkv server or cluster: {@code "host:port[,host:port...]"}, e.g.
     * {@code "127.0.0.1:4500"}. The returned database behaves exactly as an embedded one.
     */
    public static Database open(String connection) {
        return open(connection, new TxkvConfig());
    }

    /** As {@link #open(String)} with explicit client settings. */
    public static Database open(String connection, TxkvConfig config) {
        RemoteProvider remote = null;
        for (RemoteProvider p : ServiceLoader.load(RemoteProvider.class, Txkv.class.getClassLoader())) {
            remote = p;
            break;
        }
        if (remote == null) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                    "No remote client on the class path: add the dev.txkv:txkv-remote artifact");
        }
        Backend backend = remote.connect(connection, config);
        try {
            return databaseFactory().open(backend, config);
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    /** Wraps a backend in a {@link Database} with client-side transactions. For implementations. */
    public static Database open(Backend backend, TxkvConfig config) {
        return databaseFactory().open(backend, config);
    }

    private static BackendProvider provider() {
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class, Txkv.class.getClassLoader())) {
            return p;
        }
        throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                "No embedded engine on the class path: add the dev.txkv:txkv-engine artifact");
    }

    private static DatabaseFactory databaseFactory() {
        for (DatabaseFactory f : ServiceLoader.load(DatabaseFactory.class, Txkv.class.getClassLoader())) {
            return f;
        }
        throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                "No txkv client on the class path: add the dev.txkv:txkv-client artifact");
    }
}
