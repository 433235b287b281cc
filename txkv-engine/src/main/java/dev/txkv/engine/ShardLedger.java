package dev.txkv.engine;

import dev.txkv.spi.CommitResult;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.rocksdb.RocksIterator;

/**
 * The two-phase state of one shard, as its log applies it (every replica keeps the same):
 * slices prepared and not yet decided, batches that wait for an undecided slice below them,
 * and, where this shard coordinated, commit decisions that not every participant has noted
 * yet. All of it lives in storage's meta column family, written with the log record that made
 * it, so a restart finds it as it was.
 *
 * <p>Versions apply in order: a batch above an undecided slice is kept (deferred) until the
 * slice is decided, then applied, so that each version's view holds exactly the transactions
 * at or below it. A read at a version waits until every slot of this shard at or below it is
 * applied or rolled back ({@link #resolvedThrough}).
 */
final class ShardLedger {
    private static final byte[] PREPARED = "2pc/prepared/".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DEFERRED = "2pc/deferred/".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DECIDED = "2pc/decided/".getBytes(StandardCharsets.US_ASCII);
    /** The keys this shard holds (absent: those it was made with, or none for a new shard not yet born). */
    private static final byte[] RANGE = "shard/range".getBytes(StandardCharsets.US_ASCII);
    /** The splits this shard made, by split key: the new shard and the version. */
    private static final byte[] SPLITS = "shard/split/".getBytes(StandardCharsets.US_ASCII);

    /** Where a new shard's keys come from: its parent's replica on this member. */
    @FunctionalInterface
    interface Births {
        /**
         * Copies [begin, end) of shard {@code parent}, as it holds them from {@code version} on
         * (every slot up to it resolved), into {@code into}'s data, replacing what {@code into}
         * held there; with {@code outcomes}, also the outcomes of the commits with an
         * idempotency id that {@code parent} remembers. Blocks until it can.
         */
        void copy(int parent, long version, byte[] begin, byte[] end, Storage into, boolean outcomes);
    }

    /** Told the keys [begin, end) left this shard (a split): their watches must look again. */
    @FunctionalInterface
    interface MovedAway {
        void moved(byte[] begin, byte[] end);
    }

    /** The engine's apply of one batch: write, publish its version, fire watches. */
    @FunctionalInterface
    interface BatchApplier {
        void apply(CommittedBatch batch, long logIndex, Applier.Stage extra);
    }

    private final Applier applier;
    private final IdempotencyTable idempotency;
    private final Runnable changed;
    private Storage storage;
    /** Undecided slices prepared here, by version. */
    private final TreeMap<Long, CommittedBatch> prepared = new TreeMap<>();
    /** Batches (and committed slices) waiting for an undecided slice below them, by version. */
    private final TreeMap<Long, CommittedBatch> deferred = new TreeMap<>();
    /** Commit decisions this shard coordinated that some participant may not have noted, by version. */
    private final TreeMap<Long, CommittedBatch> decisions = new TreeMap<>();
    /** Slots taken here and not yet applied or rolled back: reads at or above the first wait. */
    private final TreeSet<Long> unresolved = new TreeSet<>();
    /**
     * Slots taken here whose append failed (their outcome unknown): each stays unresolved until
     * this log applies a record of a newer version (the leader appends in version order, so the
     * failed record, if it is in the log at all, was applied first) or a new term begins.
     */
    private final TreeSet<Long> doubtful = new TreeSet<>();
    /** The newest version of a record applied here (-1: none yet). */
    private long newestApplied = -1;
    /** When this member first saw each undecided slice (environment nanos), for in-doubt queries. */
    private final Map<Long, Long> preparedSince = new HashMap<>();
    private final dev.txkv.spi.Environment env;

