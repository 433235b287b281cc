package dev.txkv.remote;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.proto.Status;
import io.grpc.Deadline;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/** The status of a txkv cluster and cluster administration, for tools such as {@code txkv status}. */
public final class RemoteStatus {
    private RemoteStatus() {
    }

    /**
     * Asks the servers of {@code connection} in order for the cluster's status and returns the
     * answer of the first one that answers (see {@code message Status} in txkv.proto: every
     * member as a process, the leader, and the answering member's workload). Everything,
     * connecting included, ends within {@code timeout}.
     *
     * @throws TxkvException client_invalid_operation (2000) for a bad connection string,
     *         connection_failed (1026) when no server answered in time, or the server's error
     */
    public static Status fetch(String connection, Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, "The status timeout must be positive, got " + timeout);
        }
        Deadline deadline = Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
        RemoteSettings settings = RemoteSettings.fromSystemProperties().shutdownTimeout(Duration.ofSeconds(1));
        try (RemoteBackend backend = RemoteBackend.connect(connection, settings)) {
            return backend.status(deadline).join();
        } catch (CompletionException e) {
            Throwable cause = GrpcErrors.unwrap(e);
            if (cause instanceof TxkvException) {
                throw (TxkvException) cause;
            }
            throw new TxkvException(ErrorCode.INTERNAL_ERROR, String.valueOf(cause.getMessage()), cause);
        }
    }

    /**
     * Replaces the membership of the replicated cluster behind {@code connection} with
     * {@code members} (id -> Raft host:port, every member), through its leader: servers that
     * do not lead answer not_leader and the next one is asked, until {@code timeout}.
     *
     * @return the membership in force afterwards
     * @throws TxkvException not_leader (1060) when no leader took the change in time,
     *         invalid_option_value (2006) for a bad member list, or the server's error
     */
    public static Map<String, String> setMembers(String connection, Map<String, String> members, Duration timeout) {
        return admin(connection, timeout, backend -> backend.setMembers(members, timeout));
    }

    /**
     * Splits the shard of the sharded cluster behind {@code connection} that holds {@code key}
     * at it (any server takes the request to the control group's leader) and waits within
     * {@code timeout} for the new shard to hold its keys.
     *
     * @throws TxkvException invalid_option_value (2006) when {@code key} already begins a shard,
     *         operation_failed (1000) while another split is under way, or the server's error
     */
    public static dev.txkv.proto.SplitResponse split(String connection, byte[] key, Duration timeout) {
        return admin(connection, timeout, backend -> backend.split(key, timeout));
    }

    /**
     * Moves the replicas of shard {@code shard} of the sharded cluster behind {@code connection}
     * to exactly the members {@code members} (any server takes the request to the control
     * group's leader) and waits within {@code timeout} until the shard is on them alone; the
     * answer holds the shard map afterwards. {@code reason} says why, for status and logs
     * (empty: an operator asked).
     *
     * @throws TxkvException invalid_option_value (2006) for an unknown shard or member, a
     *         repeated member or more than 5; operation_failed (1000) for a shard being split or
     *         already on those members, or the server's error
     */
    public static dev.txkv.proto.MoveResponse move(String connection, int shard, java.util.List<String> members,
            String reason, Duration timeout) {
        return admin(connection, timeout, backend -> backend.move(shard, members, reason, timeout));
    }

    /**
     * Merges shard {@code shard} of the sharded cluster behind {@code connection} with its right
     * neighbour (the next shard in key order; any server takes the request to the control group's
     * leader) and waits within {@code timeout} until shard {@code shard} serves both shards' keys;
     * the answer holds the shard absorbed and the shard map afterwards. Both shards must have their
     * replicas on the same members. {@code reason} says why, for status and logs (empty: an
     * operator asked).
     *
     * @throws TxkvException invalid_option_value (2006) for an unknown shard or the last shard (it
     *         has no right neighbour); operation_failed (1000) when the two shards' replicas are on
     *         different members (move one first) or while a split, move or another merge is under
     *         way (try again later), or the server's error
     */
    public static dev.txkv.proto.MergeResponse merge(String connection, int shard, String reason, Duration timeout) {
        return admin(connection, timeout, backend -> backend.merge(shard, reason, timeout));
    }

    /**
     * Excludes {@code member} of the sharded cluster behind {@code connection}, or includes it
     * again ({@code include}): the control group records it in the shard map and answers the map;
     * the replicas on an excluded member then move off it, one shard at a time, by themselves.
     *
     * @throws TxkvException invalid_option_value (2006) for an unknown member, or the server's error
     */
    public static dev.txkv.proto.ExcludeResponse exclude(String connection, String member, boolean include,
            Duration timeout) {
        return admin(connection, timeout, backend -> backend.exclude(member, include, timeout));
    }

    /**
     * Makes one change to the users and roles of the cluster behind {@code connection} (a
     * serialized {@code ChangeAuthRequest}) and returns them afterwards (a serialized
     * {@code AuthDescription}).
     */
    public static dev.txkv.proto.AuthDescription changeAuth(String connection, dev.txkv.proto.ChangeAuthRequest request,
            Duration timeout) {
        return admin(connection, timeout, backend -> backend.changeAuth(request, timeout));
    }

    /** The users and roles of the cluster behind {@code connection}. */
    public static dev.txkv.proto.AuthDescription describeAuth(String connection, Duration timeout) {
        return admin(connection, timeout, backend -> backend.describeAuth(timeout));
    }

    private static <T> T admin(String connection, Duration timeout,
            java.util.function.Function<RemoteBackend, java.util.concurrent.CompletableFuture<T>> call) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, "The timeout must be positive, got " + timeout);
        }
        RemoteSettings settings = RemoteSettings.fromSystemProperties().shutdownTimeout(Duration.ofSeconds(1));
        try (RemoteBackend backend = RemoteBackend.connect(connection, settings)) {
            return call.apply(backend).join();
        } catch (CompletionException e) {
            Throwable cause = GrpcErrors.unwrap(e);
            if (cause instanceof TxkvException) {
                throw (TxkvException) cause;
            }
            throw new TxkvException(ErrorCode.INTERNAL_ERROR, String.valueOf(cause.getMessage()), cause);
        }
    }
}
