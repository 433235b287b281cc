package dev.txkv.server;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import dev.txkv.spi.ShardMap;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the Raft groups of a sharded cluster live, computed alike by every server from the same
 * flags: the keyspace split evenly into {@code shards} shards, shard {@code s} replicated on
 * {@code replicas} members starting at member {@code s} (in membership order, wrapping), and
 * the control group (the sequencer) on every member.
 *
 * @param members every member id, in membership order
 * @param shards how many shards, 1 to {@value #SHARDS_MAX}
 * @param replicas the members per shard, 1 to the member count
 */
record ShardLayout(List<String> members, int shards, int replicas) {
    /** The group id of the control group; shards are 0 and up. */
    static final int CONTROL = -1;
    /** Most shards of a cluster. */
    static final int SHARDS_MAX = 256;

    ShardLayout {
        members = List.copyOf(members);
        if (shards < 1 || shards > SHARDS_MAX) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE,
                    "The shard count must be 1 to " + SHARDS_MAX + ", got " + shards);
        }
        if (replicas < 1 || replicas > members.size()) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Replicas per shard must be 1 to the "
                    + members.size() + " members, got " + replicas);
        }
    }

    /** The key ranges of the shards: an even split of the first key byte. */
    ShardMap map() {
        return ShardMap.evenSplit(shards);
    }

    /** The members of group {@code group} ({@link #CONTROL} or a shard id), in order. */
    List<String> membersOf(int group) {
        if (group == CONTROL) {
            return members;
        }
        List<String> out = new ArrayList<>(replicas);
        for (int k = 0; k < replicas; k++) {
            out.add(members.get((group + k) % members.size()));
        }
        return out;
    }

    /** Whether {@code member} keeps a replica of {@code group}. */
    boolean hosts(String member, int group) {
        return membersOf(group).contains(member);
    }

    /** The Raft group name of {@code group} in the cluster {@code cluster}. */
    static String groupName(String cluster, int group) {
        return group == CONTROL ? cluster + "-control" : cluster + "-shard-" + group;
    }

    /** A group for people: "control" or "shard 3". */
    static String describe(int group) {
        return group == CONTROL ? "the control group" : "shard " + group;
    }
}
