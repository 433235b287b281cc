package dev.txkv.engine;

import dev.txkv.ByteArrays;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A shard's load, for splits by load: how many keys its reads and commits touched, and a
 * sample of those keys (one in {@link #SAMPLE_EVERY}, kept in {@link #SAMPLES} random slots,
 * so recent keys weigh most). Cheap enough for every call: a counter and, now and then, one
 * array write.
 */
final class KeyLoad {
    static final int SAMPLES = 512;
    static final int SAMPLE_EVERY = 8;

    private final LongAdder touched = new LongAdder();
    private final AtomicReferenceArray<byte[]> samples = new AtomicReferenceArray<>(SAMPLES);
    private long lastTouched;
    private long lastNanos = System.nanoTime();

    void note(byte[] key) {
        touched.increment();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        if (random.nextInt(SAMPLE_EVERY) == 0) {
            samples.set(random.nextInt(SAMPLES), key);
        }
    }

    /**
     * The load since the last call: keys touched per second, the sampled key that best halves
     * the samples within (begin, end) ({@code end} null: no end), and the most sampled key with
     * its share of the samples. Clears the samples.
     */
    synchronized ShardLoad take(byte[] begin, byte[] end) {
        long now = System.nanoTime();
        long total = touched.sum();
        double seconds = Math.max(1e-3, (now - lastNanos) / 1e9);
        double rate = (total - lastTouched) / seconds;
        lastTouched = total;
        lastNanos = now;
        List<byte[]> keys = new ArrayList<>(SAMPLES);
        for (int i = 0; i < SAMPLES; i++) {
            byte[] k = samples.getAndSet(i, null);
            if (k != null && ByteArrays.compareUnsigned(k, begin) >= 0 && (end == null || ByteArrays.compareUnsigned(k, end) < 0)) {
                keys.add(k);
            }
        }
        keys.sort(ByteArrays::compareUnsigned);
        byte[] hot = null;
        int hotCount = 0;
        for (int i = 0; i < keys.size();) {
            int j = i;
            while (j < keys.size() && ByteArrays.compareUnsigned(keys.get(j), keys.get(i)) == 0) {
                j++;
            }
            if (j - i > hotCount) {
                hot = keys.get(i);
                hotCount = j - i;
            }
            i = j;
        }
        // The split key: the sampled key nearest the middle that leaves samples on both sides.
        byte[] split = null;
        long bestImbalance = Long.MAX_VALUE;
        for (int i = 1; i < keys.size(); i++) {
            if (ByteArrays.compareUnsigned(keys.get(i), keys.get(i - 1)) != 0) {
                long imbalance = Math.abs(2L * i - keys.size());
                if (imbalance < bestImbalance) {
                    bestImbalance = imbalance;
                    split = keys.get(i);
                }
            }
        }
        return new ShardLoad(rate, keys.size(), Optional.ofNullable(split), hot,
                keys.isEmpty() ? 0 : (double) hotCount / keys.size());
    }
}
