package dev.txkv.client;

import dev.txkv.ErrorCode;
import dev.txkv.MutationType;
import dev.txkv.TxkvException;
import dev.txkv.spi.AtomicOps;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The read-your-writes view of a transaction's own writes: what each written key holds now,
 * as far as the transaction alone can tell.
 *
 * <p>Implementation notes. A key's state is one of: known (a value, or null for cleared),
 * pending (atomic operations on a base value that only the database knows) or unreadable (a
 * versionstamped value, whose bytes exist only after commit). Clear-ranges remove the entries
 * they cover and are kept as a set of disjoint ranges, so that a key inside one reads as
 * absent without asking the database. This mirrors FoundationDB's RYW cache.
 */
final class WriteMap {
    /** What the transaction knows about one written key. */
    static final class Entry {
        final byte[] value;
        final boolean known;
        final boolean unreadable;
        final List<byte[]> pendingParams;
        final List<MutationType> pendingTypes;

        private Entry(byte[] value, boolean known, boolean unreadable, List<MutationType> types, List<byte[]> params) {
            this.value = value;
            this.known = known;
            this.unreadable = unreadable;
            this.pendingTypes = types;
            this.pendingParams = params;
        }

        static Entry known(byte[] value) {
            return new Entry(value, true, false, List.of(), List.of());
        }

        static Entry unreadable() {
            return new Entry(null, false, true, List.of(), List.of());
        }

        /** The value once the database's base value is known. */
        byte[] resolve(byte[] base, int valueSizeMax) {
            if (known) {
                return value;
            }
            if (unreadable) {
                throw new TxkvException(ErrorCode.ACCESSED_UNREADABLE,
                        "The key holds a versionstamped value that is unknown until commit");
            }
            byte[] v = base;
            for (int i = 0; i < pendingTypes.size(); i++) {
                v = AtomicOps.apply(pendingTypes.get(i), v, pendingParams.get(i), valueSizeMax);
            }
            return v;
        }
    }

    private final TreeMap<byte[], Entry> entries = new TreeMap<>(Arrays::compareUnsigned);
    /** Disjoint cleared ranges, begin to end. */
    private final TreeMap<byte[], byte[]> clears = new TreeMap<>(Arrays::compareUnsigned);
    private final int valueSizeMax;

    WriteMap(int valueSizeMax) {
        this.valueSizeMax = valueSizeMax;
    }

    boolean isEmpty() {
        return entries.isEmpty() && clears.isEmpty();
    }

    void set(byte[] key, byte[] value) {
        entries.put(key, Entry.known(value));
    }

    void clear(byte[] key) {
        entries.put(key, Entry.known(null));
    }

    void clearRange(byte[] begin, byte[] end) {
        entries.subMap(begin, true, end, false).clear();
        byte[] newBegin = begin;
        byte[] newEnd = end;
        Map.Entry<byte[], byte[]> before = clears.floorEntry(begin);
        if (before != null && Arrays.compareUnsigned(before.getValue(), begin) >= 0) {
            newBegin = before.getKey();
            if (Arrays.compareUnsigned(before.getValue(), newEnd) > 0) {
                newEnd = before.getValue();
            }
        }
        NavigableMap<byte[], byte[]> overlapped = clears.subMap(newBegin, true, end, true);
        for (byte[] e : overlapped.values()) {
            if (Arrays.compareUnsigned(e, newEnd) > 0) {
                newEnd = e;
            }
        }
        overlapped.clear();
        clears.put(newBegin, newEnd);
    }

    void mutate(MutationType type, byte[] key, byte[] param) {
        if (type == MutationType.SET_VERSIONSTAMPED_VALUE) {
            entries.put(key, Entry.unreadable());
            return;
        }
        Entry e = entries.get(key);
        if (e == null && isCleared(key)) {
            e = Entry.known(null);
        }
        if (e == null) {
            entries.put(key, new Entry(null, false, false, List.of(type), List.of(param)));
        } else if (e.known) {
            entries.put(key, Entry.known(AtomicOps.apply(type, e.value, param, valueSizeMax)));
        } else if (e.unreadable) {
            // The result still depends on the versionstamp: it stays unreadable.
            return;
        } else {
            List<MutationType> types = new ArrayList<>(e.pendingTypes);
            List<byte[]> params = new ArrayList<>(e.pendingParams);
            types.add(type);
            params.add(param);
            entries.put(key, new Entry(null, false, false, types, params));
        }
    }

    /** The entry for {@code key}; a key inside a cleared range reads as a known absence. */
    Entry lookup(byte[] key) {
        Entry e = entries.get(key);
        if (e != null) {
            return e;
        }
        return isCleared(key) ? Entry.known(null) : null;
    }

    boolean isCleared(byte[] key) {
        Map.Entry<byte[], byte[]> c = clears.floorEntry(key);
        return c != null && Arrays.compareUnsigned(key, c.getValue()) < 0;
    }

    /** Written keys in {@code [begin, end)}, ascending or descending. */
    NavigableMap<byte[], Entry> entriesIn(byte[] begin, byte[] end, boolean reverse) {
        NavigableMap<byte[], Entry> m = entries.subMap(begin, true, end, false);
        return reverse ? m.descendingMap() : m;
    }

    int valueSizeMax() {
        return valueSizeMax;
    }
}
