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
 * <p>Implementation notes. The resolver keeps a step function over the keyspace: each
 * boundary key maps to the newest commit version that wrote the interval from it up to the
 * next boundary (0 when nothing in the window wrote it). Adding a write range [b, e) at
 * version v (always the newest version) overwrites the steps inside it; checking a read
 * range is a floor lookup plus a walk over the boundaries inside it. This is the structure of
 * FoundationDB's resolver (a skip list of versioned boundaries), here on a {@link TreeMap}.
 * Versions at or below {@link #horizon()} are forgotten by {@link #forgetUpTo(long)}, which
 * merges steps; a transaction that read before the horizon cannot be checked and must get
 * transaction_too_old. Single-threaded by design: only the commit pipeline uses it. Public
 * only for the resolver benchmark; not part of the API.
 */
public final class Resolver {
    private static final byte[] KEYSPACE_BEGIN = new byte[0];

    private final TreeMap<byte[], Long> steps = new TreeMap<>(Arrays::compareUnsigned);
    private long horizon;
    /** Test hook: when true, reads are never checked (to prove the checkers catch it). */
    private final boolean skipChecks;

    public Resolver(long horizon, boolean skipChecks) {
        this.horizon = horizon;
        this.skipChecks = skipChecks;
        steps.put(KEYSPACE_BEGIN, 0L);
    }

    /** Versions at or below this are unknown: reads from before it cannot be resolved. */
    public long horizon() {
        return horizon;
    }

    /** Number of boundaries held; for metrics and tests. */
    public int size() {
        return steps.size();
    }

    /**
     * Checks {@code reads} against writes newer than {@code readVersion}. Returns null when
     * there is no conflict; otherwise the conflicting ranges (all of them when
     * {@code reportAll}, else just the first found).
     */
    public List<Range> conflicts(List<Range> reads, long readVersion, boolean reportAll) {
        if (skipChecks) {
            return null;
        }
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

    /** Records that [begin, end) was written at {@code version}, the newest version so far. */
    public void addWrite(byte[] begin, byte[] end, long version) {
        if (Arrays.compareUnsigned(begin, end) >= 0) {
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
