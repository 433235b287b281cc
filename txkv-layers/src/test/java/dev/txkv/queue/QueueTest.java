package dev.txkv.queue;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.Database;
import dev.txkv.layers.testing.EmbeddedDatabase;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The queue's single-consumer semantics, with a clock the test moves. */
class QueueTest {
    @TempDir
    Path dir;

    private Database db;
    private final ManualClock clock = new ManualClock(1_000_000);
    private Queue queue;

    @BeforeEach
    void open() {
        db = EmbeddedDatabase.open(dir);
        queue = new Queue(new Subspace(Tuple.from("q")), new QueueConfig().clock(clock).random(new Random(1))
                .visibilityTimeout(Duration.ofSeconds(30)).maxAttempts(3)
                .backoff(Duration.ofSeconds(1), Duration.ofSeconds(10)));
    }

    @AfterEach
    void close() {
        db.close();
    }

    private void enqueue(String partition, String payload) {
        db.run(tr -> {
            queue.enqueue(tr, partition, payload.getBytes(UTF_8));
            return null;
        });
    }

    private static String text(Message m) {
        return new String(m.payload(), UTF_8);
    }

    @Test
    void enqueuedInTheBusinessTransactionThenDeliveredAndAckedOnce() {
        enqueue("t1", "a");
        Message m = queue.dequeue(db).orElseThrow();
        assertThat(text(m)).isEqualTo("a");
        assertThat(m.attempt()).isEqualTo(1);
        assertThat(m.partition()).isEqualTo("t1");
        assertThat(queue.dequeue(db)).isEmpty();
        queue.ack(db, m.lease());
        clock.advance(Duration.ofMinutes(5));
        assertThat(queue.dequeue(db)).isEmpty();
        long size = db.read(tr -> queue.size(tr, "t1"));
        assertThat(size).isZero();
    }

    @Test
    void anAbortedBusinessTransactionEnqueuesNothing() {
        assertThatThrownBy(() -> db.run(tr -> {
            queue.enqueue(tr, "t1", "lost".getBytes(UTF_8));
            throw new IllegalStateException("business rule failed");
        })).isInstanceOf(IllegalStateException.class);
        assertThat(queue.dequeue(db)).isEmpty();
    }

    @Test
    void manyEnqueuesInOneTransactionKeepTheirOrder() {
        db.run(tr -> {
            for (int i = 0; i < 20; i++) {
                queue.enqueue(tr, "t1", ("m" + i).getBytes(UTF_8));
            }
            return null;
        });
        QueueConfig fifo = new QueueConfig().clock(clock).candidateSpread(1);
        Queue strict = new Queue(new Subspace(Tuple.from("q")), fifo);
        for (int i = 0; i < 20; i++) {
            Message m = strict.dequeue(db).orElseThrow();
            assertThat(text(m)).isEqualTo("m" + i);
            strict.ack(db, m.lease());
        }
    }

