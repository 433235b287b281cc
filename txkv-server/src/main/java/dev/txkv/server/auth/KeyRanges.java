package dev.txkv.server.auth;

import dev.txkv.ByteArrays;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A set of keys as disjoint, sorted, non-adjacent ranges {@code [begin, end)}: what a principal
 * may read or write. {@link #covers} answers whether a whole range lies inside the set in
 * O(log n), never whether it merely overlaps it, so a range that crosses into keys outside the
 * set is refused, never clamped. Immutable.
 */
final class KeyRanges {
    static final KeyRanges NONE = new KeyRanges(new byte[0][], new byte[0][]);

    private final byte[][] begins;
    private final byte[][] ends;

    private KeyRanges(byte[][] begins, byte[][] ends) {
        this.begins = begins;
        this.ends = ends;
    }

    /** The union of {@code ranges} (each {begin, end}, begin below end; empty ones are dropped). */
    static KeyRanges of(List<byte[][]> ranges) {
        List<byte[][]> sorted = new ArrayList<>();
        for (byte[][] r : ranges) {
            if (ByteArrays.compareUnsigned(r[0], r[1]) < 0) {
                sorted.add(r);
            }
        }
        sorted.sort(Comparator.comparing((byte[][] r) -> r[0], ByteArrays::compareUnsigned));
        List<byte[]> b = new ArrayList<>();
        List<byte[]> e = new ArrayList<>();
        for (byte[][] r : sorted) {
            int last = e.size() - 1;
            if (last >= 0 && ByteArrays.compareUnsigned(r[0], e.get(last)) <= 0) {
                if (ByteArrays.compareUnsigned(r[1], e.get(last)) > 0) {
                    e.set(last, r[1]);
                }
            } else {
                b.add(r[0]);
                e.add(r[1]);
            }
        }
        return new KeyRanges(b.toArray(new byte[0][]), e.toArray(new byte[0][]));
    }

    /** Whether every key of {@code [begin, end)} is in the set (an empty range is). */
    boolean covers(byte[] begin, byte[] end) {
        if (ByteArrays.compareUnsigned(begin, end) >= 0) {
            return true;
        }
        int i = floor(begin);
        return i >= 0 && ByteArrays.compareUnsigned(end, ends[i]) <= 0;
    }

    /** Whether {@code key} is in the set. */
    boolean contains(byte[] key) {
        int i = floor(key);
        return i >= 0 && ByteArrays.compareUnsigned(key, ends[i]) < 0;
    }

    /** The first key at or after {@code key} that is not in the set. */
    byte[] firstOutside(byte[] key) {
        int i = floor(key);
        return i >= 0 && ByteArrays.compareUnsigned(key, ends[i]) < 0 ? ends[i] : key;
    }

    boolean isEmpty() {
        return begins.length == 0;
    }

    /** The index of the last range that begins at or before {@code key}, or -1. */
    private int floor(byte[] key) {
        int lo = 0;
        int hi = begins.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (ByteArrays.compareUnsigned(begins[mid], key) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < begins.length; i++) {
            s.append(i == 0 ? "" : ", ").append(ByteArrays.printable(begins[i])).append("..")
                    .append(ByteArrays.printable(ends[i]));
        }
        return s.append(']').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyRanges k && Arrays.deepEquals(begins, k.begins) && Arrays.deepEquals(ends, k.ends);
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(begins) * 31 + Arrays.deepHashCode(ends);
    }
}
