package dev.txkv.engine;

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
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * A deterministic backend for simulation: the real {@link Resolver}, an in-memory
 * multi-version store, an in-memory commit log, and a scheduler that completes outstanding
 * requests in an order drawn from a seeded random. Faults are injected on commits (reply lost
 * after or before applying, queue full) and as restarts (store rebuilt from the log, resolver
 * forgetting everything). Everything runs on the caller's thread, so a seed replays a run.
 */
final class SimulatedBackend implements Backend {
    static final long WINDOW_VERSIONS = 5_000_000;

    /** One committed batch of the log: what replay applies. */
    private record LogEntry(long version, List<Mutation> mutations, byte[] stamp) {
    }

    private final Random random;
    private final boolean brokenResolver;
    private final double faultRate;
    private final List<Runnable> pending = new ArrayList<>();
    private final List<LogEntry> log = new ArrayList<>();
    private final Map<ByteBuffer, CommitResult> idempotency = new HashMap<>();
    private TreeMap<byte[], TreeMap<Long, byte[]>> store = new TreeMap<>(Arrays::compareUnsigned);
    private Resolver resolver;
    private long version = 1_000;
    int faultsInjected;
    int restarts;

    SimulatedBackend(long seed, double faultRate, boolean brokenResolver) {
        this.random = new Random(seed);
        this.faultRate = faultRate;
        this.brokenResolver = brokenResolver;
        this.resolver = new Resolver(version, brokenResolver);
    }

    /** Completes one outstanding request chosen at random; false when none is outstanding. */
    boolean step() {
        if (pending.isEmpty()) {
            return false;
        }
        if (random.nextDouble() < faultRate / 20) {
            restart();
        }
        pending.remove(random.nextInt(pending.size())).run();
        return true;
    }

