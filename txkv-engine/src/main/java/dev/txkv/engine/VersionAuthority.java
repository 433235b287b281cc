package dev.txkv.engine;

import java.util.ArrayDeque;

/**
 * Issues read versions and commit versions, and knows which versions are readable.
 *
 * <p>Every read version handed out is at or below {@link #readableMax()}: its state is
 * final (no later batch can land at or below it, since each batch's version is above every
 * read version handed out before it). A batch's version is taken at {@link #beginBatch} and
 * becomes readable at {@link #publish}; in between, read versions stop just below the oldest
 * batch in flight. On an idle database read versions follow the clock, as FoundationDB's do,
 * so that they age and the MVCC window applies.
 *
 * <p>Invariants (checked): commit versions and published versions only grow.
 */
final class VersionAuthority implements CommitPipeline.Sequencer {
    private final VersionClock clock;
    private final Object lock = new Object();
    /** The newest published version. */
    private volatile long latest;
    /** The highest version known readable without waiting: every read version handed out is at or below it. */
    private volatile long readableMax;
    /** Guarded by lock: the highest read version handed out. */
    private long issued;
    /** Guarded by lock: the newest commit version begun. */
    private long begun;
    /** Guarded by lock: versions of batches begun but not yet published or abandoned, ascending. */
    private final ArrayDeque<Long> inFlight = new ArrayDeque<>();

    VersionAuthority(VersionClock clock, long lastVersion) {
        this.clock = clock;
        this.latest = lastVersion;
        this.issued = lastVersion;
        this.begun = lastVersion;
    }

    /** The version that corresponds to now. */
    @Override
    public long now() {
        return clock.now();
    }

    long latest() {
        return latest;
    }

    long readableMax() {
        return readableMax;
    }

    /** The lock under which a version is published; hold it to see no publish in between. */
    Object lock() {
        return lock;
    }

    /**
     * The commit version of a new batch: above {@code lastVersion}, every version already
     * committed or begun, and every read version handed out.
     */
    @Override
    public long beginBatch(long lastVersion) {
        synchronized (lock) {
            long v = Math.max(clock.next(lastVersion), issued + 1);
            v = Math.max(v, begun + 1);
            Invariants.check(v > latest, "a new batch's version is above the published one", v, latest);
            begun = v;
            inFlight.addLast(v);
            return v;
        }
    }

    /** The batch at {@code version} committed nothing or failed: nothing to publish. */
    @Override
    public void abandonBatch(long version) {
        synchronized (lock) {
            inFlight.remove(version);
        }
    }

    /**
     * Makes {@code version} readable after running {@code install} (which adds its view) under
     * the lock. Versions are published in increasing order.
     */
    void publish(long version, Runnable install) {
        synchronized (lock) {
            Invariants.check(version > latest, "published versions only grow", version, latest);
            install.run();
            latest = version;
            begun = Math.max(begun, version);
            inFlight.remove(version);
            issued = Math.max(issued, version);
            readableMax = issued;
            lock.notifyAll();
        }
    }

    /**
     * Starts over at a version installed from a snapshot, which is at least the newest
     * published one; {@code install} adds its view under the lock.
     */
    void reset(long version, Runnable install) {
        synchronized (lock) {
            Invariants.check(version >= latest, "a snapshot does not take versions back", version, latest);
            install.run();
            latest = version;
            begun = Math.max(begun, version);
            issued = Math.max(issued, version);
            readableMax = Math.max(readableMax, version);
            lock.notifyAll();
        }
    }

    /**
     * The newest version reads may use now. With no batch in flight that is the clock's
     * version (nothing committed since the latest batch, and the next batch will be above it);
     * while batches are being written it is the oldest one's version minus one, whose state is
     * the latest published batch's. With {@code issue} the version counts as handed out.
     */
    long readableVersion(boolean issue) {
        synchronized (lock) {
            if (!inFlight.isEmpty()) {
                long v = Math.max(inFlight.peekFirst() - 1, latest);
                if (issue && v > readableMax) {
                    readableMax = v;
                }
                return v;
            }
            if (!issue) {
                return issued;
            }
            issued = Math.max(issued, Math.max(clock.now(), latest));
            readableMax = issued;
            return issued;
        }
    }

    /** A version confirmed readable from outside (a follower that caught up to it). */
    void confirmReadable(long version) {
        synchronized (lock) {
            issued = Math.max(issued, version);
            readableMax = Math.max(readableMax, version);
        }
    }

    /** A new term: versions jump {@code versionsAhead} past the newest published one or the clock. */
    void beginTerm(long versionsAhead) {
        synchronized (lock) {
            issued = Math.max(issued, Math.max(latest, clock.now()) + versionsAhead);
        }
    }

    /** Waits up to {@code waitNanos} for a publish; false if none came. */
    boolean awaitPublish(long waitNanos) throws InterruptedException {
        synchronized (lock) {
            long before = latest;
            if (waitNanos > 0) {
                lock.wait(Math.max(1, waitNanos / 1_000_000), 0);
            }
            return latest != before;
        }
    }
}
