package dev.txkv.engine;

import dev.txkv.Range;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Decides conflicts: does any read range of a transaction meet a write committed after its
 * read version?
 *
 * <p>Implementation notes. Writes of single keys (a set, a point clear, an atomic operation:
 * nearly all writes) and writes of ranges are kept apart, because the two cost very
 * differently:
 * <ul>
 * <li>{@code points}: key -> newest version that wrote exactly that key. Adding one is one
 * tree insertion; forgetting is done in write order from {@code pointOrder}, so it costs O(1)
 * per write instead of a sweep.
 * <li>{@code steps}: a step function over the keyspace for range writes: each boundary key
 * maps to the newest version that wrote the interval up to the next boundary (0 when nothing
 * in the window did). Adding [b, e) at version v (always the newest) overwrites the steps
 * inside it; this is the structure of FoundationDB's resolver (a skip list of versioned
 * boundaries), here on a {@link TreeMap}.
 * </ul>
 * A read range conflicts if a step inside it, or a point inside it, is newer than the read
 * version. Versions at or below {@link #horizon()} are forgotten by {@link #forgetUpTo(long)};
 * a transaction that read before the horizon cannot be checked and must get
 * transaction_too_old. Single-threaded by design: only the commit pipeline uses it. Public
 * only for the resolver benchmark; not part of the API.
 */
public class Resolver {
    private static final byte[] KEYSPACE_BEGIN = new byte[0];

    private final TreeMap<byte[], Long> steps = new TreeMap<>(Arrays::compareUnsigned);
    private final TreeMap<byte[], Long> points = new TreeMap<>(Arrays::compareUnsigned);
    private final java.util.ArrayDeque<PointWrite> pointOrder = new java.util.ArrayDeque<>();
    private long horizon;

    private record PointWrite(byte[] key, long version) {
    }
    /** A resolver that knows no writes at or below {@code horizon}. */
    public Resolver(long horizon) {
        this.horizon = horizon;
        steps.put(KEYSPACE_BEGIN, 0L);
    }

    /** Versions at or below this are unknown: reads from before it cannot be resolved. */
    public long horizon() {
        return horizon;
    }

    /** Number of boundaries held; for metrics and tests. */
    public int size() {
        return steps.size() + points.size();
    }

    /**
     * Checks {@code reads} against writes newer than {@code readVersion}. Returns null when
     * there is no conflict; otherwise the conflicting ranges (all of them when
     * {@code reportAll}, else just the first found).
     */
    public List<Range> conflicts(List<Range> reads, long readVersion, boolean reportAll) {
        List<Range> found = null;
        for (Range r : reads) {
            if (intersectsNewer(r.begin, r.end, readVersion)) {
                if (found == null) {
                    found = new ArrayList<>(reportAll ? 4 : 1);
                }
                found.add(r);
                if (!reportAll) {
                    return found;
                }
            }
        }
        return found;
    }

    boolean intersectsNewer(byte[] begin, byte[] end, long readVersion) {
        if (Arrays.compareUnsigned(begin, end) >= 0) {
            return false;
        }
        if (isPoint(begin, end)) {
            Long v = points.get(begin);
            if (v != null && v > readVersion) {
                return true;
            }
        } else {
            for (Long v : points.subMap(begin, true, end, false).values()) {
                if (v > readVersion) {
                    return true;
                }
            }
        }
        return stepsNewer(begin, end, readVersion);
    }

    private boolean stepsNewer(byte[] begin, byte[] end, long readVersion) {
        // Walk boundaries with single lookups: sub-map views cost several lookups each to build.
        Map.Entry<byte[], Long> e = steps.floorEntry(begin);
        while (e != null) {
            if (e.getValue() > readVersion) {
                return true;
            }
            e = steps.higherEntry(e.getKey());
            if (e != null && Arrays.compareUnsigned(e.getKey(), end) >= 0) {
                return false;
            }
        }
        return false;
    }

    /** True for [k, k + 0x00): exactly one key. */
    static boolean isPoint(byte[] begin, byte[] end) {
        return end.length == begin.length + 1 && end[begin.length] == 0
                && Arrays.equals(begin, 0, begin.length, end, 0, begin.length);
    }

    /** Records that [begin, end) was written at {@code version}, the newest version so far. */
    public void addWrite(byte[] begin, byte[] end, long version) {
        if (Arrays.compareUnsigned(begin, end) >= 0) {
            return;
        }
        if (isPoint(begin, end)) {
            points.put(begin, version);
            pointOrder.addLast(new PointWrite(begin, version));
            return;
        }
        Map.Entry<byte[], Long> atEnd = steps.floorEntry(end);
        Long afterEnd = atEnd.getValue();
        boolean endIsBoundary = Arrays.equals(atEnd.getKey(), end);
        Map.Entry<byte[], Long> inside = steps.ceilingEntry(begin);
        while (inside != null && Arrays.compareUnsigned(inside.getKey(), end) < 0) {
            steps.remove(inside.getKey());
            inside = steps.higherEntry(inside.getKey());
        }
        steps.put(begin, version);
        if (!endIsBoundary) {
            steps.put(end, afterEnd);
        }
    }

    /**
     * Forgets versions up to {@code newHorizon}: their steps become 0 and neighbouring equal
     * steps merge, so memory follows the writes of the window, not of all time.
     */
    public void forgetUpTo(long newHorizon) {
        if (newHorizon <= horizon) {
            return;
        }
        horizon = newHorizon;
        while (!pointOrder.isEmpty() && pointOrder.peekFirst().version() <= newHorizon) {
            PointWrite w = pointOrder.pollFirst();
            // A newer write of the same key keeps it: only remove the version forgotten here.
            points.remove(w.key(), w.version());
        }
        Iterator<Map.Entry<byte[], Long>> it = steps.entrySet().iterator();
        long previous = -1;
        while (it.hasNext()) {
            Map.Entry<byte[], Long> e = it.next();
            if (e.getValue() <= newHorizon) {
                e.setValue(0L);
            }
            long v = e.getValue();
            if (v == previous && e.getKey().length > 0) {
                it.remove();
            } else {
                previous = v;
            }
        }
    }
}
