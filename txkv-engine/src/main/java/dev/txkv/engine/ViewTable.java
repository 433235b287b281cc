package dev.txkv.engine;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@link VersionView}s reads use: one per published batch, newest last. A read at read
 * version rv uses the newest view at or below rv, which is exactly the state at rv because
 * versions between two batches saw no commits. Views older than the MVCC window are released;
 * each reader holds a reference while it reads, so release never races a read.
 */
final class ViewTable {
    private final ConcurrentSkipListMap<Long, VersionView> views = new ConcurrentSkipListMap<>();
    private final AtomicInteger live = new AtomicInteger();
    private volatile VersionView latest;

    ViewTable(Storage storage, long version) {
        add(version, storage);
    }

    VersionView latest() {
        return latest;
    }

    int size() {
        return views.size();
    }

    /** Adds the view of a newly published version; called under the version authority's lock. */
    void add(long version, Storage storage) {
        VersionView view = new VersionView(version, storage, live);
        views.put(version, view);
        latest = view;
    }

    /** The newest view, retained, if it is still live; else null. */
    VersionView retainLatest() {
        VersionView newest = latest;
        return newest.retain() ? newest : null;
    }

    /**
     * The view for reading at {@code readVersion}, retained (the caller releases it):
     * transaction_too_old when no retained view is that old.
     */
    VersionView retainAt(long readVersion, Runnable checkOpen) {
        while (true) {
            Map.Entry<Long, VersionView> e = views.floorEntry(readVersion);
            if (e == null) {
                throw new TxkvException(ErrorCode.TRANSACTION_TOO_OLD,
                        "Read version " + readVersion + " is older than the oldest retained version");
            }
            if (e.getValue().retain()) {
                return e.getValue();
            }
            checkOpen.run();
            if (views.get(e.getKey()) == e.getValue()) {
                throw new TxkvException(ErrorCode.TRANSACTION_TOO_OLD, "Read version " + readVersion + " was released");
            }
        }
    }

    /** Releases views no read can need: those whose successor is already at or below the horizon. */
    void releaseUpTo(long horizon) {
        while (true) {
            Map.Entry<Long, VersionView> oldest = views.firstEntry();
            Map.Entry<Long, VersionView> next = oldest == null ? null : views.higherEntry(oldest.getKey());
            if (next == null || next.getKey() > horizon) {
                return;
            }
            if (views.remove(oldest.getKey(), oldest.getValue())) {
                oldest.getValue().release();
            }
        }
    }

    /** Releases every view (close, snapshot install); readers that hold one finish first. */
    void releaseAll() {
        for (VersionView v : views.values()) {
            v.release();
        }
        views.clear();
    }

    /**
     * Waits up to {@code waitMs} of real time for every reader to let go of its view; false if
     * some still read. (Real time: readers are real threads, whatever clock the engine runs on.)
     */
    boolean awaitNoReaders(long waitMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        while (System.nanoTime() < deadline && live.get() > 0) {
            Thread.onSpinWait();
        }
        return live.get() == 0;
    }
}
