package dev.txkv.outbox;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.Database;
import dev.txkv.MutationType;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.layers.testing.EmbeddedDatabase;
import dev.txkv.testkit.Seeds;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import dev.txkv.tuple.Versionstamp;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Outbox and change feed: one event per committed change, commit order, cursors, trimming, wake-ups. */
class OutboxTest {
    private static final Subspace STATE = new Subspace(Tuple.from("state"));

    @TempDir
    Path dir;

    private static Outbox outbox() {
        return new Outbox(new Subspace(Tuple.from("outbox")), Clock.systemUTC());
    }

    private static byte[] le(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static long le(byte[] v) {
        return v == null ? 0 : ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** The order service of docs/toolkit.md: stock decremented and the event written together. */
    private static void placeOrder(Database db, Outbox outbox, String item, long orderNo) {
        db.run(tr -> {
            byte[] stockKey = STATE.pack(Tuple.from("stock", item));
            long stock = le(tr.get(stockKey).join());
            tr.set(stockKey, le(stock - 1));
            outbox.publish(tr, item, "order-placed", Tuple.from(orderNo, stock - 1).pack());
            return null;
        });
    }

    @Test
    void eventsCommitWithTheStateChangeAndNotWithAnAbortedOne() {
        try (Database db = EmbeddedDatabase.open(dir)) {
            Outbox outbox = outbox();
            ChangeFeed feed = new ChangeFeed(db, outbox);
            placeOrder(db, outbox, "apple", 1);
            assertThatThrownBy(() -> db.run(tr -> {
                outbox.publish(tr, "apple", "order-placed", new byte[] {9});
                throw new IllegalStateException("payment refused");
            })).isInstanceOf(IllegalStateException.class);
            placeOrder(db, outbox, "apple", 2);
            List<Event> events = feed.read(Outbox.START, 100);
            assertThat(events).extracting(e -> Tuple.fromBytes(e.payload()).getLong(0)).containsExactly(1L, 2L);
            assertThat(events.get(0).position()).isLessThan(events.get(1).position());
            assertThat(events.get(0).type()).isEqualTo("order-placed");
            Versionstamp last = db.read(tr -> outbox.lastPosition(tr).join());
            assertThat(last).isEqualTo(events.get(1).position());
        }
    }

    @Test
    void concurrentWritersGetExactlyOneEventPerCommitAndPerKeyCommitOrder() throws Exception {
        long seed = Seeds.seed("concurrentWritersGetExactlyOneEventPerCommitAndPerKeyCommitOrder");
        try (Database db = EmbeddedDatabase.open(dir)) {
            Outbox outbox = outbox();
            ChangeFeed feed = new ChangeFeed(db, outbox);
            int writers = 8;
            int perWriter = 40;
            AtomicInteger committed = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(writers);
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                Random random = new Random(seed + w);
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < perWriter; i++) {
                        String key = "k" + random.nextInt(4);
                        boolean abort = random.nextInt(5) == 0;
                        try {
                            db.run(tr -> {
                                byte[] counter = STATE.pack(Tuple.from("counter", key));
                                long next = le(tr.get(counter).join()) + 1;
                                tr.set(counter, le(next));
                                outbox.publish(tr, key, "incremented", le(next));
                                if (abort) {
                                    throw new IllegalStateException("abort");
                                }
                                return null;
                            });
                            committed.incrementAndGet();
                        } catch (IllegalStateException expected) {
                            // Aborted: must leave no event.
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
            List<Event> events = new ArrayList<>();
            Versionstamp after = Outbox.START;
            for (int round = 0; round < 100; round++) {
                List<Event> batch = feed.read(after, 50);
                if (batch.isEmpty()) {
                    break;
                }
                events.addAll(batch);
                after = batch.get(batch.size() - 1).position();
            }
            assertThat(events).as("seed %d", seed).hasSize(committed.get());
            Map<String, Long> lastSeen = new HashMap<>();
            for (Event e : events) {
                long value = le(e.payload());
                assertThat(value).as("seed %d, key %s", seed, e.key()).isEqualTo(lastSeen.getOrDefault(e.key(), 0L) + 1);
                lastSeen.put(e.key(), value);
            }
            for (Map.Entry<String, Long> entry : lastSeen.entrySet()) {
                long stored = db.read(tr -> le(tr.get(STATE.pack(Tuple.from("counter", entry.getKey()))).join()));
                assertThat(stored).isEqualTo(entry.getValue());
            }
        }
    }

    @Test
    void processInTransactionAppliesEachEventExactlyOnceAcrossCompetingProcessors() throws Exception {
        try (Database db = EmbeddedDatabase.open(dir)) {
            Outbox outbox = outbox();
            ChangeFeed feed = new ChangeFeed(db, outbox);
            Consumer projection = feed.consumer("projection");
            int total = 200;
            for (int i = 0; i < total; i += 20) {
                int base = i;
                db.run(tr -> {
                    for (int j = base; j < base + 20; j++) {
                        outbox.publish(tr, "k", "n", le(j + 1));
                    }
                    return null;
                });
            }
            byte[] sum = STATE.pack(Tuple.from("sum"));
            byte[] applied = STATE.pack(Tuple.from("applied"));
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> futures = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                futures.add(pool.submit(() -> {
                    for (int round = 0; round < 500; round++) {
                        int n = projection.processInTransaction(7, (tr, e) -> {
                            tr.mutate(MutationType.ADD, sum, e.payload());
                            tr.mutate(MutationType.ADD, applied, le(1));
                        });
                        if (n == 0) {
                            return null;
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
            long appliedCount = db.read(tr -> le(tr.get(applied).join()));
            long sumValue = db.read(tr -> le(tr.get(sum).join()));
            assertThat(appliedCount).isEqualTo(total);
            assertThat(sumValue).isEqualTo((long) total * (total + 1) / 2);
        }
    }

    @Test
    void handleDeliversAtLeastOnceAndStopsAtAFailingEvent() throws Exception {
        try (Database db = EmbeddedDatabase.open(dir)) {
            Outbox outbox = outbox();
            ChangeFeed feed = new ChangeFeed(db, outbox);
            Consumer mailer = feed.consumer("mailer");
            for (int i = 1; i <= 5; i++) {
                placeOrder(db, outbox, "pear", i);
            }
            List<Long> sent = new ArrayList<>();
            AtomicInteger failures = new AtomicInteger();
            assertThatThrownBy(() -> mailer.handle(10, e -> {
                long order = Tuple.fromBytes(e.payload()).getLong(0);
                if (order == 3 && failures.getAndIncrement() == 0) {
                    throw new IllegalStateException("smtp down");
                }
                sent.add(order);
            })).hasMessageContaining("smtp down");
            assertThat(sent).containsExactly(1L, 2L);
            assertThat(mailer.handle(10, e -> sent.add(Tuple.fromBytes(e.payload()).getLong(0)))).isEqualTo(3);
            assertThat(sent).containsExactly(1L, 2L, 3L, 4L, 5L);
            assertThat(mailer.poll(10)).isEmpty();
        }
    }

    @Test
    void cursorsSurviveReopen() throws Exception {
        Versionstamp position;
        try (Database db = Txkv.openEmbedded(dir, new TxkvConfig())) {
            Outbox outbox = outbox();
            ChangeFeed feed = new ChangeFeed(db, outbox);
            for (int i = 1; i <= 3; i++) {
                placeOrder(db, outbox, "plum", i);
            }
            Consumer c = feed.consumer("billing");
            assertThat(c.handle(2, e -> { })).isEqualTo(2);
            position = c.cursor().position();
        }
        try (Database db = Txkv.openEmbedded(dir, new TxkvConfig())) {
            ChangeFeed feed = new ChangeFeed(db, outbox());
            Consumer c = feed.consumer("billing");
            assertThat(c.cursor().position()).isEqualTo(position);
            List<Event> rest = c.poll(10);
            assertThat(rest).extracting(e -> Tuple.fromBytes(e.payload()).getLong(0)).containsExactly(3L);
        }
    }

    @Test
    void trimmingRemovesOnlyEventsEveryConsumerPassed() throws Exception {
        try (Database db = EmbeddedDatabase.open(dir)) {
            Outbox outbox = outbox();
            ChangeFeed feed = new ChangeFeed(db, outbox);
            Consumer fast = feed.consumer("fast");
            Consumer slow = feed.consumer("slow");
            for (int i = 1; i <= 6; i++) {
                placeOrder(db, outbox, "fig", i);
            }
            assertThat(feed.trim()).isEmpty();
            fast.handle(6, e -> { });
            slow.handle(2, e -> { });
            assertThat(feed.trim()).contains(slow.cursor().position());
            assertThat(feed.read(Outbox.START, 100)).hasSize(4);
            assertThat(slow.poll(10)).hasSize(4);
            feed.removeConsumer("slow");
            feed.trim();
            assertThat(feed.read(Outbox.START, 100)).isEmpty();
            assertThat(feed.cursors()).extracting(Cursor::consumer).containsExactly("fast");
        }
    }

    @Test
    void aWatchWakesAWaitingConsumerAndATimeoutEndsTheWaitOtherwise() throws Exception {
        try (Database db = EmbeddedDatabase.open(dir)) {
            Outbox outbox = outbox();
            ChangeFeed feed = new ChangeFeed(db, outbox);
            Consumer c = feed.consumer("waiter");
            long start = System.nanoTime();
            assertThat(feed.awaitEventsAfter(Outbox.START, Duration.ofMillis(200))).isFalse();
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(150));

            CompletableFuture<Integer> handled = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.handleOrWait(10, Duration.ofSeconds(20), e -> { });
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(100);
            long published = System.nanoTime();
            placeOrder(db, outbox, "kiwi", 1);
            assertThat(handled.get(20, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(System.nanoTime() - published).isLessThan(TimeUnit.SECONDS.toNanos(10));
            // Already-present events need no wake-up at all.
            placeOrder(db, outbox, "kiwi", 2);
            assertThat(feed.awaitEventsAfter(c.cursor().position(), Duration.ofSeconds(10))).isTrue();
        }
    }
}
