package dev.txkv.spi;

import java.util.Map;

/**
 * A read version of a sharded cluster, as its sequencer hands it out: with it, each shard can
 * tell when it has every commit at or below the version (docs/sharding.md, "Reads").
 *
 * @param version the read version
 * @param epoch the sequencer's epoch
 * @param lastGrants shard id to the last commit version granted there at or below
 *     {@code version} in this epoch; a shard missing had none
 */
public record ReadStamp(long version, long epoch, Map<Integer, Long> lastGrants) {
    /** The last grant to {@code shard} at or below the read version in this epoch, or -1. */
    public long lastGrant(int shard) {
        Long v = lastGrants.get(shard);
        return v == null ? -1 : v;
    }
}
