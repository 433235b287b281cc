package dev.txkv.client;

import dev.txkv.ByteArrays;
import dev.txkv.ErrorCode;
import dev.txkv.KeyValue;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.spi.AtomicOps;
import dev.txkv.spi.Backend;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Mutation;
import dev.txkv.spi.RangeChunk;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * An in-memory MVCC {@link Backend} for the client's tests: slow and simple on purpose, so
 * that it is plainly right.
 *
 * <p>Every commit stores a full copy of the database under its version, and remembers its
 * write conflict ranges. A commit conflicts when one of its read conflict ranges intersects
 * the write conflict ranges of a commit with a version above its read version. Atomic
 * operations are applied with {@link AtomicOps}, as the engine does. Every call answers at
 * once on the caller's thread, unless the test holds commits ({@link #holdCommits()}).
 *
 * <p>The test can look at what the client sent ({@link #commits()}), fail the next commits
 * with chosen errors ({@link #failNextCommits}), or apply a commit and then report
 * {@code commit_unknown_result} ({@link #applyThenReportUnknownResult}), and can make range
 * reads return few rows per batch ({@link #rangeRowsMax}) so that the client's merge spans
 * several batches.
 */
final class FakeBackend implements Backend {
    private static final int VALUE_SIZE_MAX = 100_000;

    /** The database as of each committed version; version 0 is empty. */
    private final TreeMap<Long, NavigableMap<byte[], byte[]>> versions = new TreeMap<>();
    /** The write conflict ranges of each committed version. */
    private final TreeMap<Long, List<Range>> writesByVersion = new TreeMap<>();
    private final Map<String, CommitResult> idempotentOutcomes = new HashMap<>();
    private final List<CommitRequest> commits = new ArrayList<>();
    private final Queue<ErrorCode> commitFailures = new ArrayDeque<>();
    private final List<Watch> watches = new ArrayList<>();
    private final int valueSizeMax;
    private int unknownResultsLeft;
    private int rangeRowsMax = Integer.MAX_VALUE;
    private int readVersionRequests;
    private CompletableFuture<Void> commitGate = CompletableFuture.completedFuture(null);
    private boolean closed;

    private record Watch(byte[] key, byte[] valueAtVersion, CompletableFuture<Void> future) {
    }

    FakeBackend() {
        this(VALUE_SIZE_MAX);
    }

    FakeBackend(int valueSizeMax) {
        this.valueSizeMax = valueSizeMax;
        versions.put(0L, new TreeMap<>(Arrays::compareUnsigned));
        writesByVersion.put(0L, List.of());
    }

    // ---------------------------------------------------------------- test controls

    /** Every commit request received, in order, including failed ones. */
    synchronized List<CommitRequest> commits() {
        return List.copyOf(commits);
    }

    /** The last commit request received. */
    synchronized CommitRequest lastCommit() {
        if (commits.isEmpty()) {
            throw new AssertionError("no commit was sent");
        }
        return commits.get(commits.size() - 1);
    }

    /** The next commits fail with these errors, in order, without taking effect. */
    synchronized void failNextCommits(ErrorCode... errors) {
        commitFailures.addAll(Arrays.asList(errors));
    }

    /** The next {@code count} commits take effect but report {@code commit_unknown_result}. */
    synchronized void applyThenReportUnknownResult(int count) {
        unknownResultsLeft = count;
    }

    /** Range reads return at most this many rows per call. */
    synchronized void rangeRowsMax(int rows) {
        rangeRowsMax = rows;
    }

    /** Commits wait until the returned future is completed. */
    synchronized CompletableFuture<Void> holdCommits() {
        commitGate = new CompletableFuture<>();
        return commitGate;
    }

    synchronized int readVersionRequests() {
        return readVersionRequests;
    }

    synchronized long currentVersion() {
        return versions.lastKey();
    }

    /** The whole database at the latest version. */
    synchronized NavigableMap<byte[], byte[]> snapshot() {
        return Collections.unmodifiableNavigableMap(versions.lastEntry().getValue());
    }

    synchronized boolean isClosed() {
        return closed;
    }

    // ---------------------------------------------------------------- reads

    @Override
    public synchronized CompletableFuture<Long> getReadVersion() {
        if (closed) {
            return closedFailure();
        }
        readVersionRequests++;
        return CompletableFuture.completedFuture(versions.lastKey());
    }

    @Override
    public synchronized CompletableFuture<byte[]> get(byte[] key, long readVersion) {
        if (closed) {
            return closedFailure();
        }
        NavigableMap<byte[], byte[]> db = at(readVersion);
        if (db == null) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.FUTURE_VERSION));
        }
        return CompletableFuture.completedFuture(db.get(key));
    }

    @Override
    public synchronized CompletableFuture<RangeChunk> getRange(byte[] begin, byte[] end, int rowLimit,
            long byteLimit, boolean reverse, long readVersion) {
        if (closed) {
            return closedFailure();
        }
        NavigableMap<byte[], byte[]> db = at(readVersion);
        if (db == null) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.FUTURE_VERSION));
        }
        if (Arrays.compareUnsigned(begin, end) >= 0) {
            return CompletableFuture.completedFuture(new RangeChunk(List.of(), false));
        }
        NavigableMap<byte[], byte[]> range = db.subMap(begin, true, end, false);
        if (reverse) {
            range = range.descendingMap();
        }
        int rowsMax = Math.min(rowLimit <= 0 ? Integer.MAX_VALUE : rowLimit, rangeRowsMax);
        List<KeyValue> rows = new ArrayList<>();
        long bytes = 0;
        for (Map.Entry<byte[], byte[]> e : range.entrySet()) {
            if (rows.size() == rowsMax || (!rows.isEmpty() && bytes >= byteLimit)) {
                return CompletableFuture.completedFuture(new RangeChunk(rows, true));
            }
            rows.add(new KeyValue(e.getKey(), e.getValue()));
            bytes += e.getKey().length + e.getValue().length;
        }
        return CompletableFuture.completedFuture(new RangeChunk(rows, false));
    }

    /** The database at {@code version}, or null for a version not committed yet. */
    private NavigableMap<byte[], byte[]> at(long version) {
        if (version > versions.lastKey()) {
            return null;
        }
        return versions.floorEntry(version).getValue();
    }

    // ---------------------------------------------------------------- commit

    @Override
    public CompletableFuture<CommitResult> commit(CommitRequest request) {
        CompletableFuture<Void> gate;
        synchronized (this) {
            if (closed) {
                return closedFailure();
            }
            commits.add(request);
            gate = commitGate;
        }
        return gate.thenCompose(v -> resolveAndApply(request));
    }

    private synchronized CompletableFuture<CommitResult> resolveAndApply(CommitRequest request) {
        ErrorCode injected = commitFailures.poll();
        if (injected != null) {
            return CompletableFuture.failedFuture(new TxkvException(injected, "injected by the test"));
        }
        String id = request.idempotencyId() == null ? null : Arrays.toString(request.idempotencyId());
        if (id != null && idempotentOutcomes.containsKey(id)) {
            return reply(idempotentOutcomes.get(id));
        }
        if (request.readVersion() > versions.lastKey()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.FUTURE_VERSION));
        }
        List<Range> conflicting = conflictingReads(request);
        if (!conflicting.isEmpty()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.NOT_COMMITTED,
                    "a read range met a newer write", null,
                    request.reportConflictingKeys() ? conflicting : List.of()));
        }
        long version = versions.lastKey() + 1;
        CommitResult result = new CommitResult(version, 0);
        TreeMap<byte[], byte[]> db = new TreeMap<>(versions.lastEntry().getValue());
        List<Range> written = new ArrayList<>(request.writeConflicts());
        for (Mutation m : request.mutations()) {
            apply(db, m, result.versionstamp(), written);
        }
        versions.put(version, db);
        writesByVersion.put(version, written);
        if (id != null) {
            idempotentOutcomes.put(id, result);
        }
        fireWatches(db);
        return reply(result);
    }

    /** The reply to a commit that took effect (now or under its idempotency id earlier). */
    private CompletableFuture<CommitResult> reply(CommitResult result) {
        if (unknownResultsLeft > 0) {
            unknownResultsLeft--;
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                    "applied, but the test lost the reply"));
        }
        return CompletableFuture.completedFuture(result);
    }

    /** The read conflict ranges that meet a write committed after the read version. */
    private List<Range> conflictingReads(CommitRequest request) {
        List<Range> out = new ArrayList<>();
        if (request.readVersion() < 0) {
            return out;
        }
        for (Range read : request.readConflicts()) {
            for (List<Range> written : writesByVersion.tailMap(request.readVersion(), false).values()) {
                if (written.stream().anyMatch(w -> intersects(read, w))) {
                    out.add(read);
                    break;
                }
            }
        }
        return out;
    }

    static boolean intersects(Range a, Range b) {
        return Arrays.compareUnsigned(a.begin, b.end) < 0 && Arrays.compareUnsigned(b.begin, a.end) < 0;
    }

    private void apply(TreeMap<byte[], byte[]> db, Mutation m, byte[] stamp, List<Range> written) {
        if (m.type() == Mutation.SET) {
            db.put(m.key(), m.param());
        } else if (m.type() == Mutation.CLEAR_RANGE) {
            if (Arrays.compareUnsigned(m.key(), m.param()) < 0) {
                db.subMap(m.key(), true, m.param(), false).clear();
            }
        } else {
            MutationType type = MutationType.ofCode(m.type());
            if (type == MutationType.SET_VERSIONSTAMPED_KEY) {
                byte[] key = AtomicOps.placeVersionstamp(m.key(), stamp);
                db.put(key, m.param());
                written.add(new Range(key, ByteArrays.keyAfter(key)));
            } else if (type == MutationType.SET_VERSIONSTAMPED_VALUE) {
                db.put(m.key(), AtomicOps.placeVersionstamp(m.param(), stamp));
            } else {
                byte[] v = AtomicOps.apply(type, db.get(m.key()), m.param(), valueSizeMax);
                if (v == null) {
                    db.remove(m.key());
                } else {
                    db.put(m.key(), v);
                }
            }
        }
    }

    // ---------------------------------------------------------------- watches and close

    @Override
    public synchronized CompletableFuture<Void> watch(byte[] key, long version) {
        if (closed) {
            return closedFailure();
        }
        Watch w = new Watch(key, at(version).get(key), new CompletableFuture<>());
        if (!Arrays.equals(w.valueAtVersion(), versions.lastEntry().getValue().get(key))) {
            w.future().complete(null);
        } else {
            watches.add(w);
        }
        return w.future();
    }

    private void fireWatches(NavigableMap<byte[], byte[]> db) {
        watches.removeIf(w -> {
            if (w.future().isDone()) {
                return true;
            }
            if (!Objects.deepEquals(w.valueAtVersion(), db.get(w.key()))) {
                w.future().complete(null);
                return true;
            }
            return false;
        });
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (Watch w : watches) {
            w.future().completeExceptionally(new TxkvException(ErrorCode.DATABASE_CLOSED));
        }
        watches.clear();
    }

    private static <T> CompletableFuture<T> closedFailure() {
        return CompletableFuture.failedFuture(new TxkvException(ErrorCode.DATABASE_CLOSED));
    }
}
