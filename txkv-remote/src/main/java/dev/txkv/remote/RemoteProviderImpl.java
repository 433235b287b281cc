package dev.txkv.remote;

import dev.txkv.TxkvConfig;
import dev.txkv.spi.Backend;
import dev.txkv.spi.RemoteProvider;

/**
 * Found by {@link java.util.ServiceLoader} for {@code Txkv.open(connection)}: a
 * {@link RemoteBackend} with {@link RemoteSettings#fromSystemProperties()}. The limits in
 * {@link TxkvConfig} are checked by the client-side transactions before anything is sent.
 */
public final class RemoteProviderImpl implements RemoteProvider {
    /** For {@link java.util.ServiceLoader}. */
    public RemoteProviderImpl() {
    }

    @Override
    public Backend connect(String connection, TxkvConfig config) {
        RemoteSettings settings = RemoteSettings.fromSystemProperties();
        RemoteBackend backend = RemoteBackend.connect(connection, settings);
        backend.warmUp(settings.warmUpCalls(), settings.warmUpTimeout());
        return backend;
    }
}