    @Test
    void higherPriorityIsServedFirst() {
        db.run(tr -> {
            queue.enqueue(tr, "t1", "low".getBytes(UTF_8), 2, Duration.ZERO);
            queue.enqueue(tr, "t1", "high".getBytes(UTF_8), 0, Duration.ZERO);
            queue.enqueue(tr, "t1", "mid".getBytes(UTF_8), 1, Duration.ZERO);
            return null;
        });
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Message m = queue.dequeue(db).orElseThrow();
            order.add(text(m));
            queue.ack(db, m.lease());
        }
        assertThat(order).containsExactly("high", "mid", "low");
    }

    @Test
    void delayedItemVestsOnlyAfterItsDelay() {
        db.run(tr -> {
            queue.enqueue(tr, "t1", "later".getBytes(UTF_8), 0, Duration.ofSeconds(10));
            return null;
        });
        assertThat(queue.dequeue(db)).isEmpty();
        clock.advance(Duration.ofSeconds(9));
        assertThat(queue.dequeue(db)).isEmpty();
        clock.advance(Duration.ofSeconds(1));
        assertThat(queue.dequeue(db).map(QueueTest::text)).contains("later");
    }

    @Test
    void killedWorkerItemIsRedeliveredAfterTheVisibilityTimeoutAndItsOldLeaseIsRefused() {
        enqueue("t1", "job");
        Message first = queue.dequeue(db).orElseThrow();
        // The worker dies here: no ack.
        clock.advance(Duration.ofSeconds(29));
        assertThat(queue.dequeue(db)).isEmpty();
        clock.advance(Duration.ofSeconds(1));
        Message second = queue.dequeue(db).orElseThrow();
        assertThat(second.id()).isEqualTo(first.id());
        assertThat(second.attempt()).isEqualTo(2);
        assertThat(second.lease().leaseId()).isNotEqualTo(first.lease().leaseId());
        assertThatThrownBy(() -> queue.ack(db, first.lease())).isInstanceOf(LeaseLostException.class);
        assertThatThrownBy(() -> queue.extend(db, first.lease(), Duration.ofSeconds(5)))
                .isInstanceOf(LeaseLostException.class);
        queue.ack(db, second.lease());
        assertThatThrownBy(() -> queue.ack(db, second.lease())).isInstanceOf(LeaseLostException.class);
    }

    @Test
    void extendingALeaseKeepsTheItemHidden() {
        enqueue("t1", "slow");
        Message m = queue.dequeue(db).orElseThrow();
        clock.advance(Duration.ofSeconds(20));
        Lease extended = queue.extend(db, m.lease(), Duration.ofSeconds(60));
        clock.advance(Duration.ofSeconds(30));
        assertThat(queue.dequeue(db)).isEmpty();
        assertThatThrownBy(() -> queue.ack(db, m.lease())).isInstanceOf(LeaseLostException.class);
        queue.ack(db, extended);
        clock.advance(Duration.ofMinutes(5));
        assertThat(queue.dequeue(db)).isEmpty();
    }

    @Test
    void nackRetriesWithExponentialBackoffThenDeadLettersAndReplayBringsItBack() {
        enqueue("t1", "poison");
        Message m1 = queue.dequeue(db).orElseThrow();
        queue.nack(db, m1.lease(), "boom 1");
        assertThat(queue.dequeue(db)).isEmpty();
        clock.advance(Duration.ofSeconds(1)); // backoff after attempt 1: 1 s
        Message m2 = queue.dequeue(db).orElseThrow();
        assertThat(m2.attempt()).isEqualTo(2);
        assertThat(m2.lastError()).isEqualTo("boom 1");
        queue.nack(db, m2.lease(), "boom 2");
        clock.advance(Duration.ofMillis(1_999));
        assertThat(queue.dequeue(db)).isEmpty(); // backoff after attempt 2: 2 s
        clock.advance(Duration.ofMillis(1));
        Message m3 = queue.dequeue(db).orElseThrow();
        assertThat(m3.attempt()).isEqualTo(3);
        queue.nack(db, m3.lease(), "boom 3");
        clock.advance(Duration.ofMinutes(10));
        assertThat(queue.dequeue(db)).isEmpty();

        List<DeadLetter> dead = queue.deadLetters(db, "t1", 10);
        assertThat(dead).hasSize(1);
        assertThat(dead.get(0).attempts()).isEqualTo(3);
        assertThat(dead.get(0).lastError()).isEqualTo("boom 3");
        assertThat(dead.get(0).id()).isEqualTo(m1.id());

        assertThat(queue.replayDeadLetters(db, "t1", 10)).isEqualTo(1);
        assertThat(queue.deadLetters(db, "t1", 10)).isEmpty();
        Message replayed = queue.dequeue(db).orElseThrow();
        assertThat(replayed.attempt()).isEqualTo(1);
        assertThat(text(replayed)).isEqualTo("poison");
    }

    @Test
    void anItemWhoseLastLeaseExpiredIsDeadLetteredByTheNextDequeue() {
        enqueue("t1", "hangs");
        for (int i = 0; i < 3; i++) {
            assertThat(queue.dequeue(db)).isPresent();
            clock.advance(Duration.ofSeconds(31));
        }
        assertThat(queue.dequeue(db)).isEmpty();
        assertThat(queue.deadLetters(db, "t1", 10)).extracting(DeadLetter::attempts).containsExactly(3);
    }

    @Test
    void partitionsAreServedRoundRobin() {
        db.run(tr -> {
            for (int i = 0; i < 30; i++) {
                queue.enqueue(tr, "big", ("b" + i).getBytes(UTF_8));
            }
            for (int i = 0; i < 3; i++) {
                queue.enqueue(tr, "small1", ("s" + i).getBytes(UTF_8));
                queue.enqueue(tr, "small2", ("t" + i).getBytes(UTF_8));
            }
            return null;
        });
        List<String> partitions = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            Message m = queue.dequeue(db).orElseThrow();
            partitions.add(m.partition());
            queue.ack(db, m.lease());
        }
        assertThat(partitions).containsExactly("big", "small1", "small2", "big", "small1", "small2", "big", "small1",
                "small2");
        for (int i = 0; i < 27; i++) {
            Optional<Message> m = queue.dequeue(db);
            assertThat(m).isPresent();
            queue.ack(db, m.get().lease());
        }
        assertThat(queue.dequeue(db)).isEmpty();
    }

    @Test
    void ackInsideABusinessTransactionCommitsTheEffectAndTheAckTogether() {
        enqueue("t1", "pay");
        Message m = queue.dequeue(db).orElseThrow();
        byte[] effect = "effect".getBytes(UTF_8);
        assertThatThrownBy(() -> db.run(tr -> {
            tr.set(effect, new byte[] {1});
            queue.ack(tr, m.lease());
            throw new IllegalStateException("crash before commit");
        })).isInstanceOf(IllegalStateException.class);
        byte[] before = db.read(tr -> tr.get(effect).join());
        assertThat(before).isNull();
        db.run(tr -> {
            tr.set(effect, new byte[] {1});
            queue.ack(tr, m.lease());
            return null;
        });
        byte[] after = db.read(tr -> tr.get(effect).join());
        assertThat(after).containsExactly(1);
        clock.advance(Duration.ofMinutes(5));
        assertThat(queue.dequeue(db)).isEmpty();
    }

    @Test
    void limitsAreEnforced() {
        assertThatThrownBy(() -> new QueueConfig().priorityLevels(QueueConfig.PRIORITY_LEVELS_MAX + 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> db.run(tr -> {
            queue.enqueue(tr, "t1", new byte[Queue.PAYLOAD_BYTES_MAX + 1]);
            return null;
        })).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> db.run(tr -> {
            queue.enqueue(tr, "t1", new byte[1], 4, Duration.ZERO);
            return null;
        })).isInstanceOf(IllegalArgumentException.class);
        assertThat(new QueueConfig().backoff(Duration.ofSeconds(1), Duration.ofSeconds(60)).backoffMs(100)).isEqualTo(60_000);
    }
}
