package dev.txkv.remote;

import dev.txkv.spi.RemoteAdminProvider;
import java.time.Duration;
import java.util.Map;

/** Found by {@link java.util.ServiceLoader}: {@link RemoteStatus} for tools that only know the SPI. */
public final class RemoteAdminProviderImpl implements RemoteAdminProvider {
    /** For {@link java.util.ServiceLoader}. */
    public RemoteAdminProviderImpl() {
    }

    @Override
    public String statusJson(String connection, Duration timeout) {
        return RemoteStatus.fetchJson(connection, timeout);
    }

    @Override
    public Map<String, String> setMembers(String connection, Map<String, String> members, Duration timeout) {
        return RemoteStatus.setMembers(connection, members, timeout);
    }
}
