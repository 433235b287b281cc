package dev.txkv.client;

import dev.txkv.AsyncIterable;
import dev.txkv.ByteArrays;
import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.KeySelector;
import dev.txkv.KeyValue;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.ReadTransaction;
import dev.txkv.StreamingMode;
import dev.txkv.Transaction;
import dev.txkv.TransactionOptions;
import dev.txkv.TxkvConfig;
import dev.txkv.TxkvException;
import dev.txkv.spi.AtomicOps;
import dev.txkv.spi.Backend;
import dev.txkv.spi.Environment;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Mutation;
import dev.txkv.spi.RangeChunk;
import dev.txkv.spi.VersionedValues;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A client-side transaction: read-your-writes over a {@link Backend}, conflict ranges, and
 * one commit message. Servers keep no state for it, as in FoundationDB.
 *
 * <p>Thread-safety: public methods synchronise on the transaction, so a transaction may be
 * used from callbacks on other threads; they never block while holding the lock.
 */
final class ClientTransaction implements Transaction {
    private static final byte[] SYSTEM_PREFIX = {(byte) 0xFF};
    private static final byte[] SYSTEM_END = {(byte) 0xFF, (byte) 0xFF};
    private static final long BACKOFF_INITIAL_MS = 10;
    /**
     * Most reads gathered at a transaction's start to take its read version in one call; one
     * more sends them, and later reads wait for the version.
     */
    static final int ASSIGNING_READS_MAX = 16;
    /**
     * When gathered first reads go out at the latest if nobody waited for or chained onto one of
     * them (e.g. only {@code CompletableFuture.allOf} looks at them).
     */
    static final long GATHER_MAX_MICROS = 200;

    private enum State { ACTIVE, COMMITTING, COMMITTED, CANCELLED, CLOSED }

    private final ClientDatabase db;
    private final Backend backend;
    private final TxkvConfig config;
    private final Environment env;
    private final TransactionOptions options = new TransactionOptions();
    private final SnapshotView snapshotView = new SnapshotView(this);

    private WriteMap writes;
    private List<byte[]> readConflicts;
    private List<byte[]> writeConflicts;
    private List<Mutation> mutations;
    private long mutationBytes;
    private long conflictBytes;
    private CompletableFuture<Long> readVersion;
    /** The first reads, gathered to take the read version (readVersion) with them; null once sent. */
    private FirstReads firstReads;
    private long committedVersion;
    private CompletableFuture<byte[]> versionstamp;
    private List<PendingWatch> watches;
    private State state;
    private long startNanos;
    private long retries;
    private long backoffMs;
    private byte[] automaticIdempotencyId;

    private record PendingWatch(byte[] key, CompletableFuture<Void> future) {
    }

    ClientTransaction(ClientDatabase db) {
        this.db = db;
        this.backend = db.backend();
        this.config = db.config();
        this.env = db.environment();
        this.startNanos = env.nanoTime();
        this.backoffMs = BACKOFF_INITIAL_MS;
        clearState();
    }

    private void clearState() {
        writes = new WriteMap(config.valueSizeMax());
        readConflicts = new ArrayList<>();
        writeConflicts = new ArrayList<>();
        mutations = new ArrayList<>();
        mutationBytes = 0;
        conflictBytes = 0;
        readVersion = null;
        FirstReads pending = firstReads;
        firstReads = null;
        if (pending != null) {
            // Reads of an earlier attempt that nobody waited for yet: they complete as they would have.
            send(pending);
        }
        committedVersion = -1;
        versionstamp = new CompletableFuture<>();
        watches = new ArrayList<>();
        state = State.ACTIVE;
    }

    // ---------------------------------------------------------------- checks

    private void checkReadable() {
        if (state == State.CANCELLED) {
            throw new TxkvException(ErrorCode.TRANSACTION_CANCELLED);
        }
        if (state == State.CLOSED) {
            throw new TxkvException(ErrorCode.TRANSACTION_CANCELLED, "The transaction is closed");
        }
        db.checkOpen();
        checkTimeout();
    }

