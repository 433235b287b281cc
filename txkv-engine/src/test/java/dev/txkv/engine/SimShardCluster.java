package dev.txkv.engine;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.RangeChunk;
import dev.txkv.spi.ReadStamp;
import dev.txkv.spi.ShardMap;
import dev.txkv.spi.ShardRouter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A simulated sharded cluster: a sequencer, one process per shard (the real {@link Engine} in
 * its sharded mode over a {@link SimLog}, pipeline stepped by events), the network between
 * them and the client's router. Messages take random time; each call may be lost (the caller
 * learns it at its deadline); processes crash and restart from their directories; the
 * sequencer crashes and comes back in a new epoch above every version it handed out.
 */
final class SimShardCluster implements ShardRouter.Shards {
    /**
     * A call that gets no answer (lost, or its process died) fails at this deadline, as an RPC
     * with a deadline does; above the longest a shard keeps a read waiting.
     */
    private static final long DEADLINE_MICROS = 100_000;

    /** Fault rates and planted bugs of a run. */
    record Faults(double lostMessageP, double duplicateCommitP, ShardFault planted) {
    }

    /** The share of batch appends a shard's log answers commit_unknown_result and still applies (SimLog). */
    static final double AMBIGUOUS_APPENDS = 0.05;
    /** The share of batch appends the logs refuse outright (never applied). */
    static final double REFUSED_APPENDS = 0.02;

    /** The sequencer process: down for a while after a crash, then back in a new epoch. */
    final class Sequencer {
        private VersionSequencer current;
        private boolean down;
        int crashes;

        void crash() {
            if (down) {
                return;
            }
            down = true;
            crashes++;
            long floor = current.highWater();
            long epoch = current.epoch() + 1;
            env.schedule(() -> {
                current = new VersionSequencer(env, epoch, floor);
                down = false;
            }, env.delayNanos(500, 4_000), TimeUnit.NANOSECONDS);
        }

        <T> CompletableFuture<T> call(Function<VersionSequencer, T> op) {
            return send(() -> {
                if (down) {
                    return CompletableFuture.failedFuture(unavailable("sequencer is down"));
                }
                return CompletableFuture.completedFuture(op.apply(current));
            }, false);
        }
    }

    /** One shard's process. */
    final class Shard {
        final int id;
        final Path dir;
        /** The shard it was split from (it lives in the same process: a crash takes both), or -1. */
        final int parent;
        /** The map it was made in. */
        final ShardMap madeIn;
        /** The newest shard map this process has heard of: it hears of a new one some time after it is made. */
        ShardMap known;
        Engine engine;
        SimLog log;
        int incarnation;
        int crashes;
        /**
         * The shards merged with this one (the one it absorbed, or the one that absorbed it): one
         * process with it from the merge on, as an absorb copies from the absorbed shard's
         * replica on the same member. A crash takes them all, a start starts them all.
         */
        final List<Shard> merged = new ArrayList<>();

        Shard(int id, Path dir, int parent, ShardMap madeIn) {
            this.id = id;
            this.dir = dir;
            this.parent = parent;
            this.madeIn = madeIn;
            this.known = madeIn;
        }

        void start() {
            if (up()) {
                return;
            }
            if (parent >= 0 && !shards.get(parent).up() && !merged.contains(shards.get(parent))) {
                // Its process is its parent's: starting that starts this one too.
                shards.get(parent).start();
                return;
            }
            int current = ++incarnation;
            ShardConfig shardConfig = new ShardConfig(id, madeIn, new Network(this, current), 5, 20, 10)
                    .withSplits(new ShardConfig.Splits(() -> known, i -> shards.get(i).engine, parent >= 0));
            engine = Engine.builder(dir, config).environment(env).completions(env.executor()).manualSteps()
                    .shard(shardConfig).plant(faults.planted()).log(host -> {
                        log = new SimLog(host, env, SimLog.Bug.NONE, AMBIGUOUS_APPENDS, REFUSED_APPENDS);
                        return log;
                    }).open();
            env.repeat(() -> engine != null && incarnation == current, () -> engine.stepPipeline(), 50, 400);
            for (Shard m : merged) {
                m.start();
            }
            for (Shard child : shards) {
                if (child.parent == id && !child.up()) {
                    child.start();
                }
            }
        }

        boolean up() {
            return engine != null;
        }

        void crash() {
            if (engine == null) {
                return;
            }
            crashes++;
            log.crash();
            incarnation++;
            Engine dying = engine;
            engine = null;
            for (Shard child : shards) {
                if (child.parent == id) {
                    child.crash();
                }
            }
            for (Shard m : merged) {
                m.crash();
            }
            dying.close();
        }