    private <T> CompletableFuture<T> later(Supplier<T> work) {
        CompletableFuture<T> f = new CompletableFuture<>();
        pending.add(() -> {
            try {
                f.complete(work.get());
            } catch (TxkvException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /** A crash and restart: the store is rebuilt from the log; the resolver starts empty. */
    private void restart() {
        restarts++;
        store = new TreeMap<>(Arrays::compareUnsigned);
        for (LogEntry e : log) {
            applyMutations(e.version, e.mutations, e.stamp, null);
        }
        version += 1_000;
        resolver = new Resolver(version, brokenResolver);
    }

    @Override
    public CompletableFuture<Long> getReadVersion() {
        return later(() -> version);
    }

    private void checkReadVersion(long rv) {
        if (rv < version - WINDOW_VERSIONS) {
            throw new TxkvException(ErrorCode.TRANSACTION_TOO_OLD);
        }
        if (rv > version) {
            throw new TxkvException(ErrorCode.FUTURE_VERSION);
        }
    }

    private byte[] valueAt(byte[] key, long rv) {
        TreeMap<Long, byte[]> versions = store.get(key);
        if (versions == null) {
            return null;
        }
        Map.Entry<Long, byte[]> e = versions.floorEntry(rv);
        return e == null ? null : e.getValue();
    }

    @Override
    public CompletableFuture<byte[]> get(byte[] key, long readVersion) {
        return later(() -> {
            checkReadVersion(readVersion);
            return valueAt(key, readVersion);
        });
    }

    @Override
    public CompletableFuture<RangeChunk> getRange(byte[] begin, byte[] end, int rowLimit, long byteLimit, boolean reverse,
            long readVersion) {
        return later(() -> {
            checkReadVersion(readVersion);
            NavigableMap<byte[], TreeMap<Long, byte[]>> m = store.subMap(begin, true, end, false);
            if (reverse) {
                m = m.descendingMap();
            }
            List<KeyValue> rows = new ArrayList<>();
            for (Map.Entry<byte[], TreeMap<Long, byte[]>> e : m.entrySet()) {
                byte[] v = valueAt(e.getKey(), readVersion);
                if (v == null) {
                    continue;
                }
                if (rows.size() >= rowLimit) {
                    return new RangeChunk(rows, true);
                }
                rows.add(new KeyValue(e.getKey(), v));
            }
            return new RangeChunk(rows, false);
        });
    }

    @Override
    public CompletableFuture<CommitResult> commit(CommitRequest request) {
        return later(() -> commitNow(request));
    }

    private CommitResult commitNow(CommitRequest r) {
        double dice = random.nextDouble();
        if (dice < faultRate / 3) {
            faultsInjected++;
            throw new TxkvException(ErrorCode.PROXY_MEMORY_LIMIT_EXCEEDED, "simulated full queue");
        }
        if (dice < faultRate * 2 / 3) {
            faultsInjected++;
            throw new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT, "simulated loss before arrival");
        }
        if (r.idempotencyId() != null) {
            CommitResult earlier = idempotency.get(ByteBuffer.wrap(r.idempotencyId()));
            if (earlier != null) {
                return earlier;
            }
        }
        long next = version + 1 + random.nextInt(100);
        if (!r.readConflicts().isEmpty()) {
            long rv = r.readVersion();
            if (rv < resolver.horizon() || rv < next - WINDOW_VERSIONS) {
                throw new TxkvException(ErrorCode.TRANSACTION_TOO_OLD);
            }
            if (resolver.conflicts(r.readConflicts(), rv, false) != null) {
                throw new TxkvException(ErrorCode.NOT_COMMITTED);
            }
        }
        CommitResult result = new CommitResult(next, 0);
        applyMutations(next, r.mutations(), result.versionstamp(), resolver);
        for (Range w : r.writeConflicts()) {
            resolver.addWrite(w.begin, w.end, next);
        }
        log.add(new LogEntry(next, r.mutations(), result.versionstamp()));
        version = next;
        if (r.idempotencyId() != null) {
            idempotency.put(ByteBuffer.wrap(r.idempotencyId().clone()), result);
        }
        if (random.nextDouble() < faultRate / 3) {
            faultsInjected++;
            throw new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT, "simulated reply lost after commit");
        }
        return result;
    }

    private void applyMutations(long v, List<Mutation> mutations, byte[] stamp, Resolver addStampedKeysTo) {
        for (Mutation m : mutations) {
            if (m.type() == Mutation.SET) {
                put(m.key(), v, m.param());
            } else if (m.type() == Mutation.CLEAR_RANGE) {
                for (byte[] k : new ArrayList<>(store.subMap(m.key(), true, m.param(), false).keySet())) {
                    put(k, v, null);
                }
            } else {
                MutationType type = MutationType.ofCode(m.type());
                if (type == MutationType.SET_VERSIONSTAMPED_KEY) {
                    byte[] k = AtomicOps.placeVersionstamp(m.key(), stamp);
                    put(k, v, m.param());
                    if (addStampedKeysTo != null) {
                        addStampedKeysTo.addWrite(k, ByteArrays.keyAfter(k), v);
                    }
                } else if (type == MutationType.SET_VERSIONSTAMPED_VALUE) {
                    put(m.key(), v, AtomicOps.placeVersionstamp(m.param(), stamp));
                } else {
                    put(m.key(), v, AtomicOps.apply(type, valueAt(m.key(), v), m.param(), 100_000));
                }
            }
        }
    }

    private void put(byte[] key, long v, byte[] value) {
        store.computeIfAbsent(key, k -> new TreeMap<>()).put(v, value);
    }

    /** The latest value of every key. */
    TreeMap<byte[], byte[]> latestState() {
        TreeMap<byte[], byte[]> m = new TreeMap<>(Arrays::compareUnsigned);
        for (byte[] k : store.keySet()) {
            byte[] v = valueAt(k, Long.MAX_VALUE);
            if (v != null) {
                m.put(k, v);
            }
        }
        return m;
    }

    /** Replays the log into a fresh store and compares: the log alone must rebuild the state. */
    boolean replayMatches() {
        TreeMap<byte[], TreeMap<Long, byte[]>> saved = store;
        store = new TreeMap<>(Arrays::compareUnsigned);
        for (LogEntry e : log) {
            applyMutations(e.version, e.mutations, e.stamp, null);
        }
        TreeMap<byte[], byte[]> replayed = latestState();
        store = saved;
        TreeMap<byte[], byte[]> live = latestState();
        if (replayed.size() != live.size()) {
            return false;
        }
        for (Map.Entry<byte[], byte[]> e : live.entrySet()) {
            if (!Arrays.equals(e.getValue(), replayed.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public CompletableFuture<Void> watch(byte[] key, long version) {
        return CompletableFuture.failedFuture(new TxkvException(ErrorCode.CLIENT_INVALID_OPERATION,
                "watches are not simulated"));
    }

    @Override
    public void close() {
        pending.clear();
    }
}