    private void checkWritable() {
        checkReadable();
        if (state == State.COMMITTING) {
            throw new TxkvException(ErrorCode.USED_DURING_COMMIT);
        }
        if (state == State.COMMITTED) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                    "The transaction has committed; reset it before writing again");
        }
    }

    private void checkTimeout() {
        long timeoutMs = options.getTimeoutMs();
        if (timeoutMs > 0 && env.nanoTime() - startNanos > TimeUnit.MILLISECONDS.toNanos(timeoutMs)) {
            throw new TxkvException(ErrorCode.TRANSACTION_TIMED_OUT);
        }
    }

    private byte[] checkKey(byte[] key, boolean write) {
        if (key == null) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, "A key must not be null");
        }
        if (key.length > config.keySizeMax() + (options.isAccessSystemKeys() ? 10_000 : 0)) {
            throw new TxkvException(ErrorCode.KEY_TOO_LARGE,
                    "Key of " + key.length + " bytes exceeds the limit of " + config.keySizeMax());
        }
        if (!options.isAccessSystemKeys() && key.length > 0 && key[0] == (byte) 0xFF) {
            throw new TxkvException(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE,
                    (write ? "Writing" : "Reading") + " a key that begins with 0xFF needs the access-system-keys option");
        }
        return key;
    }

    private void checkValue(byte[] value) {
        if (value == null) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, "A value must not be null");
        }
        if (value.length > config.valueSizeMax()) {
            throw new TxkvException(ErrorCode.VALUE_TOO_LARGE,
                    "Value of " + value.length + " bytes exceeds the limit of " + config.valueSizeMax());
        }
    }

    /** Checks a range's bounds; the end may be the end of the user keyspace, 0xFF. */
    private void checkRange(byte[] begin, byte[] end) {
        if (begin == null || end == null) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, "Range bounds must not be null");
        }
        if (Arrays.compareUnsigned(begin, end) > 0) {
            throw new TxkvException(ErrorCode.INVERTED_RANGE,
                    "Range begin " + ByteArrays.printable(begin) + " is after end " + ByteArrays.printable(end));
        }
        byte[] keyspaceEnd = options.isAccessSystemKeys() ? SYSTEM_END : SYSTEM_PREFIX;
        if (Arrays.compareUnsigned(end, keyspaceEnd) > 0) {
            throw new TxkvException(ErrorCode.KEY_OUTSIDE_LEGAL_RANGE,
                    "Range end " + ByteArrays.printable(end) + " is past the end of the keyspace; "
                            + (options.isAccessSystemKeys() ? "" : "keys from 0xFF need the access-system-keys option"));
        }
        int max = config.keySizeMax() + 1 + (options.isAccessSystemKeys() ? 10_000 : 0);
        if (begin.length > max || end.length > max) {
            throw new TxkvException(ErrorCode.KEY_TOO_LARGE, "Range bound exceeds the key size limit");
        }
    }

    private static void checkLimit(int limit) {
        if (limit < 0) {
            throw new TxkvException(ErrorCode.RANGE_LIMITS_INVALID, "Row limit must not be negative, got " + limit);
        }
    }

    private byte[] keyspaceEnd() {
        return options.isAccessSystemKeys() ? SYSTEM_END : SYSTEM_PREFIX;
    }

    // ---------------------------------------------------------------- read version

    private CompletableFuture<Long> readVersionFuture() {
        FirstReads pending;
        CompletableFuture<Long> rv;
        synchronized (this) {
            if (readVersion == null) {
                readVersion = db.nextReadVersion();
            }
            rv = readVersion;
            pending = firstReads;
        }
        if (pending != null) {
            // Something needs the version now: the gathered reads go out and bring it.
            send(pending);
        }
        return rv;
    }

    @Override
    public CompletableFuture<Long> getReadVersion() {
        try {
            checkReadable();
        } catch (TxkvException e) {
            return Futures.failed(e);
        }
        return readVersionFuture();
    }

    @Override
    public synchronized void setReadVersion(long version) {
        checkReadable();
        if (version < 0) {
            throw new TxkvException(ErrorCode.VERSION_INVALID, "Read version must not be negative, got " + version);
        }
        if (readVersion != null) {
            throw new TxkvException(ErrorCode.READ_VERSION_ALREADY_SET);
        }
        readVersion = CompletableFuture.completedFuture(version);
    }

    // ---------------------------------------------------------------- reads

    @Override
    public CompletableFuture<byte[]> get(byte[] key) {
        return get(key, false);
    }

    CompletableFuture<byte[]> get(byte[] key, boolean snapshot) {
        WriteMap.Entry entry;
        synchronized (this) {
            try {
                checkReadable();
                checkKey(key, false);
            } catch (TxkvException e) {
                return Futures.failed(e);
            }
            entry = writes.lookup(key);
            if (entry != null && entry.known) {
                return CompletableFuture.completedFuture(entry.value);
            }
            if (entry != null && entry.unreadable) {
                return Futures.failed(new TxkvException(ErrorCode.ACCESSED_UNREADABLE,
                        "The key holds a versionstamped value that is unknown until commit"));
            }
            if (!snapshot) {
                addReadConflictInternal(key, ByteArrays.keyAfter(key));
            }
        }
        CompletableFuture<byte[]> stored = storedGet(key);
        CompletableFuture<byte[]> out = entry == null ? stored : stored.thenApply(base -> entry.resolve(base, config.valueSizeMax()));
        FirstReads gathering;
        synchronized (this) {
            gathering = firstReads;
        }
        if (gathering == null || out.isDone()) {
            return out;
        }
        Gathered<byte[]> gathered = new Gathered<>(gathering);
        out.whenComplete((value, error) -> {
            if (error != null) {
                gathered.completeExceptionally(Futures.unwrap(error));
            } else {
                gathered.complete(value);
            }
        });
        return gathered;
    }

    /**
     * The first reads of a transaction, gathered while the transaction has no read version, to
     * go out in one call that takes the version with them ({@link Backend#getAtNewReadVersion}):
     * a read-modify-write is then two round trips (the reads, the commit), not three. They go
     * out as soon as anyone waits for or chains onto one of their futures ({@link Gathered}),
     * needs the read version (a range read, getReadVersion, commit), or one more read would
     * exceed {@value #ASSIGNING_READS_MAX}; otherwise after {@value #GATHER_MAX_MICROS} µs, or
     * about a millisecond later under load ({@link GatherSweeper}).
     */
    private static final class FirstReads {
        final CompletableFuture<Long> version;
        final List<byte[]> keys = new ArrayList<>(2);
        final List<CompletableFuture<byte[]>> results = new ArrayList<>(2);
        boolean sent;

        FirstReads(CompletableFuture<Long> version) {
            this.version = version;
        }
    }

    /**
     * A gathered first read's future: waiting for it, or chaining a stage onto it, first sends
     * the gathered reads, so that a caller never waits for the sweeper.
     */
    private final class Gathered<T> extends CompletableFuture<T> {
        private final FirstReads reads;

        Gathered(FirstReads reads) {
            this.reads = reads;
        }

        private void sendReads() {
            if (!reads.sent) {
                send(reads);
            }
        }

        @Override
        public T join() {
            sendReads();
            return super.join();
        }

        @Override
        public T get() throws InterruptedException, java.util.concurrent.ExecutionException {
            sendReads();
            return super.get();
        }

        @Override
        public T get(long timeout, TimeUnit unit)
                throws InterruptedException, java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException {
            sendReads();
            return super.get(timeout, unit);
        }

        @Override
        public T getNow(T valueIfAbsent) {
            sendReads();
            return super.getNow(valueIfAbsent);
        }

        @Override
        public boolean isDone() {
            sendReads();
            return super.isDone();
        }

        @Override
        public <U> CompletableFuture<U> newIncompleteFuture() {
            // Every dependent stage (thenApply, thenCompose, whenComplete, ...) is made here.
            sendReads();
            return new CompletableFuture<>();
        }
    }

    /**
     * The stored value of {@code key} at the transaction's read version; while the transaction
     * has none yet, gathered with the other first reads to take it ({@link FirstReads}).
     */
    private CompletableFuture<byte[]> storedGet(byte[] key) {
        FirstReads reads;
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        boolean first = false;
        boolean full = false;
        synchronized (this) {
            if (readVersion == null && backend.readsAssignVersions()) {
                readVersion = new CompletableFuture<>();
                firstReads = new FirstReads(readVersion);
                first = true;
            }
            reads = firstReads;
            if (reads != null) {
                reads.keys.add(key);
                reads.results.add(result);
                full = reads.keys.size() >= ASSIGNING_READS_MAX;
            }
        }
        if (reads == null) {
            return withReadVersion(version -> backend.get(key, version));
        }
        if (first) {
            FirstReads gathered = reads;
            if (env == Environment.SYSTEM) {
                GatherSweeper.register(() -> send(gathered), TimeUnit.MICROSECONDS.toNanos(GATHER_MAX_MICROS));
            } else {
                env.schedule(() -> send(gathered), GATHER_MAX_MICROS, TimeUnit.MICROSECONDS);
            }
        }
        if (full) {
            send(reads);
        }
        return guard(result);
    }

    /** Sends gathered first reads (once); their answer fixes the transaction's read version. */
    private void send(FirstReads reads) {
        synchronized (this) {
            if (reads.sent) {
                return;
            }
            reads.sent = true;
            if (firstReads == reads) {
                firstReads = null;
            }
        }
        CompletableFuture<VersionedValues> answer;
        try {
            answer = backend.getAtNewReadVersion(List.copyOf(reads.keys));
        } catch (RuntimeException e) {
            answer = Futures.failed(e);
        }
        answer.whenComplete((values, error) -> {
            if (error == null) {
                reads.version.complete(values.readVersion());
                for (int i = 0; i < reads.results.size(); i++) {
                    reads.results.get(i).complete(values.values().get(i));
                }
                return;
            }
            // The version comes from GetReadVersion then, and each read is made again at it.
            db.nextReadVersion().whenComplete((version, grvError) -> {
                if (grvError != null) {
                    reads.version.completeExceptionally(Futures.unwrap(grvError));
                } else {
                    reads.version.complete(version);
                }
            });
            for (int i = 0; i < reads.results.size(); i++) {
                byte[] key = reads.keys.get(i);
                CompletableFuture<byte[]> result = reads.results.get(i);
                reads.version.thenCompose(version -> backend.get(key, version)).whenComplete((value, readError) -> {
                    if (readError != null) {
                        result.completeExceptionally(Futures.unwrap(readError));
                    } else {
                        result.complete(value);
                    }
                });
            }
        });
    }

    private <T> CompletableFuture<T> withReadVersion(java.util.function.LongFunction<CompletableFuture<T>> read) {
        CompletableFuture<Long> rv = readVersionFuture();
        CompletableFuture<T> result;
        if (rv.isDone() && !rv.isCompletedExceptionally()) {
            try {
                result = read.apply(rv.join());
            } catch (RuntimeException e) {
                result = Futures.failed(e);
            }
        } else {
            result = rv.thenCompose(read::apply);
        }
        return guard(result);
    }

    /** Applies the transaction timeout and cancellation to an outstanding operation. */
    private <T> CompletableFuture<T> guard(CompletableFuture<T> f) {
        long timeoutMs = options.getTimeoutMs();
        if (timeoutMs == 0 || f.isDone()) {
            return f;
        }
        long remainingNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMs) - (env.nanoTime() - startNanos);
        CompletableFuture<T> r = new CompletableFuture<>();
        f.whenComplete((v, e) -> {
            if (e != null) {
                r.completeExceptionally(Futures.unwrap(e));
            } else {
                r.complete(v);
            }
        });
        env.schedule(() -> r.completeExceptionally(new TxkvException(ErrorCode.TRANSACTION_TIMED_OUT)),
                Math.max(0, remainingNanos), TimeUnit.NANOSECONDS);
        return r;
    }

    /** One batch of stored rows for a {@link RangeRead}; called with the cursor's bounds. */
    CompletableFuture<RangeChunk> readRangeChunk(byte[] begin, byte[] end, int rows, long bytes, boolean reverse) {
        try {
            checkReadable();
        } catch (TxkvException e) {
            return Futures.failed(e);
        }
        return withReadVersion(rv -> backend.getRange(begin, end, rows, bytes, reverse, rv));
    }

    /** Stored rows of a covered interval merged with this transaction's writes there. */
    synchronized List<KeyValue> mergeWithWrites(List<KeyValue> rows, byte[] lo, byte[] hi, boolean reverse) {
        if (writes.isEmpty()) {
            return rows;
        }
        Iterator<Map.Entry<byte[], WriteMap.Entry>> local = writes.entriesIn(lo, hi, reverse).entrySet().iterator();
        List<KeyValue> out = new ArrayList<>(rows.size() + 8);
        int i = 0;
        Map.Entry<byte[], WriteMap.Entry> e = local.hasNext() ? local.next() : null;
        while (i < rows.size() || e != null) {
            KeyValue row = i < rows.size() ? rows.get(i) : null;
            int cmp;
            if (row == null) {
                cmp = 1;
            } else if (e == null) {
                cmp = -1;
            } else {
                cmp = Arrays.compareUnsigned(row.getKey(), e.getKey());
                if (reverse) {
                    cmp = -cmp;
                }
            }
            if (cmp < 0) {
                if (!writes.isCleared(row.getKey())) {
                    out.add(row);
                }
                i++;
            } else {
                byte[] base = cmp == 0 ? row.getValue() : null;
                byte[] v = e.getValue().resolve(base, config.valueSizeMax());
                if (v != null) {
                    out.add(new KeyValue(e.getKey(), v));
                }
                if (cmp == 0) {
                    i++;
                }
                e = local.hasNext() ? local.next() : null;
            }
        }
        return out;
    }

    @Override
    public CompletableFuture<byte[]> getKey(KeySelector selector) {
        return getKey(selector, false);
    }

    /**
     * Resolves a selector by scanning the merged view from the reference key: forward for a
     * positive offset, backward otherwise. The scan's own read conflict covers exactly the
     * keys between the reference and the answer.
     */
    CompletableFuture<byte[]> getKey(KeySelector selector, boolean snapshot) {
        try {
            checkReadable();
            if (selector == null) {
                throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, "A key selector must not be null");
            }
        } catch (TxkvException e) {
            return Futures.failed(e);
        }
        byte[] ref = selector.getKey();
        byte[] end = keyspaceEnd();
        if (Arrays.compareUnsigned(ref, end) > 0) {
            ref = end;
        }
        byte[] pivot = selector.orEqual() ? ByteArrays.keyAfter(ref) : ref;
        if (Arrays.compareUnsigned(pivot, end) > 0) {
            pivot = end;
        }
        int offset = selector.getOffset();
        if (offset >= 1) {
            RangeRead scan = new RangeRead(this, pivot, end, offset, false, StreamingMode.EXACT, snapshot);
            byte[] keyspaceEnd = end;
            return scan.asList().thenApply(rows -> rows.size() == offset ? rows.get(offset - 1).getKey() : keyspaceEnd);
        }
        int wanted = 1 - offset;
        RangeRead scan = new RangeRead(this, ByteArrays.EMPTY, pivot, wanted, true, StreamingMode.EXACT, snapshot);
        return scan.asList().thenApply(rows -> rows.size() == wanted ? rows.get(wanted - 1).getKey() : ByteArrays.EMPTY);
    }

    AsyncIterable<KeyValue> range(byte[] begin, byte[] end, int limit, boolean reverse, StreamingMode mode,
            boolean snapshot) {
        checkReadable();
        checkRange(begin, end);
        checkLimit(limit);
        if (mode == StreamingMode.EXACT && limit == 0) {
            throw new TxkvException(ErrorCode.RANGE_LIMITS_INVALID, "Streaming mode EXACT needs a row limit");
        }
        return new RangeRead(this, begin.clone(), end.clone(), limit, reverse, mode == null ? StreamingMode.ITERATOR : mode,
                snapshot);
    }

    AsyncIterable<KeyValue> range(KeySelector begin, KeySelector end, int limit, boolean reverse, StreamingMode mode,
            boolean snapshot) {
        checkReadable();
        checkLimit(limit);
        if (begin == null || end == null) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, "Key selectors must not be null");
        }
        if (mode == StreamingMode.EXACT && limit == 0) {
            throw new TxkvException(ErrorCode.RANGE_LIMITS_INVALID, "Streaming mode EXACT needs a row limit");
        }
        CompletableFuture<byte[]> b = getKey(begin, snapshot);
        CompletableFuture<byte[]> e = getKey(end, snapshot);
        CompletableFuture<AsyncIterable<KeyValue>> resolved = b.thenCombine(e, (bk, ek) -> {
            if (Arrays.compareUnsigned(bk, ek) >= 0) {
                return new RangeRead(this, bk, bk, limit, reverse, StreamingMode.WANT_ALL, snapshot);
            }
            return new RangeRead(this, bk, ek, limit, reverse, mode == null ? StreamingMode.ITERATOR : mode, snapshot);
        });
        return new DeferredIterable(resolved);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(byte[] begin, byte[] end) {
        return range(begin, end, 0, false, StreamingMode.ITERATOR, false);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(byte[] begin, byte[] end, int limit) {
        return range(begin, end, limit, false, StreamingMode.ITERATOR, false);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(byte[] begin, byte[] end, int limit, boolean reverse) {
        return range(begin, end, limit, reverse, StreamingMode.ITERATOR, false);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(byte[] begin, byte[] end, int limit, boolean reverse, StreamingMode mode) {
        return range(begin, end, limit, reverse, mode, false);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(Range range) {
        return range(range.begin, range.end, 0, false, StreamingMode.ITERATOR, false);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(Range range, int limit) {
        return range(range.begin, range.end, limit, false, StreamingMode.ITERATOR, false);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(Range range, int limit, boolean reverse) {
        return range(range.begin, range.end, limit, reverse, StreamingMode.ITERATOR, false);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(Range range, int limit, boolean reverse, StreamingMode mode) {
        return range(range.begin, range.end, limit, reverse, mode, false);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(KeySelector begin, KeySelector end) {
        return range(begin, end, 0, false, StreamingMode.ITERATOR, false);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(KeySelector begin, KeySelector end, int limit) {
        return range(begin, end, limit, false, StreamingMode.ITERATOR, false);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(KeySelector begin, KeySelector end, int limit, boolean reverse) {
        return range(begin, end, limit, reverse, StreamingMode.ITERATOR, false);
    }

    @Override
    public AsyncIterable<KeyValue> getRange(KeySelector begin, KeySelector end, int limit, boolean reverse,
            StreamingMode mode) {
        return range(begin, end, limit, reverse, mode, false);
    }

    @Override
    public boolean isSnapshot() {
        return false;
    }

    @Override
    public ReadTransaction snapshot() {
        return snapshotView;
    }

    @Override
    public boolean addReadConflictRangeIfNotSnapshot(byte[] begin, byte[] end) {
        addReadConflictRange(begin, end);
        return true;
    }

    @Override
    public boolean addReadConflictKeyIfNotSnapshot(byte[] key) {
        addReadConflictKey(key);
        return true;
    }

    @Override
    public TransactionOptions options() {
        return options;
    }

    // ---------------------------------------------------------------- conflicts and writes

    synchronized void addReadConflictInternal(byte[] begin, byte[] end) {
        if (Arrays.compareUnsigned(begin, end) < 0) {
            readConflicts.add(begin);
            readConflicts.add(end);
            conflictBytes += begin.length + end.length;
        }
    }

    private void addWriteConflictInternal(byte[] begin, byte[] end) {
        writeConflicts.add(begin);
        writeConflicts.add(end);
        conflictBytes += begin.length + end.length;
    }

    @Override
    public synchronized void addReadConflictRange(byte[] begin, byte[] end) {
        checkWritable();
        checkRange(begin, end);
        addReadConflictInternal(begin.clone(), end.clone());
    }

    @Override
    public synchronized void addReadConflictKey(byte[] key) {
        checkWritable();
        checkKey(key, false);
        addReadConflictInternal(key.clone(), ByteArrays.keyAfter(key));
    }

    @Override
    public synchronized void addWriteConflictRange(byte[] begin, byte[] end) {
        checkWritable();
        checkRange(begin, end);
        if (Arrays.compareUnsigned(begin, end) < 0) {
            addWriteConflictInternal(begin.clone(), end.clone());
        }
    }

    @Override
    public synchronized void addWriteConflictKey(byte[] key) {
        checkWritable();
        checkKey(key, true);
        addWriteConflictInternal(key.clone(), ByteArrays.keyAfter(key));
    }

    private void addMutation(Mutation m) {
        mutations.add(m);
        mutationBytes += m.sizeBytes();
    }

    @Override
    public synchronized void set(byte[] key, byte[] value) {
        checkWritable();
        checkKey(key, true);
        checkValue(value);
        byte[] k = key.clone();
        byte[] v = value.clone();
        writes.set(k, v);
        addMutation(new Mutation(Mutation.SET, k, v));
        addWriteConflictInternal(k, ByteArrays.keyAfter(k));
    }

    @Override
    public synchronized void clear(byte[] key) {
        checkWritable();
        checkKey(key, true);
        byte[] k = key.clone();
        byte[] after = ByteArrays.keyAfter(k);
        writes.clear(k);
        addMutation(new Mutation(Mutation.CLEAR_RANGE, k, after));
        addWriteConflictInternal(k, after);
    }

    @Override
    public synchronized void clear(byte[] begin, byte[] end) {
        checkWritable();
        checkRange(begin, end);
        if (Arrays.compareUnsigned(begin, end) >= 0) {
            return;
        }
        byte[] b = begin.clone();
        byte[] e = end.clone();
        writes.clearRange(b, e);
        addMutation(new Mutation(Mutation.CLEAR_RANGE, b, e));
        addWriteConflictInternal(b, e);
    }

    @Override
    public void clear(Range range) {
        clear(range.begin, range.end);
    }

    @Override
    public synchronized void mutate(MutationType type, byte[] key, byte[] param) {
        checkWritable();
        if (type == null) {
            throw new TxkvException(ErrorCode.INVALID_MUTATION_TYPE, "Mutation type must not be null");
        }
        if (key == null || param == null) {
            throw new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION, "Key and parameter must not be null");
        }
        byte[] k = key.clone();
        byte[] p = param.clone();
        if (type == MutationType.SET_VERSIONSTAMPED_KEY) {
            AtomicOps.versionstampOffset(k);
            checkKey(Arrays.copyOf(k, k.length - AtomicOps.OFFSET_BYTES), true);
            checkValue(p);
            // The final key is known only at commit: the engine adds its write conflict.
            addMutation(new Mutation(type.code(), k, p));
            return;
        }
        checkKey(k, true);
        if (type == MutationType.SET_VERSIONSTAMPED_VALUE) {
            AtomicOps.versionstampOffset(p);
            checkValue(Arrays.copyOf(p, p.length - AtomicOps.OFFSET_BYTES));
        } else {
            checkValue(p);
        }
        writes.mutate(type, k, p);
        addMutation(new Mutation(type.code(), k, p));
        addWriteConflictInternal(k, ByteArrays.keyAfter(k));
    }

    // ---------------------------------------------------------------- commit

    @Override
    public CompletableFuture<Void> commit() {
        CompletableFuture<Long> rvFuture;
        java.util.function.LongFunction<CommitRequest> request;
        synchronized (this) {
            try {
                checkWritable();
            } catch (TxkvException e) {
                return Futures.failed(e);
            }
            state = State.COMMITTING;
            if (mutations.isEmpty() && writeConflicts.isEmpty()) {
                return commitReadOnly();
            }
            long sizeLimit = options.getSizeLimit() > 0 ? options.getSizeLimit() : config.transactionSizeMax();
            long size = mutationBytes + conflictBytes;
            if (size > sizeLimit) {
                state = State.ACTIVE;
                return Futures.failed(new TxkvException(ErrorCode.TRANSACTION_TOO_LARGE,
                        "Transaction of " + size + " bytes exceeds the limit of " + sizeLimit));
            }
            byte[] id = options.getIdempotencyId();
            if (id == null && options.isAutomaticIdempotency()) {
                if (automaticIdempotencyId == null) {
                    automaticIdempotencyId = new byte[16];
                    env.uniqueId(automaticIdempotencyId);
                }
                id = automaticIdempotencyId;
            }
            rvFuture = readConflicts.isEmpty() && readVersion == null
                    ? CompletableFuture.completedFuture(-1L) : readVersionFuture();
            List<Range> reads = toRanges(readConflicts);
            List<Range> written = toRanges(writeConflicts);
            List<Mutation> sentMutations = List.copyOf(mutations);
            byte[] idempotencyId = id;
            boolean report = options.isReportConflictingKeys();
            request = rv -> new CommitRequest(rv, reads, written, sentMutations, idempotencyId, report);
        }
        CompletableFuture<CommitResult> sent = rvFuture.thenCompose(rv -> backend.commit(request.apply(rv)));
        return guard(sent).handle((result, error) -> {
            finishCommit(result, error == null ? null : Futures.unwrap(error));
            return null;
        });
    }

    private CompletableFuture<Void> commitReadOnly() {
        committedVersion = -1;
        if (watches.isEmpty()) {
            state = State.COMMITTED;
            versionstamp.completeExceptionally(new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                    "A read-only transaction has no versionstamp"));
            return CompletableFuture.completedFuture(null);
        }
        return readVersionFuture().handle((rv, error) -> {
            synchronized (this) {
                state = State.COMMITTED;
                versionstamp.completeExceptionally(new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                        "A read-only transaction has no versionstamp"));
                if (error != null) {
                    failWatches(Futures.unwrap(error));
                    throw new java.util.concurrent.CompletionException(Futures.unwrap(error));
                }
                registerWatches(rv);
                return null;
            }
        });
    }

    private synchronized void finishCommit(CommitResult result, Throwable error) {
        if (state != State.COMMITTING) {
            // Cancelled or closed meanwhile: as in FoundationDB the commit reports the
            // cancellation, although it may or may not have taken effect.
            throw new java.util.concurrent.CompletionException(error != null ? error
                    : new TxkvException(ErrorCode.TRANSACTION_CANCELLED, "Cancelled while committing; the commit may have taken effect"));
        }
        if (error != null) {
            state = State.ACTIVE;
            failWatches(error);
            versionstamp.completeExceptionally(error);
            versionstamp = new CompletableFuture<>();
            throw new java.util.concurrent.CompletionException(error);
        }
        state = State.COMMITTED;
        committedVersion = result.version();
        versionstamp.complete(result.versionstamp());
        registerWatches(result.version());
    }

    private static List<Range> toRanges(List<byte[]> flat) {
        List<Range> out = new ArrayList<>(flat.size() / 2);
        for (int i = 0; i < flat.size(); i += 2) {
            out.add(new Range(flat.get(i), flat.get(i + 1)));
        }
        return out;
    }

    @Override
    public synchronized long getCommittedVersion() {
        return committedVersion;
    }

    @Override
    public synchronized CompletableFuture<byte[]> getVersionstamp() {
        return versionstamp;
    }

    @Override
    public synchronized CompletableFuture<Long> getApproximateSize() {
        return CompletableFuture.completedFuture(mutationBytes + conflictBytes);
    }

    // ---------------------------------------------------------------- watches

    @Override
    public synchronized CompletableFuture<Void> watch(byte[] key) {
        try {
            checkWritable();
            checkKey(key, false);
        } catch (TxkvException e) {
            return Futures.failed(e);
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        watches.add(new PendingWatch(key.clone(), f));
        return f;
    }

    private void registerWatches(long version) {
        for (PendingWatch w : watches) {
            CompletableFuture<Void> registered;
            try {
                registered = backend.watch(w.key(), version);
            } catch (RuntimeException e) {
                registered = Futures.failed(e);
            }
            CompletableFuture<Void> backendFuture = registered;
            registered.whenComplete((v, e) -> {
                if (e != null) {
                    w.future().completeExceptionally(Futures.unwrap(e));
                } else {
                    w.future().complete(null);
                }
            });
            // Cancelling the user's future removes the backend's watch.
            w.future().whenComplete((v, e) -> {
                if (w.future().isCancelled()) {
                    backendFuture.cancel(false);
                }
            });
        }
        watches = new ArrayList<>();
    }

    private void failWatches(Throwable error) {
        for (PendingWatch w : watches) {
            w.future().completeExceptionally(error);
        }
        watches = new ArrayList<>();
    }

    // ---------------------------------------------------------------- errors, reset, cancel

    @Override
    public CompletableFuture<Transaction> onError(Throwable error) {
        Throwable e = Futures.unwrap(error);
        long delayMs;
        synchronized (this) {
            if (state == State.CANCELLED || state == State.CLOSED) {
                return Futures.failed(new TxkvException(ErrorCode.TRANSACTION_CANCELLED));
            }
            if (!(e instanceof TxkvException) || !((TxkvException) e).isRetryable()) {
                return Futures.failed(e);
            }
            try {
                checkTimeout();
            } catch (TxkvException timedOut) {
                return Futures.failed(timedOut);
            }
            long limit = options.getRetryLimit();
            if (limit >= 0 && retries >= limit) {
                return Futures.failed(e);
            }
            retries++;
            long maxDelayMs = options.getMaxRetryDelayMs();
            // Jittered exponential backoff; a maximum of 0 retries at once (and deterministically).
            delayMs = maxDelayMs == 0 ? 0 : env.random().nextLong(Math.min(backoffMs, maxDelayMs) + 1);
            backoffMs = Math.min(backoffMs * 2, Math.max(1, maxDelayMs));
            failWatches(e);
            clearState();
        }
        if (delayMs == 0) {
            return CompletableFuture.completedFuture(this);
        }
        CompletableFuture<Transaction> retry = new CompletableFuture<>();
        env.schedule(() -> retry.complete(this), delayMs, TimeUnit.MILLISECONDS);
        return retry;
    }

    @Override
    public synchronized void reset() {
        if (state == State.CLOSED) {
            throw new TxkvException(ErrorCode.TRANSACTION_CANCELLED, "The transaction is closed");
        }
        failWatches(new TxkvException(ErrorCode.TRANSACTION_CANCELLED, "The transaction was reset"));
        clearState();
        retries = 0;
        backoffMs = BACKOFF_INITIAL_MS;
        startNanos = env.nanoTime();
        automaticIdempotencyId = null;
        options.clearIdempotencyId();
    }

    @Override
    public synchronized void cancel() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CANCELLED;
        failWatches(new TxkvException(ErrorCode.TRANSACTION_CANCELLED));
    }

    @Override
    public Database getDatabase() {
        return db;
    }

    @Override
    public synchronized void close() {
        if (state == State.ACTIVE || state == State.COMMITTING) {
            failWatches(new TxkvException(ErrorCode.TRANSACTION_CANCELLED, "The transaction was closed"));
        }
        state = State.CLOSED;
    }
}