    /** A planted bug (tests only): prepared slices apply at once, as if committed. */
    private final boolean applyBeforeDecision;
    /** A planted bug (tests only): a slot whose append failed counts as rolled back at once. */
    private boolean dropFailedAppends;
    private final int shardId;
    /** The keys this shard was made with; null for a shard made by a split (none until born). */
    private final dev.txkv.spi.ShardMap.Shard initial;
    private final Births births;
    private final MovedAway movedAway;
    /** Told after a split, birth or absorb changed the keys this shard holds. */
    private volatile Runnable rangeChanged = () -> { };
    /** The keys this shard holds after every record of its log seen so far; null before a new shard's birth. */
    private volatile dev.txkv.spi.ShardMap.Shard owned;
    /** A new shard's birth version, or its newest absorb's: reads and conflict checks below it are too old here; -1 otherwise. */
    private volatile long floor = -1;
    /** Splits made here, by split key: {new shard, version}. */
    private final TreeMap<byte[], long[]> splits = new TreeMap<>(Arrays::compareUnsigned);

    ShardLedger(Storage storage, Applier applier, IdempotencyTable idempotency, dev.txkv.spi.Environment env,
            Runnable changed, boolean applyBeforeDecision, int shardId, dev.txkv.spi.ShardMap.Shard initial,
            Births births, MovedAway movedAway) {
        this.shardId = shardId;
        this.initial = initial;
        this.births = births;
        this.movedAway = movedAway;
        this.applyBeforeDecision = applyBeforeDecision;
        this.applier = applier;
        this.idempotency = idempotency;
        this.env = env;
        this.changed = changed;
        reload(storage);
    }

    /** Loads the state from storage (at open, and after a snapshot install). */
    synchronized void reload(Storage fresh) {
        this.storage = fresh;
        prepared.clear();
        deferred.clear();
        decisions.clear();
        unresolved.clear();
        doubtful.clear();
        preparedSince.clear();
        load(PREPARED, prepared);
        load(DEFERRED, deferred);
        load(DECIDED, decisions);
        unresolved.addAll(prepared.keySet());
        unresolved.addAll(deferred.keySet());
        for (Long v : prepared.keySet()) {
            preparedSince.put(v, env.nanoTime());
        }
        loadRange();
    }

    private void loadRange() {
        owned = initial;
        floor = -1;
        splits.clear();
        byte[] stored = storage.getLatest(storage.meta, RANGE);
        if (stored != null) {
            ByteBuffer b = ByteBuffer.wrap(stored);
            boolean born = b.get() == 1;
            floor = b.getLong();
            byte[] begin = new byte[b.getInt()];
            b.get(begin);
            int endLength = b.getInt();
            byte[] end = null;
            if (endLength >= 0) {
                end = new byte[endLength];
                b.get(end);
            }
            owned = born ? new dev.txkv.spi.ShardMap.Shard(shardId, begin, end) : null;
        }
        try (RocksIterator it = storage.db.newIterator(storage.meta)) {
            for (it.seek(SPLITS); it.isValid(); it.next()) {
                byte[] key = it.key();
                if (!Arrays.equals(key, 0, Math.min(key.length, SPLITS.length), SPLITS, 0, SPLITS.length)) {
                    break;
                }
                ByteBuffer v = ByteBuffer.wrap(it.value());
                splits.put(Arrays.copyOfRange(key, SPLITS.length, key.length), new long[] {v.getInt(), v.getLong()});
            }
        }
    }

