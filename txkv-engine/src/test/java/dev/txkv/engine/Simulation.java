package dev.txkv.engine;

import dev.txkv.ByteArrays;
import dev.txkv.Database;
import dev.txkv.Transaction;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.client.ClientDatabase;
import dev.txkv.testkit.CheckResult;
import dev.txkv.testkit.History;
import dev.txkv.testkit.HistoryRecorder;
import dev.txkv.testkit.ListAppendChecker;
import dev.txkv.testkit.ListAppendWorkload;
import dev.txkv.testkit.MicroOp;
import dev.txkv.testkit.OpType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;

/**
 * One seeded, single-threaded run of the real commit path: clients (the real
 * {@link ClientDatabase} and its transactions, retry loop and automatic idempotency ids) run
 * Elle's list-append transactions against a {@link SimProcess} (the real engine over a
 * {@link SimLog}), which crashes and restarts at random moments while replies are lost and
 * commits duplicated. Afterwards every key is read and the history is checked for strict
 * serializability and lost acknowledged writes ({@link ListAppendChecker}). The engine's own
 * invariant checks stop a run the moment one breaks. Everything random comes from the seed.
 */
final class Simulation {
    private static final byte[] PREFIX = "sim/".getBytes(StandardCharsets.US_ASCII);
    /** Events per run at most: a run that does not finish by then is stuck. */
    private static final long EVENTS_MAX = 5_000_000;

    /** What a run does; the defaults are the default suite's. */
    static final class Options {
        int clients = 5;
        int transactionsPerClient = 30;
        int keys = 6;
        int crashesMax = 3;
        double lostReplyP = 0.03;
        double duplicateP = 0.05;
        SimLog.Bug bug = SimLog.Bug.NONE;
        LongFunction<Resolver> resolvers = Resolver::new;
        /** 0: one unsharded process; else a sharded cluster of this many shards (and a sequencer). */
        int shards;
        /** Online splits during a sharded run, at random moments and keys. */
        int splitsMax;
        /** Online merges of two adjacent shards during a sharded run, at random moments. */
        int mergesMax;
        ShardFault planted = ShardFault.NONE;

        Options sharded(int count) {
            this.shards = count;
            this.keys = 8;
            this.crashesMax = 10;
            this.splitsMax = 2;
            this.mergesMax = 2;
            return this;
        }

        Options merges(int max) {
            this.mergesMax = max;
            return this;
        }

        Options splits(int max) {
            this.splitsMax = max;
            return this;
        }

        Options planted(ShardFault fault) {
            this.planted = fault;
            return this;
        }

        Options crashes(int max) {
            this.crashesMax = max;
            return this;
        }

        Options bug(SimLog.Bug b) {
            this.bug = b;
            return this;
        }

        Options resolvers(LongFunction<Resolver> r) {
            this.resolvers = r;
            return this;
        }
    }

    /** How a run went. {@code failure} is an exception that stopped it (a broken invariant), else null. */
    record Result(long seed, History history, CheckResult check, String failure, int crashes, int lostReplies,
            int duplicates, int splits, int merges, long events, long ok, long info, long fail) {
        boolean valid() {
            return failure == null && check.valid();
        }

        String describe() {
            return "seed " + seed + ": " + (failure != null ? "stopped by " + failure : check.report(3)) + " [ops ok="
                    + ok + " info=" + info + " fail=" + fail + ", crashes=" + crashes + ", lost replies=" + lostReplies
                    + ", duplicated commits=" + duplicates + ", splits=" + splits + ", merges=" + merges + ", events=" + events + "]";
        }
    }

    private final long seed;
    private final Options options;
    private final SimEnvironment env;
    private final SimProcess process;
    private final SimShardCluster cluster;
    private final Database db;
    private final HistoryRecorder recorder;
    private long nextValue = 1;
    private int clientsDone;
    private boolean finished;
    private int crashesScheduled;
    /** Errors the clients' transactions met, by name, and the last message of each, for a failed run's report. */
    private final java.util.Map<String, Integer> retried = new java.util.TreeMap<>();
    private final java.util.Map<String, String> lastErrors = new java.util.TreeMap<>();

