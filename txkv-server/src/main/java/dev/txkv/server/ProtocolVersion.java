package dev.txkv.server;

/**
 * The wire protocol versions this server speaks. Every request carries {@code protocol_version};
 * a server answers one it does not speak with FAILED_PRECONDITION and txkv code 2200
 * ({@code protocol_version_unsupported}), so that an old server never misreads a newer client.
 */
public final class ProtocolVersion {
    /** The protocol version of txkv.v1, the only one this server speaks. */
    public static final int CURRENT = 1;

    private ProtocolVersion() {
    }

    /** True when this server speaks {@code version}. */
    public static boolean isSupported(int version) {
        return version == CURRENT;
    }
}
