package dev.txkv.testkit;

import dev.txkv.AsyncIterable;
import dev.txkv.ByteArrays;
import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.KeyValue;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.Transaction;
import dev.txkv.TxkvException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A test double of {@link Database} that exercises the workloads' code paths: transactions run
 * one at a time under a global lock (so every history is strictly serializable), commits fail
 * at random with {@code not_committed} (nothing applied) or {@code commit_unknown_result}
 * (applied or not, at random), and {@link Fault#LOSE_WRITES} acknowledges some commits without
 * applying them, a bug the checkers must catch. Only the calls the workloads make are supported.
 */
final class InMemoryDatabase {
    enum Fault { NONE, LOSE_WRITES }

    private final TreeMap<byte[], byte[]> data = new TreeMap<>(ByteArrays::compareUnsigned);
    private final ReentrantLock lock = new ReentrantLock();
    private final Random random;
    private final double conflictRate;
    private final double unknownRate;
    private final Fault fault;

    private InMemoryDatabase(long seed, double conflictRate, double unknownRate, Fault fault) {
        this.random = new Random(seed);
        this.conflictRate = conflictRate;
        this.unknownRate = unknownRate;
        this.fault = fault;
    }

    static Database create(long seed, double conflictRate, double unknownRate, Fault fault) {
        InMemoryDatabase db = new InMemoryDatabase(seed, conflictRate, unknownRate, fault);
        return (Database) Proxy.newProxyInstance(Database.class.getClassLoader(), new Class<?>[] {Database.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "createTransaction" -> db.newTransaction((Database) proxy);
                    case "close" -> null;
                    case "toString" -> "InMemoryDatabase";
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private Transaction newTransaction(Database database) {
        TreeMap<byte[], byte[]> writes = new TreeMap<>(ByteArrays::compareUnsigned);
        List<Range> clears = new ArrayList<>();
        Object[] self = new Object[1];
        Transaction tr = (Transaction) Proxy.newProxyInstance(Transaction.class.getClassLoader(),
                new Class<?>[] {Transaction.class}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "get":
                            begin();
                            return CompletableFuture.completedFuture(view(writes, clears).get((byte[]) args[0]));
                        case "getRange": {
                            begin();
                            Range range = (Range) args[0];
                            List<KeyValue> rows = new ArrayList<>();
                            view(writes, clears).subMap(range.begin, true, range.end, false)
                                    .forEach((k, v) -> rows.add(new KeyValue(k, v)));
                            return rangeOf(rows);
                        }
                        case "set":
                            begin();
                            writes.put((byte[]) args[0], (byte[]) args[1]);
                            return null;
                        case "clear":
                            begin();
                            Range range = (Range) args[0];
                            writes.subMap(range.begin, range.end).clear();
                            clears.add(range);
                            return null;
                        case "mutate": {
                            begin();
                            if (args[0] != MutationType.APPEND_IF_FITS) {
                                throw new UnsupportedOperationException("mutate " + args[0]);
                            }
                            byte[] key = (byte[]) args[1];
                            byte[] current = view(writes, clears).get(key);
                            writes.put(key, ByteArrays.concat(current == null ? ByteArrays.EMPTY : current, (byte[]) args[2]));
                            return null;
                        }
                        case "commit":
                            begin();
                            return commit(writes, clears);
                        case "onError": {
                            end(writes, clears);
                            Throwable e = (Throwable) args[0];
                            if (e instanceof TxkvException && ((TxkvException) e).isRetryable()) {
                                return CompletableFuture.completedFuture(self[0]);
                            }
                            return CompletableFuture.failedFuture(e);
                        }
                        case "reset":
                        case "close":
                        case "cancel":
                            end(writes, clears);
                            return null;
                        case "getDatabase":
                            return database;
                        case "toString":
                            return "InMemoryTransaction";
                        case "hashCode":
                            return System.identityHashCode(proxy);
                        case "equals":
                            return proxy == args[0];
                        default:
                            throw new UnsupportedOperationException(method.getName());
                    }
                });
        self[0] = tr;
        return tr;
    }

    private void begin() {
        if (!lock.isHeldByCurrentThread()) {
            lock.lock();
        }
    }

    private void end(Map<byte[], byte[]> writes, List<Range> clears) {
        writes.clear();
        clears.clear();
        while (lock.isHeldByCurrentThread()) {
            lock.unlock();
        }
    }

    private TreeMap<byte[], byte[]> view(TreeMap<byte[], byte[]> writes, List<Range> clears) {
        TreeMap<byte[], byte[]> view = new TreeMap<>(data);
        for (Range r : clears) {
            view.subMap(r.begin, r.end).clear();
        }
        view.putAll(writes);
        return view;
    }

    private CompletableFuture<Void> commit(TreeMap<byte[], byte[]> writes, List<Range> clears) {
        try {
            double roll = random.nextDouble();
            if (roll < conflictRate) {
                return CompletableFuture.failedFuture(new TxkvException(ErrorCode.NOT_COMMITTED));
            }
            boolean unknown = roll < conflictRate + unknownRate;
            boolean apply = !(unknown && random.nextBoolean())
                    && !(fault == Fault.LOSE_WRITES && !writes.isEmpty() && random.nextInt(20) == 0);
            if (apply) {
                for (Range r : clears) {
                    data.subMap(r.begin, r.end).clear();
                }
                data.putAll(writes);
            }
            return unknown ? CompletableFuture.failedFuture(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT))
                    : CompletableFuture.completedFuture(null);
        } finally {
            end(writes, clears);
        }
    }

    @SuppressWarnings("unchecked")
    private static AsyncIterable<KeyValue> rangeOf(List<KeyValue> rows) {
        return (AsyncIterable<KeyValue>) Proxy.newProxyInstance(AsyncIterable.class.getClassLoader(),
                new Class<?>[] {AsyncIterable.class}, (proxy, method, args) -> {
                    if (method.getName().equals("asList")) {
                        return CompletableFuture.completedFuture(rows);
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
