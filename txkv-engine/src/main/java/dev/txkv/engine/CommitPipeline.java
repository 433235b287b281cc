package dev.txkv.engine;

import dev.txkv.ErrorCode;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.spi.AtomicOps;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Environment;
import dev.txkv.spi.Mutation;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commit path: batcher, resolver and sequencer on one thread, then the commit log.
 *
 * <p>Implementation notes. Commits wait in a bounded queue (full: proxy_memory_limit_exceeded,
 * retryable). The resolve thread takes everything waiting, up to the batch limits, as one
 * batch: each transaction is checked against the resolver in arrival order (earlier
 * transactions of the same batch count), the survivors share one new commit version and get
 * consecutive batch orders (the versionstamp's last two bytes). The batch then goes to the
 * {@link CommitLog}, which makes it durable (one fsync for the whole batch: group commit) and
 * applies it; while it does, this thread already resolves the next batch. Only after the log
 * says the batch is durable and applied are its commits acknowledged: a read version never
 * exposes an undurable commit, and every acknowledged commit is visible to later read versions.
 * If the log cannot tell, the batch's commits get commit_unknown_result.
 */
final class CommitPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(CommitPipeline.class);
    // A sweep visits every boundary of the window; once a second keeps that near two visits per write.
    private static final long FORGET_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

    static final class Pending {
        final CommitRequest request;
        final CompletableFuture<CommitResult> future = new CompletableFuture<>();
        final long bytes;
        CommitResult result;
        TxkvException error;
        /** A retry answered with an earlier commit's outcome (same idempotency id), not committed itself. */
        boolean repeat;

        /** The sentinel that wakes the resolve thread for control work. */
        private Pending() {
            this.request = null;
            this.bytes = 0;
        }

        Pending(CommitRequest request) {
            this.request = request;
            long b = 0;
            for (Mutation m : request.mutations()) {
                b += m.sizeBytes();
            }
            this.bytes = b;
        }
    }


    /** Whether this member takes commits now, and the error when it does not. */
    interface Gate {
        boolean acceptingCommits();

        TxkvException notLeader();
    }

    /** Hands out commit versions (see {@link VersionAuthority}). */
    interface Sequencer {
        /** The version of a new batch, above {@code lastVersion} and every version handed out. */
        long beginBatch(long lastVersion);

        /** The batch at {@code version} committed nothing or failed. */
        void abandonBatch(long version);

        /** The version that corresponds to now. */
        long now();
    }

    /** Wakes the resolve thread when control work arrives; never resolved. */
    private static final Pending WAKE = new Pending();
    private final java.util.concurrent.atomic.AtomicBoolean wakePending = new java.util.concurrent.atomic.AtomicBoolean();

    private final Sequencer sequencer;
    private final Gate gate;
    /** Work for the resolve thread other than commits (sharded engines: prepares, grants, notes). */
    private final java.util.concurrent.ConcurrentLinkedQueue<Runnable> control =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Null unless this engine is one shard of a sharded cluster. */
    private ShardSlots slots;
    private final LongFunction<Resolver> resolvers;
    /** Replaced when this member starts leading a new term: it knows no earlier writes. */
    private Resolver resolver;
    private volatile long newTermVersion = -1;
    private final IdempotencyTable idempotency;
    private final ArrayBlockingQueue<Pending> queue;
    private CommitLog log;
    /** Resolve thread only: completes when every batch appended so far is durable. */
    private CompletableFuture<Void> lastAppend = CompletableFuture.completedFuture(null);
    private final Executor completions;
    private final int batchBytesMax;
    private final int batchTransactionsMax;
    private final long windowVersions;
    private final EngineStats stats;
    private final Environment env;
    /** Called with the oldest version a read may still use, about once a second. */
    private final LongConsumer forgetUpTo;
    private final Thread resolveThread;
    private volatile boolean stopping;
    private long lastVersion;
    private long lastForgetNanos;
    /**
     * An append of own commits failed with an unknown outcome (any thread sets it): the pipeline
     * appends an empty batch after it ({@link #maybeProbe}), whose apply tells whether the
     * failed one is in the log (then it applied first) or never will be. Until then its slot
     * holds reads back and its commits' outcomes stay known to retries with their ids.
     */
    private volatile boolean probeWanted;
    private volatile long nextProbeNanos;
    /**
     * How long after a failed append the probe goes out, and the least time between two (the
     * log may keep failing them): long enough for the commits that follow at once to settle the
     * slot themselves, short enough that reads on an idle shard wait little.
     */
    private static final long PROBE_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    /** Asks for a probe ({@link #probeWanted}) no sooner than {@link #PROBE_EVERY_NANOS} from now (any thread). */
    private void wantProbe() {
        nextProbeNanos = env.nanoTime() + PROBE_EVERY_NANOS;
        probeWanted = true;
    }
    private Pending carried;

    CommitPipeline(TxkvConfig config, Sequencer sequencer, Gate gate, LongFunction<Resolver> resolvers,
            IdempotencyTable idempotency, long lastVersion, Executor completions, EngineStats stats, Environment env,
            LongConsumer forgetUpTo) {
        this.sequencer = sequencer;
        this.gate = gate;
        this.resolvers = resolvers;
        this.resolver = resolvers.apply(lastVersion);
        this.idempotency = idempotency;
        this.lastVersion = lastVersion;
        this.completions = completions;
        this.stats = stats;
        this.env = env;
        this.forgetUpTo = forgetUpTo;
        this.lastForgetNanos = env.nanoTime();
        this.queue = new ArrayBlockingQueue<>(config.commitQueueMax());
        this.batchBytesMax = config.batchBytesMax();
        this.batchTransactionsMax = config.batchTransactionsMax();
        this.windowVersions = VersionClock.msToVersions(config.mvccWindowMs());
        this.resolveThread = new Thread(this::resolveLoop, "txkv-resolve");
        resolveThread.setDaemon(true);
    }

    /** Sets the log before {@link #start()}; the engine creates the log after the pipeline. */
    void useLog(CommitLog commitLog) {
        this.log = commitLog;
    }

    void start() {
        resolveThread.start();
    }

    /** Makes this pipeline one shard's (before {@link #start()}): its versions come from the cluster's sequencer. */
    void useShard(ShardSlots shardSlots) {
        this.slots = shardSlots;
    }

    /** Runs {@code work} on the resolve thread, soon. */
    void onResolveThread(Runnable work) {
        control.add(work);
        // A resolve thread that holds a commit while its shard's batch awaits a grant waits
        // parked, not in the queue: wake it too.
        java.util.concurrent.locks.LockSupport.unpark(resolveThread);
        // One wake-up in the queue at a time, so that control work never takes commits' places.
        if (wakePending.compareAndSet(false, true) && !queue.offer(WAKE)) {
            wakePending.set(false);
        }
    }

    /** The next queued commit, passing over the wake-up; null if none. */
    private Pending pollCommit() {
        Pending p = queue.poll();
        if (p == WAKE) {
            wakePending.set(false);
            p = queue.poll();
        }
        return p;
    }

    /** The resolver: the resolve thread's only. */
    Resolver resolver() {
        return resolver;
    }

    /** Appends a record that takes no slot (two-phase bookkeeping); resolve thread only. */
    CompletableFuture<Void> appendRecord(CommittedBatch record) {
        CompletableFuture<Void> durable = log.append(record);
        lastAppend = durable;
        return durable;
    }

    /** Why no commit can be taken now (the log failed, or this member does not lead), or null. */
    TxkvException refusal() {
        if (log == null) {
            return new TxkvException(ErrorCode.NOT_LEADER, "This member is still starting");
        }
        TxkvException failed = log.failure();
        if (failed != null) {
            return failed;
        }
        return gate.acceptingCommits() ? null : gate.notLeader();
    }

    /** For an engine whose start failed after the pipeline was made: nothing to stop. */
    void stopUnstarted() {
        stopping = true;
    }

    CompletableFuture<CommitResult> submit(CommitRequest request) {
        if (stopping) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.DATABASE_CLOSED));
        }
        TxkvException failed = log.failure();
        if (failed != null) {
            return CompletableFuture.failedFuture(failed);
        }
        if (!gate.acceptingCommits()) {
            return CompletableFuture.failedFuture(gate.notLeader());
        }
        Pending p = new Pending(request);
        if (!queue.offer(p)) {
            stats.commitsRejected.increment();
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.PROXY_MEMORY_LIMIT_EXCEEDED,
                    "Commit queue is full (" + queue.size() + " waiting); retry later"));
        }
        if (stopping && queue.remove(p)) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.DATABASE_CLOSED));
        }
        return p.future;
    }

    /**
     * This member leads a new term from {@code version}, the newest version it has applied:
     * the resolver starts empty with its horizon there, so transactions that read earlier get
     * transaction_too_old instead of being checked against writes this member never saw.
     */
    void newTerm(long version) {
        newTermVersion = version;
    }

    /**
     * Takes up a new term that began since the last step, now (resolve thread): for control work
     * that depends on the term's state, which runs before the step would take it up.
     */
    void catchUpTerm() {
        applyNewTerm();
    }

    private void applyNewTerm() {
        long version = newTermVersion;
        if (version >= 0) {
            newTermVersion = -1;
            if (slots != null) {
                version = Math.max(version, slots.newTerm());
            }
            resolver = resolvers.apply(version);
            idempotency.newTerm();
            // A new term starts from everything its log committed: nothing of an earlier term is in doubt.
            probeWanted = false;
            lastVersion = Math.max(lastVersion, version);
            lastAppend = CompletableFuture.completedFuture(null);
        }
    }

    int queueDepth() {
        return queue.size();
    }

    /** Stops taking commits, finishes those already queued, and waits for them to be answered. */
    void stop(long waitMs) throws InterruptedException {
        stopping = true;
        if (resolveThread.isAlive()) {
            resolveThread.join(waitMs);
        } else {
            // Stepped by hand (or never started): answer what is still queued.
            while (step()) {
                // each step resolves one batch
            }
            Pending p;
            while ((p = queue.poll()) != null) {
                p.future.completeExceptionally(new TxkvException(ErrorCode.DATABASE_CLOSED));
            }
        }
        try {
            lastAppend.get(waitMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // Those commits were answered with their error; nothing more to wait for.
        }
    }

    // ------------------------------------------------------------------ resolve thread

    private void resolveLoop() {
        try {
            while (!stopping || !queue.isEmpty() || carried != null || !control.isEmpty()) {
                try {
                    if (slots != null || !control.isEmpty()) {
                        if (!step()) {
                            if (carried == null) {
                                carried = queue.poll(slots != null ? 5 : 100, TimeUnit.MILLISECONDS);
                            } else {
                                // A commit is held while the shard's own batch awaits its grant:
                                // wait for the grant (onResolveThread unparks), never spin.
                                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                            }
                        }
                        continue;
                    }
                    Pending first = carried != null ? carried : queue.poll(probeWanted ? 20 : 100, TimeUnit.MILLISECONDS);
                    carried = null;
                    if (first == null) {
                        maybeForget();
                        maybeProbe();
                        continue;
                    }
                    runBatch(first);
                } catch (InterruptedException e) {
                    if (!stopping) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        } finally {
            Pending p;
            while ((p = queue.poll()) != null) {
                p.future.completeExceptionally(new TxkvException(ErrorCode.DATABASE_CLOSED));
            }
        }
    }

    /**
     * One turn of the pipeline without waiting, for an engine run by hand (a simulation):
     * resolves what is queued, up to the batch limits, as one batch. Returns whether there was
     * anything to resolve.
     */
    boolean step() {
        boolean did = false;
        Runnable work;
        while ((work = control.poll()) != null) {
            work.run();
            did = true;
        }
        if (slots != null) {
            applyNewTerm();
            did |= slots.runParked();
            slots.tick();
            if (slots.holdsOwnBatch()) {
                maybeForget();
                return did;
            }
        }
        Pending first = carried;
        carried = null;
        if (first == WAKE) {
            wakePending.set(false);
            first = null;
            did = true;
        }
        if (first == null) {
            first = pollCommit();
        }
        if (first == null) {
            maybeForget();
            return maybeProbe() || did;
        }
        runBatch(first);
        return true;
    }

    /** A probe's slot was refused before its append (resolve thread): probe again. */
    void probeAgain() {
        wantProbe();
    }

    /**
     * Appends an empty batch at a new version if an append failed with an unknown outcome
     * ({@link #probeWanted}) and this member may take commits (resolve thread). Returns whether it did.
     */
    private boolean maybeProbe() {
        long now = env.nanoTime();
        if (!probeWanted || now - nextProbeNanos < 0 || log.failure() != null || !gate.acceptingCommits()) {
            return false;
        }
        probeWanted = false;
        applyNewTerm();
        if (slots != null) {
            slots.requestGrant(new ArrayList<>());
        } else {
            resolveBatch(new ArrayList<>(), sequencer.beginBatch(lastVersion));
        }
        return true;
    }

    /** Gathers a batch starting with {@code first}, resolves it and hands it to the log. */
    private void runBatch(Pending first) {
        if (first == WAKE) {
            wakePending.set(false);
            return;
        }
        List<Pending> batch = new ArrayList<>();
        gather(first, batch);
        try {
            TxkvException failed = log.failure();
            if (failed != null) {
                failAll(batch, failed);
                return;
            }
            applyNewTerm();
            if (!gate.acceptingCommits()) {
                failAll(batch, gate.notLeader());
                return;
            }
            if (slots != null) {
                slots.requestGrant(batch);
            } else {
                resolveBatch(batch, sequencer.beginBatch(lastVersion));
            }
        } catch (RuntimeException | Error e) {
            LOG.error("Resolving a batch of {} commits failed", batch.size(), e);
            failAll(batch, new TxkvException(ErrorCode.INTERNAL_ERROR, "Resolving failed: " + e, e));
        }
    }

    /** Fills {@code batch} with {@code first} and the commits waiting after it, up to the batch limits. */
    private void gather(Pending first, List<Pending> batch) {
        batch.add(first);
        long bytes = first.bytes;
        while (batch.size() < batchTransactionsMax) {
            Pending next = pollCommit();
            if (next == null) {
                break;
            }
            if (bytes + next.bytes > batchBytesMax) {
                carried = next;
                break;
            }
            batch.add(next);
            bytes += next.bytes;
        }
    }

    /** Resolves {@code batch} at {@code version} and hands what commits to the log (resolve thread). */
    void resolveBatch(List<Pending> batch, long version) {
        long nowMs = env.currentTimeMillis();
        int order = 0;
        List<CommittedBatch.Transaction> committed = new ArrayList<>(batch.size());
        List<Pending> rejected = new ArrayList<>();
        for (Pending p : batch) {
            CommitRequest r = p.request;
            if (r.idempotencyId() != null) {
                CommitResult earlier = idempotency.lookup(r.idempotencyId());
                if (earlier != null) {
                    // Answered with this batch, so only once the earlier commit is durable
                    // (its batch comes first in the log), and only if it was not refused since.
                    p.result = earlier;
                    p.repeat = true;
                    continue;
                }
            }
            TxkvException error = slots != null ? slots.outsideOwned(r) : null;
            if (error == null) {
                error = resolve(r, version);
            }
            if (error != null) {
                p.error = error;
                rejected.add(p);
                continue;
            }
            CommitResult result = new CommitResult(version, order++);
            for (Mutation m : r.mutations()) {
                if (m.type() == MutationType.SET_VERSIONSTAMPED_KEY.code()) {
                    byte[] key = AtomicOps.placeVersionstamp(m.key(), result.versionstamp());
                    resolver.addWrite(key, dev.txkv.ByteArrays.keyAfter(key), version);
                }
            }
            for (Range w : r.writeConflicts()) {
                resolver.addWrite(w.begin, w.end, version);
            }
            if (r.idempotencyId() != null) {
                idempotency.entry(r.idempotencyId(), result, nowMs);
            }
            p.result = result;
            committed.add(new CommittedBatch.Transaction(result.batchOrder(), r.idempotencyId(), r.mutations()));
        }
        // Conflicts need no durability: answer them at once.
        complete(rejected);
        batch.removeAll(rejected);
        CompletableFuture<Void> durable;
        boolean probe = batch.isEmpty();
        if (committed.isEmpty() && !probe) {
            sequencer.abandonBatch(version);
            // Only earlier outcomes (idempotency ids) to report: once every earlier batch is durable.
            durable = lastAppend;
        } else {
            lastVersion = version;
            if (slots != null) {
                slots.taken(version);
            }
            durable = log.append(new CommittedBatch(version, nowMs, committed));
            lastAppend = durable;
        }
        if (probe) {
            durable.whenComplete((v, error) -> {
                if (error != null) {
                    sequencer.abandonBatch(version);
                    if (slots != null) {
                        slots.appendFailed(version, error);
                    }
                    wantProbe();
                }
            });
        }
        if (!batch.isEmpty()) {
            List<Pending> answered = List.copyOf(batch);
            durable.whenComplete((v, error) -> {
                if (error == null) {
                    for (Pending p : answered) {
                        if (p.repeat && !idempotency.stillKnown(p.request.idempotencyId(), p.result)) {
                            p.error = new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT, "The earlier attempt of this"
                                    + " commit (same idempotency id) has not applied (its append failed, or it is still"
                                    + " on its way); retry");
                        }
                    }
                    complete(answered);
                    return;
                }
                sequencer.abandonBatch(version);
                // A batch the log refused never applies anywhere: its commits certainly did not
                // happen (the client may send them again). Any other failure leaves them unknown.
                CommitLog.Refused refused = CommitLog.refusal(error);
                // (A batch of repeats only waited on the previous append: its refusal is not theirs.)
                boolean ownRefusal = refused != null && !committed.isEmpty();
                if (ownRefusal) {
                    idempotency.refused(committed, version);
                } else if (!committed.isEmpty()) {
                    wantProbe();
                    if (slots == null) {
                        // The resolve thread may be waiting for a commit: it probes within 20 ms.
                        onResolveThread(() -> { });
                    }
                }
                if (slots != null) {
                    slots.appendFailed(version, error);
                }
                TxkvException unknown = new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                        "The commit's outcome is unknown: " + error.getMessage(), error);
                for (Pending p : answered) {
                    p.future.completeExceptionally(ownRefusal && !p.repeat ? refused : unknown);
                }
            });
        }
        maybeForget();
    }

    /** Null if the commit may proceed; otherwise why not. */
    TxkvException resolve(CommitRequest r, long version) {
        if (r.readConflicts().isEmpty()) {
            return null;
        }
        long rv = r.readVersion();
        if (rv >= version) {
            // Every read version handed out is below this batch; a larger one was not ours
            // (set by hand, or from before a restart with a clock that went back).
            return new TxkvException(ErrorCode.FUTURE_VERSION, "Read version " + rv + " was never handed out");
        }
        if (rv < resolver.horizon() || rv < version - windowVersions) {
            stats.tooOld.increment();
            return new TxkvException(ErrorCode.TRANSACTION_TOO_OLD,
                    "Read version " + rv + " is older than the conflict window");
        }
        List<Range> conflicts = resolver.conflicts(r.readConflicts(), rv, r.reportConflictingKeys());
        if (conflicts == null) {
            return null;
        }
        stats.conflicts.increment();
        return new TxkvException(ErrorCode.NOT_COMMITTED,
                "A transaction that committed after read version " + rv + " wrote a range this one read", null,
                r.reportConflictingKeys() ? conflicts : List.of());
    }

    private void maybeForget() {
        long now = env.nanoTime();
        if (now - lastForgetNanos < FORGET_EVERY_NANOS) {
            return;
        }
        lastForgetNanos = now;
        long horizon = (slots != null ? slots.newestVersion() : sequencer.now()) - windowVersions;
        if (horizon > resolver.horizon()) {
            resolver.forgetUpTo(horizon);
        }
        forgetUpTo.accept(horizon);
    }

    // ------------------------------------------------------------------ both

    void complete(List<Pending> done) {
        if (done.isEmpty()) {
            return;
        }
        completions.execute(() -> {
            for (Pending p : done) {
                if (p.error != null) {
                    p.future.completeExceptionally(p.error);
                } else {
                    p.future.complete(p.result);
                }
            }
        });
    }

    static void failAll(List<Pending> batch, TxkvException error) {
        for (Pending p : batch) {
            p.future.completeExceptionally(error);
        }
    }
}
