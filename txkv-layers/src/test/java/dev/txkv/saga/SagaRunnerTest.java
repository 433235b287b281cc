package dev.txkv.saga;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.txkv.Database;
import dev.txkv.layers.testing.EmbeddedDatabase;
import dev.txkv.queue.ManualClock;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sagas: order of steps and compensations, retries, timeouts, and resumption after a runner dies. */
class SagaRunnerTest {
    private static final Subspace SAGAS = new Subspace(Tuple.from("sagas"));
    private static final Duration LEASE_TTL = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private Database db;
    private final ManualClock clock = new ManualClock(1_000_000);
    /** Every call of an action or compensation, as "do:step:key" or "undo:step:key". */
    private final List<String> calls = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void open() {
        db = EmbeddedDatabase.open(dir);
    }

    @AfterEach
    void close() {
        db.close();
    }

    private Step recording(String name) {
        return Step.of(name, ctx -> {
            calls.add("do:" + name + ":" + ctx.idempotencyKey());
            return (name + "-out").getBytes(UTF_8);
        }, (ctx, output) -> calls.add("undo:" + name + ":" + (output == null ? "?" : new String(output, UTF_8))));
    }

    private SagaRunner runner(String id, SagaDefinition... definitions) {
        return new SagaRunner(db, SAGAS, List.of(definitions), id, clock, LEASE_TTL);
    }

    /** Runs passes until nothing is due, at most {@code passes} times. */
    private static void drain(SagaRunner runner, int passes) {
        for (int i = 0; i < passes && runner.runOnce() > 0; i++) {
            // Each pass drives every due saga as far as it goes.
        }
    }

    @Test
    void stepsRunInOrderWithTheirIdempotencyKeysAndOutputsArePersisted() {
        SagaDefinition order = SagaDefinition.of("order", recording("reserve"), recording("charge"), recording("ship"));
        try (SagaRunner runner = runner("r1", order)) {
            assertThat(runner.start("o-1", "order", "input".getBytes(UTF_8))).isTrue();
            assertThat(runner.start("o-1", "order", "other".getBytes(UTF_8))).isFalse();
            drain(runner, 5);
            Saga saga = runner.get("o-1").orElseThrow();
            assertThat(saga.status()).isEqualTo(SagaStatus.COMPLETED);
            assertThat(calls).containsExactly("do:reserve:o-1/0", "do:charge:o-1/1", "do:ship:o-1/2");
            assertThat(saga.outputs()).hasSize(3);
            assertThat(new String(saga.outputs().get(1), UTF_8)).isEqualTo("charge-out");
            assertThat(new String(saga.input(), UTF_8)).isEqualTo("input");
            assertThat(runner.runOnce()).isZero();
        }
    }

    @Test
    void aPermanentFailureCompensatesTheCompletedStepsInReverseOrder() {
        Step charge = Step.of("charge", ctx -> {
            calls.add("do:charge");
            throw new PermanentStepFailure("card declined");
        }, (ctx, output) -> calls.add("undo:charge"));
        SagaDefinition order = SagaDefinition.of("order", recording("reserve"), recording("hold"), charge,
                recording("ship"));
        try (SagaRunner runner = runner("r1", order)) {
            runner.start("o-2", "order", new byte[0]);
            drain(runner, 5);
            Saga saga = runner.get("o-2").orElseThrow();
            assertThat(saga.status()).isEqualTo(SagaStatus.FAILED);
            assertThat(saga.failure()).contains("card declined").contains("step 2");
            assertThat(calls).containsExactly("do:reserve:o-2/0", "do:hold:o-2/1", "do:charge",
                    "undo:hold:hold-out", "undo:reserve:reserve-out");
        }
    }

    @Test
    void transientFailuresAreRetriedAfterABackoffThatSurvivesInTheStoredState() {
        AtomicInteger attempts = new AtomicInteger();
        Step flaky = Step.of("flaky", ctx -> {
            calls.add("do:flaky:attempt " + ctx.attempt());
            if (attempts.incrementAndGet() < 3) {
                throw new IllegalStateException("503");
            }
            return new byte[0];
        }, null).withRetries(3, Duration.ofSeconds(1));
        SagaDefinition def = SagaDefinition.of("d", flaky);
        try (SagaRunner runner = runner("r1", def)) {
            runner.start("s", "d", new byte[0]);
            assertThat(runner.runOnce()).isEqualTo(1);
            Saga waiting = runner.get("s").orElseThrow();
            assertThat(waiting.status()).isEqualTo(SagaStatus.RUNNING);
            assertThat(waiting.attempts()).isEqualTo(1);
            assertThat(waiting.nextAttemptAtMs()).isEqualTo(clock.millis() + 1_000);
            assertThat(runner.runOnce()).isZero(); // not due yet
            clock.advance(Duration.ofSeconds(1));
            runner.runOnce();
            clock.advance(Duration.ofSeconds(2)); // doubled backoff
            runner.runOnce();
            assertThat(runner.get("s").orElseThrow().status()).isEqualTo(SagaStatus.COMPLETED);
            assertThat(calls).containsExactly("do:flaky:attempt 1", "do:flaky:attempt 2", "do:flaky:attempt 3");
        }
    }

