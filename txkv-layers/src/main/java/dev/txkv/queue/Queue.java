package dev.txkv.queue;

import dev.txkv.Database;
import dev.txkv.KeyValue;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.ReadTransaction;
import dev.txkv.Transaction;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import dev.txkv.tuple.Versionstamp;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A durable, partitioned, prioritised work queue with delayed delivery, leases (visibility
 * timeouts), retries with exponential backoff and a dead-letter queue. Thread-safe; one
 * instance per queue subspace per process is enough.
 *
 * <h2>Implementation notes</h2>
 *
 * Key layout under the queue's subspace {@code Q} (tuple notation, {@code vs} a 12-byte
 * versionstamp: 10 bytes commit version + 2 bytes order within the transaction):
 *
 * <pre>
 * Q + (0, partition, priority, visibleAtMs, vs) → (payload, deliveries, enqueuedAtMs, leaseId|null, lastError|null)
 * Q + (1, partition)                             → ''   partitions that may hold items
 * Q + (2, partition, vs)                         → (payload, deliveries, enqueuedAtMs, deadAtMs, lastError, priority)
 *
 * item key bytes:  Q | 15 00 | 02 partition 00 | 15 prio | 15.. visibleAtMs | 33 vs(12)
 * </pre>
 *
 * <ul>
 *   <li><b>Enqueue</b> writes the item with {@code SET_VERSIONSTAMPED_KEY}: the key holds the
 *       commit's versionstamp, so concurrent enqueuers write distinct keys and never conflict
 *       (no counter, no hot key). It also blind-writes the partition marker, which nobody reads
 *       with a conflict range in the hot path. Enqueue takes the caller's transaction, so the
 *       item exists if and only if the business change commits.</li>
 *   <li><b>Readiness is a key range.</b> Items of one (partition, priority) sort by
 *       {@code visibleAtMs}, so the ready ones are exactly the keys below
 *       {@code (0, partition, priority, now + 1)}. Delayed delivery sets {@code visibleAtMs}
 *       in the future; a lease <i>moves</i> the item to {@code visibleAtMs = lease expiry}.
 *       An expired lease therefore needs no sweeper: the item is simply ready again.</li>
 *   <li><b>Dequeue</b> reads candidates with snapshot reads (no conflict ranges), picks one at
 *       random among the first {@link QueueConfig#candidateSpread} ready items, and adds a read
 *       conflict on that key only. Two consumers conflict only if they pick the same item; the
 *       loser retries and usually picks another. The move of the item (clear old key, write new
 *       key with a fresh lease id and {@code deliveries + 1}) commits atomically with that
 *       check, so an item is held by at most one unexpired lease.</li>
 *   <li><b>Ack/nack/extend</b> read the item at the lease's key with a conflict range and
 *       require the stored lease id to be the lease's. A lease that expired and was taken by
 *       another consumer finds the item moved: {@link LeaseLostException}. An expired lease
 *       whose item nobody took yet still works; that only saves a needless redelivery.</li>
 *   <li><b>Fairness.</b> Each dequeue visits partitions in key order starting after the
 *       partition this queue object served last, wrapping around, and serves the first that
 *       has a ready item: round-robin per process. Within a partition, lower priority numbers
 *       go first; within a priority, earlier visibility first.</li>
 *   <li><b>Empty partitions</b> are dropped from the marker list by a separate transaction that
 *       reads the partition's items <i>with</i> a conflict range, so an enqueue racing with the
 *       removal makes the removal fail rather than strand its item.</li>
 *   <li><b>Retries.</b> A nack moves the item to {@code now + backoff(deliveries)}. An item
 *       delivered {@code maxAttempts} times is dead-lettered on its next nack, or when a
 *       dequeue finds it again after its last lease expired.</li>
 * </ul>
 *
 * <b>Time.</b> Vesting and lease times come from {@link QueueConfig#clock}, the clients' clocks,
 * which must be roughly in sync (NTP): a consumer whose clock runs ahead sees leases expire
 * early and may deliver twice; one that runs behind delivers delayed items late. Reading a time
 * from the database would not remove this (the database's versions are not wall time), so the
 * clock is kept explicit and replaceable in tests. Skew never loses a message: it only moves
 * when one is delivered.
 *
 * <b>Delivery</b> is at least once. A consumer that needs exactly-once effects inside txkv
 * performs them and {@link #ack(Transaction, Lease) acks} in one transaction; effects outside
 * txkv should be made idempotent, e.g. with {@code dev.txkv.idempotency.IdempotencyKeys}.
 */
public final class Queue {
    /** Largest payload, in bytes; values hold the payload plus a small header. */
    public static final int PAYLOAD_BYTES_MAX = 64 * 1024;
    /** Longest partition name, in UTF-8 bytes. */
    public static final int PARTITION_BYTES_MAX = 256;
    /** Most enqueues into one queue within one transaction (the versionstamp's 2-byte order). */
    public static final int ENQUEUES_PER_TRANSACTION_MAX = 0x10000;
    /** Times one dequeue may dead-letter an exhausted item and look again before returning. */
    public static final int DEAD_LETTER_ROUNDS_MAX = 16;
    /** Most dead letters listed or replayed by one call. */
    public static final int DEAD_LETTER_BATCH_MAX = 1_000;

    private static final long ITEMS = 0;
    private static final long PARTITIONS = 1;
    private static final long DEAD = 2;

    private final Subspace items;
    private final Subspace partitions;
    private final Subspace dead;
    private final QueueConfig config;
    private final AtomicReference<String> lastServedPartition = new AtomicReference<>();
    // Versionstamp user versions keep several enqueues of one transaction apart.
    private final Map<Transaction, int[]> userVersions = Collections.synchronizedMap(new WeakHashMap<>());

    /** A queue stored under {@code root}, with {@code config}'s settings. */
    public Queue(Subspace root, QueueConfig config) {
        Objects.requireNonNull(root, "root");
        this.config = Objects.requireNonNull(config, "config");
        this.items = root.get(ITEMS);
        this.partitions = root.get(PARTITIONS);
        this.dead = root.get(DEAD);
    }

    /** The queue's settings. */
    public QueueConfig config() {
        return config;
    }

    /** Enqueues {@code payload} at priority 0, ready at once, in the caller's transaction. */
    public void enqueue(Transaction tr, String partition, byte[] payload) {
        enqueue(tr, partition, payload, 0, Duration.ZERO);
    }

    /**
     * Enqueues {@code payload} in the caller's transaction: it becomes visible to consumers
     * once that transaction commits and {@code delay} has passed, and never if it aborts.
     *
     * <p>The write is blind (a versionstamped key), so a retry after {@code commit_unknown_result}
     * would enqueue a second copy: give such transactions
     * {@code tr.options().setAutomaticIdempotency()}.
     *
     * @param priority 0 (served first) to {@code priorityLevels - 1}
     * @param delay how long after now the item vests; zero for at once
     */
    public void enqueue(Transaction tr, String partition, byte[] payload, int priority, Duration delay) {
        checkPartition(partition);
        Objects.requireNonNull(payload, "payload");
        if (payload.length > PAYLOAD_BYTES_MAX) {
            throw new IllegalArgumentException("payload of " + payload.length + " bytes exceeds " + PAYLOAD_BYTES_MAX);
        }
        checkPriority(priority);
        long delayMs = delay.toMillis();
        if (delayMs < 0 || delayMs > QueueConfig.DURATION_MS_MAX) {
            throw new IllegalArgumentException("delay must be in [0, " + QueueConfig.DURATION_MS_MAX + "] ms, got " + delayMs);
        }
        long now = config.clock().millis();
        int userVersion = nextUserVersion(tr);
        byte[] key = items.packWithVersionstamp(
                Tuple.from(partition, (long) priority, now + delayMs, Versionstamp.incomplete(userVersion)));
        tr.mutate(MutationType.SET_VERSIONSTAMPED_KEY, key, Tuple.from(payload, 0L, now, null, null).pack());
        tr.set(partitions.pack(Tuple.from(partition)), new byte[0]);
    }

    /**
     * Leases the next ready item, visiting partitions round-robin; empty if none is ready.
     * The item stays hidden from other consumers for the visibility timeout.
     */
    public Optional<Message> dequeue(Database db) {
        return dequeue(db, null);
    }

    /** Leases the next ready item of {@code partition} only; empty if none is ready. */
    public Optional<Message> dequeue(Database db, String partition) {
        if (partition != null) {
            checkPartition(partition);
        }
        for (int round = 0; round < DEAD_LETTER_ROUNDS_MAX; round++) {
            List<String> emptySeen = new ArrayList<>();
            Pick pick = db.run(tr -> {
                emptySeen.clear();
                return pick(tr, partition, emptySeen);
            });
            for (String p : emptySeen) {
                dropPartitionIfEmpty(db, p);
            }
            if (pick.message != null) {
                lastServedPartition.set(pick.message.partition());
                return Optional.of(pick.message);
            }
            if (!pick.deadLettered) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** Acknowledges the message: it is removed for good. Throws {@link LeaseLostException} if the lease lost the item. */
    public void ack(Database db, Lease lease) {
        TrackedRetry.run(db, (tr, maybeCommitted) -> {
            byte[] key = items.pack(lease.itemTuple());
            Tuple value = heldItem(tr, key, lease, maybeCommitted);
            if (value != null) {
                tr.clear(key);
            }
            return null;
        });
    }

    /**
     * Acknowledges inside the caller's transaction, so the message's effects in txkv and its
     * removal commit together: exactly-once processing for effects inside txkv.
     */
    public void ack(Transaction tr, Lease lease) {
        byte[] key = items.pack(lease.itemTuple());
        heldItem(tr, key, lease, false);
        tr.clear(key);
    }

    /**
     * Rejects the delivery: the item is retried after the backoff for its delivery count, or
     * dead-lettered if it has had {@code maxAttempts} deliveries.
     */
    public void nack(Database db, Lease lease, String error) {
        TrackedRetry.run(db, (tr, maybeCommitted) -> {
            byte[] key = items.pack(lease.itemTuple());
            Tuple value = heldItem(tr, key, lease, maybeCommitted);
            if (value == null) {
                return null;
            }
            long now = config.clock().millis();
            int deliveries = (int) value.getLong(1);
            tr.clear(key);
            if (deliveries >= config.maxAttempts()) {
                writeDeadLetter(tr, lease.partition(), lease.priority(), lease.itemId(), value, now, error);
            } else {
                byte[] retryKey = items.pack(Tuple.from(lease.partition(), (long) lease.priority(),
                        now + config.backoffMs(deliveries), lease.itemId()));
                tr.set(retryKey, Tuple.from(value.getBytes(0), (long) deliveries, value.getLong(2), null, error).pack());
            }
            return null;
        });
    }

    /**
     * Extends the lease so the item stays hidden until {@code extension} after now; returns
     * the new lease, which replaces the old one for ack, nack and further extensions.
     */
    public Lease extend(Database db, Lease lease, Duration extension) {
        long extensionMs = extension.toMillis();
        if (extensionMs < 1 || extensionMs > QueueConfig.DURATION_MS_MAX) {
            throw new IllegalArgumentException("extension must be in [1, " + QueueConfig.DURATION_MS_MAX + "] ms");
        }
        // Fixed before the first attempt, so a retry after an unknown commit can find its own result.
        Lease extended = new Lease(lease.partition(), lease.priority(), lease.itemId(), lease.leaseId(),
                config.clock().millis() + extensionMs);
        return TrackedRetry.run(db, (tr, maybeCommitted) -> {
            byte[] newKey = items.pack(extended.itemTuple());
            if (maybeCommitted) {
                byte[] done = tr.get(newKey).join();
                if (done != null && Arrays.equals(Tuple.fromBytes(done).getBytes(3), lease.leaseIdBytes())) {
                    return extended;
                }
            }
            byte[] key = items.pack(lease.itemTuple());
            Tuple value = heldItem(tr, key, lease, false);
            if (!Arrays.equals(key, newKey)) {
                tr.clear(key);
                tr.set(newKey, value.pack());
            }
            return extended;
        });
    }

    /** Up to {@code limit} dead letters of {@code partition}, oldest id first. */
    public List<DeadLetter> deadLetters(ReadTransaction tr, String partition, int limit) {
        checkPartition(partition);
        checkBatch(limit);
        List<DeadLetter> out = new ArrayList<>();
        for (KeyValue kv : tr.getRange(dead.range(Tuple.from(partition)), limit).asList().join()) {
            Versionstamp id = dead.unpack(kv.getKey()).getVersionstamp(1);
            Tuple v = Tuple.fromBytes(kv.getValue());
            out.add(new DeadLetter(id, partition, (int) v.getLong(5), v.getBytes(0), (int) v.getLong(1),
                    v.getLong(2), v.getLong(3), v.getString(4)));
        }
        return out;
    }

    /** As {@link #deadLetters(ReadTransaction, String, int)} in a read-only transaction of its own. */
    public List<DeadLetter> deadLetters(Database db, String partition, int limit) {
        return db.read(tr -> deadLetters(tr, partition, limit));
    }

    /**
     * Moves up to {@code limit} dead letters of {@code partition} back into the queue, ready at
     * once with a fresh attempt count; returns how many moved. They keep their ids.
     */
    public int replayDeadLetters(Database db, String partition, int limit) {
        checkPartition(partition);
        checkBatch(limit);
        return db.run(tr -> {
            long now = config.clock().millis();
            List<KeyValue> letters = tr.getRange(dead.range(Tuple.from(partition)), limit).asList().join();
            for (KeyValue kv : letters) {
                Versionstamp id = dead.unpack(kv.getKey()).getVersionstamp(1);
                Tuple v = Tuple.fromBytes(kv.getValue());
                tr.clear(kv.getKey());
                tr.set(items.pack(Tuple.from(partition, v.getLong(5), now, id)),
                        Tuple.from(v.getBytes(0), 0L, v.getLong(2), null, v.getString(4)).pack());
            }
            if (!letters.isEmpty()) {
                tr.set(partitions.pack(Tuple.from(partition)), new byte[0]);
            }
            return letters.size();
        });
    }

    /** Items of {@code partition} not yet acked or dead-lettered: ready, delayed and leased. Reads them all; for tests and tools. */
    public long size(ReadTransaction tr, String partition) {
        checkPartition(partition);
        long n = 0;
        for (KeyValue ignored : tr.getRange(items.range(Tuple.from(partition)))) {
            n++;
        }
        return n;
    }

    // --- dequeue ---------------------------------------------------------------------------

    /** What one dequeue transaction did. */
    private static final class Pick {
        static final Pick NONE = new Pick(null, false);
        static final Pick DEAD_LETTERED = new Pick(null, true);
        final Message message;
        final boolean deadLettered;

        Pick(Message message, boolean deadLettered) {
            this.message = message;
            this.deadLettered = deadLettered;
        }
    }

    private Pick pick(Transaction tr, String onlyPartition, List<String> emptySeen) {
        long now = config.clock().millis();
        ReadTransaction snapshot = tr.snapshot();
        List<String> order = onlyPartition != null ? List.of(onlyPartition) : partitionOrder(snapshot);
        for (String partition : order) {
            List<KeyValue> candidates = readyCandidates(snapshot, partition, now);
            if (candidates.isEmpty()) {
                if (onlyPartition == null && snapshot.getRange(items.range(Tuple.from(partition)), 1).asList().join().isEmpty()) {
                    emptySeen.add(partition);
                }
                continue;
            }
            KeyValue chosen = candidates.get(config.random().nextInt(candidates.size()));
            // The only conflict range of the dequeue: two consumers collide only on the same item.
            tr.addReadConflictKey(chosen.getKey());
            return take(tr, chosen, now);
        }
        return Pick.NONE;
    }

    /** Partitions with markers, starting after the one served last and wrapping around. */
    private List<String> partitionOrder(ReadTransaction snapshot) {
        int max = config.partitionsScanned();
        String last = lastServedPartition.get();
        Range all = partitions.range();
        List<String> order = new ArrayList<>();
        byte[] start = last == null ? all.begin : keyAfter(partitions.pack(Tuple.from(last)));
        for (KeyValue kv : snapshot.getRange(start, all.end, max).asList().join()) {
            order.add(partitions.unpack(kv.getKey()).getString(0));
        }
        if (order.size() < max && last != null) {
            for (KeyValue kv : snapshot.getRange(all.begin, start, max - order.size()).asList().join()) {
                order.add(partitions.unpack(kv.getKey()).getString(0));
            }
        }
        return order;
    }

    /** The first ready items of the most urgent priority level that has any. */
    private List<KeyValue> readyCandidates(ReadTransaction snapshot, String partition, long now) {
        int levels = config.priorityLevels();
        List<CompletableFuture<List<KeyValue>>> reads = new ArrayList<>(levels);
        for (int priority = 0; priority < levels; priority++) {
            byte[] begin = items.range(Tuple.from(partition, (long) priority)).begin;
            byte[] end = items.pack(Tuple.from(partition, (long) priority, now + 1));
            reads.add(snapshot.getRange(begin, end, config.candidateSpread()).asList());
        }
        for (CompletableFuture<List<KeyValue>> read : reads) {
            List<KeyValue> ready = read.join();
            if (!ready.isEmpty()) {
                return ready;
            }
        }
        return List.of();
    }

    private Pick take(Transaction tr, KeyValue chosen, long now) {
        Tuple key = items.unpack(chosen.getKey());
        String partition = key.getString(0);
        int priority = (int) key.getLong(1);
        Versionstamp id = key.getVersionstamp(3);
        Tuple value = Tuple.fromBytes(chosen.getValue());
        int deliveries = (int) value.getLong(1);
        tr.clear(chosen.getKey());
        if (deliveries >= config.maxAttempts()) {
            String why = value.getString(4) != null ? value.getString(4) : "lease expired on the last attempt";
            writeDeadLetter(tr, partition, priority, id, value, now, why);
            return Pick.DEAD_LETTERED;
        }
        UUID leaseId = new UUID(config.random().nextLong(), config.random().nextLong());
        Lease lease = new Lease(partition, priority, id, leaseId, now + config.visibilityTimeoutMs());
        tr.set(items.pack(lease.itemTuple()), Tuple.from(value.getBytes(0), (long) deliveries + 1, value.getLong(2),
                lease.leaseIdBytes(), value.getString(4)).pack());
        return new Pick(new Message(id, partition, priority, value.getBytes(0), deliveries + 1, value.getLong(2),
                value.getString(4), lease), false);
    }

    private void dropPartitionIfEmpty(Database db, String partition) {
        db.run(tr -> {
            // A conflict-checked read: an enqueue committing meanwhile aborts this removal.
            if (tr.getRange(items.range(Tuple.from(partition)), 1).asList().join().isEmpty()) {
                tr.clear(partitions.pack(Tuple.from(partition)));
            }
            return null;
        });
    }

    // --- lease checks, dead letters and argument checks ------------------------------------

    /**
     * The item's record if {@code lease} holds it; null if it is gone after an attempt that may
     * have committed (our own earlier ack or nack); otherwise throws {@link LeaseLostException}.
     */
    private Tuple heldItem(Transaction tr, byte[] key, Lease lease, boolean maybeCommitted) {
        byte[] raw = tr.get(key).join();
        if (raw == null && maybeCommitted) {
            return null;
        }
        if (raw == null) {
            throw new LeaseLostException("Lease " + lease.leaseId() + " on item " + lease.itemId()
                    + " no longer holds it: acked, rejected or taken by another consumer after expiry");
        }
        Tuple value = Tuple.fromBytes(raw);
        if (!Arrays.equals(value.getBytes(3), lease.leaseIdBytes())) {
            throw new LeaseLostException("Lease " + lease.leaseId() + " on item " + lease.itemId()
                    + " was replaced by another lease");
        }
        return value;
    }

    private void writeDeadLetter(Transaction tr, String partition, int priority, Versionstamp id, Tuple value,
            long now, String error) {
        tr.set(dead.pack(Tuple.from(partition, id)), Tuple.from(value.getBytes(0), value.getLong(1), value.getLong(2),
                now, error, (long) priority).pack());
    }

    private int nextUserVersion(Transaction tr) {
        int[] counter = userVersions.computeIfAbsent(tr, t -> new int[1]);
        synchronized (counter) {
            // Wraps: only the enqueues of one attempt share a commit, and they stay below the limit.
            return counter[0]++ & (ENQUEUES_PER_TRANSACTION_MAX - 1);
        }
    }

    private void checkPriority(int priority) {
        if (priority < 0 || priority >= config.priorityLevels()) {
            throw new IllegalArgumentException("priority must be in [0, " + (config.priorityLevels() - 1) + "], got " + priority);
        }
    }

    private static void checkPartition(String partition) {
        Objects.requireNonNull(partition, "partition");
        if (partition.getBytes(StandardCharsets.UTF_8).length > PARTITION_BYTES_MAX) {
            throw new IllegalArgumentException("partition name exceeds " + PARTITION_BYTES_MAX + " bytes");
        }
    }

    private static void checkBatch(int limit) {
        if (limit < 1 || limit > DEAD_LETTER_BATCH_MAX) {
            throw new IllegalArgumentException("limit must be in [1, " + DEAD_LETTER_BATCH_MAX + "], got " + limit);
        }
    }

    /** The first key after {@code key}: partitions strictly after the last one served. */
    private static byte[] keyAfter(byte[] key) {
        return Arrays.copyOf(key, key.length + 1);
    }
}
