package dev.txkv.engine;

import dev.txkv.TxkvConfig;
import dev.txkv.spi.Backend;
import dev.txkv.spi.BackendProvider;
import java.nio.file.Path;

/** Registered with {@link java.util.ServiceLoader}: {@code Txkv.openEmbedded} finds the engine here. */
public final class EngineProvider implements BackendProvider {
    @Override
    public Backend openEmbedded(Path dir, TxkvConfig config) {
        return Engine.open(dir, config);
    }
}