    private Simulation(long seed, Options options, Path dir) {
        this.seed = seed;
        this.options = options;
        this.env = new SimEnvironment(seed);
        if (options.shards > 0) {
            this.process = null;
            this.cluster = new SimShardCluster(env, dev.txkv.spi.ShardMap.evenSplit(options.shards), dir,
                    new SimShardCluster.Faults(options.lostReplyP / 2, options.duplicateP, options.planted));
            this.db = ClientDatabase.open(new dev.txkv.spi.ShardRouter(cluster), new TxkvConfig(), env);
        } else {
            this.cluster = null;
            this.process = new SimProcess(dir, new TxkvConfig().durable(false), env, options.bug, options.resolvers,
                    options.lostReplyP, options.duplicateP);
            this.db = ClientDatabase.open(process, new TxkvConfig(), env);
        }
        this.recorder = new HistoryRecorder(env::nanoTime, null);
    }

    /** Runs the simulation of {@code seed} with data in the empty directory {@code dir}. */
    static Result run(long seed, Options options, Path dir) {
        return new Simulation(seed, options, dir).run();
    }

    private Result run() {
        String failure = null;
        try {
            if (cluster != null) {
                cluster.start();
            } else {
                process.start();
            }
            for (int c = 0; c < options.clients; c++) {
                int client = c;
                env.schedule(() -> runClient(client, options.transactionsPerClient), env.delayNanos(0, 1_000),
                        TimeUnit.NANOSECONDS);
            }
            scheduleCrash();
            for (int i = 0; cluster != null && i < options.splitsMax; i++) {
                env.schedule(this::split, env.delayNanos(1_000, 60_000), TimeUnit.NANOSECONDS);
            }
            for (int i = 0; cluster != null && i < options.mergesMax; i++) {
                env.schedule(this::merge, env.delayNanos(1_000, 60_000), TimeUnit.NANOSECONDS);
            }
            while (!finished) {
                if (!env.runNext()) {
                    failure = "no events left before the run finished (a call was never answered)";
                    break;
                }
                if (env.eventsRun() > EVENTS_MAX) {
                    failure = "no progress within " + EVENTS_MAX + " events"
                            + (cluster != null ? " (" + cluster.describe() + ")" : "") + "; errors met " + retried
                            + ", last of each " + lastErrors;
                    break;
                }
            }
            if (failure == null && cluster != null) {
                failure = settle();
            }
        } catch (RuntimeException | Error e) {
            failure = e.toString();
        } finally {
            try {
                if (cluster != null) {
                    cluster.stop();
                } else {
                    process.stop();
                }
            } catch (RuntimeException | Error e) {
                failure = failure != null ? failure : "stopping: " + e;
            }
        }
        History history = recorder.history();
        CheckResult check = ListAppendChecker.check(history);
        int crashes = cluster != null ? cluster.sequencer.crashes + cluster.shards.stream().mapToInt(s -> s.crashes).sum()
                : process.crashes;
        int lost = cluster != null ? cluster.lostMessages : process.lostReplies;
        int duplicates = cluster != null ? cluster.duplicates : process.duplicates;
        int splits = cluster != null ? cluster.splits : 0;
        int merges = cluster != null ? cluster.merges : 0;
        return new Result(seed, history, check, failure, crashes, lost, duplicates, splits, merges, env.eventsRun(),
                history.count(OpType.OK), history.count(OpType.INFO), history.count(OpType.FAIL));
    }

    /**
     * After the run, with every process up again: within ten simulated seconds no shard may
     * hold an undecided slice, a deferred batch or a decision not yet forgotten. Null if none does.
     */
    private String settle() {
        long deadline = env.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String left = cluster.inDoubt();
        while (!left.isEmpty() && env.nanoTime() < deadline && env.runNext()) {
            left = cluster.inDoubt();
        }
        return left.isEmpty() ? null : "still in doubt 10 s after the run: " + left;
    }

