package dev.txkv.saga;

import dev.txkv.Database;
import dev.txkv.KeyValue;
import dev.txkv.ReadTransaction;
import dev.txkv.Transaction;
import dev.txkv.lease.FencingException;
import dev.txkv.lease.Lease;
import dev.txkv.lease.LeaseManager;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts sagas and drives them: runs steps in order with retries, compensates completed steps
 * in reverse after a permanent failure, and resumes sagas left by crashed runners. Several
 * runners (in one or many processes) may share a saga subspace. Thread-safe; call
 * {@link #runOnce()} from one or more worker threads, and {@link #close()} at the end.
 *
 * <h2>Implementation notes</h2>
 *
 * Key layout under subspace {@code S}:
 *
 * <pre>
 * S + (0, sagaId)            → (definition, status, step, attempts, createdAtMs, updatedAtMs,
 *                               nextAttemptAtMs, input, outcomeUnknown, failure|null)
 * S + (1, sagaId, stepIndex) → output of a completed step
 * S + (2, sagaId)            → nextAttemptAtMs (tuple)   index of RUNNING and COMPENSATING sagas
 * S + (3, ...)               → {@link LeaseManager} records, one lease per saga id
 * </pre>
 *
 * <ul>
 *   <li><b>One runner per saga.</b> A runner works on a saga only while it holds the saga's
 *       lease, renewed before every action. Every state change is a transaction that calls
 *       {@link LeaseManager#checkFence}, so a runner that paused past its lease (and was
 *       replaced) cannot record anything: its late result is dropped, never applied twice.</li>
 *   <li><b>Resumption.</b> The state names the next step to run or compensate. A runner that
 *       dies between an external call and recording its result leaves the step unrecorded; the
 *       next runner calls it again with the same {@link StepContext#idempotencyKey()}. Steps
 *       are therefore invoked at least once, and must deduplicate on that key.</li>
 *   <li><b>Compensation</b> runs for the completed steps in reverse order, plus the failed step
 *       itself if one of its attempts timed out (its effect is unknown; the compensation gets
 *       a null output and must tolerate "nothing to undo").</li>
 *   <li><b>Backoff</b> is stored as {@code nextAttemptAtMs}, so it survives a crash and any
 *       runner honours it. Times come from the runners' clocks, which should be in sync.</li>
 * </ul>
 */
public final class SagaRunner implements AutoCloseable {
    /** Most sagas one {@link #runOnce()} looks at. */
    public static final int SAGAS_PER_POLL_MAX = 100;
    /** Most state transitions one claim of a saga makes before letting go (other sagas get a turn). */
    public static final int TRANSITIONS_PER_CLAIM_MAX = 1_000;
    /** Longest saga id, in UTF-8 bytes. */
    public static final int ID_BYTES_MAX = 256;
    /** Largest saga input or step output, in bytes. */
    public static final int DATA_BYTES_MAX = 64 * 1024;

    private static final long STATES = 0;
    private static final long OUTPUTS = 1;
    private static final long ACTIVE = 2;
    private static final long LEASES = 3;

    private final Database db;
    private final Subspace states;
    private final Subspace outputs;
    private final Subspace active;
    private final LeaseManager leases;
    private final Map<String, SagaDefinition> definitions = new HashMap<>();
    private final String runnerId;
    private final Clock clock;
    private final Duration leaseTtl;
    private final Random random;
    private final ExecutorService executor;

    /**
     * A runner over sagas stored under {@code root}.
     *
     * @param runnerId this runner's id, as lease holder
     * @param leaseTtl how long a claim lasts without renewal; longer than every step's timeout
     */
    public SagaRunner(Database db, Subspace root, List<SagaDefinition> definitions, String runnerId, Clock clock,
            Duration leaseTtl) {
        this.db = Objects.requireNonNull(db, "db");
        this.states = root.get(STATES);
        this.outputs = root.get(OUTPUTS);
        this.active = root.get(ACTIVE);
        this.leases = new LeaseManager(root.get(LEASES), clock);
        for (SagaDefinition d : definitions) {
            if (this.definitions.put(d.name(), d) != null) {
                throw new IllegalArgumentException("two definitions named " + d.name());
            }
            for (Step s : d.steps()) {
                if (s.timeout().compareTo(leaseTtl) >= 0) {
                    throw new IllegalArgumentException("step " + s.name() + " may run longer than the lease ttl");
                }
            }
        }
        this.runnerId = Objects.requireNonNull(runnerId, "runnerId");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.leaseTtl = Objects.requireNonNull(leaseTtl, "leaseTtl");
        this.random = new Random();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "saga-step-" + runnerId);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts saga {@code sagaId} of {@code definition} in the caller's transaction, so it starts
     * exactly when the business change commits. Returns false (and changes nothing) if a saga
     * with this id already exists: starting is idempotent.
     */
    public boolean start(Transaction tr, String sagaId, String definition, byte[] input) {
        checkId(sagaId);
        if (!definitions.containsKey(definition)) {
            throw new IllegalArgumentException("unknown saga definition " + definition);
        }
        byte[] data = input == null ? new byte[0] : input;
        if (data.length > DATA_BYTES_MAX) {
            throw new IllegalArgumentException("input exceeds " + DATA_BYTES_MAX + " bytes");
        }
        if (tr.get(states.pack(Tuple.from(sagaId))).join() != null) {
            return false;
        }
        long now = clock.millis();
        write(tr, new Saga(sagaId, definition, SagaStatus.RUNNING, 0, 0, now, now, now, data, false, null, Map.of()));
        return true;
    }

    /** As {@link #start(Transaction, String, String, byte[])} in a transaction of its own. */
    public boolean start(String sagaId, String definition, byte[] input) {
        return db.run(tr -> start(tr, sagaId, definition, input));
    }

    /** The stored state of saga {@code sagaId}, with its outputs. */
    public Optional<Saga> get(ReadTransaction tr, String sagaId) {
        checkId(sagaId);
        byte[] raw = tr.get(states.pack(Tuple.from(sagaId))).join();
        if (raw == null) {
            return Optional.empty();
        }
        Map<Integer, byte[]> out = new HashMap<>();
        for (KeyValue kv : tr.getRange(outputs.range(Tuple.from(sagaId))).asList().join()) {
            out.put((int) outputs.unpack(kv.getKey()).getLong(1), kv.getValue());
        }
        Tuple t = Tuple.fromBytes(raw);
        return Optional.of(new Saga(sagaId, t.getString(0), SagaStatus.valueOf(t.getString(1)), (int) t.getLong(2),
                (int) t.getLong(3), t.getLong(4), t.getLong(5), t.getLong(6), t.getBytes(7), t.getBoolean(8),
                t.getString(9), Collections.unmodifiableMap(out)));
    }

    /** As {@link #get(ReadTransaction, String)} in a read-only transaction of its own. */
    public Optional<Saga> get(String sagaId) {
        return db.read(tr -> get(tr, sagaId));
    }

    /**
     * One pass: claims each due RUNNING or COMPENSATING saga that no other runner holds and
     * drives it until it finishes, waits for a backoff, or the claim is lost. Returns how many
     * sagas it worked on (0: nothing to do now).
     */
    public int runOnce() {
        long now = clock.millis();
        List<String> due = db.read(tr -> {
            List<String> ids = new ArrayList<>();
            for (KeyValue kv : tr.snapshot().getRange(active.range(), SAGAS_PER_POLL_MAX).asList().join()) {
                if (Tuple.fromBytes(kv.getValue()).getLong(0) <= now) {
                    ids.add(active.unpack(kv.getKey()).getString(0));
                }
            }
            return ids;
        });
        // Runners that poll together start at different sagas instead of all racing for the first.
        Collections.shuffle(due, random);
        int worked = 0;
        for (String id : due) {
            Optional<Lease> claim = leases.tryAcquire(db, id, runnerId, leaseTtl);
            if (claim.isEmpty()) {
                continue;
            }
            worked++;
            Lease lease = claim.get();
            try {
                lease = drive(id, lease);
            } catch (FencingException lost) {
                continue; // Another runner took over while this one was slow; its view wins.
            }
            leases.release(db, lease);
        }
        return worked;
    }

    /** Stops the step threads; actions still running are interrupted. */
    @Override
    public void close() {
        executor.shutdownNow();
    }

    // --- driving one saga ------------------------------------------------------------------

    private Lease drive(String id, Lease lease) {
        for (int i = 0; i < TRANSITIONS_PER_CLAIM_MAX; i++) {
            Saga saga = get(id).orElse(null);
            if (saga == null || saga.status() == SagaStatus.COMPLETED || saga.status() == SagaStatus.FAILED
                    || saga.nextAttemptAtMs() > clock.millis()) {
                return lease;
            }
            SagaDefinition definition = definitions.get(saga.definition());
            if (definition == null) {
                return lease; // A runner with another code version may know it.
            }
            lease = leases.renew(db, lease, leaseTtl);
            if (saga.status() == SagaStatus.RUNNING) {
                runStep(lease, saga, definition);
            } else {
                compensateStep(lease, saga, definition);
            }
        }
        return lease;
    }

    private void runStep(Lease lease, Saga saga, SagaDefinition definition) {
        int index = saga.step();
        if (index >= definition.steps().size()) {
            transition(lease, saga, next(saga, SagaStatus.COMPLETED, index, 0, false, null), -1, null);
            return;
        }
        Step step = definition.steps().get(index);
        StepContext context = new StepContext(saga.id(), index, saga.attempts() + 1, saga.input(), saga.outputs());
        Outcome outcome = invoke(step, () -> step.action().execute(context));
        if (outcome.succeeded) {
            byte[] output = outcome.output == null ? new byte[0] : outcome.output;
            SagaStatus status = index + 1 == definition.steps().size() ? SagaStatus.COMPLETED : SagaStatus.RUNNING;
            transition(lease, saga, next(saga, status, index + 1, 0, false, null), index, output);
            return;
        }
        int failed = saga.attempts() + 1;
        boolean unknown = saga.outcomeUnknown() || outcome.timedOut;
        if (outcome.permanent || failed >= step.maxAttempts()) {
            String reason = "step " + index + " (" + step.name() + ") failed after " + failed + " attempt(s): " + outcome.error;
            // The failed step is compensated too when an attempt's effect is unknown.
            int from = unknown ? index : index - 1;
            transition(lease, saga, next(saga, SagaStatus.COMPENSATING, from, 0, false, reason), -1, null);
        } else {
            Saga retry = next(saga, SagaStatus.RUNNING, index, failed, unknown, null);
            transition(lease, saga, delayed(retry, step.backoffMs(failed)), -1, null);
        }
    }

    private void compensateStep(Lease lease, Saga saga, SagaDefinition definition) {
        int index = saga.step();
        if (index < 0) {
            transition(lease, saga, next(saga, SagaStatus.FAILED, -1, 0, false, saga.failure()), -1, null);
            return;
        }
        Step step = definition.steps().get(index);
        Outcome outcome = step.compensation() == null ? Outcome.success(null) : invoke(step, () -> {
            StepContext context = new StepContext(saga.id(), index, saga.attempts() + 1, saga.input(), saga.outputs());
            step.compensation().compensate(context, saga.outputs().get(index));
            return null;
        });
        if (outcome.succeeded) {
            SagaStatus status = index == 0 ? SagaStatus.FAILED : SagaStatus.COMPENSATING;
            transition(lease, saga, next(saga, status, index - 1, 0, false, saga.failure()), -1, null);
            return;
        }
        int failed = saga.attempts() + 1;
        if (outcome.permanent || failed >= step.maxAttempts()) {
            String reason = saga.failure() + "; compensation of step " + index + " (" + step.name() + ") failed after "
                    + failed + " attempt(s), needs manual repair: " + outcome.error;
            transition(lease, saga, next(saga, SagaStatus.FAILED, index, failed, false, reason), -1, null);
        } else {
            Saga retry = next(saga, SagaStatus.COMPENSATING, index, failed, false, saga.failure());
            transition(lease, saga, delayed(retry, step.backoffMs(failed)), -1, null);
        }
    }

    /** Records {@code after} (and a step output) if the lease still holds and nobody moved the saga meanwhile. */
    private void transition(Lease lease, Saga before, Saga after, int outputIndex, byte[] output) {
        if (output != null && output.length > DATA_BYTES_MAX) {
            throw new IllegalStateException("output of step " + outputIndex + " exceeds " + DATA_BYTES_MAX + " bytes");
        }
        db.run(tr -> {
            leases.checkFence(tr, lease);
            byte[] raw = tr.get(states.pack(Tuple.from(before.id()))).join();
            Tuple current = Tuple.fromBytes(raw);
            if (!current.getString(1).equals(before.status().name()) || current.getLong(2) != before.step()
                    || current.getLong(3) != before.attempts()) {
                throw new FencingException("saga " + before.id() + " changed under lease " + lease.fencingToken());
            }
            if (output != null) {
                tr.set(outputs.pack(Tuple.from(before.id(), (long) outputIndex)), output);
            }
            write(tr, after);
            return null;
        });
    }

    private void write(Transaction tr, Saga s) {
        tr.set(states.pack(Tuple.from(s.id())), Tuple.from(s.definition(), s.status().name(), (long) s.step(),
                (long) s.attempts(), s.createdAtMs(), s.updatedAtMs(), s.nextAttemptAtMs(), s.input(),
                s.outcomeUnknown(), s.failure()).pack());
        byte[] indexKey = active.pack(Tuple.from(s.id()));
        if (s.status() == SagaStatus.RUNNING || s.status() == SagaStatus.COMPENSATING) {
            tr.set(indexKey, Tuple.from(s.nextAttemptAtMs()).pack());
        } else {
            tr.clear(indexKey);
        }
    }

    private Saga next(Saga s, SagaStatus status, int step, int attempts, boolean unknown, String failure) {
        long now = clock.millis();
        return new Saga(s.id(), s.definition(), status, step, attempts, s.createdAtMs(), now, now, s.input(), unknown,
                failure, s.outputs());
    }

    private static Saga delayed(Saga s, long delayMs) {
        return new Saga(s.id(), s.definition(), s.status(), s.step(), s.attempts(), s.createdAtMs(), s.updatedAtMs(),
                s.updatedAtMs() + delayMs, s.input(), s.outcomeUnknown(), s.failure(), s.outputs());
    }

    // --- invoking steps --------------------------------------------------------------------

    /** The result of one attempt of an action or compensation. */
    private static final class Outcome {
        final boolean succeeded;
        final byte[] output;
        final boolean permanent;
        final boolean timedOut;
        final String error;

        private Outcome(boolean succeeded, byte[] output, boolean permanent, boolean timedOut, String error) {
            this.succeeded = succeeded;
            this.output = output;
            this.permanent = permanent;
            this.timedOut = timedOut;
            this.error = error;
        }

        static Outcome success(byte[] output) {
            return new Outcome(true, output, false, false, null);
        }

        static Outcome failure(boolean permanent, boolean timedOut, String error) {
            return new Outcome(false, null, permanent, timedOut, error);
        }
    }

    private Outcome invoke(Step step, java.util.concurrent.Callable<byte[]> call) {
        Future<byte[]> attempt = executor.submit(call);
        try {
            return Outcome.success(attempt.get(step.timeout().toMillis(), TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            attempt.cancel(true);
            return Outcome.failure(false, true, "timed out after " + step.timeout().toMillis() + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            return Outcome.failure(cause instanceof PermanentStepFailure, false, String.valueOf(cause));
        } catch (InterruptedException e) {
            attempt.cancel(true);
            Thread.currentThread().interrupt();
            throw new FencingException("runner " + runnerId + " interrupted");
        }
    }

    private static void checkId(String id) {
        Objects.requireNonNull(id, "sagaId");
        if (id.getBytes(StandardCharsets.UTF_8).length > ID_BYTES_MAX) {
            throw new IllegalArgumentException("saga id exceeds " + ID_BYTES_MAX + " bytes");
        }
    }
}
