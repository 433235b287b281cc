package dev.txkv.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.testkit.Seeds;
import dev.txkv.Database;
import dev.txkv.MutationType;
import dev.txkv.idempotency.IdempotencyKeys;
import dev.txkv.layers.testing.EmbeddedDatabase;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import dev.txkv.tuple.Versionstamp;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many consumers on one queue, on the real clock: nothing lost, duplicates only after a lease
 * expired, and duplicate effects removed by idempotency keys, also when commit replies are lost.
 */
class QueueConcurrencyTest {
    private static final int CONSUMERS = 8;
    private static final long DEADLINE_MS = 20_000;

    @TempDir
    Path dir;

    /** What a consumer does with one delivery. */
    private interface Worker {
        void process(Message m, Random random) throws Exception;
    }

    private static byte[] one() {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1).array();
    }

    private static long decode(byte[] v) {
        return v == null ? 0 : ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static void enqueueAll(Database db, Queue queue, int perPartition, int partitions, boolean idempotent) {
        for (int i = 0; i < perPartition; i += 10) {
            int base = i;
            db.run(tr -> {
                if (idempotent) {
                    tr.options().setAutomaticIdempotency();
                }
                for (int p = 0; p < partitions; p++) {
                    for (int j = base; j < Math.min(base + 10, perPartition); j++) {
                        queue.enqueue(tr, "tenant-" + p, Tuple.from((long) p, (long) j).pack());
                    }
                }
                return null;
            });
        }
    }

    /** Runs CONSUMERS workers until {@code done} is true or the deadline passes. */
    private static void consume(Queue queue, Database db, long seed, Worker worker, java.util.function.BooleanSupplier done)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(CONSUMERS);
        long deadline = System.currentTimeMillis() + DEADLINE_MS;
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 0; c < CONSUMERS; c++) {
            Random random = new Random(seed + c);
            futures.add(pool.submit(() -> {
                while (!done.getAsBoolean() && System.currentTimeMillis() < deadline) {
                    Optional<Message> m = queue.dequeue(db);
                    if (m.isEmpty()) {
                        Thread.sleep(5);
                        continue;
                    }
                    worker.process(m.get(), random);
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get(DEADLINE_MS + 10_000, TimeUnit.MILLISECONDS);
        }
        pool.shutdownNow();
    }

    @Test
    void eightConsumersDeliverEveryMessageExactlyOnceWhileNoLeaseExpires() throws Exception {
        long seed = Seeds.seed("eightConsumersDeliverEveryMessageExactlyOnceWhileNoLeaseExpires");
        try (Database db = EmbeddedDatabase.open(dir)) {
            Queue queue = new Queue(new Subspace(Tuple.from("q")), new QueueConfig().random(new Random(seed))
                    .visibilityTimeout(Duration.ofMinutes(5)));
            int total = 4 * 100;
            enqueueAll(db, queue, 100, 4, false);
            Map<Versionstamp, Integer> deliveries = new ConcurrentHashMap<>();
            AtomicInteger acked = new AtomicInteger();
            consume(queue, db, seed, (m, random) -> {
                deliveries.merge(m.id(), 1, Integer::sum);
                queue.ack(db, m.lease());
                acked.incrementAndGet();
            }, () -> acked.get() >= total);
            assertThat(acked.get()).as("seed %d", seed).isEqualTo(total);
            assertThat(deliveries).hasSize(total);
            assertThat(deliveries.values()).allMatch(n -> n == 1);
            assertThat(queue.dequeue(db)).isEmpty();
        }
    }

    @Test
    void killedWorkersItemsAreRedeliveredAndIdempotencyKeysKeepEffectsSingle() throws Exception {
        long seed = Seeds.seed("killedWorkersItemsAreRedeliveredAndIdempotencyKeysKeepEffectsSingle");
        try (Database db = EmbeddedDatabase.open(dir)) {
            Queue queue = new Queue(new Subspace(Tuple.from("q")), new QueueConfig().random(new Random(seed))
                    .visibilityTimeout(Duration.ofMillis(150)).maxAttempts(50));
            IdempotencyKeys processed = new IdempotencyKeys(new Subspace(Tuple.from("done")), Clock.systemUTC(),
                    Duration.ofHours(1), Duration.ofMinutes(10));
            Subspace effects = new Subspace(Tuple.from("effects"));
            int total = 2 * 100;
            enqueueAll(db, queue, 100, 2, false);
            AtomicInteger deliveries = new AtomicInteger();
            AtomicInteger killed = new AtomicInteger();
            AtomicInteger replayed = new AtomicInteger();
            consume(queue, db, seed, (m, random) -> {
                deliveries.incrementAndGet();
                // The effect commits on its own, keyed by the message id, as a call to another system would.
                IdempotencyKeys.Result r = processed.execute(db, "msg-" + m.id(), tr -> {
                    tr.mutate(MutationType.ADD, effects.pack(Tuple.from(m.payload())), one());
                    return new byte[0];
                });
                if (random.nextInt(100) < 15) {
                    killed.incrementAndGet();
                    return; // Dies after the effect, before the ack: redelivered after 150 ms.
                }
                try {
                    queue.ack(db, m.lease());
                    if (r.replayed()) {
                        replayed.incrementAndGet();
                    }
                } catch (LeaseLostException e) {
                    // Its lease expired and someone else has the item: that one will ack.
                }
            }, () -> db.read(tr -> queue.size(tr, "tenant-0") + queue.size(tr, "tenant-1")) == 0);
            long remaining = db.read(tr -> queue.size(tr, "tenant-0") + queue.size(tr, "tenant-1"));
            assertThat(remaining).as("seed %d", seed).isZero();
            assertThat(killed.get()).isPositive();
            assertThat(deliveries.get()).isGreaterThan(total);
            assertThat(replayed.get()).as("redeliveries whose effect was already done").isPositive();
            List<Long> counts = db.read(tr -> {
                List<Long> out = new ArrayList<>();
                tr.getRange(effects.range()).asList().join().forEach(kv -> out.add(decode(kv.getValue())));
                return out;
            });
            assertThat(counts).hasSize(total).allMatch(n -> n == 1L);
        }
    }

    @Test
    void lostCommitRepliesNeitherLoseNorDuplicateWork() throws Exception {
        long seed = Seeds.seed("lostCommitRepliesNeitherLoseNorDuplicateWork");
        AtomicInteger[] lost = new AtomicInteger[1];
        try (Database db = FlakyCommitBackend.open(dir, seed, 0.1, lost)) {
            Queue queue = new Queue(new Subspace(Tuple.from("q")), new QueueConfig().random(new Random(seed))
                    .visibilityTimeout(Duration.ofMillis(300)).maxAttempts(50));
            IdempotencyKeys processed = new IdempotencyKeys(new Subspace(Tuple.from("done")), Clock.systemUTC(),
                    Duration.ofHours(1), Duration.ofMinutes(10));
            Subspace effects = new Subspace(Tuple.from("effects"));
            int total = 2 * 60;
            // Automatic idempotency makes the enqueue's retry after a lost reply a no-op.
            enqueueAll(db, queue, 60, 2, true);
            AtomicLong leaseLost = new AtomicLong();
            consume(queue, db, seed, (m, random) -> {
                try {
                    // Effect, idempotency record and ack in one transaction: exactly once in txkv.
                    db.run(tr -> {
                        processed.execute(tr, "msg-" + m.id(), t -> {
                            t.mutate(MutationType.ADD, effects.pack(Tuple.from(m.payload())), one());
                            return new byte[0];
                        });
                        queue.ack(tr, m.lease());
                        return null;
                    });
                } catch (LeaseLostException e) {
                    leaseLost.incrementAndGet(); // Our own earlier attempt acked it, or its lease expired.
                }
            }, () -> db.read(tr -> queue.size(tr, "tenant-0") + queue.size(tr, "tenant-1")) == 0);
            long remaining = db.read(tr -> queue.size(tr, "tenant-0") + queue.size(tr, "tenant-1"));
            assertThat(remaining).as("seed %d", seed).isZero();
            assertThat(lost[0].get()).isPositive();
            List<Long> counts = db.read(tr -> {
                List<Long> out = new ArrayList<>();
                tr.getRange(effects.range()).asList().join().forEach(kv -> out.add(decode(kv.getValue())));
                return out;
            });
            assertThat(counts).as("seed %d", seed).hasSize(total).allMatch(n -> n == 1L);
        }
    }
}
