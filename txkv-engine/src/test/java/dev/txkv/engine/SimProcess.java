package dev.txkv.engine;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.spi.Backend;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.RangeChunk;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * A simulated database process and the network to it, as the client sees them through
 * {@link Backend}. The process is the real {@link Engine} (pipeline stepped by events, real
 * resolver, applier, idempotency table and RocksDB storage in a temporary directory) over a
 * {@link SimLog}. Requests and replies take random network time; replies are lost with some
 * probability (the client then learns nothing: commit_unknown_result for a commit); commits
 * that carry an idempotency id are sometimes delivered twice (a retry racing its original).
 * The process crashes and restarts from its directory when the simulation says so: calls in
 * flight fail as a broken connection would.
 */
final class SimProcess implements Backend {
    private final Path dir;
    private final TxkvConfig config;
    private final SimEnvironment env;
    private final SimLog.Bug bug;
    private final LongFunction<Resolver> resolvers;
    private final double lostReplyP;
    private final double duplicateP;
    private final Map<CompletableFuture<?>, Boolean> outstanding = new LinkedHashMap<>();
    private Engine engine;
    private SimLog log;
    private int incarnation;
    int crashes;
    int lostReplies;
    int duplicates;

    SimProcess(Path dir, TxkvConfig config, SimEnvironment env, SimLog.Bug bug, LongFunction<Resolver> resolvers,
            double lostReplyP, double duplicateP) {
        this.dir = dir;
        this.config = config;
        this.env = env;
        this.bug = bug;
        this.resolvers = resolvers;
        this.lostReplyP = lostReplyP;
        this.duplicateP = duplicateP;
    }

    void start() {
        engine = Engine.builder(dir, config).environment(env).completions(env.executor()).manualSteps()
                .resolvers(resolvers).log(host -> {
                    log = new SimLog(host, env, bug, 0, SimShardCluster.REFUSED_APPENDS);
                    return log;
                }).open();
        int current = ++incarnation;
        env.repeat(() -> engine != null && incarnation == current, () -> engine.stepPipeline(), 100, 800);
    }

    /** Kills the process: unsynced batches are lost, calls in flight fail, storage keeps what was synced. */
    void crash() {
        if (engine == null) {
            return;
        }
        crashes++;
        log.crash();
        incarnation++;
        List<Map.Entry<CompletableFuture<?>, Boolean>> broken = new ArrayList<>(outstanding.entrySet());
        outstanding.clear();
        for (Map.Entry<CompletableFuture<?>, Boolean> e : broken) {
            e.getKey().completeExceptionally(connectionLost(e.getValue()));
        }
        Engine dying = engine;
        engine = null;
        dying.close();
    }

    /** Most pipeline steps, and events between two of them, that stopping takes before giving up. */
    private static final int STOP_STEPS_MAX = 100_000;
    private static final int STOP_EVENTS_MAX = 100_000;

    /**
     * Stops cleanly at the end of a run: what is queued is answered first. The repeating step
     * is ended first (it reschedules itself, so draining the events while it lives never
     * ends), and stopping is bounded: a pipeline that does not empty is reported, not waited on.
     */
    void stop() {
        if (engine != null) {
            incarnation++;
            try {
                for (int steps = 0; engine.stepPipeline(); steps++) {
                    if (steps >= STOP_STEPS_MAX) {
                        throw new IllegalStateException("the pipeline still had work after " + STOP_STEPS_MAX
                                + " steps at the end of the run");
                    }
                    for (int events = 0; events < STOP_EVENTS_MAX && env.runNext(); events++) {
                        // drain syncs and completions
                    }
                }
            } finally {
                // Closed even when the run ends broken, so that its store is not left open.
                engine.close();
                engine = null;
            }
        }
    }

    private static TxkvException connectionLost(boolean commit) {
        return commit ? new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT, "connection lost during commit")
                : new TxkvException(ErrorCode.PROCESS_BEHIND, "connection lost");
    }

    private <T> CompletableFuture<T> call(Function<Engine, CompletableFuture<T>> op, boolean commit, boolean duplicable) {
        CompletableFuture<T> reply = new CompletableFuture<>();
        env.schedule(() -> deliver(op, reply, commit, duplicable), env.delayNanos(20, 300), TimeUnit.NANOSECONDS);
        return reply;
    }

    private <T> void deliver(Function<Engine, CompletableFuture<T>> op, CompletableFuture<T> reply, boolean commit,
            boolean duplicable) {
        if (engine == null) {
            // Never delivered: certainly not committed.
            reply.completeExceptionally(new TxkvException(ErrorCode.PROCESS_BEHIND, "process is down"));
            return;
        }
        int current = incarnation;
        outstanding.put(reply, commit);
        CompletableFuture<T> result = invoke(op);
        if (duplicable && env.rng().nextDouble() < duplicateP) {
            duplicates++;
            invoke(op);
        }
        result.whenComplete((value, error) -> {
            if (incarnation != current || outstanding.remove(reply) == null) {
                return;
            }
            boolean lost = env.rng().nextDouble() < lostReplyP;
            if (lost) {
                lostReplies++;
            }
            env.schedule(() -> {
                if (lost) {
                    reply.completeExceptionally(connectionLost(commit));
                } else if (error != null) {
                    reply.completeExceptionally(error instanceof CompletionException && error.getCause() != null
                            ? error.getCause() : error);
                } else {
                    reply.complete(value);
                }
            }, env.delayNanos(20, 300), TimeUnit.NANOSECONDS);
        });
    }

    private <T> CompletableFuture<T> invoke(Function<Engine, CompletableFuture<T>> op) {
        try {
            return op.apply(engine);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<Long> getReadVersion() {
        return call(Engine::getReadVersion, false, false);
    }

    @Override
    public CompletableFuture<byte[]> get(byte[] key, long readVersion) {
        return call(e -> e.get(key, readVersion), false, false);
    }

    @Override
    public CompletableFuture<RangeChunk> getRange(byte[] begin, byte[] end, int rowLimit, long byteLimit,
            boolean reverse, long readVersion) {
        return call(e -> e.getRange(begin, end, rowLimit, byteLimit, reverse, readVersion), false, false);
    }

    @Override
    public CompletableFuture<CommitResult> commit(CommitRequest request) {
        return call(e -> e.commit(request), true, request.idempotencyId() != null);
    }

    @Override
    public CompletableFuture<Void> watch(byte[] key, long version) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("no watches in the simulation"));
    }

    @Override
    public void close() {
        stop();
    }
}
