package dev.txkv.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txkv.Database;
import dev.txkv.layers.testing.EmbeddedDatabase;
import dev.txkv.queue.ManualClock;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leases and fencing tokens: exclusion, expiry, takeover, and a paused holder's write refused. */
class LeaseManagerTest {
    private static final byte[] GUARDED = Tuple.from("guarded").pack();

    @TempDir
    Path dir;

    private Database db;
    private final ManualClock clock = new ManualClock(1_000_000);
    private LeaseManager leases;

    @BeforeEach
    void open() {
        db = EmbeddedDatabase.open(dir);
        leases = new LeaseManager(new Subspace(Tuple.from("leases")), clock);
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void aHeldLeaseIsRefusedToOthersUntilItExpiresAndEveryAcquisitionBumpsTheToken() {
        Lease a = leases.tryAcquire(db, "job", "a", Duration.ofSeconds(10)).orElseThrow();
        assertThat(a.fencingToken()).isEqualTo(1);
        assertThat(leases.tryAcquire(db, "job", "b", Duration.ofSeconds(10))).isEmpty();
        clock.advance(Duration.ofSeconds(10));
        Lease b = leases.tryAcquire(db, "job", "b", Duration.ofSeconds(10)).orElseThrow();
        assertThat(b.fencingToken()).isEqualTo(2);
        assertThatThrownBy(() -> leases.renew(db, a, Duration.ofSeconds(10))).isInstanceOf(FencingException.class);
        assertThat(leases.release(db, a)).isFalse();
        assertThat(leases.release(db, b)).isTrue();
        Lease c = leases.tryAcquire(db, "job", "c", Duration.ofSeconds(10)).orElseThrow();
        assertThat(c.fencingToken()).isEqualTo(3);
        long latest = db.read(tr -> leases.latestToken(tr, "job"));
        assertThat(latest).isEqualTo(3);
    }

    @Test
    void renewalKeepsTheTokenAndPostponesExpiry() {
        Lease a = leases.tryAcquire(db, "job", "a", Duration.ofSeconds(10)).orElseThrow();
        clock.advance(Duration.ofSeconds(8));
        Lease renewed = leases.renew(db, a, Duration.ofSeconds(10));
        assertThat(renewed.fencingToken()).isEqualTo(a.fencingToken());
        clock.advance(Duration.ofSeconds(8));
        assertThat(leases.tryAcquire(db, "job", "b", Duration.ofSeconds(10))).isEmpty();
        Optional<Lease> current = db.read(tr -> leases.current(tr, "job"));
        assertThat(current).contains(renewed);
    }

    @Test
    void aStaleTokensWriteIsRefused() {
        Lease a = leases.tryAcquire(db, "job", "a", Duration.ofSeconds(10)).orElseThrow();
        db.run(tr -> {
            leases.checkFence(tr, a);
            tr.set(GUARDED, new byte[] {1});
            return null;
        });
        clock.advance(Duration.ofSeconds(11));
        assertThatThrownBy(() -> db.run(tr -> {
            leases.checkFence(tr, a);
            tr.set(GUARDED, new byte[] {2});
            return null;
        })).isInstanceOf(FencingException.class).hasMessageContaining("expired");
        leases.tryAcquire(db, "job", "b", Duration.ofSeconds(10)).orElseThrow();
        assertThatThrownBy(() -> db.run(tr -> {
            leases.checkFence(tr, a);
            tr.set(GUARDED, new byte[] {3});
            return null;
        })).isInstanceOf(FencingException.class).hasMessageContaining("stale");
        byte[] guarded = db.read(tr -> tr.get(GUARDED).join());
        assertThat(guarded).containsExactly(1);
    }

    @Test
    void aHolderPausedBetweenItsFenceCheckAndItsCommitCannotWriteAfterATakeover() {
        Lease a = leases.tryAcquire(db, "job", "a", Duration.ofSeconds(10)).orElseThrow();
        AtomicInteger attempts = new AtomicInteger();
        assertThatThrownBy(() -> db.run(tr -> {
            int attempt = attempts.getAndIncrement();
            leases.checkFence(tr, a);
            if (attempt == 0) {
                // The holder stalls here (a GC pause); meanwhile its lease lapses and b takes over.
                clock.advance(Duration.ofSeconds(11));
                assertThat(leases.tryAcquire(db, "job", "b", Duration.ofSeconds(10))).isPresent();
            }
            tr.set(GUARDED, new byte[] {1});
            return null;
        })).isInstanceOf(FencingException.class);
        assertThat(attempts.get()).as("the commit conflicted and the retry's fence check refused").isEqualTo(2);
        byte[] guarded = db.read(tr -> tr.get(GUARDED).join());
        assertThat(guarded).isNull();
    }

    @Test
    void concurrentAcquirersNeverShareAToken() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        Set<Long> tokens = ConcurrentHashMap.newKeySet();
        AtomicInteger granted = new AtomicInteger();
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            String holder = "h" + t;
            futures.add(pool.submit(() -> {
                for (int i = 0; i < 30; i++) {
                    Optional<Lease> lease = leases.tryAcquire(db, "hot", holder, Duration.ofSeconds(10));
                    if (lease.isPresent()) {
                        granted.incrementAndGet();
                        assertThat(tokens.add(lease.get().fencingToken())).isTrue();
                        leases.release(db, lease.get());
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(tokens).hasSize(granted.get());
        long latest = db.read(tr -> leases.latestToken(tr, "hot"));
        assertThat(latest).isEqualTo(granted.get());
    }
}
