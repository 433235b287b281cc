package dev.txkv.testkit;

import dev.txkv.ByteArrays;
import dev.txkv.Range;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The key layout of {@link WorkloadOptions#spreadFirstByte(boolean)}: key number {@code i} of a
 * workload starts with the byte {@link #firstByte(long) firstByte(i)}, followed by the
 * workload's prefix and the rest of its key. A sharded cluster splits the keyspace by the first
 * key byte (docs/sharding.md), so keys under one ASCII prefix would all land in one shard;
 * spread, consecutive keys land far apart and any run of keys covers the first bytes 0x00 to
 * 0xFE evenly (0xFF, the system keyspace, is never used).
 *
 * <p>The byte is {@code (i * 97) mod 255}: 97 is prime to 255, so the 255 keys of any run of
 * consecutive numbers take every byte once; and 97 is close to 3/8 of 255, so neighbours are
 * about three eighths of the keyspace apart. On the even splits of 2, 4 or 8 shards, key
 * numbers 0 to 7 fall evenly (e.g. 2 per shard of 4, as the bank's 8 accounts), and any 8
 * consecutive numbers reach every shard of 2 or 4.
 */
public final class FirstByteSpread {
    /** The first bytes used: 0x00 to 0xFE. */
    public static final int BYTES = 255;
    /** The step between the first bytes of consecutive key numbers. */
    static final int STRIDE = 97;

    private FirstByteSpread() {
    }

    /** The first byte (0 to 254) of key number {@code index}. */
    public static int firstByte(long index) {
        return (int) (Math.floorMod(index, BYTES) * STRIDE % BYTES);
    }

    /**
     * The key: {@code prefix} followed by {@code rest}, or with {@code spread}, the first byte of
     * key number {@code index} followed by both.
     */
    public static byte[] key(boolean spread, long index, byte[] prefix, byte[] rest) {
        if (!spread) {
            return ByteArrays.concat(prefix, rest);
        }
        byte[] key = new byte[1 + prefix.length + rest.length];
        key[0] = (byte) firstByte(index);
        System.arraycopy(prefix, 0, key, 1, prefix.length);
        System.arraycopy(rest, 0, key, 1 + prefix.length, rest.length);
        return key;
    }

    /**
     * Where the part after the prefix starts in {@code key}, or -1 when {@code key} is not laid
     * out so under {@code prefix} (with {@code spread}: any first byte, then the prefix).
     */
    public static int restOffset(boolean spread, byte[] prefix, byte[] key) {
        int offset = spread ? 1 : 0;
        if (key.length < offset + prefix.length) {
            return -1;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (key[offset + i] != prefix[i]) {
                return -1;
            }
        }
        return offset + prefix.length;
    }

    /**
     * The ranges that hold every key of the layout under {@code prefix}: the one range of the
     * prefix, or with {@code spread} one per first byte, 0x00 to 0xFE, in key order.
     */
    public static List<Range> allRanges(boolean spread, byte[] prefix) {
        if (!spread) {
            return List.of(Range.startsWith(prefix));
        }
        List<Integer> all = new ArrayList<>(BYTES);
        for (int b = 0; b < BYTES; b++) {
            all.add(b);
        }
        return ranges(prefix, all);
    }

    /**
     * The ranges that hold key numbers {@code 0} to {@code count - 1} (and nothing of other
     * prefixes): the one range of the prefix, or with {@code spread} one per first byte those
     * keys use, in key order.
     */
    public static List<Range> rangesOfFirst(boolean spread, byte[] prefix, long count) {
        if (!spread) {
            return List.of(Range.startsWith(prefix));
        }
        SortedSet<Integer> used = new TreeSet<>();
        for (long i = 0; i < Math.min(count, BYTES); i++) {
            used.add(firstByte(i));
        }
        return ranges(prefix, used);
    }

    private static List<Range> ranges(byte[] prefix, Iterable<Integer> firstBytes) {
        List<Range> out = new ArrayList<>();
        for (int b : firstBytes) {
            out.add(Range.startsWith(ByteArrays.concat(new byte[] {(byte) b}, prefix)));
        }
        return List.copyOf(out);
    }
}
