package dev.txkv.spi;

import dev.txkv.ByteArrays;
import dev.txkv.ErrorCode;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How the keyspace is split into shards: contiguous key ranges that together cover every key,
 * each served by its own replication group. Immutable; a newer map has a higher epoch.
 *
 * @param epoch the map's generation: a shard that changed gives every map before it away
 * @param shards in key order, the first beginning at the empty key, each ending where the next
 *     begins, the last ending with the keyspace
 */
public record ShardMap(long epoch, List<ShardMap.Shard> shards) {
    /**
     * One shard: the keys in [begin, end).
     *
     * @param id the shard's id, unique in the cluster and never reused
     * @param begin its first key
     * @param end the first key after it; null for the last shard (the end of the keyspace)
     */
    public record Shard(int id, byte[] begin, byte[] end) {
        /** Whether {@code key} belongs to this shard. */
        public boolean contains(byte[] key) {
            return ByteArrays.compareUnsigned(key, begin) >= 0 && (end == null || ByteArrays.compareUnsigned(key, end) < 0);
        }

        /** Whether [from, to) shares a key with this shard (an empty range shares none). */
        public boolean intersects(byte[] from, byte[] to) {
            return ByteArrays.compareUnsigned(from, to) < 0 && ByteArrays.compareUnsigned(to, begin) > 0 && (end == null || ByteArrays.compareUnsigned(from, end) < 0);
        }

        /** [from, to) cut to this shard; null if nothing is left. */
        public Range clip(byte[] from, byte[] to) {
            byte[] b = ByteArrays.compareUnsigned(from, begin) < 0 ? begin : from;
            byte[] e = end != null && ByteArrays.compareUnsigned(to, end) > 0 ? end : to;
            return ByteArrays.compareUnsigned(b, e) < 0 ? new Range(b, e) : null;
        }

        @Override
        public String toString() {
            return "shard " + id + " [" + ByteArrays.printable(begin) + ", "
                    + (end == null ? "end" : ByteArrays.printable(end)) + ")";
        }
    }

    public ShardMap {
        shards = List.copyOf(shards);
        if (shards.isEmpty() || shards.get(0).begin().length != 0 || shards.get(shards.size() - 1).end() != null) {
            throw new IllegalArgumentException("A shard map covers the keyspace from the empty key to its end");
        }
        for (int i = 1; i < shards.size(); i++) {
            byte[] end = shards.get(i - 1).end();
            if (end == null || !Arrays.equals(end, shards.get(i).begin())
                    || ByteArrays.compareUnsigned(shards.get(i - 1).begin(), end) >= 0) {
                throw new IllegalArgumentException("Shards must be contiguous and non-empty: " + shards);
            }
        }
    }

    /** One shard, id 0, holding every key: an unsharded cluster. */
    public static ShardMap single() {
        return new ShardMap(1, List.of(new Shard(0, ByteArrays.EMPTY, null)));
    }

    /**
     * {@code count} shards, ids 0 to count - 1, split at evenly spaced first bytes (count from 1
     * to 256): a new cluster's initial map.
     */
    public static ShardMap evenSplit(int count) {
        if (count < 1 || count > 256) {
            throw new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "A cluster has from 1 to 256 initial shards, not " + count);
        }
        List<Shard> shards = new ArrayList<>(count);
        byte[] begin = ByteArrays.EMPTY;
        for (int i = 0; i < count; i++) {
            byte[] end = i == count - 1 ? null : new byte[] {(byte) ((i + 1) * 256 / count)};
            shards.add(new Shard(i, begin, end));
            begin = end;
        }
        return new ShardMap(1, shards);
    }

    /** The shard that holds {@code key}. */
    public Shard shardOf(byte[] key) {
        int lo = 0;
        int hi = shards.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (ByteArrays.compareUnsigned(shards.get(mid).begin(), key) <= 0) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return shards.get(lo);
    }

    /** The shards that hold some key of [begin, end), in key order. */
    public List<Shard> shardsOf(byte[] begin, byte[] end) {
        List<Shard> out = new ArrayList<>(2);
        if (ByteArrays.compareUnsigned(begin, end) >= 0) {
            return out;
        }
        for (int i = shards.indexOf(shardOf(begin)); i < shards.size(); i++) {
            Shard s = shards.get(i);
            if (!s.intersects(begin, end)) {
                break;
            }
            out.add(s);
        }
        return out;
    }

    /** The shard with this id, or null. */
    public Shard byId(int id) {
        for (Shard s : shards) {
            if (s.id() == id) {
                return s;
            }
        }
        return null;
    }

    /**
     * The keys a mutation writes: its key, a clear range's range, or for a versionstamped key
     * every key its stamp could produce.
     */
    public static Range writtenRange(Mutation m) {
        if (m.type() == Mutation.CLEAR_RANGE) {
            return new Range(m.key(), m.param());
        }
        if (m.type() == MutationType.SET_VERSIONSTAMPED_KEY.code()) {
            byte[] low = new byte[AtomicOps.VERSIONSTAMP_BYTES];
            byte[] high = new byte[AtomicOps.VERSIONSTAMP_BYTES];
            Arrays.fill(high, (byte) 0xFF);
            return new Range(AtomicOps.placeVersionstamp(m.key(), low),
                    ByteArrays.keyAfter(AtomicOps.placeVersionstamp(m.key(), high)));
        }
        return new Range(m.key(), ByteArrays.keyAfter(m.key()));
    }

    /** The ids of the shards a commit writes, reads or marks, ascending. */
    public int[] participants(CommitRequest r) {
        java.util.TreeSet<Integer> ids = new java.util.TreeSet<>();
        for (Mutation m : r.mutations()) {
            Range w = writtenRange(m);
            shardsOf(w.begin, w.end).forEach(s -> ids.add(s.id()));
        }
        for (Range w : r.writeConflicts()) {
            shardsOf(w.begin, w.end).forEach(s -> ids.add(s.id()));
        }
        for (Range rc : r.readConflicts()) {
            shardsOf(rc.begin, rc.end).forEach(s -> ids.add(s.id()));
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
