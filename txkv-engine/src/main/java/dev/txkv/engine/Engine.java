package dev.txkv.engine;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.spi.Backend;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.RangeChunk;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The embedded engine: MVCC reads at a version through RocksDB snapshots, and the commit
 * pipeline. One per data directory per machine (the directory is locked).
 *
 * <p>Implementation notes. Each committed batch gets a {@link VersionView}; a read at read
 * version rv uses the newest view at or below rv, which is exactly the state at rv because
 * versions between two batches saw no commits. Views older than the MVCC window are released
 * (each reader holds a reference while it reads, so release never races a read). A read
 * version older than the window fails with transaction_too_old, measured with the version
 * clock, so an idle database still ages read versions as FoundationDB does.
 */
public final class Engine implements Backend {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Engine.class);
    private final TxkvConfig config;
    private final DataDirectory directory;
    /** Replaced when a replica installs a snapshot; views keep the store they were taken from. */
    private volatile Storage storage;
    private final Path dataDir;
    private final VersionClock clock;
    private final CommitPipeline pipeline;
    private CommitLog log;
    /** Null for an embedded engine. */
    private RaftReplica raft;
    /** Whether this engine accepts commits: always when embedded; when leading, replicated. */
    private volatile boolean leading;
    /** Left out of the committed membership (see {@link #onMembershipChanged}). */
    private volatile boolean removed;
    private volatile long raftAppliedIndex;
    private volatile TxkvException replicaFailure;
    private volatile long failedLogIndex = -1;
    /** When a commit batch was last applied (or the engine opened). */
    private volatile long lastApplyNanos = System.nanoTime();
    private final Object snapshotLock = new Object();
    private volatile boolean reloading;
    private final ReadIndexBatcher leaderReadVersions = new ReadIndexBatcher(() -> raft.readIndex());
    private final IdempotencyTable idempotency;
    private final ExecutorService completions;
    private final Watches watches;
    private final EngineStats stats = new EngineStats();
    private final ConcurrentSkipListMap<Long, VersionView> views = new ConcurrentSkipListMap<>();
    private final long windowVersions;
    private final Object publishLock = new Object();
    private final AtomicInteger liveViews = new AtomicInteger();
    private volatile VersionView latest;
    /** The highest version known readable without waiting: every read version handed out is at or below it. */
    private volatile long readableMax;
    /** Guarded by publishLock: the highest read version handed out. */
    private long readVersionIssued;
    /** Guarded by publishLock: versions of batches resolved but not yet durable, ascending. */
    private final java.util.ArrayDeque<Long> batchVersionsInFlight = new java.util.ArrayDeque<>();
    private volatile boolean closed;

    /** Opens the engine in {@code dir}. */
    public static Engine open(Path dir, TxkvConfig config) {
        return new Engine(dir, config, false);
    }

    /** Test hook: an engine whose resolver never finds a conflict, to prove checkers catch it. */
    static Engine openWithBrokenResolver(Path dir, TxkvConfig config) {
        return new Engine(dir, config, true);
    }

    /**
     * Opens a member of a replicated cluster in {@code dir}: its commit log is a Raft group
     * (Apache Ratis) whose log lives in {@code dir/raft}. Only the leader accepts commits and
     * hands out read versions (others answer not_leader, 1060, retryable); every member serves
     * reads at a version once it has applied it.
     */
    public static Engine openReplicated(Path dir, TxkvConfig config, ReplicationConfig replication) {
        return new Engine(dir, config, false, replication);
    }

    private Engine(Path dir, TxkvConfig config, boolean brokenResolver) {
        this(dir, config, brokenResolver, null);
    }

    private Engine(Path dir, TxkvConfig config, boolean brokenResolver, ReplicationConfig replication) {
        this.config = config;
        this.dataDir = dir;
        this.windowVersions = VersionClock.msToVersions(config.mvccWindowMs());
        this.directory = DataDirectory.open(dir);
        Storage s;
        try {
            // Replicated: the Raft log is the durable log, so RocksDB's own needs no fsync.
            s = new Storage(directory.rocksDir(), replication == null && config.durable());
        } catch (RuntimeException e) {
            directory.close();
            throw e;
        }
        this.storage = s;
        long lastVersion = storage.lastVersion();
        this.clock = new VersionClock(lastVersion);
        AtomicInteger threadNumber = new AtomicInteger();
        this.completions = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "txkv-completion-" + threadNumber.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.watches = new Watches(config.watchesMax(), completions);
        VersionView first = new VersionView(lastVersion, storage, liveViews);
        views.put(lastVersion, first);
        this.latest = first;
        this.readVersionIssued = lastVersion;
        // The resolver knows no writes from before this start: older read versions are too old.
        Resolver resolver = new Resolver(lastVersion, brokenResolver);
        this.idempotency = new IdempotencyTable(storage);
        this.raftAppliedIndex = storage.raftAppliedIndex();
        this.pipeline = new CommitPipeline(this, null, resolver, idempotency, lastVersion, completions, stats);
        if (replication == null) {
            this.raft = null;
            this.log = new LocalCommitLog(this);
            this.leading = true;
        } else {
            RaftReplica replica;
            try {
                replica = new RaftReplica(this, replication, dir.resolve("raft"));
            } catch (RuntimeException e) {
                pipeline.stopUnstarted();
                views.values().forEach(VersionView::release);
                completions.shutdown();
                closeStorage();
                throw e;
            }
            this.raft = replica;
            this.log = replica;
        }
        this.pipeline.useLog(log);
        this.pipeline.start();
    }

    TxkvConfig config() {
        return config;
    }

    VersionClock clock() {
        return clock;
    }

    /**
     * Called by the pipeline before a batch: its commit version, above every version already
     * committed or handed out as a read version, so no read version ever sees a later commit
     * at or below it.
     */
    long beginBatch(long lastVersion) {
        synchronized (publishLock) {
            long v = Math.max(clock.next(lastVersion), readVersionIssued + 1);
            if (!batchVersionsInFlight.isEmpty()) {
                v = Math.max(v, batchVersionsInFlight.peekLast() + 1);
            }
            batchVersionsInFlight.addLast(v);
            return v;
        }
    }

    /** Called by the pipeline when a batch committed nothing or failed: nothing to publish. */
    void abandonBatch(long version) {
        synchronized (publishLock) {
            batchVersionsInFlight.remove(version);
        }
    }

    /** Called by the pipeline after a batch is durable: makes its version readable, fires watches. */
    void publish(long version, BatchWriter writer) {
        synchronized (publishLock) {
            VersionView view = new VersionView(version, storage, liveViews);
            views.put(version, view);
            latest = view;
            batchVersionsInFlight.remove(version);
            readVersionIssued = Math.max(readVersionIssued, version);
            readableMax = readVersionIssued;
        }
        watches.onBatch(writer.pointChanges(), writer.clearedRanges());
    }

    /**
     * The newest version reads may use now. With no batch in flight that is the clock's
     * version (nothing committed since the latest batch, and the next batch will be above it);
     * while batches are being written it is the oldest one's version minus one, whose state is
     * the latest durable batch's.
     * So read versions stay fresh on an idle database, as FoundationDB's do.
     */
    private long readableVersion(boolean issue) {
        synchronized (publishLock) {
            if (!batchVersionsInFlight.isEmpty()) {
                long v = Math.max(batchVersionsInFlight.peekFirst() - 1, latest.version);
                if (issue && v > readableMax) {
                    readableMax = v;
                }
                return v;
            }
            if (!issue) {
                return readVersionIssued;
            }
            readVersionIssued = Math.max(readVersionIssued, Math.max(clock.now(), latest.version));
            readableMax = readVersionIssued;
            return readVersionIssued;
        }
    }

    /**
     * Applies a resolved batch to storage in one write (with one fsync when durable) and
     * publishes its version. Called by the commit log, one batch at a time, in version order;
     * a replica applies the batches its log delivers the same way.
     */
    void applyBatch(CommittedBatch batch) {
        applyBatch(batch, -1);
    }

    /** As {@link #applyBatch(CommittedBatch)}, recording the Raft index of the batch when replicated. */
    void applyBatch(CommittedBatch batch, long raftIndex) {
        try (BatchWriter writer = new BatchWriter(storage, config.valueSizeMax())) {
            idempotency.stageExpiries(writer.batch);
            for (CommittedBatch.Transaction t : batch.transactions()) {
                CommitResult result = t.result(batch.version());
                byte[] stamp = result.versionstamp();
                for (dev.txkv.spi.Mutation m : t.mutations()) {
                    writer.apply(m, stamp);
                }
                if (t.idempotencyId() != null) {
                    idempotency.stage(t.idempotencyId(), result, batch.commitTimeMs(), writer.batch);
                }
            }
            writer.batch.put(storage.meta, Storage.META_VERSION, Storage.versionBytes(batch.version()));
            if (raftIndex >= 0) {
                writer.batch.put(storage.meta, Storage.META_RAFT_APPLIED, Storage.versionBytes(raftIndex));
            }
            long start = System.nanoTime();
            storage.write(writer.batch);
            stats.recordBatch(batch.transactions().size(), System.nanoTime() - start);
            idempotency.publish(batch);
            if (raftIndex >= 0) {
                raftAppliedIndex = raftIndex;
            }
            lastApplyNanos = System.nanoTime();
            publish(batch.version(), writer);
        } catch (org.rocksdb.RocksDBException e) {
            throw Storage.ioError("commit batch", e);
        }
    }

    // ------------------------------------------------------------------ replication

    boolean acceptingCommits() {
        return leading && replicaFailure == null && !removed;
    }

    long raftAppliedIndex() {
        return raftAppliedIndex;
    }

    /** For not_leader errors: who leads now, if known. */
    String leaderHint() {
        TxkvException failure = replicaFailure;
        if (failure != null) {
            return failure.getMessage() + "; connect to another member";
        }
        if (removed) {
            return "This server was removed from the cluster's membership; connect to a current member";
        }
        String leader = raft == null ? null : raft.leaderId();
        return leader == null ? "This server does not lead the cluster; the leader is not known yet"
                : "This server does not lead the cluster; member " + leader + " does";
    }

    /**
     * The member id of the cluster's leader as this member knows it, for not_leader answers;
     * empty when not replicated, while no leader is known, or when this member failed or was
     * removed (its view of the group is then stale, as {@link #leaderHint()} says).
     */
    public java.util.Optional<String> leaderId() {
        if (raft == null || replicaFailure != null || removed) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.ofNullable(raft.leaderId());
    }

    /** Called by the state machine when the leader changes; losing leadership stops commits at once. */
    void onLeaderChanged(boolean self) {
        if (!self) {
            leading = false;
        }
    }

    /**
     * Called by the state machine when a configuration takes effect. A member left out of it
     * (removed online, even while it led: Raft then closes its group here without electing
     * anyone) takes no more commits and hands out no read versions; one added back serves again.
     */
    void onMembershipChanged(boolean member) {
        removed = !member;
        if (!member) {
            leading = false;
        }
    }

    /**
     * Called once this member's first entry of its term is committed. It starts taking commits
     * only after applying everything the previous leaders committed, with a resolver that
     * knows nothing older (so older read versions get transaction_too_old) and versions that
     * jump one MVCC window past the newest applied one: read versions the previous leader
     * handed out followed its clock, and this clock may run behind it (clock assumption: the
     * members' clocks agree within the MVCC window, 5 s by default).
     */
    void onLeaderReady() {
        RaftReplica replica = raft;
        Thread t = new Thread(() -> {
            long target = replica.committedIndex();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (replica.appliedIndex() < target && System.nanoTime() < deadline && !closed) {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
            if (!replica.isLeader() || closed) {
                return;
            }
            long version = latest.version;
            synchronized (publishLock) {
                readVersionIssued = Math.max(readVersionIssued, Math.max(version, clock.now()) + windowVersions);
            }
            pipeline.newTerm(version);
            leading = true;
        }, "txkv-leader-start");
        t.setDaemon(true);
        t.start();
    }

    /**
     * After a failed apply this member's storage lacks a committed batch: it applies nothing
     * more, serves no reads, commits or read versions, and leaves the Raft group's work (see
     * {@link RaftReplica#stopAfterFailure}) so that the other members carry on. It stays up to
     * say why in status, logs and metrics, until an operator rebuilds it from the others
     * (docs/replication.md, "Rebuild a failed member"). Returns the error it now answers with.
     */
    TxkvException failReplica(long logIndex, Throwable e) {
        synchronized (publishLock) {
            if (replicaFailure == null) {
                String why = e instanceof TxkvException ? e.getMessage() : e.toString();
                replicaFailure = new TxkvException(ErrorCode.PROCESS_BEHIND, "This member failed to apply Raft log entry "
                        + logIndex + " (" + why + ") and serves nothing until it is rebuilt from the other members", e);
                failedLogIndex = logIndex;
                LOG.error("This member failed to apply Raft log entry {}; it stops applying, serving and taking part "
                        + "in the Raft group. The other members carry on. Rebuild it from them: docs/replication.md, "
                        + "\"Rebuild a failed member\"", logIndex, e);
            }
            leading = false;
        }
        if (raft != null) {
            raft.stopAfterFailure();
        }
        return replicaFailure;
    }

    /** Non-null once this member failed to apply the log: the error it answers with. */
    TxkvException replicaFailure() {
        return replicaFailure;
    }

    /**
     * What this member knows of its own health: whether it failed to apply the log (and why),
     * how long ago it last applied a commit batch, and how many strangers' requests its Raft
     * port and log admission refused.
     */
    public ReplicaHealth health() {
        TxkvException failure = replicaFailure;
        return new ReplicaHealth(failure == null ? null : failure.getMessage(), failure == null ? -1 : failedLogIndex,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastApplyNanos),
                raft == null ? 0 : raft.refusedCalls(), raft == null ? 0 : raft.refusedEntries());
    }

    /** The answer to a linearizable read: the leader's read version, or a follower's applied version. */
    long readableAfterReadIndex() {
        return leading ? readableVersion(true) : latest.version;
    }

    /**
     * Replaces the cluster's membership (id -> Raft "host:port"); only the leader can. Add a
     * member by starting it with the new member list, then calling this on the leader with the
     * old members plus the new one; remove one by leaving it out. Raft's joint consensus keeps
     * a majority of both the old and the new membership during the change.
     */
    public CompletableFuture<Void> setMembers(Map<String, String> members) {
        if (raft == null) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                    "This database is not replicated"));
        }
        new ReplicationConfig(members.keySet().iterator().next(), members); // validates the list
        return raft.setMembers(members);
    }

    /**
     * This member's replication state for status documents: role, term, leader, Raft log
     * positions, members, and the newest applied version; empty when not replicated.
     */
    public Map<String, Object> replicationStatus() {
        if (raft == null) {
            return Map.of();
        }
        Map<String, Object> m = new LinkedHashMap<>(raft.status());
        TxkvException failure = replicaFailure;
        if (failure != null) {
            // Its Raft server is closed: it takes no part in the group, whatever Raft last said.
            m.remove("error");
            m.putIfAbsent("id", raft.selfId());
            m.putIfAbsent("members", raft.configuredMembers());
            m.put("role", "failed");
            m.put("leader", "");
            m.put("failure", failure.getMessage());
        } else if (removed) {
            // Raft's view on a removed member is frozen where it was removed: it leads nothing.
            m.put("role", "removed");
            m.put("leader", "");
        }
        m.put("applied_version", latest.version);
        m.put("accepting_commits", acceptingCommits());
        return m;
    }

    /** Makes storage durable up to now: a snapshot's log prefix may be purged after it. */
    void syncStorage() {
        try {
            storage.db.flushWal(true);
        } catch (org.rocksdb.RocksDBException e) {
            throw Storage.ioError("WAL sync", e);
        }
    }

    org.rocksdb.RocksDB rocksForSnapshot() {
        return storage.db;
    }

    /**
     * Replaces storage with a snapshot's checkpoint (a replica that fell behind the leader's
     * purged log). Reads wait no longer than the views they hold; everything versioned starts
     * again from the snapshot's version, and outstanding watches fire (their keys may have
     * changed).
     */
    void loadSnapshot(Path checkpoint) {
        synchronized (snapshotLock) {
            reloading = true;
            try {
                Storage old = storage;
                for (VersionView v : views.values()) {
                    v.release();
                }
                views.clear();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (System.nanoTime() < deadline && liveViewsRemain()) {
                    Thread.onSpinWait();
                }
                if (liveViewsRemain()) {
                    throw new TxkvException(ErrorCode.IO_ERROR, "Reads did not finish before a snapshot install");
                }
                old.close();
                Path live = directory.rocksDir();
                Path previous = live.resolveSibling("rocksdb.previous");
                SnapshotStore.deleteTree(previous);
                java.nio.file.Files.move(live, previous);
                java.nio.file.Files.createDirectories(live);
                try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(checkpoint)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        String name = f.getFileName().toString();
                        if (name.equals(SnapshotStore.COMPLETE_MARKER) || name.endsWith(".md5")) {
                            continue;
                        }
                        try {
                            java.nio.file.Files.createLink(live.resolve(name), f);
                        } catch (IOException | UnsupportedOperationException e) {
                            java.nio.file.Files.copy(f, live.resolve(name));
                        }
                    }
                }
                Storage fresh = new Storage(live, false);
                storage = fresh;
                SnapshotStore.deleteTree(previous);
                idempotency.reload(fresh);
                raftAppliedIndex = fresh.raftAppliedIndex();
                long version = fresh.lastVersion();
                VersionView view = new VersionView(version, fresh, liveViews);
                synchronized (publishLock) {
                    views.put(version, view);
                    latest = view;
                    readVersionIssued = Math.max(readVersionIssued, version);
                    readableMax = Math.max(readableMax, version);
                }
                watches.fireAll();
            } catch (IOException e) {
                throw new TxkvException(ErrorCode.IO_ERROR, "Installing a snapshot failed: " + e, e);
            } finally {
                reloading = false;
            }
        }
    }

    /** The replication log, or null when embedded; for tests in this package. */
    RaftReplica replica() {
        return raft;
    }

    /** Is this engine a member of a replicated cluster? */
    public boolean isReplicated() {
        return raft != null;
    }

    /** Whether this member leads its cluster and takes commits now (always true when embedded). */
    public boolean isLeading() {
        return acceptingCommits();
    }

    /** Releases views no read can need: those whose successor is already older than the horizon. */
    void releaseOldViews(long horizon) {
        while (true) {
            Map.Entry<Long, VersionView> oldest = views.firstEntry();
            Map.Entry<Long, VersionView> next = oldest == null ? null : views.higherEntry(oldest.getKey());
            if (next == null || next.getKey() > horizon) {
                return;
            }
            if (views.remove(oldest.getKey(), oldest.getValue())) {
                oldest.getValue().release();
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new TxkvException(ErrorCode.DATABASE_CLOSED);
        }
    }

    /** The view for reading at {@code readVersion}, retained; the caller releases it. */
    private VersionView acquire(long readVersion) {
        checkOpen();
        TxkvException failure = replicaFailure;
        if (failure != null) {
            throw failure;
        }
        // readableMax before latest: a batch at or below readableMax was published before
        // readableMax was set, so the latest view read afterwards includes it.
        long readable = readableMax;
        VersionView newest = latest;
        if (readVersion >= newest.version && readVersion <= readable
                && readVersion >= clock.now() - windowVersions && newest.retain()) {
            // The common case: a fresh read version whose state is the newest batch's. No
            // later batch can land at or below it, since batches go above every read version.
            return newest;
        }
        if (reloading) {
            throw new TxkvException(ErrorCode.PROCESS_BEHIND, "This replica is installing a snapshot; retry");
        }
        if (readVersion > latest.version && readVersion > readableVersion(false)) {
            if (raft != null && !leading) {
                confirmReadableOnFollower(readVersion);
            } else {
                awaitVersion(readVersion);
            }
        }
        if (readVersion < clock.now() - windowVersions) {
            throw new TxkvException(ErrorCode.TRANSACTION_TOO_OLD,
                    "Read version " + readVersion + " is older than the " + config.mvccWindowMs() + " ms MVCC window");
        }
        while (true) {
            Map.Entry<Long, VersionView> e = views.floorEntry(readVersion);
            if (e == null) {
                throw new TxkvException(ErrorCode.TRANSACTION_TOO_OLD,
                        "Read version " + readVersion + " is older than the oldest retained version");
            }
            if (e.getValue().retain()) {
                return e.getValue();
            }
            checkOpen();
            if (views.get(e.getKey()) == e.getValue()) {
                throw new TxkvException(ErrorCode.TRANSACTION_TOO_OLD, "Read version " + readVersion + " was released");
            }
        }
    }

    /**
     * A follower asked to read at a version it has not seen: a read version comes from the
     * leader, which hands out only versions whose batches were committed before it answered.
     * A ReadIndex started now therefore makes this member apply every batch at or below the
     * version, after which it may serve reads there. A version far ahead of the clock was never
     * handed out: future_version.
     */
    private void confirmReadableOnFollower(long readVersion) {
        if (readVersion > clock.now() + windowVersions) {
            throw new TxkvException(ErrorCode.FUTURE_VERSION, "Read version " + readVersion + " is in the future");
        }
        try {
            raft.readIndex().get(config.futureVersionWaitMs(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new TxkvException(ErrorCode.FUTURE_VERSION, "Could not catch up to read version " + readVersion);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new TxkvException(ErrorCode.PROCESS_BEHIND, "Could not confirm the cluster state: " + e.getCause(),
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TxkvException(ErrorCode.TRANSACTION_CANCELLED, "Interrupted while catching up");
        }
        synchronized (publishLock) {
            readVersionIssued = Math.max(readVersionIssued, readVersion);
            readableMax = Math.max(readableMax, readVersion);
        }
    }

    private void awaitVersion(long readVersion) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.futureVersionWaitMs());
        while (latest.version < readVersion && readableVersion(false) < readVersion) {
            checkOpen();
            if (System.nanoTime() > deadline || readVersion > clock.now() + windowVersions) {
                throw new TxkvException(ErrorCode.FUTURE_VERSION,
                        "Read version " + readVersion + " is newer than the newest committed version " + latest.version);
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TxkvException(ErrorCode.TRANSACTION_CANCELLED, "Interrupted while waiting for a version");
            }
        }
    }

    @Override
    public CompletableFuture<Long> getReadVersion() {
        if (closed) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.DATABASE_CLOSED));
        }
        if (raft == null) {
            return CompletableFuture.completedFuture(readableVersion(true));
        }
        if (!acceptingCommits()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.NOT_LEADER, leaderHint()));
        }
        // Leadership confirmed by a majority (ReadIndex) before the version is handed out, so a
        // deposed leader cannot hand out a stale one.
        return leaderReadVersions.next();
    }

    @Override
    public CompletableFuture<byte[]> get(byte[] key, long readVersion) {
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
        return pipeline.submit(request);
    }

    @Override
    public CompletableFuture<Void> watch(byte[] key, long version) {
        try {
            VersionView view = acquire(version);
            try {
                byte[] baseline = view.storage.get(view, key);
                synchronized (publishLock) {
                    // Under the publish lock no batch is published between reading and adding.
                    byte[] current = readLatest(key);
                    return watches.add(key, baseline, current);
                }
            } finally {
                view.release();
            }
        } catch (TxkvException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private byte[] readLatest(byte[] key) {
        VersionView view = latest;
        if (!view.retain()) {
            throw new TxkvException(ErrorCode.DATABASE_CLOSED);
        }
        try {
            return view.storage.get(view, key);
        } finally {
            view.release();
        }
    }

    /** Counters and gauges for status output and benchmarks. */
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("version.committed", latest.version);
        m.put("commits", stats.commits.sum());
        m.put("commit.batches", stats.batches.sum());
        m.put("commit.conflicts", stats.conflicts.sum());
        m.put("commit.too_old", stats.tooOld.sum());
        m.put("commit.rejected_queue_full", stats.commitsRejected.sum());
        m.put("commit.queue_depth", (long) pipeline.queueDepth());
        m.put("commit.write_nanos_total", stats.writeNanosTotal.get());
        m.put("reads", stats.reads.sum());
        m.put("watches", (long) watches.count());
        m.put("mvcc.views", (long) views.size());
        m.put("storage.live_bytes_estimate", storage.approximateSizeBytes());
        ReplicaHealth health = health();
        m.put("replica.failed", health.failed() ? 1L : 0L);
        m.put("apply.ms_since_last", health.millisSinceApply());
        m.put("raft.refused_calls", health.refusedRaftCalls());
        m.put("raft.refused_entries", health.refusedLogEntries());
        return m;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            pipeline.stop(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.close();
        watches.failAll(new TxkvException(ErrorCode.DATABASE_CLOSED));
        completions.shutdown();
        try {
            completions.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (VersionView v : views.values()) {
            v.release();
        }
        views.clear();
        // Readers that retained a view before close finish first: their views are not yet freed.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline && liveViewsRemain()) {
            Thread.onSpinWait();
        }
        if (liveViewsRemain()) {
            // A reader is stuck inside a view: closing RocksDB under it would crash the process.
            directory.close();
            return;
        }
        closeStorage();
    }

    private void closeStorage() {
        storage.close();
        directory.close();
    }

    private boolean liveViewsRemain() {
        return liveViews.get() > 0;
    }
}
