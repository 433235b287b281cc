package dev.txkv.engine;

import dev.txkv.spi.Environment;
import dev.txkv.spi.ReadStamp;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sequencer of a sharded cluster: hands out every commit version and every read version,
 * and remembers, per shard, the last version it granted there (FoundationDB's master with a
 * version vector). One instance per epoch: a sequencer that starts again (failover) starts a
 * new epoch whose versions lie above everything an earlier one may have handed out, and it
 * knows no earlier grants, so each shard closes the earlier epoch when it first meets the new
 * one (docs/sharding.md).
 *
 * <p>Invariants: versions only grow; a grant lies above every read version handed out, so an
 * acknowledged commit is visible to every later read version; a read version lies at or above
 * every grant made before it.
 */
public final class VersionSequencer {
    /**
     * One commit version for a batch or a cross-shard transaction.
     *
     * @param version the commit version
     * @param epoch the sequencer's epoch
     * @param previous per participant (in the order asked), the version granted there before
     *     this one in this epoch, or -1 if this is the epoch's first
     */
    public record Grant(long version, long epoch, long[] previous) {
    }

    /** How long grant records are kept for a shard that asks who coordinates a version. */
    private static final long GRANT_RECORDS_MAX = 100_000;

    private final VersionClock clock;
    private final long epoch;
    private final Object lock = new Object();
    private long last;
    private final Map<Integer, Long> lastGrants = new HashMap<>();
    private Map<Integer, Long> stampGrants = Map.of();
    private final TreeMap<Long, Integer> coordinators = new TreeMap<>();
    /** No version above this is handed out: the durable high-water mark a successor starts above. */
    private long ceiling = Long.MAX_VALUE;

    /**
     * A sequencer for {@code epoch} whose versions start above {@code floor} (every version an
     * earlier epoch may have handed out).
     */
    public VersionSequencer(Environment env, long epoch, long floor) {
        this.clock = new VersionClock(env, floor);
        this.epoch = epoch;
        this.last = floor;
    }

    public long epoch() {
        return epoch;
    }

    /** The highest version handed out so far (for the next epoch's floor). */
    public long highWater() {
        synchronized (lock) {
            return last;
        }
    }

    /**
     * Versions above {@code version} are not handed out until the ceiling is raised: the
     * sequencer's durable high-water mark, which a successor epoch starts above.
     */
    public void ceiling(long version) {
        synchronized (lock) {
            ceiling = Math.max(version, last);
        }
    }

    /** The version that corresponds to now on this sequencer's clock. */
    public long now() {
        return clock.now();
    }

    /** The current ceiling. */
    public long ceilingVersion() {
        synchronized (lock) {
            return ceiling;
        }
    }

    private void belowCeiling(long v) {
        if (v > ceiling) {
            throw new dev.txkv.TxkvException(dev.txkv.ErrorCode.PROCESS_BEHIND,
                    "The sequencer is making its high-water mark durable; retry");
        }
    }

    /** A commit version for {@code participants}, coordinated by shard {@code coordinator}. */
    public Grant grant(int coordinator, int[] participants) {
        synchronized (lock) {
            long v = clock.next(last);
            belowCeiling(v);
            last = v;
            long[] previous = new long[participants.length];
            for (int i = 0; i < participants.length; i++) {
                Long p = lastGrants.put(participants[i], v);
                previous[i] = p == null ? -1 : p;
            }
            stampGrants = null;
            coordinators.put(v, coordinator);
            if (coordinators.size() > GRANT_RECORDS_MAX) {
                coordinators.pollFirstEntry();
            }
            Invariants.check(Arrays.stream(previous).allMatch(p -> p < v), "grants to a shard only grow", v, last);
            return new Grant(v, epoch, previous);
        }
    }

    /** A read version: at or above every grant so far, and below every later one. */
    public ReadStamp readVersion() {
        synchronized (lock) {
            long v = Math.max(last, Math.min(clock.now(), ceiling));
            last = v;
            if (stampGrants == null) {
                stampGrants = Map.copyOf(lastGrants);
            }
            return new ReadStamp(v, epoch, stampGrants);
        }
    }

    /** The shard that coordinates the transaction granted {@code version}, or -1 if not known (any more). */
    public int coordinatorOf(long version) {
        synchronized (lock) {
            Integer c = coordinators.get(version);
            return c == null ? -1 : c;
        }
    }
}