        /** Runs {@code op} on this shard's engine as a message delivered to it. */
        <T> CompletableFuture<T> call(Function<Engine, CompletableFuture<T>> op, boolean commit) {
            return send(() -> {
                if (engine == null) {
                    return CompletableFuture.failedFuture(unavailable("shard " + id + " is down"));
                }
                int at = incarnation;
                CompletableFuture<T> result;
                try {
                    result = op.apply(engine);
                } catch (RuntimeException e) {
                    result = CompletableFuture.failedFuture(e);
                }
                // A reply from a process that died in the meantime never comes.
                CompletableFuture<T> reply = new CompletableFuture<>();
                result.whenComplete((v, e) -> {
                    if (incarnation == at) {
                        if (e != null) {
                            reply.completeExceptionally(unwrap(e));
                        } else {
                            reply.complete(v);
                        }
                    }
                });
                return reply;
            }, commit);
        }
    }

    /** What one shard process sees of the cluster; its calls stop when its incarnation dies. */
    private final class Network implements ShardNetwork {
        private final Shard from;
        private final int incarnation;

        Network(Shard from, int incarnation) {
            this.from = from;
            this.incarnation = incarnation;
        }

        private boolean alive() {
            return from.incarnation == incarnation;
        }

        private <T> CompletableFuture<T> guarded(Supplier<CompletableFuture<T>> call) {
            if (!alive()) {
                return new CompletableFuture<>();
            }
            CompletableFuture<T> reply = new CompletableFuture<>();
            call.get().whenComplete((v, e) -> {
                if (alive()) {
                    if (e != null) {
                        reply.completeExceptionally(e);
                    } else {
                        reply.complete(v);
                    }
                }
            });
            return reply;
        }

        @Override
        public CompletableFuture<VersionSequencer.Grant> grant(int coordinator, int[] participants) {
            return guarded(() -> sequencer.call(s -> s.grant(coordinator, participants)));
        }

        @Override
        public CompletableFuture<Long> epoch() {
            return guarded(() -> sequencer.call(VersionSequencer::epoch));
        }

        @Override
        public CompletableFuture<Integer> coordinatorOf(long version) {
            return guarded(() -> sequencer.call(s -> s.coordinatorOf(version)));
        }

        @Override
        public CompletableFuture<Void> prepare(int shard, Prepare request) {
            return guarded(() -> shards.get(shard).call(e -> e.prepare(request), false));
        }

        @Override
        public CompletableFuture<Void> decided(int shard, long version, boolean commit) {
            return guarded(() -> shards.get(shard).call(e -> e.decided(version, commit), false));
        }

        @Override
        public CompletableFuture<Outcome> queryDecision(int coordinator, long version) {
            return guarded(() -> shards.get(coordinator).call(e -> e.queryDecision(version), false));
        }
    }

    final SimEnvironment env;
    /** The newest shard map (a control group's); the router and each process hear of it later. */
    private ShardMap latest;
    private ShardMap routerMap;
    private final Path dir;
    /** Splits whose new shard was born. */
    int splits;
    /** Merges whose absorb was made durable. */
    int merges;
    /** Splits under way, and whether a merge is (a merge runs alone, as a control group runs it). */
    private int splitting;
    private boolean merging;
    private final TxkvConfig config;
    private final Faults faults;
    final Sequencer sequencer;
    final List<Shard> shards = new ArrayList<>();
    int lostMessages;
    int duplicates;

    SimShardCluster(SimEnvironment env, ShardMap map, Path dir, Faults faults) {
        this.env = env;
        this.latest = map;
        this.routerMap = map;
        this.dir = dir;
        this.faults = faults;
        this.config = new TxkvConfig().durable(false).futureVersionWaitMs(50);
        this.sequencer = new Sequencer();
        sequencer.current = new VersionSequencer(env, 1, 0);
        for (ShardMap.Shard s : map.shards()) {
            shards.add(new Shard(s.id(), dir.resolve("shard-" + s.id()), -1, map));
        }
    }

    void start() {
        for (Shard s : shards) {
            s.start();
        }
    }

    void stop() {
        for (Shard s : shards) {
            if (s.engine != null) {
                s.engine.close();
                s.engine = null;
                s.incarnation++;
            }
        }
    }

