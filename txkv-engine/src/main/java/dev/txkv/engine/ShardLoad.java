package dev.txkv.engine;

import java.util.Optional;

/**
 * A shard's load over a period.
 *
 * @param keysPerSecond keys its reads and commits touched, per second
 * @param samples sampled keys inside the shard
 * @param splitKey the sampled key that best halves the samples (some on each side), if any
 * @param hottestKey the most sampled key, or null
 * @param hottestShare its share of the samples, 0 to 1
 */
public record ShardLoad(double keysPerSecond, int samples, Optional<byte[]> splitKey, byte[] hottestKey,
        double hottestShare) {
}