    @Test
    void aStepThatKeepsTimingOutIsCompensatedTooSinceItsEffectIsUnknown() {
        Step slow = new Step("pay", ctx -> {
            calls.add("do:pay");
            Thread.sleep(2_000);
            return new byte[0];
        }, (ctx, output) -> calls.add("undo:pay:" + (output == null ? "unknown" : "known")), 2, Duration.ZERO,
                Duration.ofMillis(100));
        SagaDefinition def = SagaDefinition.of("d", recording("reserve"), slow, recording("ship"));
        try (SagaRunner runner = runner("r1", def)) {
            runner.start("s", "d", new byte[0]);
            drain(runner, 5);
            Saga saga = runner.get("s").orElseThrow();
            assertThat(saga.status()).isEqualTo(SagaStatus.FAILED);
            assertThat(saga.failure()).contains("timed out");
            assertThat(calls).containsExactly("do:reserve:s/0", "do:pay", "do:pay", "undo:pay:unknown",
                    "undo:reserve:reserve-out");
        }
    }

    @Test
    void aFailingCompensationEndsInFailedWithTheReason() {
        Step reserve = Step.of("reserve", ctx -> new byte[0], (ctx, output) -> {
            throw new IllegalStateException("inventory service gone");
        }).withRetries(2, Duration.ZERO);
        Step charge = Step.of("charge", ctx -> {
            throw new PermanentStepFailure("declined");
        }, null);
        try (SagaRunner runner = runner("r1", SagaDefinition.of("d", reserve, charge))) {
            runner.start("s", "d", new byte[0]);
            drain(runner, 5);
            Saga saga = runner.get("s").orElseThrow();
            assertThat(saga.status()).isEqualTo(SagaStatus.FAILED);
            assertThat(saga.failure()).contains("declined").contains("compensation of step 0").contains("manual repair");
        }
    }

    @Test
    void anotherRunnerResumesASagaWhoseRunnerDiedMidStepAndTheDeadRunnersLateResultIsFenced() throws Exception {
        CountDownLatch firstCallEntered = new CountDownLatch(1);
        CountDownLatch releaseFirstCall = new CountDownLatch(1);
        AtomicInteger chargeCalls = new AtomicInteger();
        Step charge = Step.of("charge", ctx -> {
            calls.add("do:charge:" + ctx.idempotencyKey());
            if (chargeCalls.incrementAndGet() == 1) {
                firstCallEntered.countDown();
                releaseFirstCall.await(20, TimeUnit.SECONDS); // the runner hangs: "dead" to everyone else
                return "late".getBytes(UTF_8);
            }
            return "charged".getBytes(UTF_8);
        }, null);
        SagaDefinition def = SagaDefinition.of("order", recording("reserve"), charge, recording("ship"));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (SagaRunner dying = runner("dying", def); SagaRunner survivor = runner("survivor", def)) {
            dying.start("o-9", "order", new byte[0]);
            Future<Integer> dyingPass = pool.submit(dying::runOnce);
            assertThat(firstCallEntered.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(survivor.runOnce()).as("the saga is claimed by the dying runner").isZero();

            clock.advance(LEASE_TTL.plusSeconds(1));
            drain(survivor, 5);
            Saga saga = survivor.get("o-9").orElseThrow();
            assertThat(saga.status()).isEqualTo(SagaStatus.COMPLETED);

            releaseFirstCall.countDown();
            dyingPass.get(20, TimeUnit.SECONDS);
            Saga after = survivor.get("o-9").orElseThrow();
            assertThat(after.status()).isEqualTo(SagaStatus.COMPLETED);
            assertThat(new String(after.outputs().get(1), UTF_8)).as("the late result was refused").isEqualTo("charged");
            assertThat(calls).containsExactly("do:reserve:o-9/0", "do:charge:o-9/1", "do:charge:o-9/1", "do:ship:o-9/2");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void twoRunnersShareManySagasAndRunEveryStepOnce() throws Exception {
        Map<String, AtomicInteger> invocations = new ConcurrentHashMap<>();
        Step.Action count = ctx -> {
            invocations.computeIfAbsent(ctx.idempotencyKey(), k -> new AtomicInteger()).incrementAndGet();
            return new byte[0];
        };
        SagaDefinition def = SagaDefinition.of("d", Step.of("a", count, null), Step.of("b", count, null),
                Step.of("c", count, null));
        int sagas = 30;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (SagaRunner r1 = runner("r1", def); SagaRunner r2 = runner("r2", def)) {
            for (int i = 0; i < sagas; i++) {
                r1.start("s-" + i, "d", new byte[0]);
            }
            List<Future<?>> futures = new ArrayList<>();
            for (SagaRunner r : List.of(r1, r2)) {
                futures.add(pool.submit(() -> drain(r, 50)));
            }
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
            drain(r1, 5);
            for (int i = 0; i < sagas; i++) {
                assertThat(r1.get("s-" + i).orElseThrow().status()).isEqualTo(SagaStatus.COMPLETED);
            }
            assertThat(invocations).hasSize(sagas * 3);
            assertThat(invocations.values()).allMatch(n -> n.get() == 1);
        } finally {
            pool.shutdownNow();
        }
    }
}
