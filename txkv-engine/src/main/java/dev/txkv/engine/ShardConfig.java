package dev.txkv.engine;

import dev.txkv.spi.ShardMap;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * An engine that is one shard of a sharded cluster: which shard, the map it belongs to, how it
 * reaches the rest of the cluster, and its two-phase timeouts.
 *
 * @param shardId this shard's id in {@code map}
 * @param map the shard map in which this shard was made: its keys when it starts (a shard made
 *     by a split starts with none, until its born record)
 * @param network the sequencer and the other shards
 * @param holeWaitMs how long a slot waits for the one granted before it before asking who holds that one
 * @param voteWaitMs how long a coordinator waits for every vote before it rolls the transaction back
 * @param inDoubtMs how long a prepared slice waits for its outcome before asking the coordinator
 * @param splits the newest map this member knows and its other shards' replicas (online splits)
 */
public record ShardConfig(int shardId, ShardMap map, ShardNetwork network, long holeWaitMs, long voteWaitMs,
        long inDoubtMs, Splits splits) {
    /**
     * What a shard needs for online splits (docs/sharding.md, "Splitting a shard").
     *
     * @param latestMap the newest shard map this member knows: a coordinator cuts commits by
     *     it (each shard checks its own keys, so an older one costs a retry, never a wrong answer)
     * @param localReplica this member's replica of another shard, or null: a new shard copies its
     *     keys from its parent's replica on the same member
     * @param child whether this shard was made by a split (it holds no keys until its born record)
     */
    public record Splits(Supplier<ShardMap> latestMap, IntFunction<Engine> localReplica, boolean child) {
        /** A fixed map with no splits. */
        public static Splits none(ShardMap map) {
            return new Splits(() -> map, id -> null, false);
        }
    }

    public ShardConfig {
        if (map.byId(shardId) == null) {
            throw new IllegalArgumentException("Shard " + shardId + " is not in the map " + map);
        }
    }

    /** With the default timeouts: 500 ms, 2 s and 1 s, and a fixed map. */
    public ShardConfig(int shardId, ShardMap map, ShardNetwork network) {
        this(shardId, map, network, 500, 2_000, 1_000);
    }

    /** With a fixed map. */
    public ShardConfig(int shardId, ShardMap map, ShardNetwork network, long holeWaitMs, long voteWaitMs, long inDoubtMs) {
        this(shardId, map, network, holeWaitMs, voteWaitMs, inDoubtMs, Splits.none(map));
    }

    /** This configuration with {@code s} for online splits. */
    public ShardConfig withSplits(Splits s) {
        return new ShardConfig(shardId, map, network, holeWaitMs, voteWaitMs, inDoubtMs, s);
    }

    /** The newest shard map this member knows. */
    ShardMap latestMap() {
        ShardMap m = splits.latestMap().get();
        return m == null ? map : m;
    }

    /** This shard's keys in the map it was made in. */
    ShardMap.Shard shard() {
        return map.byId(shardId);
    }
}
