package dev.txkv.spi;

import dev.txkv.TxkvConfig;

/** Found by {@link java.util.ServiceLoader}: connects to txkv servers for {@code Txkv.open}. */
public interface RemoteProvider {
    /**
     * A backend talking to the servers in {@code connection}: {@code host:port[,host:port...]}.
     * Connecting is lazy; unreachable servers show up as retryable errors on use.
     */
    Backend connect(String connection, TxkvConfig config);
}