    /**
     * One message there and its answer back, each taking network time; either may be lost,
     * which the caller learns at its deadline (a lost commit: commit_unknown_result).
     */
    private <T> CompletableFuture<T> send(Supplier<CompletableFuture<T>> deliver, boolean commit) {
        CompletableFuture<T> reply = new CompletableFuture<>();
        boolean lostThere = env.rng().nextDouble() < faults.lostMessageP();
        boolean lostBack = env.rng().nextDouble() < faults.lostMessageP();
        if (lostThere || lostBack) {
            lostMessages++;
        }
        env.schedule(() -> reply.completeExceptionally(commit && !lostThere
                ? new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT, "no answer to the commit")
                : unavailable("no answer")), DEADLINE_MICROS, TimeUnit.MICROSECONDS);
        env.schedule(() -> {
            if (lostThere) {
                return;
            }
            deliver.get().whenComplete((v, e) -> env.schedule(() -> {
                if (lostBack) {
                    return;
                }
                if (e != null) {
                    reply.completeExceptionally(unwrap(e));
                } else {
                    reply.complete(v);
                }
            }, env.delayNanos(20, 300), TimeUnit.NANOSECONDS));
        }, env.delayNanos(20, 300), TimeUnit.NANOSECONDS);
        return reply;
    }

    private static TxkvException unavailable(String why) {
        return new TxkvException(ErrorCode.CONNECTION_FAILED, why);
    }

    private static Throwable unwrap(Throwable e) {
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /** Every shard's chain and two-phase state, for the report of a stuck run. */
    String describe() {
        StringBuilder out = new StringBuilder("router map ").append(routerMap.shards()).append(", sequencer epoch ")
                .append(sequencer.current.epoch())
                .append(sequencer.down ? " (down)" : "");
        for (Shard s : shards) {
            out.append("; shard ").append(s.id).append(": ").append(s.engine == null ? "down" : s.engine.shardState()
                    + s.engine.ownedKeys().map(k -> ", holds " + k).orElse(", holds no keys") + ", knows map " + s.known.epoch());
        }
        return out.toString();
    }

    /** Whether any shard still holds two-phase work: undecided slices, deferred batches, open decisions. */
    String inDoubt() {
        StringBuilder out = new StringBuilder();
        for (Shard s : shards) {
            if (s.engine == null) {
                out.append("shard ").append(s.id).append(" is down; ");
                continue;
            }
            int[] c = s.engine.twoPhaseCounts().orElseThrow();
            if (c[0] + c[1] + c[2] > 0) {
                out.append("shard ").append(s.id).append(": ").append(c[0]).append(" undecided, ").append(c[1])
                        .append(" deferred, ").append(c[2]).append(" open decisions; ");
            }
        }
        return out.toString();
    }

    // ------------------------------------------------------------------ splits

    /**
     * Splits the shard that holds {@code key} at it, as a sharded server's control group does:
     * the new map first (heard of by the router and each process after a random delay, so
     * stale maps meet shards that moved on), then the new shard's process beside its parent's,
     * then the parent's split and the new shard's birth, each asked again until it answers.
     * One split or merge runs at a time (a split asked meanwhile runs later). Returns false if
     * {@code key} is already a shard's first key.
     */
    boolean split(byte[] key) {
        if (merging || splitting > 0) {
            // One split or merge at a time, as a control group runs them: this one a little later.
            env.schedule(() -> split(key), env.delayNanos(1_000, 20_000), TimeUnit.NANOSECONDS);
            return true;
        }
        ShardMap.Shard parent = latest.shardOf(key);
        if (java.util.Arrays.equals(parent.begin(), key)) {
            return false;
        }
        splitting++;
        int child = shards.size();
        List<ShardMap.Shard> next = new ArrayList<>();
        for (ShardMap.Shard s : latest.shards()) {
            if (s.id() == parent.id()) {
                next.add(new ShardMap.Shard(s.id(), s.begin(), key));
                next.add(new ShardMap.Shard(child, key, s.end()));
            } else {
                next.add(s);
            }
        }
        ShardMap map = publish(next);
        Shard created = new Shard(child, dir.resolve("shard-" + child), parent.id(), map);
        shards.add(created);
        created.start();
        askUntilDone(() -> shards.get(parent.id()).call(e -> e.splitOff(key, child), false), version ->
                askUntilDone(() -> shards.get(parent.id()).call(e -> CompletableFuture.completedFuture(
                        e.settledThrough(version) ? Boolean.TRUE : null), false), settled -> askUntilDone(
                                () -> created.call(e -> e.born(parent.id(), version, key, parent.end()).thenApply(x -> Boolean.TRUE), false),
                                born -> {
                                    splits++;
                                    splitting--;
                                })));
        return true;
    }

    /**
     * Merges the shard at {@code index} of the newest map with its right neighbour, as a sharded
     * server's control group does: the new map first (heard of later by each, as for a split),
     * then the right shard gives all its keys away at a fence version, and once its process has
     * every slot up to the fence, the left shard absorbs them; each step asked again until it
     * answers. Returns false while a split or merge is under way, or with one shard.
     */
    boolean merge(int index) {
        List<ShardMap.Shard> now = latest.shards();
        if (merging || splitting > 0 || now.size() < 2) {
            return false;
        }
        int i = Math.floorMod(index, now.size() - 1);
        ShardMap.Shard left = now.get(i);
        ShardMap.Shard right = now.get(i + 1);
        List<ShardMap.Shard> next = new ArrayList<>();
        for (ShardMap.Shard s : now) {
            if (s.id() == left.id()) {
                next.add(new ShardMap.Shard(left.id(), left.begin(), right.end()));
            } else if (s.id() != right.id()) {
                next.add(s);
            }
        }
        publish(next);
        Shard l = shards.get(left.id());
        Shard r = shards.get(right.id());
        l.merged.add(r);
        r.merged.add(l);
        if (l.up() != r.up()) {
            l.crash();
            r.crash();
            env.schedule(l::start, env.delayNanos(500, 4_000), TimeUnit.NANOSECONDS);
        }
        merging = true;
        askUntilDone(() -> r.call(e -> e.mergeAway(left.id()), false), fence ->
                askUntilDone(() -> r.call(e -> CompletableFuture.completedFuture(
                        e.settledThrough(fence) ? Boolean.TRUE : null), false), settled -> askUntilDone(
                                () -> l.call(e -> e.absorb(right.id(), fence, right.begin(), right.end())
                                        .thenApply(x -> Boolean.TRUE), false),
                                absorbed -> {
                                    merges++;
                                    merging = false;
                                })));
        return true;
    }

    /**
     * Makes {@code shards} the newest map (a control group's); the router and each process hear
     * of it up to 20 simulated ms later, so stale maps meet shards that moved on.
     */
    private ShardMap publish(List<ShardMap.Shard> shards) {
        ShardMap map = new ShardMap(latest.epoch() + 1, shards);
        latest = map;
        env.schedule(() -> routerMap = newer(routerMap, map), env.delayNanos(0, 20_000), TimeUnit.NANOSECONDS);
        for (Shard s : this.shards) {
            env.schedule(() -> s.known = newer(s.known, map), env.delayNanos(0, 20_000), TimeUnit.NANOSECONDS);
        }
        return map;
    }

    private static ShardMap newer(ShardMap a, ShardMap b) {
        return b.epoch() > a.epoch() ? b : a;
    }

    /** Sends {@code call} until it answers with a value (not null), a little later each time it fails. */
    private <T> void askUntilDone(Supplier<CompletableFuture<T>> call, java.util.function.Consumer<T> then) {
        call.get().whenComplete((v, e) -> {
            if (e == null && v != null) {
                then.accept(v);
            } else {
                env.schedule(() -> askUntilDone(call, then), env.delayNanos(200, 2_000), TimeUnit.NANOSECONDS);
            }
        });
    }

    // ------------------------------------------------------------------ what the client's router reaches

    @Override
    public ShardMap map() {
        return routerMap;
    }

    @Override
    public CompletableFuture<ReadStamp> readVersion() {
        return sequencer.call(VersionSequencer::readVersion);
    }

    @Override
    public CompletableFuture<byte[]> get(int shard, byte[] key, ReadStamp s) {
        return shards.get(shard).call(e -> e.getAt(key, s.version(), s.epoch(), s.lastGrant(shard)), false);
    }

    @Override
    public CompletableFuture<RangeChunk> getRange(int shard, byte[] begin, byte[] end, int rowLimit, long byteLimit,
            boolean reverse, ReadStamp s) {
        return shards.get(shard).call(e -> e.getRangeAt(begin, end, rowLimit, byteLimit, reverse, s.version(), s.epoch(),
                s.lastGrant(shard)), false);
    }

    @Override
    public CompletableFuture<CommitResult> commit(int shard, CommitRequest request) {
        boolean duplicate = request.idempotencyId() != null && env.rng().nextDouble() < faults.duplicateCommitP();
        if (duplicate) {
            duplicates++;
        }
        // A duplicate is the same delivered commit processed twice (a retry racing its original).
        return shards.get(shard).call(e -> {
            CompletableFuture<CommitResult> result = e.commit(request);
            if (duplicate) {
                e.commit(request);
            }
            return result;
        }, true);
    }

    @Override
    public CompletableFuture<Void> watch(int shard, byte[] key, ReadStamp stamp) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("no watches in the simulation"));
    }

    @Override
    public void close() {
        stop();
    }
}
