package dev.txkv.spi;

import dev.txkv.TxkvConfig;
import java.nio.file.Path;

/** Found by {@link java.util.ServiceLoader}: opens the embedded engine. */
public interface BackendProvider {
    /** Opens (creating if needed) the engine stored in {@code dir}. */
    Backend openEmbedded(Path dir, TxkvConfig config);
}
