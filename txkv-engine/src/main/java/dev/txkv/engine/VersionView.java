package dev.txkv.engine;

import java.util.concurrent.atomic.AtomicInteger;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.Snapshot;

/**
 * The database as of one commit version: a RocksDB snapshot taken right after the version's
 * batch was written. Reference-counted so that a reader never touches a released snapshot:
 * the engine's index holds one reference, each read holds one while it runs.
 */
final class VersionView {
    final long version;
    final ReadOptions readOptions;
    /** The store this view reads; a snapshot install replaces the engine's store, not this one. */
    final Storage storage;
    private final Snapshot snapshot;
    private final RocksDB db;
    private final AtomicInteger refs = new AtomicInteger(1);

    private final AtomicInteger live;

    VersionView(long version, Storage storage, AtomicInteger live) {
        this.version = version;
        this.storage = storage;
        this.db = storage.db;
        this.live = live;
        live.incrementAndGet();
        this.snapshot = db.getSnapshot();
        this.readOptions = new ReadOptions().setSnapshot(snapshot);
    }

    /** Takes a reference; false when the view is already released. */
    boolean retain() {
        while (true) {
            int r = refs.get();
            if (r <= 0) {
                return false;
            }
            if (refs.compareAndSet(r, r + 1)) {
                return true;
            }
        }
    }

    /** Drops a reference; the last one frees the snapshot. */
    void release() {
        int r = refs.decrementAndGet();
        Invariants.check(r >= 0, "a view is released once per reference");
        if (r == 0) {
            readOptions.close();
            db.releaseSnapshot(snapshot);
            live.decrementAndGet();
        }
    }

    boolean isReleased() {
        return refs.get() <= 0;
    }
}
