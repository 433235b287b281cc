package dev.txkv.engine;

import dev.txkv.spi.ShardMap;

/**
 * An engine that is one shard of a sharded cluster: which shard, the map it belongs to, how it
 * reaches the rest of the cluster, and its two-phase timeouts.
 *
 * @param shardId this shard's id in {@code map}
 * @param map the cluster's shard map
 * @param network the sequencer and the other shards
 * @param holeWaitMs how long a slot waits for the one granted before it before asking who holds that one
 * @param voteWaitMs how long a coordinator waits for every vote before it rolls the transaction back
 * @param inDoubtMs how long a prepared slice waits for its outcome before asking the coordinator
 */
public record ShardConfig(int shardId, ShardMap map, ShardNetwork network, long holeWaitMs, long voteWaitMs,
        long inDoubtMs) {
    public ShardConfig {
        if (map.byId(shardId) == null) {
            throw new IllegalArgumentException("Shard " + shardId + " is not in the map " + map);
        }
    }

    /** With the default timeouts: 500 ms, 2 s and 1 s. */
    public ShardConfig(int shardId, ShardMap map, ShardNetwork network) {
        this(shardId, map, network, 500, 2_000, 1_000);
    }

    ShardMap.Shard shard() {
        return map.byId(shardId);
    }
}
