package dev.txkv.server;

import dev.txkv.engine.ReplicationState.FollowerProgress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * On a leader: which followers have not yet replicated what the leader had committed
 * {@link #LAG_MS} ago. A follower can answer its leader every heartbeat (so it counts as
 * reachable) and still fall behind for long, for example while it restarts, loads a snapshot or
 * its leader waits out retries after errors; status then says so instead of calling the
 * cluster healthy. Under load a follower trails by milliseconds, never by seconds.
 *
 * <p>The leader's commit index is sampled at each call ({@link #lagging}); the reference is the
 * newest sample at least {@link #LAG_MS} old, in the same term (a new term starts afresh, so a
 * new leader reports nobody before it has led that long). Thread-safe.
 */
final class FollowerLag {
    /** How far behind the leader's commits a follower may be before it counts as lagging. */
    static final long LAG_MS = 5_000;
    private static final long SAMPLE_EVERY_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(50);
    private static final int SAMPLES_MAX = 1_024;

    private record Sample(long nanos, long commitIndex) {
    }

    /** A follower behind the leader: its match index and what the leader had committed {@link #LAG_MS} ago. */
    record Lagging(String id, long matchIndex, long committedThen, long committedNow) {
    }

    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private long term = -1;

    /**
     * Samples the leader's {@code commitIndex} in {@code term} at {@code nanos} and returns the
     * followers whose match index is below what the leader had committed {@link #LAG_MS} before.
     */
    synchronized List<Lagging> lagging(long nanos, long term, long commitIndex, List<FollowerProgress> followers) {
        if (term != this.term) {
            samples.clear();
            this.term = term;
        }
        // One sample per SAMPLE_EVERY at most: status asked many times a second keeps few.
        if (samples.isEmpty() || nanos - samples.peekLast().nanos() >= SAMPLE_EVERY_NANOS) {
            samples.addLast(new Sample(nanos, commitIndex));
        }
        long lagNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(LAG_MS);
        // Keep the newest sample at least LAG_MS old and everything after it.
        Sample reference = null;
        while (!samples.isEmpty() && nanos - samples.peekFirst().nanos() >= lagNanos) {
            reference = samples.pollFirst();
        }
        if (reference != null) {
            samples.addFirst(reference);
        }
        while (samples.size() > SAMPLES_MAX) {
            samples.pollFirst();
        }
        if (reference == null) {
            return List.of();
        }
        List<Lagging> behind = new ArrayList<>();
        for (FollowerProgress f : followers) {
            if (f.matchIndex().isPresent() && f.matchIndex().getAsLong() < reference.commitIndex()) {
                behind.add(new Lagging(f.id(), f.matchIndex().getAsLong(), reference.commitIndex(), commitIndex));
            }
        }
        return behind;
    }
}
