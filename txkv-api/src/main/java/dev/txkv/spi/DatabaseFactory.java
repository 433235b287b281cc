package dev.txkv.spi;

import dev.txkv.Database;
import dev.txkv.TxkvConfig;

/** Found by {@link java.util.ServiceLoader}: puts client-side transactions over a backend. */
public interface DatabaseFactory {
    /** A database whose transactions talk to {@code backend}; closing it closes the backend. */
    Database open(Backend backend, TxkvConfig config);
}
