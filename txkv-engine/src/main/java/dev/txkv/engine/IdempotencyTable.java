package dev.txkv.engine;

import dev.txkv.spi.CommitResult;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * Outcomes of commits that carried an idempotency id, so that a retry after
 * commit_unknown_result learns the earlier outcome instead of committing twice. Durable (in
 * the same write batch as the commit) and bounded: the newest {@link #ENTRIES_MAX} ids, each
 * for at most {@link #RETENTION_MS}. A retry later than that may commit again.
 *
 * <pre>
 * key: id (1..255 bytes)   value: [commit version 8][batch order 2][commit time ms 8], big-endian
 * </pre>
 */
final class IdempotencyTable {
    static final int ENTRIES_MAX = 100_000;
    static final long RETENTION_MS = 60 * 60 * 1000L;

    private record Entry(ByteBuffer id, CommitResult result, long timeMs) {
    }

    /** Durable outcomes; read by the resolve thread, written by the log thread. */
    private final Map<ByteBuffer, Entry> byId = new java.util.concurrent.ConcurrentHashMap<>();
    /** Outcomes of commits resolved but not yet durable. */
    private final Map<ByteBuffer, Entry> inFlight = new java.util.concurrent.ConcurrentHashMap<>();
    private final ArrayDeque<Entry> byAge = new ArrayDeque<>();
    private final java.util.List<byte[]> pendingDeletes = new java.util.ArrayList<>();
    private Storage storage;
    /** {@link ShardFault#KEEP_REFUSED_OUTCOMES} planted (tests only). */
    private volatile boolean keepRefused;

    IdempotencyTable(Storage storage) {
        load(storage);
    }

    /** Starts over from another store (a replica that installed a snapshot). */
    synchronized void reload(Storage fresh) {
        byId.clear();
        inFlight.clear();
        byAge.clear();
        pendingDeletes.clear();
        load(fresh);
    }

    private void load(Storage from) {
        this.storage = from;
        java.util.List<Entry> loaded = new java.util.ArrayList<>();
        try (RocksIterator it = from.db.newIterator(from.idempotency)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                ByteBuffer v = ByteBuffer.wrap(it.value());
                if (v.remaining() != 18) {
                    continue;
                }
                loaded.add(new Entry(ByteBuffer.wrap(it.key()), new CommitResult(v.getLong(), v.getShort() & 0xFFFF),
                        v.getLong()));
            }
        }
        loaded.sort(java.util.Comparator.comparingLong(Entry::timeMs));
        for (Entry e : loaded) {
            byId.put(e.id(), e);
            byAge.add(e);
        }
    }

    /**
     * Log thread: takes the outcomes an absorb copied into this store (from the shard it
     * absorbed, whose commits' retries now come here), beside those known already.
     */
    void absorbed(Storage from) {
        try (RocksIterator it = from.db.newIterator(from.idempotency)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                ByteBuffer v = ByteBuffer.wrap(it.value());
                ByteBuffer id = ByteBuffer.wrap(it.key());
                if (v.remaining() == 18 && !byId.containsKey(id)) {
                    byId.put(id, new Entry(id, new CommitResult(v.getLong(), v.getShort() & 0xFFFF), v.getLong()));
                }
            }
        }
        java.util.List<Entry> all = new java.util.ArrayList<>(byId.values());
        all.sort(java.util.Comparator.comparingLong(Entry::timeMs));
        byAge.clear();
        byAge.addAll(all);
    }

    /** The outcome of an earlier commit with this id, durable or still being written; null if none. */
    CommitResult lookup(byte[] id) {
        ByteBuffer key = ByteBuffer.wrap(id);
        Entry e = inFlight.get(key);
        if (e == null) {
            e = byId.get(key);
        }
        return e == null ? null : e.result();
    }

    /** Resolve thread: notes a commit with this id, visible to {@link #lookup} at once. */
    void entry(byte[] id, CommitResult result, long nowMs) {
        Entry e = new Entry(ByteBuffer.wrap(id.clone()), result, nowMs);
        inFlight.put(e.id(), e);
    }

    /**
     * Resolve thread, as this member's term as leader begins: forgets the outcomes resolved in
     * an earlier term that were never applied. They never will be: the term begins only after
     * this member applied every entry that any earlier leader committed, and an outcome is
     * moved to the durable ones as its batch applies. Without this, a commit whose batch an
     * earlier term lost would be reported committed to a client that retries it with its id.
     */
    void newTerm() {
        inFlight.clear();
    }

    /** Resolve thread or log callback: the batch of {@code version} never entered the log; forgets its commits' outcomes. */
    void refused(List<CommittedBatch.Transaction> transactions, long version) {
        if (keepRefused) {
            return;
        }
        for (CommittedBatch.Transaction t : transactions) {
            if (t.idempotencyId() != null) {
                inFlight.computeIfPresent(ByteBuffer.wrap(t.idempotencyId()),
                        (k, e) -> e.result().version() == version ? null : e);
            }
        }
    }

    /**
     * Log thread: a batch of {@code version} was applied. Batches apply in version order, so a
     * commit still in flight below it never entered the log (its append failed, of unknown
     * outcome to its client): its outcome is forgotten, and a retry with its id runs afresh
     * instead of being told it committed.
     */
    void applied(long version) {
        if (keepRefused || inFlight.isEmpty()) {
            return;
        }
        inFlight.values().removeIf(e -> e.result().version() < version);
    }

    /**
     * Whether {@code result}, looked up for {@code id} earlier, is the outcome of an applied commit
     * now. A later record's successful append says nothing of an earlier batch the log refused
     * (it never entered the log), so a repeat is answered only once its earlier commit applied.
     */
    boolean stillKnown(byte[] id, CommitResult result) {
        if (keepRefused) {
            return true;
        }
        Entry now = byId.get(ByteBuffer.wrap(id));
        return now != null && now.result().version() == result.version()
                && now.result().batchOrder() == result.batchOrder();
    }

    /** Plants {@link ShardFault#KEEP_REFUSED_OUTCOMES} (tests only). */
    void plantKeepRefused() {
        keepRefused = true;
    }

    /** Log thread: puts an outcome into the commit's write batch. */
    void stage(byte[] id, CommitResult result, long nowMs, WriteBatch batch) throws RocksDBException {
        ByteBuffer value = ByteBuffer.allocate(18).putLong(result.version()).putShort((short) result.batchOrder())
                .putLong(nowMs);
        batch.put(storage.idempotency, id, value.array());
    }

    /**
     * Makes the outcomes of an applied batch visible as durable, and expires the oldest entries
     * (deleted with the next batch, best effort: a crash only delays it).
     */
    void publish(CommittedBatch batch) {
        for (CommittedBatch.Transaction t : batch.transactions()) {
            if (t.idempotencyId() == null) {
                continue;
            }
            Entry e = new Entry(ByteBuffer.wrap(t.idempotencyId().clone()), t.result(batch.version()),
                    batch.commitTimeMs());
            Entry previous = byId.put(e.id(), e);
            inFlight.remove(e.id());
            if (previous != null) {
                byAge.remove(previous);
            }
            byAge.add(e);
        }
        long nowMs = batch.commitTimeMs();
        while (!byAge.isEmpty() && (byAge.size() > ENTRIES_MAX || byAge.peekFirst().timeMs() < nowMs - RETENTION_MS)) {
            Entry old = byAge.pollFirst();
            byId.remove(old.id());
            pendingDeletes.add(old.id().array());
        }
    }

    /** Adds the deletions of expired entries to a batch about to be written. */
    void stageExpiries(WriteBatch batch) throws RocksDBException {
        for (byte[] id : pendingDeletes) {
            batch.delete(storage.idempotency, id);
        }
        pendingDeletes.clear();
    }
}