    /** Merges a random shard with its right neighbour, unless a split or merge is under way (then a little later). */
    private void merge() {
        if (clientsDone < options.clients && !cluster.merge(env.rng().nextInt(1 << 20))) {
            env.schedule(this::merge, env.delayNanos(1_000, 20_000), TimeUnit.NANOSECONDS);
        }
    }

    /** Splits the shard of a random list's key at that key, unless the key already begins a shard. */
    private void split() {
        if (clientsDone < options.clients) {
            cluster.split(key(env.rng().nextInt(options.keys)));
        }
    }

    private void scheduleCrash() {
        if (crashesScheduled >= options.crashesMax) {
            return;
        }
        crashesScheduled++;
        env.schedule(() -> {
            if (clientsDone == options.clients) {
                return;
            }
            Runnable restart;
            if (cluster == null) {
                process.crash();
                restart = process::start;
            } else if (env.rng().nextInt(4) == 0) {
                cluster.sequencer.crash();
                restart = () -> { };
            } else {
                SimShardCluster.Shard shard = cluster.shards.get(env.rng().nextInt(cluster.shards.size()));
                shard.crash();
                restart = shard::start;
            }
            env.schedule(() -> {
                restart.run();
                scheduleCrash();
            }, env.delayNanos(500, 5_000), TimeUnit.NANOSECONDS);
        }, env.delayNanos(2_000, 40_000), TimeUnit.NANOSECONDS);
    }

    // ------------------------------------------------------------------ clients

