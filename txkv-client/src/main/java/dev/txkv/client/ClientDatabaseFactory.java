package dev.txkv.client;

import dev.txkv.Database;
import dev.txkv.TxkvConfig;
import dev.txkv.spi.Backend;
import dev.txkv.spi.DatabaseFactory;

/** Registered with {@link java.util.ServiceLoader}: client-side transactions for any backend. */
public final class ClientDatabaseFactory implements DatabaseFactory {
    @Override
    public Database open(Backend backend, TxkvConfig config) {
        return new ClientDatabase(backend, config);
    }
}