    private byte[] encodeRange() {
        dev.txkv.spi.ShardMap.Shard o = owned;
        byte[] begin = o == null ? new byte[0] : o.begin();
        byte[] end = o == null ? null : o.end();
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 4 + begin.length + 4 + (end == null ? 0 : end.length));
        b.put((byte) (o == null ? 0 : 1)).putLong(floor).putInt(begin.length).put(begin);
        if (end == null) {
            b.putInt(-1);
        } else {
            b.putInt(end.length).put(end);
        }
        return b.array();
    }

    /** Runs {@code r} after each split or birth the log applies. */
    void onRangeChange(Runnable r) {
        this.rangeChanged = r;
    }

    /** The keys this shard holds after every record of its log seen so far; null before a new shard's birth. */
    dev.txkv.spi.ShardMap.Shard owned() {
        return owned;
    }

    /** A new shard's birth version, or its newest absorb's (older reads and conflict checks are too old here); -1 otherwise. */
    long floor() {
        return floor;
    }

    /** The split this shard made at {@code key}, as {new shard, version}; null if none. */
    synchronized long[] splitAt(byte[] key) {
        long[] s = splits.get(key);
        return s == null ? null : s.clone();
    }

    /** Whether this replica saw every slot up to {@code version} and resolved each (a new shard may copy from it). */
    synchronized boolean settledThrough(long version) {
        return slotHead() >= version && resolvedThrough(version);
    }

    private void load(byte[] prefix, TreeMap<Long, CommittedBatch> into) {
        try (RocksIterator it = storage.db.newIterator(storage.meta)) {
            for (it.seek(prefix); it.isValid(); it.next()) {
                byte[] key = it.key();
                if (key.length != prefix.length + 8 || !Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length)) {
                    break;
                }
                CommittedBatch record = CommittedBatch.decode(it.value());
                into.put(record.version(), record);
            }
        }
    }

    private static byte[] key(byte[] prefix, long version) {
        return ByteBuffer.allocate(prefix.length + 8).put(prefix).putLong(version).array();
    }

    /**
     * Applies one log record. Batches apply at once unless an undecided slice lies below them;
     * a decision applies (or drops) its slice and then everything deferred up to the next
     * undecided slice.
     */
    void apply(CommittedBatch record, long logIndex, BatchApplier now) {
        if (record.kind() == CommittedBatch.Kind.BORN && owned == null) {
            // Outside the lock: the copy waits for the parent's replica, and reads here must not
            // wait with it (they are refused until the birth is recorded below).
            births.copy(record.otherShard(), record.version(), record.bornBegin(), record.bornEnd(), storage, false);
        }
        if (record.kind() == CommittedBatch.Kind.ABSORB && adjacent(record)) {
            // Likewise: the keys come from the absorbed shard's replica on this member, as it
            // holds them from its fence on (they no longer change there); reads of them are
            // refused here until the absorb is recorded below.
            births.copy(record.otherShard(), record.absorbFence(), record.bornBegin(), record.bornEnd(), storage, true);
        }
        byte[][] moved = null;
        synchronized (this) {
            long v = record.version();
            switch (record.kind()) {
                case SPLIT -> moved = split(record, logIndex, now);
                case BORN -> {
                    if (owned == null) {
                        owned = new dev.txkv.spi.ShardMap.Shard(shardId, record.bornBegin(), record.bornEnd());
                        floor = v;
                        byte[] range = encodeRange();
                        now.apply(new CommittedBatch(v, record.commitTimeMs(), List.of()), logIndex,
                                b -> b.put(storage.meta, RANGE, range));
                    } else {
                        applier.record(storage, logIndex, b -> { });
                    }
                    unresolved.remove(v);
                }
                case ABSORB -> absorb(record, logIndex, now);
                case BATCH -> applyOrDefer(record, logIndex, now, null);
                case PREPARED -> {
                    if (applyBeforeDecision) {
                        now.apply(new CommittedBatch(v, record.commitTimeMs(), record.transactions()), logIndex, null);
                        unresolved.remove(v);
                    } else if (!prepared.containsKey(v)) {
                        prepared.put(v, record);
                        preparedSince.put(v, env.nanoTime());
                        unresolved.add(v);
                        applier.record(storage, logIndex, b -> b.put(storage.meta, key(PREPARED, v), record.encode()));
                    }
                }
                case DECIDE -> decide(record, logIndex);
                case DECIDED -> outcome(v, record.twoPhase().commit(), logIndex, null);
                case FORGET -> {
                    if (decisions.remove(v) != null) {
                        applier.record(storage, logIndex, b -> b.delete(storage.meta, key(DECIDED, v)));
                    }
                }
                default -> throw new IllegalStateException("unknown record kind " + record.kind());
            }
            settleDoubtful(v);
            drain(logIndex, now);
        }
        if (moved != null) {
            movedAway.moved(moved[0], moved[1]);
        }
        if (record.kind() == CommittedBatch.Kind.SPLIT || record.kind() == CommittedBatch.Kind.BORN
                || record.kind() == CommittedBatch.Kind.ABSORB) {
            rangeChanged.run();
        }
        changed.run();
    }

    /** Whether an absorb record's keys begin where this shard's end (it has not absorbed them yet). */
    private boolean adjacent(CommittedBatch record) {
        dev.txkv.spi.ShardMap.Shard o = owned;
        return o != null && o.end() != null && Arrays.equals(o.end(), record.bornBegin());
    }

    /**
     * An absorb at its version (its keys already copied here): from it on this shard also holds
     * the absorbed shard's keys, and reads and conflict checks below it are too old here (this
     * shard has no history of those keys before it). A record that lands again, or that no
     * longer fits (this shard's keys changed since), applies as an empty batch.
     */
    private void absorb(CommittedBatch record, long logIndex, BatchApplier now) {
        long v = record.version();
        CommittedBatch empty = new CommittedBatch(v, record.commitTimeMs(), List.of());
        if (!adjacent(record)) {
            applyOrDefer(empty, logIndex, now, null);
            return;
        }
        owned = new dev.txkv.spi.ShardMap.Shard(shardId, owned.begin(), record.bornEnd());
        floor = Math.max(floor, v);
        byte[] range = encodeRange();
        // The splits this shard once made inside the absorbed keys are undone: a new split at
        // one of those keys is a new split, not the old one asked again.
        java.util.Map<byte[], long[]> undone = record.bornEnd() == null ? splits.tailMap(record.bornBegin(), true)
                : splits.subMap(record.bornBegin(), true, record.bornEnd(), false);
        List<byte[]> forgotten = new ArrayList<>(undone.keySet());
        undone.clear();
        idempotency.absorbed(storage);
        applyOrDefer(empty, logIndex, now, b -> {
            b.put(storage.meta, RANGE, range);
            for (byte[] key : forgotten) {
                b.delete(storage.meta, ByteBuffer.allocate(SPLITS.length + key.length).put(SPLITS).put(key).array());
            }
        });
    }

    /**
     * A split at its version: from it on this shard holds only the keys below the split key
     * (recorded now, so a leader of a later term starts with them), and the version applies as
     * an empty batch in its turn. Returns the keys that left.
     */
    private byte[][] split(CommittedBatch record, long logIndex, BatchApplier now) {
        long v = record.version();
        byte[] key = record.splitKey();
        dev.txkv.spi.ShardMap.Shard before = owned;
        CommittedBatch empty = new CommittedBatch(v, record.commitTimeMs(), List.of());
        if (splits.containsKey(key)) {
            // The same split made again by a leader that did not know its first record landed.
            applyOrDefer(empty, logIndex, now, null);
            return null;
        }
        // At its first key: the shard gives all its keys away (the right shard of a merge).
        Invariants.check(before != null && before.contains(key), "a shard splits inside its keys", v, -1);
        owned = new dev.txkv.spi.ShardMap.Shard(shardId, before.begin(), key);
        splits.put(key, new long[] {record.otherShard(), v});
        byte[] range = encodeRange();
        byte[] splitKey = ByteBuffer.allocate(SPLITS.length + key.length).put(SPLITS).put(key).array();
        byte[] splitValue = ByteBuffer.allocate(12).putInt(record.otherShard()).putLong(v).array();
        applyOrDefer(empty, logIndex, now, b -> {
            b.put(storage.meta, RANGE, range);
            b.put(storage.meta, splitKey, splitValue);
        });
        return new byte[][] {key, before.end()};
    }

    /** Applies {@code batch} now with {@code also}, or keeps it (and writes {@code also}) until the undecided slices below it are decided. */
    private void applyOrDefer(CommittedBatch batch, long logIndex, BatchApplier now, Applier.Stage also) {
        long v = batch.version();
        if (!prepared.isEmpty() && prepared.firstKey() < v) {
            deferred.put(v, batch);
            applier.record(storage, logIndex, b -> {
                if (also != null) {
                    also.stage(b);
                }
                b.put(storage.meta, key(DEFERRED, v), batch.encode());
            });
        } else {
            now.apply(batch, logIndex, also);
            unresolved.remove(v);
        }
    }

    /** The coordinator's decision: remembered until every participant noted it, and this shard's own outcome. */
    private void decide(CommittedBatch record, long logIndex) {
        long v = record.version();
        boolean commit = record.twoPhase().commit();
        Applier.Stage remember = null;
        if (commit && !decisions.containsKey(v)) {
            decisions.put(v, record);
            byte[] id = record.transactions().isEmpty() ? null : record.transactions().get(0).idempotencyId();
            remember = b -> {
                b.put(storage.meta, key(DECIDED, v), record.encode());
                if (id != null) {
                    idempotency.stage(id, new CommitResult(v, 0), record.commitTimeMs(), b);
                }
            };
        }
        outcome(v, commit, logIndex, remember);
        if (commit) {
            idempotency.publish(record);
        }
    }

    /** Applies the outcome of the slice at {@code v}, if this shard prepared one that is still undecided. */
    private void outcome(long v, boolean commit, long logIndex, Applier.Stage also) {
        CommittedBatch slice = prepared.remove(v);
        preparedSince.remove(v);
        if (slice == null) {
            if (also != null) {
                applier.record(storage, logIndex, also);
            }
            return;
        }
        CommittedBatch batch = commit ? new CommittedBatch(v, slice.commitTimeMs(), slice.transactions()) : null;
        applier.record(storage, logIndex, b -> {
            if (also != null) {
                also.stage(b);
            }
            b.delete(storage.meta, key(PREPARED, v));
            if (batch != null) {
                b.put(storage.meta, key(DEFERRED, v), batch.encode());
            }
        });
        if (batch != null) {
            deferred.put(v, batch);
        } else {
            unresolved.remove(v);
        }
    }

    /** Applies deferred batches in version order up to the first undecided slice. */
    private void drain(long logIndex, BatchApplier now) {
        while (!deferred.isEmpty() && (prepared.isEmpty() || deferred.firstKey() < prepared.firstKey())) {
            Map.Entry<Long, CommittedBatch> next = deferred.pollFirstEntry();
            long v = next.getKey();
            now.apply(next.getValue(), logIndex, b -> b.delete(storage.meta, key(DEFERRED, v)));
            unresolved.remove(v);
        }
    }

    /** At open: applies what a crash left deferred with nothing undecided below it. */
    void drainAtOpen(BatchApplier now) {
        synchronized (this) {
            drain(applier.appliedLogIndex(), now);
        }
        changed.run();
    }

    // ------------------------------------------------------------------ for the leader and reads

    /** The pipeline took slot {@code v} and will append it: reads at or above it wait until it resolves. */
    synchronized void taken(long v) {
        unresolved.add(v);
    }

    /**
     * The append of slot {@code v}'s record failed. Its outcome is unknown: a leader that lost
     * its majority fails the appends it has pending, yet those records may still commit under
     * the next leader, even on this member. So the slot stays unresolved (reads at or above it
     * wait) until this log applies a record of a newer version, which it does only after the
     * failed record if that record is in the log, or until a new term begins.
     */
    void appendFailed(long v) {
        synchronized (this) {
            if (prepared.containsKey(v) || deferred.containsKey(v) || !unresolved.contains(v)) {
                return;
            }
            if (newestApplied <= v && !dropFailedAppends) {
                doubtful.add(v);
                return;
            }
            unresolved.remove(v);
        }
        changed.run();
    }

    /**
     * The append of slot {@code v}'s record failed with {@code error}: a {@link CommitLog.Refused}
     * record never entered the log, so its slot resolves at once (nothing of it will apply);
     * any other failure leaves it {@link #appendFailed(long) unknown}.
     */
    void appendFailed(long v, Throwable error) {
        if (CommitLog.refusal(error) == null) {
            appendFailed(v);
            return;
        }
        synchronized (this) {
            if (prepared.containsKey(v) || deferred.containsKey(v) || !unresolved.remove(v)) {
                return;
            }
            doubtful.remove(v);
        }
        changed.run();
    }

    /** Plants {@link ShardFault#DROP_FAILED_APPEND} (tests only). */
    synchronized void plantDropFailedAppends() {
        dropFailedAppends = true;
    }

    /** A record of version {@code v} was applied (under the lock): the failed slots below it are settled. */
    private void settleDoubtful(long v) {
        newestApplied = Math.max(newestApplied, v);
        doubtful.remove(v);
        while (!doubtful.isEmpty() && doubtful.first() < v) {
            long d = doubtful.pollFirst();
            if (!prepared.containsKey(d) && !deferred.containsKey(d)) {
                unresolved.remove(d);
            }
        }
    }

    /** Forgets the slots a leader took and never saw applied (its term ended): only the log's own remain. */
    void forgetTaken() {
        synchronized (this) {
            unresolved.clear();
            doubtful.clear();
            unresolved.addAll(prepared.keySet());
            unresolved.addAll(deferred.keySet());
        }
        changed.run();
    }

    /** Whether every slot of this shard at or below {@code version} is applied or rolled back. */
    synchronized boolean resolvedThrough(long version) {
        return unresolved.isEmpty() || unresolved.first() > version;
    }

    /** The newest slot this shard's log holds: the newest applied, prepared or deferred version. */
    synchronized long slotHead() {
        long head = applier.appliedVersion();
        if (!prepared.isEmpty()) {
            head = Math.max(head, prepared.lastKey());
        }
        if (!deferred.isEmpty()) {
            head = Math.max(head, deferred.lastKey());
        }
        return head;
    }

    /** The prepared slice at {@code v} if it is still undecided, else null. */
    synchronized CommittedBatch prepared(long v) {
        return prepared.get(v);
    }


    /** Whether this shard, as coordinator, decided to commit {@code v} and still remembers it. */
    synchronized boolean committed(long v) {
        return decisions.containsKey(v);
    }

    /** Commit decisions some participant may not have noted yet (to send again after a failover). */
    synchronized List<CommittedBatch> openDecisions() {
        return new ArrayList<>(decisions.values());
    }

    /** Undecided slices this member has waited on for longer than {@code nanos}. */
    synchronized List<CommittedBatch> inDoubt(long nanos) {
        long now = env.nanoTime();
        List<CommittedBatch> out = new ArrayList<>();
        for (Map.Entry<Long, CommittedBatch> e : prepared.entrySet()) {
            Long since = preparedSince.get(e.getKey());
            if (since == null || now - since >= nanos) {
                out.add(e.getValue());
            }
        }
        return out;
    }

    synchronized String describeUnresolved() {
        return unresolved.size() <= 5 ? unresolved.toString() : unresolved.first() + ".. (" + unresolved.size() + ")";
    }

    /** The two-phase state in words (diagnostics): the first versions of each kind, with coordinators and participants. */
    synchronized String describeTwoPhase() {
        StringBuilder b = new StringBuilder();
        describe(b, "undecided", prepared);
        describe(b, "deferred", deferred);
        describe(b, "open decisions", decisions);
        return b.toString();
    }

    private static void describe(StringBuilder b, String what, TreeMap<Long, CommittedBatch> batches) {
        if (batches.isEmpty()) {
            return;
        }
        b.append(b.length() == 0 ? "" : "; ").append(what).append(':');
        int shown = 0;
        for (CommittedBatch c : batches.values()) {
            if (shown++ == 3) {
                b.append(" ... (").append(batches.size()).append(')');
                break;
            }
            b.append(' ').append(c.version());
            if (c.twoPhase() != null) {
                b.append(" (coordinator ").append(c.twoPhase().coordinator()).append(", participants ")
                        .append(java.util.Arrays.toString(c.twoPhase().participants())).append(')');
            }
        }
    }

    /** Counts for status: undecided slices, deferred batches, open decisions. */
    synchronized int[] counts() {
        return new int[] {prepared.size(), deferred.size(), decisions.size()};
    }
}
