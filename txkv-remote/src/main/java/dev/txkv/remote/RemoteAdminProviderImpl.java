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
    public byte[] status(String connection, Duration timeout) {
        return RemoteStatus.fetch(connection, timeout).toByteArray();
    }

    @Override
    public Map<String, String> setMembers(String connection, Map<String, String> members, Duration timeout) {
        return RemoteStatus.setMembers(connection, members, timeout);
    }

    @Override
    public byte[] changeAuth(String connection, byte[] request, Duration timeout) {
        try {
            return RemoteStatus.changeAuth(connection, dev.txkv.proto.ChangeAuthRequest.parseFrom(request), timeout)
                    .toByteArray();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new dev.txkv.TxkvException(dev.txkv.ErrorCode.CLIENT_INVALID_OPERATION, "Not a ChangeAuthRequest", e);
        }
    }

    @Override
    public byte[] describeAuth(String connection, Duration timeout) {
        return RemoteStatus.describeAuth(connection, timeout).toByteArray();
    }

    @Override
    public byte[] split(String connection, byte[] key, Duration timeout) {
        return RemoteStatus.split(connection, key, timeout).toByteArray();
    }

    @Override
    public byte[] exclude(String connection, String member, boolean include, Duration timeout) {
        return RemoteStatus.exclude(connection, member, include, timeout).toByteArray();
    }

    @Override
    public byte[] move(String connection, int shard, java.util.List<String> members, String reason, Duration timeout) {
        return RemoteStatus.move(connection, shard, members, reason, timeout).toByteArray();
    }

    @Override
    public byte[] merge(String connection, int shard, String reason, Duration timeout) {
        return RemoteStatus.merge(connection, shard, reason, timeout).toByteArray();
    }
}
