package dev.txkv.engine;

import dev.txkv.ByteArrays;
import dev.txkv.ErrorCode;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.spi.Backend;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Environment;
import dev.txkv.spi.RangeChunk;
import dev.txkv.spi.ShardMap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongFunction;
import java.util.function.Predicate;

/**
 * The engine: MVCC reads at a version and the commit path, over RocksDB, behind the
 * {@link Backend} interface. One per data directory per machine (the directory is locked).
 *
 * <p>It is assembled from roles, each in its own class: the {@link VersionAuthority} issues
 * read and commit versions, the {@link ViewTable} holds the views reads use, the
 * {@link CommitPipeline} batches, resolves and sequences commits, the {@link CommitLog} makes
 * batches durable and the {@link Applier} writes them to {@link Storage}. Embedded and
 * replicated engines differ only in the commit log they plug in: {@link LocalCommitLog}, or a
 * Raft log from txkv-replication. This class wires them and answers the log's calls
 * ({@link LogHost}).
 *
 * <p>A read version older than the MVCC window fails with transaction_too_old, measured with
 * the version clock, so an idle database still ages read versions as FoundationDB does.
 */
public final class Engine implements Backend {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Engine.class);

    /** How an engine is put together; production code uses {@link Engine#open} and keeps the defaults. */
    public static final class Builder {
        private final Path dir;
        private final TxkvConfig config;
        private CommitLog.Factory logs = LocalCommitLog::new;
        private Environment env = Environment.SYSTEM;
        private Executor completions;
        private boolean manualSteps;
        private LongFunction<Resolver> resolvers = Resolver::new;
        private ShardConfig shard;
        private ShardFault fault = ShardFault.NONE;
        private CrashPoints crashPoints = CrashPoints.NONE;

        private Builder(Path dir, TxkvConfig config) {
            this.dir = dir;
            this.config = config;
        }

        /** The commit log: {@link LocalCommitLog} unless another is given (a Raft log replicates). */
        public Builder log(CommitLog.Factory factory) {
            this.logs = factory;
            return this;
        }

        /** Time, randomness and delayed work; {@link Environment#SYSTEM} by default. */
        public Builder environment(Environment environment) {
            this.env = environment;
            return this;
        }

        /** Where commits and watches are answered; by default a pool of two threads the engine owns. */
        public Builder completions(Executor executor) {
            this.completions = executor;
            return this;
        }

        /**
         * No resolve thread: the caller runs the commit pipeline by calling
         * {@link Engine#stepPipeline()}, as a deterministic simulation does.
         */
        public Builder manualSteps() {
            this.manualSteps = true;
            return this;
        }

        /**
         * Makes the engine one shard of a sharded cluster (docs/sharding.md): its versions
         * come from the cluster's sequencer, and commits that reach other shards run two-phase.
         */
        public Builder shard(ShardConfig shardConfig) {
            this.shard = shardConfig;
            return this;
        }

        /**
         * Where a fault test may crash a shard on purpose (two-phase steps); {@link CrashPoints#NONE}
         * by default.
         */
        public Builder crashPoints(CrashPoints points) {
            this.crashPoints = points;
            return this;
        }

        /** Test hook: a planted bug in the sharded paths. */
        Builder plant(ShardFault planted) {
            this.fault = planted;
            return this;
        }

        /** Test hook: how resolvers are made (horizon to resolver), to plant a broken one. */
        Builder resolvers(LongFunction<Resolver> factory) {
            this.resolvers = factory;
            return this;
        }

        public Engine open() {
            return new Engine(this);
        }
    }

    private final TxkvConfig config;
    private final Environment env;
    private final DataDirectory directory;
    /** Replaced when a replica installs a snapshot; views keep the store they were taken from. */
    private volatile Storage storage;
    /** The keys this shard's reads and commits touch, for splits by load (shards only). */
    private final KeyLoad load = new KeyLoad();
    private final VersionClock clock;
    private final VersionAuthority versions;
    private final ViewTable views;
    private final Applier applier;
    private final CommitPipeline pipeline;
    private final CommitLog log;
    private final IdempotencyTable idempotency;
    private final ExecutorService ownedCompletions;
    private final Watches watches;
    private final EngineStats stats = new EngineStats();
    private final long windowVersions;
    private final Host host = new Host();
    /** Whether the log lets this member take commits now (always, once open, when embedded). */
    private volatile boolean leading;
    /** Left out of the committed membership (see {@link LogHost#membershipChanged}). */
    private volatile boolean removed;
    private volatile TxkvException failure;
    private volatile long failedLogIndex = -1;
    private final Object snapshotLock = new Object();
    private volatile boolean reloading;
    private volatile boolean closed;
    /** Sharded engines only (else null): the shard's configuration, two-phase state, slots and coordinator. */
    private final ShardConfig shard;
    private final ShardLedger ledger;
    private final ShardSlots slots;
    private final TwoPhaseCoordinator coordinator;
    private final boolean readBeforeResolved;
    /** A planted bug (tests only): a shard serves keys it no longer holds. */
    private final boolean acceptAnyKeys;
    /** How many terms of taking commits this engine has begun (each leadership counts). */
    private final java.util.concurrent.atomic.AtomicLong terms = new java.util.concurrent.atomic.AtomicLong();
    /** Sharded reads waiting for their shard to resolve every slot at or below their version. */
    private final java.util.List<ReadWaiter> readWaiters = new java.util.ArrayList<>();

    /** Opens the embedded engine in {@code dir}. */
    public static Engine open(Path dir, TxkvConfig config) {
        return builder(dir, config).open();
    }

    /** An engine in {@code dir} put together otherwise than by default (another commit log, a simulation). */
    public static Builder builder(Path dir, TxkvConfig config) {
        return new Builder(dir, config);
    }

    private Engine(Builder b) {
        this.config = b.config;
        this.env = b.env;
        this.windowVersions = VersionClock.msToVersions(config.mvccWindowMs());
        this.directory = DataDirectory.open(b.dir);
        try {
            this.storage = new Storage(directory.rocksDir(), !b.logs.durableByItself() && config.durable());
        } catch (RuntimeException e) {
            directory.close();
            throw e;
        }
        long lastVersion = storage.lastVersion();
        this.clock = new VersionClock(env, lastVersion);
        this.versions = new VersionAuthority(clock, lastVersion);
        this.views = new ViewTable(storage, lastVersion);
        if (b.completions != null) {
            this.ownedCompletions = null;
        } else {
            AtomicInteger threadNumber = new AtomicInteger();
            this.ownedCompletions = Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "txkv-completion-" + threadNumber.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
        Executor completions = b.completions != null ? b.completions : ownedCompletions;
        this.watches = new Watches(config.watchesMax(), completions);
        this.idempotency = new IdempotencyTable(storage);
        this.applier = new Applier(idempotency, stats, env, config.valueSizeMax(), storage);
        this.pipeline = new CommitPipeline(config, versions, new CommitPipeline.Gate() {
            @Override
            public boolean acceptingCommits() {
                return Engine.this.acceptingCommits();
            }

            @Override
            public TxkvException notLeader() {
                return new TxkvException(ErrorCode.NOT_LEADER, leaderHint());
            }
        }, b.resolvers, idempotency, lastVersion, completions, stats, env, views::releaseUpTo);
        this.shard = b.shard;
        this.readBeforeResolved = b.fault == ShardFault.READ_BEFORE_RESOLVED;
        this.acceptAnyKeys = b.fault == ShardFault.STALE_MAP_ACCEPTED;
        if (shard != null) {
            this.ledger = new ShardLedger(storage, applier, idempotency, env, this::recheckReads,
                    b.fault == ShardFault.APPLY_BEFORE_DECISION, shard.shardId(),
                    shard.splits().child() ? null : shard.shard(), this::copyFromParent, watches::fireRange);
            if (b.fault == ShardFault.DROP_FAILED_APPEND) {
                ledger.plantDropFailedAppends();
            }
            if (b.fault == ShardFault.KEEP_REFUSED_OUTCOMES) {
                idempotency.plantKeepRefused();
            }
            this.slots = new ShardSlots(pipeline, ledger, shard, env, this::recheckReads, b.crashPoints,
                    b.fault == ShardFault.STALE_MAP_ACCEPTED);
            if (b.fault == ShardFault.MERGED_AWAY_KEYS_ACCEPTED) {
                slots.plantMergedAwayKeysAccepted();
            }
            pipeline.useShard(slots);
            ledger.onRangeChange(slots::logRangeChanged);
            this.coordinator = new TwoPhaseCoordinator(shard, env, pipeline, ledger, idempotency,
                    b.fault == ShardFault.ACK_BEFORE_DECISION_DURABLE, b.crashPoints);
            slots.coordinating(coordinator::inFlight, coordinator::resendStalled);
            ledger.drainAtOpen(host::applyBatch);
        } else {
            this.ledger = null;
            this.slots = null;
            this.coordinator = null;
        }
        CommitLog opened;
        try {
            opened = b.logs.open(host);
        } catch (RuntimeException e) {
            pipeline.stopUnstarted();
            views.releaseAll();
            if (ownedCompletions != null) {
                ownedCompletions.shutdown();
            }
            closeStorage();
            throw e;
        }
        this.log = opened;
        pipeline.useLog(log);
        if (!b.manualSteps) {
            pipeline.start();
        }
    }

    /**
     * Runs the commit pipeline once, for an engine built with {@link Builder#manualSteps()}:
     * resolves what is queued as one batch and hands it to the log. Returns whether there was
     * anything to do.
     */
    public boolean stepPipeline() {
        return pipeline.step();
    }

    // ------------------------------------------------------------------ the log's calls

    /** The engine as its commit log sees it. */
    private final class Host implements LogHost {
        @Override
        public TxkvConfig config() {
            return config;
        }

        @Override
        public Environment environment() {
            return env;
        }

        @Override
        public void apply(CommittedBatch batch, long logIndex) {
            if (ledger != null) {
                ledger.apply(batch, logIndex, this::applyBatch);
            } else if (batch.kind() == CommittedBatch.Kind.BATCH) {
                applyBatch(batch, logIndex, null);
            } else {
                throw new TxkvException(ErrorCode.DATA_DIRECTORY_INVALID,
                        "A " + batch.kind() + " record in the log of an engine that is not a shard");
            }
        }

        /** Writes one batch, publishes its version and fires watches. */
        void applyBatch(CommittedBatch batch, long logIndex, Applier.Stage extra) {
            Storage s = storage;
            try (BatchWriter writer = applier.apply(s, batch, logIndex, extra)) {
                versions.publish(batch.version(), () -> views.add(batch.version(), s));
                watches.onBatch(writer.pointChanges(), writer.clearedRanges());
            }
        }

        @Override
        public long appliedLogIndex() {
            return applier.appliedLogIndex();
        }

        @Override
        public long appliedVersion() {
            return applier.appliedVersion();
        }

        @Override
        public void beginTerm(long versionsAhead) {
            versions.beginTerm(versionsAhead);
            pipeline.newTerm(versions.latest());
            terms.incrementAndGet();
            leading = true;
            if (coordinator != null) {
                coordinator.beginTerm();
            }
        }

        @Override
        public void endTerm() {
            leading = false;
            if (coordinator != null) {
                coordinator.endTerm();
            }
        }

        @Override
        public void membershipChanged(boolean member) {
            removed = !member;
            if (!member) {
                leading = false;
            }
        }

        @Override
        public TxkvException fail(long logIndex, Throwable e) {
            synchronized (this) {
                if (failure == null) {
                    String why = e instanceof TxkvException ? e.getMessage() : e.toString();
                    failure = new TxkvException(ErrorCode.PROCESS_BEHIND, "This member failed to apply log entry "
                            + logIndex + " (" + why + ") and serves nothing until it is rebuilt from the other members", e);
                    failedLogIndex = logIndex;
                    LOG.error("This member failed to apply log entry {}; it stops applying, serving and taking part "
                            + "in the replication group. The other members carry on. Rebuild it from them: "
                            + "docs/replication.md, \"Rebuild a failed member\"", logIndex, e);
                }
                leading = false;
                return failure;
            }
        }

        @Override
        public TxkvException failure() {
            return failure;
        }

        @Override
        public void syncStorage() {
            try {
                storage.db.flushWal(true);
            } catch (org.rocksdb.RocksDBException e) {
                throw Storage.ioError("WAL sync", e);
            }
        }

        @Override
        public void writeCheckpoint(Path target) {
            try (org.rocksdb.Checkpoint checkpoint = org.rocksdb.Checkpoint.create(storage.db)) {
                checkpoint.createCheckpoint(target.toString());
            } catch (org.rocksdb.RocksDBException e) {
                throw Storage.ioError("checkpoint", e);
            }
        }

        @Override
        public void installCheckpoint(Path checkpoint, Predicate<Path> isCheckpointFile) {
            loadCheckpoint(checkpoint, isCheckpointFile);
        }

        @Override
        public boolean closed() {
            return closed;
        }
    }

    private boolean acceptingCommits() {
        return leading && failure == null && !removed;
    }

    /** For not_leader errors: who leads now, if known. */
    private String leaderHint() {
        TxkvException failed = failure;
        if (failed != null) {
            return failed.getMessage() + "; connect to another member";
        }
        if (removed) {
            return "This server was removed from the cluster's membership; connect to a current member";
        }
        String leader = log.leaderId().orElse(null);
        return leader == null ? "This server does not lead the cluster; the leader is not known yet"
                : "This server does not lead the cluster; member " + leader + " does";
    }

    /**
     * The member id of the cluster's leader as this member knows it, for not_leader answers;
     * empty when not replicated, while no leader is known, or when this member failed or was
     * removed (its view of the group is then stale, as {@link #leaderHint()} says).
     */
    public Optional<String> leaderId() {
        if (failure != null || removed) {
            return Optional.empty();
        }
        return log.leaderId();
    }

    /**
     * Replaces storage with a snapshot's checkpoint (a replica that fell behind the leader's
     * purged log). Reads wait no longer than the views they hold; everything versioned starts
     * again from the snapshot's version, and outstanding watches fire (their keys may have
     * changed).
     */
    private void loadCheckpoint(Path checkpoint, Predicate<Path> isCheckpointFile) {
        synchronized (snapshotLock) {
            reloading = true;
            try {
                Storage old = storage;
                views.releaseAll();
                if (!views.awaitNoReaders(TimeUnit.SECONDS.toMillis(10))) {
                    throw new TxkvException(ErrorCode.IO_ERROR, "Reads did not finish before a snapshot install");
                }
                old.close();
                Path live = directory.rocksDir();
                Path previous = live.resolveSibling("rocksdb.previous");
                DataDirectory.deleteTree(previous);
                Files.move(live, previous);
                Files.createDirectories(live);
                try (java.util.stream.Stream<Path> files = Files.list(checkpoint)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        if (!isCheckpointFile.test(f)) {
                            continue;
                        }
                        Path to = live.resolve(f.getFileName().toString());
                        try {
                            Files.createLink(to, f);
                        } catch (IOException | UnsupportedOperationException e) {
                            Files.copy(f, to);
                        }
                    }
                }
                Storage fresh = new Storage(live, false);
                storage = fresh;
                DataDirectory.deleteTree(previous);
                idempotency.reload(fresh);
                applier.restarted(fresh);
                if (ledger != null) {
                    ledger.reload(fresh);
                }
                long version = fresh.lastVersion();
                versions.reset(version, () -> views.add(version, fresh));
                watches.fireAll();
            } catch (IOException e) {
                throw new TxkvException(ErrorCode.IO_ERROR, "Installing a snapshot failed: " + e, e);
            } finally {
                reloading = false;
            }
        }
    }

    /** Is this engine a member of a replicated cluster? */
    public boolean isReplicated() {
        return log.replication().isPresent();
    }

    /**
     * How many terms of taking commits this member has begun: a new value means it became
     * leader again (state built on an earlier term must be built anew).
     */
    public long terms() {
        return terms.get();
    }

    /** Whether this member leads its cluster and takes commits now (always true when embedded). */
    public boolean isLeading() {
        return acceptingCommits();
    }

    /**
     * What this member knows of its own health: whether it failed to apply the log (and why),
     * how long ago it last applied a commit batch, and how many strangers' requests its
     * replication port and log admission refused.
     */
    public ReplicaHealth health() {
        TxkvException failed = failure;
        Optional<Replication> r = log.replication();
        return new ReplicaHealth(failed == null ? null : failed.getMessage(), failed == null ? -1 : failedLogIndex,
                applier.millisSinceApply(), r.map(Replication::refusedCalls).orElse(0L),
                r.map(Replication::refusedEntries).orElse(0L));
    }

    /**
     * Replaces the cluster's membership (id -> Raft "host:port"); only the leader can. Add a
     * member by starting it with the new member list, then calling this on the leader with the
     * old members plus the new one; remove one by leaving it out. Raft's joint consensus keeps
     * a majority of both the old and the new membership during the change.
     */
    public CompletableFuture<Void> setMembers(Map<String, String> members) {
        Optional<Replication> r = log.replication();
        if (r.isEmpty()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                    "This database is not replicated"));
        }
        return r.get().setMembers(members);
    }

    /** Hands this group's leadership to member {@code to} ({@link Replication#transferLeadership}); only the leader can. */
    public CompletableFuture<Void> transferLeadership(String to) {
        Optional<Replication> r = log.replication();
        if (r.isEmpty()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                    "This database is not replicated"));
        }
        return r.get().transferLeadership(to);
    }

    /**
     * Writes a consistent copy of storage into the new directory {@code target} (a RocksDB
     * checkpoint: hard links where possible), from which another member's replica of this group
     * can start (it then catches up from the log past the copy's applied log index).
     */
    public void writeCheckpoint(Path target) {
        synchronized (snapshotLock) {
            if (closed) {
                throw new TxkvException(ErrorCode.OPERATION_FAILED, "This replica is closed");
            }
            host.writeCheckpoint(target);
        }
    }

    /**
     * This member's view of its replication group for status and metrics: role, term, leader,
     * log positions, members, followers' progress, the newest applied version and whether it
     * takes commits; empty when not replicated.
     */
    public Optional<ReplicationState> replicationState() {
        Optional<Replication> r = log.replication();
        if (r.isEmpty()) {
            return Optional.empty();
        }
        ReplicationState state = r.get().status();
        TxkvException failed = failure;
        if (failed != null) {
            state = state.failed(failed.getMessage(), r.get().configuredMembers());
        } else if (removed) {
            state = state.removed();
        }
        return Optional.of(state.withEngine(versions.latest(), acceptingCommits()));
    }

    // ------------------------------------------------------------------ reads

    private void checkOpen() {
        if (closed) {
            throw new TxkvException(ErrorCode.DATABASE_CLOSED);
        }
    }

    /** The view for reading at {@code readVersion}, retained; the caller releases it. */
    private VersionView acquire(long readVersion) {
        checkOpen();
        TxkvException failed = failure;
        if (failed != null) {
            throw failed;
        }
        // readableMax before latest: a batch at or below readableMax was published before
        // readableMax was set, so the latest view read afterwards includes it.
        long readable = versions.readableMax();
        VersionView newest = views.latest();
        if (readVersion >= newest.version && readVersion <= readable
                && readVersion >= clock.now() - windowVersions && newest.retain()) {
            // The common case: a fresh read version whose state is the newest batch's. No
            // later batch can land at or below it, since batches go above every read version.
            return newest;
        }
        if (reloading) {
            throw new TxkvException(ErrorCode.PROCESS_BEHIND, "This replica is installing a snapshot; retry");
        }
        if (readVersion > views.latest().version && readVersion > versions.readableVersion(false)) {
            if (!leading) {
                confirmReadableOnFollower(readVersion);
            } else {
                awaitVersion(readVersion);
            }
        }
        if (readVersion < clock.now() - windowVersions) {
            throw new TxkvException(ErrorCode.TRANSACTION_TOO_OLD,
                    "Read version " + readVersion + " is older than the " + config.mvccWindowMs() + " ms MVCC window");
        }
        return views.retainAt(readVersion, this::checkOpen);
    }

    /**
     * A member that does not lead was asked to read at a version it has not seen: a read
     * version comes from the leader, which hands out only versions whose batches were
     * committed before it answered. The log's read barrier started now therefore makes this
     * member apply every batch at or below the version, after which it may serve reads there.
     * A version far ahead of the clock was never handed out: future_version.
     */
    private void confirmReadableOnFollower(long readVersion) {
        if (readVersion > clock.now() + windowVersions) {
            throw new TxkvException(ErrorCode.FUTURE_VERSION, "Read version " + readVersion + " is in the future");
        }
        try {
            log.readBarrier().get(config.futureVersionWaitMs(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new TxkvException(ErrorCode.FUTURE_VERSION, "Could not catch up to read version " + readVersion);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new TxkvException(ErrorCode.PROCESS_BEHIND, "Could not confirm the cluster state: " + e.getCause(),
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TxkvException(ErrorCode.TRANSACTION_CANCELLED, "Interrupted while catching up");
        }
        versions.confirmReadable(readVersion);
    }

    /**
     * Waits, up to the future-version wait of real time, for {@code readVersion} to be
     * published or readable. (Real time: the caller's thread really waits.)
     */
    private void awaitVersion(long readVersion) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.futureVersionWaitMs());
        while (views.latest().version < readVersion && versions.readableVersion(false) < readVersion) {
            checkOpen();
            long left = deadline - System.nanoTime();
            if (left <= 0 || readVersion > clock.now() + windowVersions) {
                throw new TxkvException(ErrorCode.FUTURE_VERSION, "Read version " + readVersion
                        + " is newer than the newest committed version " + views.latest().version);
            }
            try {
                versions.awaitPublish(Math.min(left, TimeUnit.MILLISECONDS.toNanos(5)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TxkvException(ErrorCode.TRANSACTION_CANCELLED, "Interrupted while waiting for a version");
            }
        }
    }

    @Override
    public CompletableFuture<Long> getReadVersion() {
        if (shard != null) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                    "A shard hands out no read versions: the cluster's sequencer does"));
        }
        if (closed) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.DATABASE_CLOSED));
        }
        if (!acceptingCommits()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.NOT_LEADER, leaderHint()));
        }
        // A replicated leader confirms with a majority that it still leads before the version
        // is handed out, so a deposed leader cannot hand out a stale one.
        return log.readBarrier().thenApply(confirmed -> {
            if (!acceptingCommits()) {
                throw new TxkvException(ErrorCode.NOT_LEADER, leaderHint());
            }
            return versions.readableVersion(true);
        });
    }

    @Override
    public CompletableFuture<byte[]> get(byte[] key, long readVersion) {
        if (shard != null) {
            return CompletableFuture.failedFuture(stampNeeded());
        }
        try {
            VersionView view = acquire(readVersion);
            try {
                stats.reads.increment();
                return CompletableFuture.completedFuture(view.storage.get(view, key));
            } finally {
                view.release();
            }
        } catch (TxkvException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<RangeChunk> getRange(byte[] begin, byte[] end, int rowLimit, long byteLimit,
            boolean reverse, long readVersion) {
        if (rowLimit <= 0 || byteLimit <= 0) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.RANGE_LIMITS_INVALID,
                    "Row and byte limits must be positive"));
        }
        if (shard != null) {
            return CompletableFuture.failedFuture(stampNeeded());
        }
        try {
            VersionView view = acquire(readVersion);
            try {
                stats.reads.increment();
                return CompletableFuture.completedFuture(view.storage.getRange(view, begin, end, rowLimit, byteLimit, reverse));
            } finally {
                view.release();
            }
        } catch (TxkvException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<CommitResult> commit(CommitRequest request) {
        if (shard == null) {
            return pipeline.submit(request);
        }
        if (ledger.owned() == null) {
            return CompletableFuture.failedFuture(slots.wrongShard());
        }
        ShardMap map = shard.latestMap();
        int[] participants;
        try {
            participants = map.participants(request);
        } catch (TxkvException e) {
            return CompletableFuture.failedFuture(e);
        }
        int self = shard.shardId();
        if (participants.length == 1 && participants[0] == self) {
            noteLoad(request);
            return pipeline.submit(request);
        }
        if (participants.length == 0) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                    "A commit with no mutations and no conflict ranges needs no server"));
        }
        boolean participant = java.util.Arrays.stream(participants).anyMatch(p -> p == self);
        if (!participant && request.idempotencyId() == null) {
            // Only a retry with an idempotency id is sent to a shard it does not touch: the
            // shard that coordinated its first attempt, which remembers that attempt's outcome.
            return CompletableFuture.failedFuture(slots.wrongShard());
        }
        return coordinator.commit(request, participants, map);
    }

    // ------------------------------------------------------------------ splits

    /**
     * Splits this shard at {@code key} (leader only): from a version the sequencer grants, the
     * keys from {@code key} on belong to shard {@code child}, and this shard refuses them with
     * wrong_shard_server. Completes with that version once the split is durable; asked again for
     * the same split, answers the version it already has.
     *
     * @throws TxkvException (in the future) invalid_option_value if {@code key} is not inside this
     *     shard's keys (or is its first key), not_leader if this member does not lead
     */
    public CompletableFuture<Long> splitOff(byte[] key, int child) {
        if (shard == null) {
            return notAShard();
        }
        CompletableFuture<Long> done = new CompletableFuture<>();
        pipeline.onResolveThread(() -> slots.splitOff(key, child, done));
        return done;
    }

    /**
     * Gives this new shard its keys [begin, end) as shard {@code parent} holds them from its split
     * at {@code version} on (leader only): every replica copies them from its parent's replica on
     * the same member. Completes once the record is durable; again for the same birth, at once.
     */
    public CompletableFuture<Void> born(int parent, long version, byte[] begin, byte[] end) {
        if (shard == null) {
            return notAShard();
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        pipeline.onResolveThread(() -> slots.born(parent, version, begin, end, done));
        return done;
    }

    /**
     * Gives all this shard's keys to shard {@code into}, its left neighbour, which absorbs them
     * (leader only): from a version the sequencer grants, this shard refuses every key with
     * wrong_shard_server. Completes with that version (the fence) once it is durable; asked
     * again, answers the same version.
     */
    public CompletableFuture<Long> mergeAway(int into) {
        if (shard == null) {
            return notAShard();
        }
        CompletableFuture<Long> done = new CompletableFuture<>();
        pipeline.onResolveThread(() -> slots.mergeAway(into, done));
        return done;
    }

    /**
     * Takes [begin, end), the keys of shard {@code other}, which gave them all away at
     * {@code fence} (leader only), at a version the sequencer grants: every replica copies them
     * from its replica of {@code other} on the same member once that one has every slot up to
     * the fence. Reads and conflict checks below the absorb's version are too old here from then
     * on. Completes with that version once the record is durable (-1 if asked again after it
     * applied).
     *
     * @throws TxkvException (in the future) operation_failed if this shard's keys do not end at
     *     {@code begin}; not_leader if this member does not lead
     */
    public CompletableFuture<Long> absorb(int other, long fence, byte[] begin, byte[] end) {
        if (shard == null) {
            return notAShard();
        }
        CompletableFuture<Long> done = new CompletableFuture<>();
        pipeline.onResolveThread(() -> slots.absorb(other, fence, begin, end, done));
        return done;
    }

    /**
     * Whether this replica has every slot up to {@code version} and resolved each: a shard split
     * at that version can give its new shard the keys (they no longer change here).
     */
    public boolean settledThrough(long version) {
        return ledger != null && ledger.settledThrough(version);
    }

    /** The keys this shard holds by its log; empty if not a shard, or a new shard not yet born. */
    public Optional<ShardMap.Shard> ownedKeys() {
        return ledger == null ? Optional.empty() : Optional.ofNullable(ledger.owned());
    }

    /**
     * The newest view, retained (the caller releases it), which holds its store open: asked
     * again while a newer view replaces it (a snapshot install swaps the store).
     *
     * @throws TxkvException database_closed once the engine is closed (or no store opens in 5 s)
     */
    private VersionView retainLatestView() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            VersionView view = views.retainLatest();
            if (view != null) {
                return view;
            }
            checkOpen();
            if (System.nanoTime() - deadline > 0) {
                throw new TxkvException(ErrorCode.DATABASE_CLOSED, "No open store to read (closing)");
            }
            Thread.onSpinWait();
        }
    }

    /**
     * The storage engine's estimate of the bytes of the keys this shard holds (in its files and
     * memtables; keys a split gave away are not counted); -1 if not a shard, or not yet born.
     */
    public long ownedBytesEstimate() {
        ShardMap.Shard owned = ledger == null ? null : ledger.owned();
        if (owned == null) {
            return -1;
        }
        VersionView view = retainLatestView();
        try {
            return view.storage.approximateSizeBytes(owned.begin(), owned.end());
        } finally {
            view.release();
        }
    }

    /**
     * Where this shard would split to halve its bytes: the first of its keys (below 0xFF) at
     * which the key and value bytes before it reach half, after its first key. Empty if not a
     * shard, not yet born, or holding fewer than two keys. Reads every key the shard holds.
     */
    public Optional<byte[]> splitPointBySize() {
        ShardMap.Shard owned = ledger == null ? null : ledger.owned();
        if (owned == null) {
            return Optional.empty();
        }
        VersionView view = retainLatestView();
        try {
            return view.storage.middleKey(owned.begin(), owned.end());
        } finally {
            view.release();
        }
    }

    private void noteLoad(CommitRequest request) {
        for (dev.txkv.spi.Mutation m : request.mutations()) {
            load.note(m.key());
        }
    }

    /**
     * This shard's load since the last call (on its leader: the reads and commits it served),
     * with the sampled key that would split it in two equal loads; empty if not a shard, or
     * not yet born.
     */
    public Optional<ShardLoad> takeLoad() {
        ShardMap.Shard owned = ledger == null ? null : ledger.owned();
        return owned == null ? Optional.empty() : Optional.of(load.take(owned.begin(), owned.end()));
    }

    /**
     * A new shard's birth, or an absorb: its keys from the replica of shard {@code parent} (the
     * parent, or the absorbed shard) on this member (the log's apply thread).
     */
    private void copyFromParent(int parent, long version, byte[] begin, byte[] end, Storage into, boolean outcomes) {
        Engine p = shard.splits().localReplica().apply(parent);
        if (p == null || p.ledger == null) {
            throw new TxkvException(ErrorCode.INTERNAL_ERROR, "Shard " + shard.shardId() + " takes keys from shard " + parent
                    + ", of which this member keeps no replica");
        }
        p.copyKeysTo(version, begin, end, into, outcomes);
    }

    /**
     * Copies [begin, end) into another shard's storage (replacing what it held there: keys a
     * split once gave away stay in its store) once this replica settled every slot up to
     * {@code version}; with {@code outcomes}, also the idempotency outcomes it remembers that
     * the other does not.
     */
    private void copyKeysTo(long version, byte[] begin, byte[] end, Storage into, boolean outcomes) {
        long started = System.nanoTime();
        long warned = started;
        while (!ledger.settledThrough(version)) {
            checkOpen();
            TxkvException failed = failure;
            if (failed != null) {
                throw failed;
            }
            long now = System.nanoTime();
            if (now - warned > TimeUnit.SECONDS.toNanos(10)) {
                warned = now;
                LOG.warn("shard {}: a new shard waits for this replica to reach version {} ({} s so far; {})",
                        shard.shardId(), version, TimeUnit.NANOSECONDS.toSeconds(now - started), shardState());
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TxkvException(ErrorCode.DATABASE_CLOSED, "Interrupted while a new shard took its keys", e);
            }
        }
        // A view holds the store open: this replica may be closing (its server stopping) meanwhile.
        VersionView view = retainLatestView();
        Storage from = view.storage;
        long rows = 0;
        try (org.rocksdb.RocksIterator it = from.db.newIterator(from.data);
                org.rocksdb.WriteBatch batch = new org.rocksdb.WriteBatch()) {
            if (end != null) {
                batch.deleteRange(into.data, begin, end);
            } else {
                try (org.rocksdb.RocksIterator last = into.db.newIterator(into.data)) {
                    last.seekToLast();
                    if (last.isValid() && dev.txkv.ByteArrays.compareUnsigned(last.key(), begin) >= 0) {
                        batch.deleteRange(into.data, begin, ByteArrays.keyAfter(last.key()));
                    }
                }
            }
            for (it.seek(begin); it.isValid() && (end == null || dev.txkv.ByteArrays.compareUnsigned(it.key(), end) < 0);
                    it.next()) {
                batch.put(into.data, it.key(), it.value());
                rows++;
                if (batch.getDataSize() >= COPY_BATCH_BYTES) {
                    into.write(batch);
                    batch.clear();
                }
            }
            if (outcomes) {
                try (org.rocksdb.RocksIterator ids = from.db.newIterator(from.idempotency)) {
                    for (ids.seekToFirst(); ids.isValid(); ids.next()) {
                        if (into.getLatest(into.idempotency, ids.key()) == null) {
                            batch.put(into.idempotency, ids.key(), ids.value());
                        }
                    }
                }
            }
            into.write(batch);
        } catch (org.rocksdb.RocksDBException e) {
            throw Storage.ioError("copy to a new shard", e);
        } finally {
            view.release();
        }
        LOG.info("shard {}: {} keys went from here to another shard at version {}", shard.shardId(), rows, version);
    }

    /** The most a new shard writes at once while it takes its keys. */
    private static final int COPY_BATCH_BYTES = 4 << 20;

    // ------------------------------------------------------------------ a shard's calls

    private static <T> CompletableFuture<T> notAShard() {
        return CompletableFuture.failedFuture(new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                "This engine is not a shard of a sharded cluster"));
    }

    private static TxkvException stampNeeded() {
        return new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                "A shard reads at a read stamp from the cluster's sequencer (readAt)");
    }

    /** A sharded read waiting for its shard. */
    private record ReadWaiter(long version, long epoch, long lastGrant, CompletableFuture<Void> ready) {
    }

    /**
     * Reads {@code key} at a read version of the cluster's sequencer: waits until this shard
     * has every slot at or below the version resolved ({@code lastGrant} is the last version
     * the sequencer granted here at or below it, -1 for none, in {@code epoch}).
     */
    public CompletableFuture<byte[]> getAt(byte[] key, long readVersion, long epoch, long lastGrant) {
        if (shard == null) {
            return notAShard();
        }
        if (!holds(key, ByteArrays.keyAfter(key))) {
            return CompletableFuture.failedFuture(slots.wrongShard());
        }
        load.note(key);
        return whenReadable(readVersion, epoch, lastGrant).thenApply(x -> {
            VersionView view = acquireHeld(readVersion, key, ByteArrays.keyAfter(key));
            try {
                stats.reads.increment();
                return view.storage.get(view, key);
            } finally {
                view.release();
            }
        });
    }

    /** {@link #getRange} at a read version of the cluster's sequencer; the range must lie in this shard. */
    public CompletableFuture<RangeChunk> getRangeAt(byte[] begin, byte[] end, int rowLimit, long byteLimit,
            boolean reverse, long readVersion, long epoch, long lastGrant) {
        if (shard == null) {
            return notAShard();
        }
        if (rowLimit <= 0 || byteLimit <= 0) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.RANGE_LIMITS_INVALID,
                    "Row and byte limits must be positive"));
        }
        if (!holds(begin, end)) {
            return CompletableFuture.failedFuture(slots.wrongShard());
        }
        load.note(begin);
        return whenReadable(readVersion, epoch, lastGrant).thenApply(x -> {
            VersionView view = acquireHeld(readVersion, begin, end);
            try {
                stats.reads.increment();
                return view.storage.getRange(view, begin, end, rowLimit, byteLimit, reverse);
            } finally {
                view.release();
            }
        });
    }

    /** Whether this shard holds [begin, end) by its log (a read may only wait here if so). */
    private boolean holds(byte[] begin, byte[] end) {
        ShardMap.Shard owned = ledger.owned();
        if (acceptAnyKeys && owned != null) {
            return true;
        }
        return owned != null && ShardSlots.within(owned, new dev.txkv.Range(begin, end));
    }

    /**
     * The view at {@code readVersion}, once this shard resolved every slot up to it, for a read
     * of [begin, end): refused if the keys left by a split at or below the version (their
     * writes go on elsewhere), or if this shard was born after it.
     */
    private VersionView acquireHeld(long readVersion, byte[] begin, byte[] end) {
        if (!holds(begin, end)) {
            throw slots.wrongShard();
        }
        if (readVersion < ledger.floor()) {
            throw new TxkvException(ErrorCode.TRANSACTION_TOO_OLD, "Read version " + readVersion + " is older than shard "
                    + shard.shardId() + ", made or grown by a split or merge at " + ledger.floor() + "; retry");
        }
        return acquireSharded(readVersion);
    }

    private VersionView acquireSharded(long readVersion) {
        checkOpen();
        TxkvException failed = failure;
        if (failed != null) {
            throw failed;
        }
        if (readVersion < slots.newestVersion() - windowVersions) {
            throw new TxkvException(ErrorCode.TRANSACTION_TOO_OLD,
                    "Read version " + readVersion + " is older than the " + config.mvccWindowMs() + " ms MVCC window");
        }
        return views.retainAt(readVersion, this::checkOpen);
    }

    private CompletableFuture<Void> whenReadable(long version, long epoch, long lastGrant) {
        if (!acceptingCommits()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.NOT_LEADER, leaderHint()));
        }
        slots.sawReadVersion(version);
        ReadWaiter w = new ReadWaiter(version, epoch, lastGrant, new CompletableFuture<>());
        if (readable(w)) {
            return CompletableFuture.completedFuture(null);
        }
        synchronized (readWaiters) {
            readWaiters.add(w);
        }
        pipeline.onResolveThread(() -> slots.awaitedByRead(lastGrant, epoch));
        recheckReads();
        env.schedule(() -> {
            synchronized (readWaiters) {
                readWaiters.remove(w);
            }
            w.ready().completeExceptionally(new TxkvException(ErrorCode.FUTURE_VERSION, "Shard " + shard.shardId()
                    + " has not resolved every version up to " + version + " within " + config.futureVersionWaitMs()
                    + " ms; retry"));
        }, config.futureVersionWaitMs(), TimeUnit.MILLISECONDS);
        return w.ready();
    }

    /**
     * Whether this shard may serve a read at the waiter's version: it is in the read's
     * sequencer epoch or a newer one, it took every slot granted to it up to the version, and
     * each of those is applied or rolled back.
     */
    private boolean readable(ReadWaiter w) {
        if (readBeforeResolved) {
            return true;
        }
        long current = slots.epoch();
        if (current < w.epoch()) {
            slots.wantEpoch(w.epoch());
            return false;
        }
        if (current == w.epoch() && w.lastGrant() > slots.chainHead()) {
            return false;
        }
        return ledger.resolvedThrough(w.version());
    }

    /** Completes the sharded reads whose shard has caught up (after any apply or chain move). */
    private void recheckReads() {
        List<ReadWaiter> ready = new java.util.ArrayList<>();
        synchronized (readWaiters) {
            if (readWaiters.isEmpty()) {
                return;
            }
            for (java.util.Iterator<ReadWaiter> it = readWaiters.iterator(); it.hasNext();) {
                ReadWaiter w = it.next();
                if (readable(w)) {
                    it.remove();
                    ready.add(w);
                }
            }
        }
        for (ReadWaiter w : ready) {
            w.ready().complete(null);
        }
    }

    /** A coordinator's prepare for this shard; completes with a yes vote once the slice is durable. */
    public CompletableFuture<Void> prepare(ShardNetwork.Prepare request) {
        if (shard == null) {
            return notAShard();
        }
        noteLoad(request.slice());
        CompletableFuture<Void> vote = new CompletableFuture<>();
        pipeline.onResolveThread(() -> slots.prepare(request, vote));
        return vote;
    }

    /** A coordinator's outcome for a slice this shard prepared; completes once noted durably (or nothing to note). */
    public CompletableFuture<Void> decided(long version, boolean commit) {
        if (shard == null) {
            return notAShard();
        }
        TxkvException refused = pipeline.refusal();
        if (refused != null) {
            return CompletableFuture.failedFuture(refused);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        pipeline.onResolveThread(() -> slots.decided(version, commit, done));
        return done;
    }

    /**
     * A participant asks the outcome of a transaction this shard coordinated: once this
     * member confirmed that it leads, committed if it decided so, pending if still deciding,
     * else abort (presumed: it cannot commit any more).
     */
    public CompletableFuture<ShardNetwork.Outcome> queryDecision(long version) {
        if (shard == null) {
            return notAShard();
        }
        TxkvException refused = pipeline.refusal();
        if (refused != null) {
            return CompletableFuture.failedFuture(refused);
        }
        return log.readBarrier().thenApply(x -> {
            TxkvException again = pipeline.refusal();
            if (again != null) {
                throw again;
            }
            return coordinator.outcome(version);
        });
    }

    /** A shard's chain and two-phase state in words (diagnostics); empty if not a shard. */
    public String shardState() {
        if (ledger == null) {
            return "";
        }
        int[] c = ledger.counts();
        String twoPhase = ledger.describeTwoPhase();
        return slots.describe() + ", " + c[0] + " undecided, " + c[1] + " deferred, " + c[2] + " open decisions, unresolved "
                + ledger.describeUnresolved() + (acceptingCommits() ? "" : ", not leading")
                + (twoPhase.isEmpty() ? "" : " (" + twoPhase + ")");
    }

    /** A sharded engine's two-phase counts: undecided slices, deferred batches, open decisions; empty if not a shard. */
    public Optional<int[]> twoPhaseCounts() {
        return ledger == null ? Optional.empty() : Optional.of(ledger.counts());
    }

    @Override
    public CompletableFuture<Void> watch(byte[] key, long version) {
        if (shard != null) {
            return CompletableFuture.failedFuture(stampNeeded());
        }
        try {
            return watchFrom(acquire(version), key);
        } catch (TxkvException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** A watch whose baseline is {@code key} in {@code view} (released here): fires once the key differs from it. */
    private CompletableFuture<Void> watchFrom(VersionView view, byte[] key) {
        try {
            byte[] baseline = view.storage.get(view, key);
            synchronized (versions.lock()) {
                // Under the publish lock no batch is published between reading and adding.
                byte[] current = readLatest(key);
                return watches.add(key, baseline, current);
            }
        } finally {
            view.release();
        }
    }

    /**
     * A shard's {@link #watch}: the key's value at a read version of the cluster's sequencer is
     * the baseline, taken once this shard resolved every slot at or below it; the watch fires
     * when the key's value differs from it.
     */
    public CompletableFuture<Void> watchAt(byte[] key, long readVersion, long epoch, long lastGrant) {
        if (shard == null) {
            return notAShard();
        }
        if (!holds(key, ByteArrays.keyAfter(key))) {
            return CompletableFuture.failedFuture(slots.wrongShard());
        }
        return whenReadable(readVersion, epoch, lastGrant)
                .thenCompose(x -> watchFrom(acquireHeld(readVersion, key, ByteArrays.keyAfter(key)), key));
    }

    /**
     * {@code key}'s value in this replica's newest applied state, on any replica, leader or not
     * (it may lag the leader's): for what a member keeps about the cluster, such as the shard map.
     */
    public byte[] latestValue(byte[] key) {
        checkOpen();
        return readLatest(key);
    }

    private byte[] readLatest(byte[] key) {
        VersionView view = views.retainLatest();
        if (view == null) {
            throw new TxkvException(ErrorCode.DATABASE_CLOSED);
        }
        try {
            return view.storage.get(view, key);
        } finally {
            view.release();
        }
    }

    /** Counters and gauges for status, metrics and benchmarks. */
    public EngineCounters counters() {
        ReplicaHealth health = health();
        return new EngineCounters(versions.latest(), stats.commits.sum(), stats.batches.sum(), stats.conflicts.sum(),
                stats.tooOld.sum(), stats.commitsRejected.sum(), pipeline.queueDepth(), stats.writeNanosTotal.get(),
                stats.reads.sum(), watches.count(), views.size(), storageBytes(), health.failed(),
                health.millisSinceApply(), health.refusedRaftCalls(), health.refusedLogEntries());
    }

    /**
     * The storage engine's estimate of its bytes, through a retained view: a snapshot install
     * (or close) replaces and closes the store only once no view is held, and a store used
     * after it closed crashes the process. 0 while no store is open.
     */
    private long storageBytes() {
        VersionView view = views.retainLatest();
        if (view == null) {
            return 0;
        }
        try {
            return view.storage.approximateSizeBytes();
        } finally {
            view.release();
        }
    }

    /**
     * Closes the engine: commits already queued are answered, the log stops, watches fail
     * with database_closed, and storage closes once the last reader lets go of its view.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // Closing finishes even on an interrupted thread (a server stopping its background
        // work): an interrupt would cut short the waits below (the pipeline's drain, and the
        // log's shutdown, which joins the thread that applies to storage and snapshots it), and
        // RocksDB would then be closed under that thread, which crashes the process.
        boolean interrupted = Thread.interrupted();
        try {
            closeInterruptibly();
        } finally {
            if (interrupted || Thread.interrupted()) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void closeInterruptibly() {
        boolean interrupted = false;
        try {
            pipeline.stop(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            interrupted = true;
        }
        log.close();
        watches.failAll(new TxkvException(ErrorCode.DATABASE_CLOSED));
        if (coordinator != null) {
            // Cross-shard commits in flight: their outcome is the next leader's to tell.
            coordinator.endTerm();
            List<ReadWaiter> waiting;
            synchronized (readWaiters) {
                waiting = new java.util.ArrayList<>(readWaiters);
                readWaiters.clear();
            }
            for (ReadWaiter w : waiting) {
                w.ready().completeExceptionally(new TxkvException(ErrorCode.DATABASE_CLOSED));
            }
        }
        if (ownedCompletions != null) {
            ownedCompletions.shutdown();
            try {
                ownedCompletions.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        views.releaseAll();
        // Readers that retained a view before close finish first: their views are not yet freed.
        if (!views.awaitNoReaders(TimeUnit.SECONDS.toMillis(5))) {
            // A reader is stuck inside a view: closing RocksDB under it would crash the process.
            directory.close();
            return;
        }
        closeStorage();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Closes the store once no copy of it is being written ({@link #writeCheckpoint} holds the
     * snapshot lock while it checkpoints, and refuses once the engine is closed): a checkpoint
     * of a closed RocksDB crashes the process, and a replica may be dropped while another
     * member copies it.
     */
    private void closeStorage() {
        synchronized (snapshotLock) {
            storage.close();
            directory.close();
        }
    }
}
