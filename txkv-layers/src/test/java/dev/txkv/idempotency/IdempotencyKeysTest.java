package dev.txkv.idempotency;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.Database;
import dev.txkv.MutationType;
import dev.txkv.layers.testing.EmbeddedDatabase;
import dev.txkv.queue.FlakyCommitBackend;
import dev.txkv.queue.ManualClock;
import dev.txkv.testkit.Seeds;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Idempotency keys: replayed responses, expiry by range clear, concurrent duplicates, lost commit replies. */
class IdempotencyKeysTest {
    private static final Subspace KEYS = new Subspace(Tuple.from("idem"));
    private static final byte[] BALANCE = Tuple.from("balance").pack();

    @TempDir
    Path dir;

    private static byte[] le(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static long le(byte[] v) {
        return v == null ? 0 : ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static IdempotencyKeys.Result deposit(Database db, IdempotencyKeys keys, String requestId, long amount) {
        return keys.execute(db, requestId, tr -> {
            tr.mutate(MutationType.ADD, BALANCE, le(amount));
            return ("deposited " + amount).getBytes(UTF_8);
        });
    }

    private static long balance(Database db) {
        return db.read(tr -> le(tr.get(BALANCE).join()));
    }

    @Test
    void aRetriedRequestGetsTheFirstResponseWithoutRedoingTheEffect() {
        ManualClock clock = new ManualClock(0);
        try (Database db = EmbeddedDatabase.open(dir)) {
            IdempotencyKeys keys = new IdempotencyKeys(KEYS, clock, Duration.ofHours(1), Duration.ofMinutes(10));
            IdempotencyKeys.Result first = deposit(db, keys, "req-1", 10);
            IdempotencyKeys.Result again = deposit(db, keys, "req-1", 999);
            assertThat(first.replayed()).isFalse();
            assertThat(again.replayed()).isTrue();
            assertThat(new String(again.response(), UTF_8)).isEqualTo("deposited 10");
            assertThat(balance(db)).isEqualTo(10);
            deposit(db, keys, "req-2", 5);
            assertThat(balance(db)).isEqualTo(15);
        }
    }

    @Test
    void entriesExpireAfterTheirTimeToLiveAndExpiryIsOneRangeClear() {
        ManualClock clock = new ManualClock(0);
        try (Database db = EmbeddedDatabase.open(dir)) {
            IdempotencyKeys keys = new IdempotencyKeys(KEYS, clock, Duration.ofHours(1), Duration.ofMinutes(10));
            deposit(db, keys, "old", 1);
            clock.advance(Duration.ofMinutes(59));
            deposit(db, keys, "young", 1);
            assertThat(deposit(db, keys, "old", 1).replayed()).isTrue();
            clock.advance(Duration.ofMinutes(1));
            Optional<byte[]> old = db.read(tr -> keys.lookup(tr, "old").join());
            assertThat(old).isEmpty();
            keys.expire(db);
            assertThat(dump(db)).containsExactly("old", "young"); // bucket 0 may still hold live entries
            clock.advance(Duration.ofMinutes(10));
            keys.expire(db);
            assertThat(dump(db)).containsExactly("young");
            assertThat(deposit(db, keys, "young", 1).replayed()).isTrue();
            assertThat(balance(db)).isEqualTo(2);
        }
    }

    private static List<String> dump(Database db) {
        return db.read(tr -> {
            List<String> out = new ArrayList<>();
            tr.getRange(KEYS.range()).asList().join().forEach(kv -> out.add(KEYS.unpack(kv.getKey()).getString(1)));
            return out;
        });
    }

    @Test
    void concurrentDuplicatesApplyTheEffectOnce() throws Exception {
        ManualClock clock = new ManualClock(0);
        try (Database db = EmbeddedDatabase.open(dir)) {
            IdempotencyKeys keys = new IdempotencyKeys(KEYS, clock, Duration.ofHours(1), Duration.ofMinutes(10));
            ExecutorService pool = Executors.newFixedThreadPool(8);
            AtomicInteger fresh = new AtomicInteger();
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 25; i++) {
                        if (!deposit(db, keys, "req-" + i, 1).replayed()) {
                            fresh.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertThat(fresh.get()).isEqualTo(25);
            assertThat(balance(db)).isEqualTo(25);
        }
    }

    @Test
    void lostCommitRepliesAreAbsorbedWithoutAutomaticIdempotency() {
        long seed = Seeds.seed("lostCommitRepliesAreAbsorbedWithoutAutomaticIdempotency");
        AtomicInteger[] lost = new AtomicInteger[1];
        ManualClock clock = new ManualClock(0);
        try (Database db = FlakyCommitBackend.open(dir, seed, 0.3, lost)) {
            IdempotencyKeys keys = new IdempotencyKeys(KEYS, clock, Duration.ofHours(1), Duration.ofMinutes(10));
            for (int i = 0; i < 60; i++) {
                deposit(db, keys, "req-" + i, 1);
            }
            assertThat(lost[0].get()).as("seed %d", seed).isPositive();
            assertThat(balance(db)).as("seed %d", seed).isEqualTo(60);
        }
    }
}
