package dev.txkv.spi;

import java.time.Duration;
import java.util.Map;

/**
 * Found by {@link java.util.ServiceLoader}: asks txkv servers for their status and changes a
 * replicated cluster's membership, for tools such as {@code txkv status} and the shell's
 * {@code status} and {@code members}. The remote client (txkv-remote) implements it, so a tool
 * needs no compile-time dependency on the network client.
 */
public interface RemoteAdminProvider {
    /**
     * Asks the servers of {@code connection} ({@code host:port[,host:port...]}) in order for
     * the cluster's status and returns the answer of the first one that answers: the message
     * {@code Status} of txkv.proto, serialized (the API does not depend on the protocol's
     * classes). Everything, connecting included, ends within {@code timeout}.
     *
     * @throws dev.txkv.TxkvException client_invalid_operation (2000) for a bad connection
     *         string or timeout, connection_failed (1026) when no server answered in time, or
     *         the server's error
     */
    byte[] status(String connection, Duration timeout);

    /**
     * Replaces the membership of the replicated cluster behind {@code connection} with
     * {@code members} (id -> Raft host:port, every member), through its leader, within
     * {@code timeout}.
     *
     * @return the membership in force afterwards
     * @throws dev.txkv.TxkvException not_leader (1060) when no leader took the change in time,
     *         invalid_option_value (2006) for a bad member list, or the server's error
     */
    Map<String, String> setMembers(String connection, Map<String, String> members, Duration timeout);

    /**
     * Splits the shard of the sharded cluster behind {@code connection} that holds {@code key}
     * at it, online, and waits within {@code timeout} for the new shard to hold its keys.
     *
     * @return the message {@code SplitResponse} of shard.proto, serialized
     * @throws dev.txkv.TxkvException invalid_option_value (2006) when {@code key} already begins a
     *         shard, operation_failed (1000) while another split is under way, or the server's error
     */
    byte[] split(String connection, byte[] key, Duration timeout);

    /**
     * Moves the replicas of shard {@code shard} of the sharded cluster behind {@code connection}
     * to exactly the members {@code members}, online, and waits within {@code timeout} until the
     * shard is on them alone. {@code reason} says why, for status and logs (empty: an operator
     * asked).
     *
     * @return the message {@code MoveResponse} of shard.proto (the shard map afterwards), serialized
     * @throws dev.txkv.TxkvException invalid_option_value (2006) for an unknown shard or member, a
     *         repeated member or more than 5, operation_failed (1000) for a shard being split or
     *         already on those members, or the server's error
     */
    byte[] move(String connection, int shard, java.util.List<String> members, String reason, Duration timeout);

    /**
     * Merges shard {@code shard} of the sharded cluster behind {@code connection} with its right
     * neighbour (the next shard in key order), online, and waits within {@code timeout} until shard
     * {@code shard} serves both shards' keys. Both shards must have their replicas on the same
     * members. {@code reason} says why, for status and logs (empty: an operator asked).
     *
     * @return the message {@code MergeResponse} of shard.proto (the shard absorbed and the shard
     *         map afterwards), serialized
     * @throws dev.txkv.TxkvException invalid_option_value (2006) for an unknown shard or the last
     *         shard (it has no right neighbour), operation_failed (1000) when the two shards'
     *         replicas are on different members or while a split, move or another merge is under
     *         way, or the server's error
     */
    byte[] merge(String connection, int shard, String reason, Duration timeout);

    /**
     * Excludes {@code member} of the sharded cluster behind {@code connection} (its replicas move
     * to the other members, and none is placed there), or includes it again; answers once the
     * control group recorded it, without waiting for the moves.
     *
     * @return the message {@code ExcludeResponse} of shard.proto (the shard map afterwards), serialized
     * @throws dev.txkv.TxkvException invalid_option_value (2006) for an unknown member, or the
     *         server's error
     */
    byte[] exclude(String connection, String member, boolean include, Duration timeout);

    /**
     * Makes one change to the users and roles of the cluster behind {@code connection}: the
     * message {@code ChangeAuthRequest} of auth.proto, serialized.
     *
     * @return the users and roles afterwards: {@code AuthDescription}, serialized
     * @throws dev.txkv.TxkvException invalid_option_value (2006) for a change that cannot be
     *         made (the message says why), permission_denied (6000) without the admin right, or
     *         the server's error
     */
    byte[] changeAuth(String connection, byte[] request, Duration timeout);

    /** The users and roles of the cluster behind {@code connection}: {@code AuthDescription}, serialized. */
    byte[] describeAuth(String connection, Duration timeout);
}