    private List<MicroOp> plan() {
        int n = 1 + env.rng().nextInt(4);
        List<MicroOp> planned = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long key = env.rng().nextInt(options.keys);
            planned.add(env.rng().nextBoolean() ? MicroOp.append(key, nextValue++) : MicroOp.readListUnknown(key));
        }
        return planned;
    }

    private void runClient(int client, int remaining) {
        if (remaining == 0) {
            if (++clientsDone == options.clients) {
                finalRead();
            }
            return;
        }
        List<MicroOp> planned = plan();
        transact(client, planned, () -> env.schedule(() -> runClient(client, remaining - 1),
                env.delayNanos(0, 500), TimeUnit.NANOSECONDS));
    }

    /** Reads every key once the clients are done: appends nobody read are checked too. */
    private void finalRead() {
        List<MicroOp> planned = new ArrayList<>();
        for (long k = 0; k < options.keys; k++) {
            planned.add(MicroOp.readListUnknown(k));
        }
        finalPlan = planned;
        transact(options.clients, planned, () -> finished = true);
    }

    /** The final read's plan: a sharded run reads it as one range read across every shard, in a random direction. */
    private List<MicroOp> finalPlan;

    private CompletableFuture<Void> readAllAsOneRange(Transaction tr, List<MicroOp> observed) {
        boolean reverse = env.rng().nextBoolean();
        int limit = env.rng().nextBoolean() ? 0 : options.keys + 1;
        return tr.getRange(new byte[0], new byte[] {(byte) 0xff}, limit, reverse).asList().thenAccept(rows -> {
            java.util.Map<java.nio.ByteBuffer, byte[]> byKey = new java.util.HashMap<>();
            byte[] previous = null;
            for (dev.txkv.KeyValue kv : rows) {
                if (previous != null && ByteArrays.compareUnsigned(previous, kv.getKey()) * (reverse ? -1 : 1) >= 0) {
                    throw new IllegalStateException("a range read across shards returned keys out of order");
                }
                previous = kv.getKey();
                byKey.put(java.nio.ByteBuffer.wrap(kv.getKey()), kv.getValue());
            }
            for (long k = 0; k < options.keys; k++) {
                observed.add(MicroOp.readListUnknown(k)
                        .withList(ListAppendWorkload.decodeList(byKey.get(java.nio.ByteBuffer.wrap(key(k))))));
            }
        });
    }

    /** Per transaction: what it observed in its latest attempt, and whether an attempt may have committed. */
    private static final class Attempts {
        List<MicroOp> observed;
        boolean maybeCommitted;
    }

    /**
     * Runs one transaction with the client's own retry loop ({@code onError}), recording it as OK
     * with what its committing attempt read, FAIL when it certainly did not commit, INFO when it
     * may have. After an attempt whose commit outcome was unknown, a later attempt that succeeds
     * may be answered with the earlier commit's outcome (its idempotency id): its appends are
     * then known but not what the committing attempt read, so its reads are recorded unknown.
     */
    private void transact(int client, List<MicroOp> planned, Runnable then) {
        long id = recorder.invoke(client, planned);
        Transaction tr = db.createTransaction();
        Attempts attempts = new Attempts();
        attempt(tr, planned, attempts).whenComplete((ignored, error) -> {
            tr.close();
            if (error == null) {
                recorder.complete(id, OpType.OK, attempts.maybeCommitted ? unknownReads(planned) : attempts.observed, null);
            } else {
                recorder.complete(id, attempts.maybeCommitted ? OpType.INFO : OpType.FAIL, planned,
                        unwrap(error).toString());
            }
            then.run();
        });
    }

    private CompletableFuture<Void> attempt(Transaction tr, List<MicroOp> planned, Attempts attempts) {
        tr.options().setAutomaticIdempotency().setRetryLimit(200).setMaxRetryDelay(50);
        List<MicroOp> observed = new ArrayList<>(planned.size());
        CompletableFuture<Void> body = CompletableFuture.completedFuture(null);
        if (planned == finalPlan && cluster != null) {
            body = readAllAsOneRange(tr, observed);
        } else {
            for (MicroOp op : planned) {
                body = body.thenCompose(x -> step(tr, op, observed));
            }
        }
        CompletableFuture<Void> result = new CompletableFuture<>();
        body.thenCompose(x -> tr.commit()).whenComplete((ignored, error) -> {
            if (error == null) {
                attempts.observed = observed;
                result.complete(null);
                return;
            }
            Throwable e = unwrap(error);
            if (e instanceof TxkvException t && t.isMaybeCommitted()) {
                attempts.maybeCommitted = true;
            }
            if (e instanceof TxkvException t) {
                retried.merge(t.getError().errorName(), 1, Integer::sum);
                lastErrors.put(t.getError().errorName(), t.getMessage());
            }
            tr.onError(e).whenComplete((retry, retryError) -> {
                if (retryError != null) {
                    result.completeExceptionally(retryError);
                } else {
                    attempt(tr, planned, attempts).whenComplete((v, again) -> {
                        if (again != null) {
                            result.completeExceptionally(again);
                        } else {
                            result.complete(null);
                        }
                    });
                }
            });
        });
        return result;
    }

    private CompletableFuture<Void> step(Transaction tr, MicroOp op, List<MicroOp> observed) {
        byte[] key = key(op.key());
        return tr.get(key).thenAccept(current -> {
            if (op.kind() == MicroOp.Kind.APPEND) {
                byte[] base = current == null ? new byte[0] : current;
                tr.set(key, ByteArrays.concat(base, ListAppendWorkload.encodeElement(op.value())));
                observed.add(op);
            } else {
                observed.add(op.withList(ListAppendWorkload.decodeList(current)));
            }
        });
    }

    /**
     * The storage key of list {@code k}: sharded runs put a first byte in front that spreads
     * the lists evenly over the keyspace, so that transactions span shards.
     */
    private byte[] key(long k) {
        byte[] key = ListAppendWorkload.key(PREFIX, k);
        if (cluster == null) {
            return key;
        }
        return ByteArrays.concat(new byte[] {(byte) (k * 256 / options.keys)}, key);
    }

    private static List<MicroOp> unknownReads(List<MicroOp> planned) {
        List<MicroOp> out = new ArrayList<>(planned.size());
        for (MicroOp op : planned) {
            out.add(op.isRead() ? MicroOp.readListUnknown(op.key()) : op);
        }
        return out;
    }

    private static Throwable unwrap(Throwable e) {
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
