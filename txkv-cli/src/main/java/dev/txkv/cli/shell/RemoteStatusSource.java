package dev.txkv.cli.shell;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.AuthDescription;
import dev.txkv.proto.ChangeAuthRequest;
import dev.txkv.proto.Status;
import dev.txkv.spi.RemoteAdminProvider;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;

/**
 * Asks the servers of a connection string for the cluster's status (message {@code Status} of txkv.proto), changes their
 * membership, splits, moves and merges their shards, excludes and includes their members, and changes and lists their users
 * and roles (service {@code Auth} of auth.proto), through the {@link RemoteAdminProvider} on the class path (the remote client, txkv-remote). The provider
 * is looked up at first use; without one the call fails with the same error as {@code Txkv.open} gives.
 */
public final class RemoteStatusSource implements StatusSource {
    static final String NO_PROVIDER = "No remote client on the class path: add the dev.txkv:txkv-remote artifact";

    private final String connection;
    private final Iterable<RemoteAdminProvider> providers;
    private RemoteAdminProvider provider;

    /** A source asking the servers of {@code connection} ({@code host:port[,host:port...]}). */
    public RemoteStatusSource(String connection) {
        this(connection, ServiceLoader.load(RemoteAdminProvider.class, RemoteStatusSource.class.getClassLoader()));
    }

    /** As {@link #RemoteStatusSource(String)} with the providers to choose from: the first one is used. */
    RemoteStatusSource(String connection, Iterable<RemoteAdminProvider> providers) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.providers = Objects.requireNonNull(providers, "providers");
    }

    @Override
    public Status fetch(Duration timeout) {
        byte[] status = provider().status(connection, timeout);
        try {
            return Status.parseFrom(status);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new TxkvException(ErrorCode.INTERNAL_ERROR, "The remote client returned a status that does not parse: " + e, e);
        }
    }

    @Override
    public Map<String, String> setMembers(Map<String, String> members, Duration timeout) {
        return provider().setMembers(connection, members, timeout);
    }

    /**
     * Splits the shard that holds {@code key} at it (sharded clusters) and waits within
     * {@code timeout}; returns the message {@code SplitResponse} of shard.proto, serialized.
     */
    byte[] split(byte[] key, Duration timeout) {
        return provider().split(connection, key, timeout);
    }

    /**
     * Moves the replicas of shard {@code shard} (sharded clusters) to exactly {@code members} and
     * waits within {@code timeout} until the shard is on them alone; returns the message
     * {@code MoveResponse} of shard.proto (the shard map afterwards), serialized. {@code reason}
     * says why, for status and logs (empty: an operator asked).
     */
    byte[] move(int shard, List<String> members, String reason, Duration timeout) {
        return provider().move(connection, shard, members, reason, timeout);
    }

    /**
     * Merges shard {@code shard} (sharded clusters) with its right neighbour, the next shard in key
     * order, and waits within {@code timeout} until shard {@code shard} serves both shards' keys;
     * returns the message {@code MergeResponse} of shard.proto (the shard absorbed and the shard map
     * afterwards), serialized. {@code reason} says why, for status and logs (empty: an operator
     * asked).
     */
    byte[] merge(int shard, String reason, Duration timeout) {
        return provider().merge(connection, shard, reason, timeout);
    }

    /**
     * Excludes {@code member} of the sharded cluster (the cluster then moves its replicas off it,
     * one shard at a time, and places none there), or includes it again ({@code include}).
     * Answers within {@code timeout} once the control group recorded it, without waiting for the
     * moves; returns the message {@code ExcludeResponse} of shard.proto (the shard map
     * afterwards), serialized.
     */
    byte[] exclude(String member, boolean include, Duration timeout) {
        return provider().exclude(connection, member, include, timeout);
    }

    @Override
    public AuthDescription changeAuth(ChangeAuthRequest change, Duration timeout) {
        return authDescription(provider().changeAuth(connection, change.toByteArray(), timeout));
    }

    @Override
    public AuthDescription describeAuth(Duration timeout) {
        return authDescription(provider().describeAuth(connection, timeout));
    }

    private static AuthDescription authDescription(byte[] serialized) {
        try {
            return AuthDescription.parseFrom(serialized);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new TxkvException(ErrorCode.INTERNAL_ERROR,
                    "The remote client returned users and roles that do not parse: " + e, e);
        }
    }

    private synchronized RemoteAdminProvider provider() {
        if (provider == null) {
            Iterator<RemoteAdminProvider> found = providers.iterator();
            if (!found.hasNext()) {
                throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, NO_PROVIDER);
            }
            provider = found.next();
        }
        return provider;
    }
}
