package dev.txkv.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.txkv.AsyncIterable;
import dev.txkv.AsyncIterator;
import dev.txkv.ByteArrays;
import dev.txkv.Database;
import dev.txkv.ErrorCode;
import dev.txkv.KeySelector;
import dev.txkv.KeyValue;
import dev.txkv.MutationType;
import dev.txkv.ReadTransaction;
import dev.txkv.StreamingMode;
import dev.txkv.Transaction;
import dev.txkv.TxkvException;
import dev.txkv.testkit.Seeds;
import dev.txkv.testkit.TxkvSeed;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Random sequences of writes and reads inside one transaction, checked against a plain
 * sorted-map model: the transaction's view is the committed state at its read version with its
 * own writes applied in order, and the database after commit is the commit-time state with the
 * writes replayed (atomic operations evaluated against whatever the keys then hold).
 *
 * <p>Written once, run over every backend: {@code RywPropertyTest} here runs it over
 * {@link FakeBackend}, whose range reads return a random, often small number of rows per batch
 * (the merge of stored rows with the transaction's own writes is checked across batch
 * boundaries); txkv-engine's {@code RywPropertyTest} runs it over the real engine (atomic
 * operations and versionstamps applied by the real commit path).
 *
 * <p>Keys come from a five-symbol alphabet and are 1 to 3 bytes long, so writes collide,
 * clears cover written keys, and selectors and range bounds keep landing on existing keys.
 * The value size limit is tiny (just room for a versionstamp) so that APPEND_IF_FITS
 * regularly reaches it.
 */
@AddLifecycleHook(TxkvSeed.class)
public abstract class RywPropertyContract {
    private static final byte[] ALPHABET = {0x00, 0x01, 'a', 'b', (byte) 0xFE};
    private static final byte[] KEYSPACE_END = {(byte) 0xFF};
    private static final int VALUE_SIZE_MAX = 12;
    private static final MutationType[] ATOMICS = {
        MutationType.ADD, MutationType.BIT_AND, MutationType.BIT_OR, MutationType.BIT_XOR,
        MutationType.APPEND_IF_FITS, MutationType.MAX, MutationType.MIN, MutationType.BYTE_MIN,
        MutationType.BYTE_MAX, MutationType.COMPARE_AND_CLEAR,
    };
    private static final Comparator<byte[]> ORDER = Arrays::compareUnsigned;

    /** Values at most this long: small, so that atomic operations often hit the limit. */
    protected static final int VALUE_SIZE_LIMIT = VALUE_SIZE_MAX;

    /**
     * An empty database whose values are at most {@link #VALUE_SIZE_LIMIT} bytes and whose range
     * reads return at most {@code rowsPerBatch} rows per batch where the backend can be told so;
     * closed by the caller.
     */
    protected abstract Database open(int rowsPerBatch);

    @Property(tries = 1200)
    public void randomOperationsMatchTheModel(@ForAll long seed, @ForAll @IntRange(min = 1, max = 50) int steps) {
        // The same seed with fewer steps replays a prefix, so shrinking the step count finds
        // the shortest failing history.
        new Case(this::open, seed, steps).run();
    }

    @Example
    public void seededRandomCases() {
        long seed = Seeds.seed();
        Random cases = new Random(seed);
        int n = Seeds.soak() ? 20_000 : 1200;
        for (int i = 0; i < n; i++) {
            long caseSeed = cases.nextLong();
            try {
                new Case(this::open, caseSeed, 1 + cases.nextInt(60)).run();
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("case " + i + " (case seed " + caseSeed + ") of run seed " + seed + " failed", e);
            }
        }
    }

    @Property(tries = 40)
    public void versionstampedWritesCarryTheCommitVersionstamp(@ForAll long seed) {
        Random rnd = new Random(seed);
        Database db = open(1 + rnd.nextInt(4));
        byte[] valueKey = randomKey(rnd);
        byte[] keyPrefix = randomKey(rnd);
        int valueOffset = rnd.nextInt(2);
        int keyOffset = keyPrefix.length;
        byte[] valueTemplate = withOffset(concat(randomBytes(rnd, valueOffset), new byte[10], randomBytes(rnd, rnd.nextInt(2))), valueOffset);
        byte[] keyTemplate = withOffset(concat(keyPrefix, new byte[10], randomBytes(rnd, 1)), keyOffset);
        byte[] keyValue = randomBytes(rnd, 3);
        boolean overwrite = rnd.nextInt(4) == 0;
        byte[] overwriteValue = {'o'};
        MutationType after = rnd.nextInt(3) == 0 ? ATOMICS[rnd.nextInt(ATOMICS.length)] : null;
        byte[] afterParam = randomBytes(rnd, rnd.nextInt(4));

        Transaction tr = db.createTransaction();
        try {
            tr.mutate(MutationType.SET_VERSIONSTAMPED_VALUE, valueKey, valueTemplate);
            tr.mutate(MutationType.SET_VERSIONSTAMPED_KEY, keyTemplate, keyValue);
            if (after != null) {
                tr.mutate(after, valueKey, afterParam);
            }
            if (overwrite) {
                tr.set(valueKey, overwriteValue);
                assertThat(tr.get(valueKey).join()).isEqualTo(overwriteValue);
            } else {
                assertThat(errorOf(() -> tr.get(valueKey).join()).getError()).isEqualTo(ErrorCode.ACCESSED_UNREADABLE);
                assertThat(errorOf(() -> tr.getRange(ByteArrays.EMPTY, KEYSPACE_END).asList().join()).getError())
                        .isEqualTo(ErrorCode.ACCESSED_UNREADABLE);
            }
            tr.commit().join();
            byte[] stamp = tr.getVersionstamp().join();
            assertThat(stamp).hasSize(10);
            assertThat(Arrays.copyOf(stamp, 8)).isEqualTo(bigEndian(tr.getCommittedVersion()));

            byte[] expectedValue;
            if (overwrite) {
                expectedValue = overwriteValue;
            } else {
                expectedValue = Arrays.copyOf(valueTemplate, valueTemplate.length - 4);
                System.arraycopy(stamp, 0, expectedValue, valueOffset, 10);
                if (after != null) {
                    expectedValue = Model.atomic(after, expectedValue, afterParam, VALUE_SIZE_MAX);
                }
            }
            byte[] expectedKey = Arrays.copyOf(keyTemplate, keyTemplate.length - 4);
            System.arraycopy(stamp, 0, expectedKey, keyOffset, 10);

            TreeMap<byte[], byte[]> expected = new TreeMap<>(ORDER);
            if (expectedValue != null) {
                expected.put(valueKey, expectedValue);
            }
            expected.put(expectedKey, keyValue);
            assertThat(render(readAll(db))).isEqualTo(render(expected));
        } finally {
            tr.close();
            db.close();
        }
    }

    // ------------------------------------------------------------------ one random case

    /** One random history: optional prefill, then a few rounds of committed writes and a checked transaction. */
    private static final class Case {
        private final long seed;
        private final int steps;
        private final Random rnd;
        private final List<String> trace = new ArrayList<>();
        private TreeMap<byte[], byte[]> committed = new TreeMap<>(ORDER);
        private final java.util.function.IntFunction<Database> databases;
        private Database db;

        Case(java.util.function.IntFunction<Database> databases, long seed, int steps) {
            this.databases = databases;
            this.seed = seed;
            this.steps = steps;
            this.rnd = new Random(seed);
        }

        void run() {
            int[] batchSizes = {1, 2, 3, 7, Integer.MAX_VALUE};
            int rowsPerBatch = batchSizes[rnd.nextInt(batchSizes.length)];
            db = databases.apply(rowsPerBatch);
            trace.add("range reads return at most " + rowsPerBatch + " rows per batch");
            try {
                runUnchecked();
            } catch (AssertionError | RuntimeException e) {
                int from = Math.max(0, trace.size() - 80);
                throw new AssertionError("seed=" + seed + " steps=" + steps + "\n  "
                        + String.join("\n  ", trace.subList(from, trace.size())), e);
            } finally {
                db.close();
            }
        }

        private void runUnchecked() {
            if (rnd.nextBoolean()) {
                // Dense data makes range reads span several database batches.
                int n = rnd.nextInt(150);
                Model prefill = new Model(committed);
                db.run(tr -> {
                    for (int i = 0; i < n; i++) {
                        byte[] k = randomKey(rnd);
                        byte[] v = randomValue(rnd);
                        tr.set(k, v);
                        prefill.set(k, v);
                    }
                    return null;
                });
                committed = prefill.map;
                trace.add("prefill " + n + " keys");
            }
            int rounds = 1 + rnd.nextInt(3);
            int remaining = steps;
            for (int round = 0; round < rounds && remaining > 0; round++) {
                int here = round == rounds - 1 ? remaining : 1 + rnd.nextInt(remaining);
                remaining -= here;
                if (rnd.nextBoolean()) {
                    committed = commitRandomWrites("before", committed);
                }
                checkedTransaction(here);
                assertThat(render(readAll(db))).as("database after round %d", round).isEqualTo(render(committed));
            }
        }

        private TreeMap<byte[], byte[]> commitRandomWrites(String label, TreeMap<byte[], byte[]> base) {
            Model m = new Model(base);
            List<String> ops = new ArrayList<>();
            int n = 1 + rnd.nextInt(5);
            Transaction tr = db.createTransaction();
            try {
                for (int i = 0; i < n; i++) {
                    ops.add(randomWrite(tr, m));
                }
                tr.commit().join();
            } finally {
                tr.close();
            }
            trace.add(label + ": committed " + ops);
            return m.map;
        }

        private void checkedTransaction(int count) {
            Transaction tr = db.createTransaction();
            try {
                long rv = tr.getReadVersion().join();
                trace.add("-- transaction at read version " + rv);
                Model view = new Model(committed);
                List<Object[]> log = new ArrayList<>();
                boolean concurrent = rnd.nextInt(4) == 0;
                TreeMap<byte[], byte[]> atCommit = committed;
                if (concurrent) {
                    // Committed after the read version: invisible to the transaction's reads,
                    // but its atomic operations must apply on top of these writes.
                    atCommit = commitRandomWrites("concurrent", committed);
                }
                for (int i = 0; i < count; i++) {
                    step(tr, view, log);
                }
                TxkvException error = null;
                try {
                    tr.commit().join();
                } catch (CompletionException e) {
                    error = (TxkvException) e.getCause();
                }
                if (error != null) {
                    trace.add("commit failed: " + error.getMessage());
                    assertThat(concurrent).as("only a concurrent writer can make the commit fail: %s", error).isTrue();
                    assertThat(error.getError()).isEqualTo(ErrorCode.NOT_COMMITTED);
                    committed = atCommit;
                } else {
                    trace.add("committed at " + tr.getCommittedVersion());
                    Model replay = new Model(atCommit);
                    for (Object[] op : log) {
                        replay.replay(op);
                    }
                    committed = replay.map;
                }
            } finally {
                tr.close();
            }
        }

        /** A random write applied to both the transaction and the model; returns its description. */
        private String randomWrite(Transaction tr, Model m) {
            int kind = rnd.nextInt(10);
            if (kind < 4) {
                byte[] k = randomKey(rnd);
                byte[] v = randomValue(rnd);
                tr.set(k, v);
                m.set(k, v);
                return "set " + p(k) + "=" + p(v);
            }
            if (kind < 5) {
                byte[] k = randomKey(rnd);
                tr.clear(k);
                m.clearRange(k, ByteArrays.keyAfter(k));
                return "clear " + p(k);
            }
            if (kind < 6) {
                byte[][] r = randomRange(rnd);
                tr.clear(r[0], r[1]);
                m.clearRange(r[0], r[1]);
                return "clearRange " + p(r[0]) + ".." + p(r[1]);
            }
            MutationType type = ATOMICS[rnd.nextInt(ATOMICS.length)];
            byte[] k = randomKey(rnd);
            byte[] param = type == MutationType.COMPARE_AND_CLEAR && m.map.containsKey(k) && rnd.nextBoolean()
                    ? m.map.get(k) : randomValue(rnd);
            tr.mutate(type, k, param);
            m.mutate(type, k, param);
            return type + " " + p(k) + " " + p(param);
        }

        private void step(Transaction tr, Model view, List<Object[]> log) {
            int kind = rnd.nextInt(100);
            ReadTransaction reader = rnd.nextInt(4) == 0 ? tr.snapshot() : tr;
            String how = reader.isSnapshot() ? " (snapshot)" : "";
            if (kind < 15) {
                byte[] k = randomKey(rnd);
                byte[] v = randomValue(rnd);
                tr.set(k, v);
                view.set(k, v);
                log.add(new Object[] {"set", k, v});
                trace.add("set " + p(k) + "=" + p(v));
            } else if (kind < 20) {
                byte[] k = randomKey(rnd);
                tr.clear(k);
                view.clearRange(k, ByteArrays.keyAfter(k));
                log.add(new Object[] {"clear", k, ByteArrays.keyAfter(k)});
                trace.add("clear " + p(k));
            } else if (kind < 25) {
                byte[][] r = randomRange(rnd);
                tr.clear(r[0], r[1]);
                view.clearRange(r[0], r[1]);
                log.add(new Object[] {"clear", r[0], r[1]});
                trace.add("clearRange " + p(r[0]) + ".." + p(r[1]));
            } else if (kind < 45) {
                MutationType type = ATOMICS[rnd.nextInt(ATOMICS.length)];
                byte[] k = randomKey(rnd);
                byte[] param = type == MutationType.COMPARE_AND_CLEAR && view.map.containsKey(k) && rnd.nextBoolean()
                        ? view.map.get(k) : randomValue(rnd);
                tr.mutate(type, k, param);
                view.mutate(type, k, param);
                log.add(new Object[] {type, k, param});
                trace.add(type + " " + p(k) + " " + p(param));
            } else if (kind < 57) {
                byte[] k = rnd.nextInt(10) == 0 ? ByteArrays.EMPTY : randomKey(rnd);
                byte[] got = reader.get(k).join();
                trace.add("get " + p(k) + how + " -> " + p(got));
                assertThat(p(got)).as("get %s", p(k)).isEqualTo(p(view.map.get(k)));
            } else if (kind < 70) {
                KeySelector sel = randomSelector(rnd);
                byte[] got = reader.getKey(sel).join();
                trace.add("getKey " + sel + how + " -> " + p(got));
                assertThat(p(got)).as("getKey %s", sel).isEqualTo(p(view.resolve(sel)));
            } else if (kind < 87) {
                byte[][] r = randomRange(rnd);
                int limit = randomLimit(rnd);
                boolean reverse = rnd.nextBoolean();
                StreamingMode mode = StreamingMode.values()[rnd.nextInt(StreamingMode.values().length)];
                boolean iterate = rnd.nextBoolean();
                String what = "getRange " + p(r[0]) + ".." + p(r[1]) + " limit " + limit + (reverse ? " reverse " : " ")
                        + mode + (iterate ? " iterator" : " list") + how;
                if (mode == StreamingMode.EXACT && limit == 0) {
                    TxkvException e = errorOf(() -> collect(reader.getRange(r[0], r[1], 0, reverse, mode), iterate));
                    trace.add(what + " -> " + e.getError());
                    assertThat(e.getError()).isEqualTo(ErrorCode.RANGE_LIMITS_INVALID);
                    return;
                }
                List<KeyValue> got = collect(reader.getRange(r[0], r[1], limit, reverse, mode), iterate);
                trace.add(what + " -> " + render(got));
                assertThat(render(got)).as(what).isEqualTo(render(view.range(r[0], r[1], limit, reverse)));
            } else {
                KeySelector b = randomSelector(rnd);
                KeySelector e = randomSelector(rnd);
                int limit = randomLimit(rnd);
                boolean reverse = rnd.nextBoolean();
                StreamingMode mode = StreamingMode.values()[rnd.nextInt(StreamingMode.values().length)];
                if (mode == StreamingMode.EXACT && limit == 0) {
                    mode = StreamingMode.WANT_ALL;
                }
                boolean iterate = rnd.nextBoolean();
                String what = "getRange " + b + ".." + e + " limit " + limit + (reverse ? " reverse " : " ") + mode
                        + (iterate ? " iterator" : " list") + how;
                List<KeyValue> got = collect(reader.getRange(b, e, limit, reverse, mode), iterate);
                trace.add(what + " -> " + render(got));
                assertThat(render(got)).as(what)
                        .isEqualTo(render(view.range(view.resolve(b), view.resolve(e), limit, reverse)));
            }
        }
    }

    // ------------------------------------------------------------------ the model

    /** A sorted map of the user keyspace with FoundationDB's semantics for each operation. */
    static final class Model {
        final TreeMap<byte[], byte[]> map;

        Model(TreeMap<byte[], byte[]> base) {
            this.map = new TreeMap<>(base);
        }

        void set(byte[] k, byte[] v) {
            map.put(k, v);
        }

        void clearRange(byte[] b, byte[] e) {
            if (ORDER.compare(b, e) < 0) {
                map.subMap(b, true, e, false).clear();
            }
        }

        void mutate(MutationType type, byte[] k, byte[] param) {
            byte[] v = atomic(type, map.get(k), param, VALUE_SIZE_MAX);
            if (v == null) {
                map.remove(k);
            } else {
                map.put(k, v);
            }
        }

        void replay(Object[] op) {
            if ("set".equals(op[0])) {
                set((byte[]) op[1], (byte[]) op[2]);
            } else if ("clear".equals(op[0])) {
                clearRange((byte[]) op[1], (byte[]) op[2]);
            } else {
                mutate((MutationType) op[0], (byte[]) op[1], (byte[]) op[2]);
            }
        }

        /**
         * FoundationDB's selector resolution: start at the last key below the reference (at
         * or below with orEqual), move offset keys; before the first key is "", past the last
         * is the end of the keyspace.
         */
        byte[] resolve(KeySelector sel) {
            List<byte[]> keys = new ArrayList<>(map.keySet());
            byte[] ref = sel.getKey();
            int below = sel.orEqual() ? map.headMap(ref, true).size() : map.headMap(ref, false).size();
            long index = (long) below - 1 + sel.getOffset();
            if (index < 0) {
                return ByteArrays.EMPTY;
            }
            if (index >= keys.size()) {
                return KEYSPACE_END;
            }
            return keys.get((int) index);
        }

        List<KeyValue> range(byte[] b, byte[] e, int limit, boolean reverse) {
            List<KeyValue> out = new ArrayList<>();
            if (ORDER.compare(b, e) >= 0) {
                return out;
            }
            Map<byte[], byte[]> sub = reverse ? map.subMap(b, true, e, false).descendingMap() : map.subMap(b, true, e, false);
            for (Map.Entry<byte[], byte[]> en : sub.entrySet()) {
                if (limit > 0 && out.size() == limit) {
                    break;
                }
                out.add(new KeyValue(en.getKey(), en.getValue()));
            }
            return out;
        }

        /**
         * One atomic operation as FoundationDB (6.0+) defines it: integer operations are
         * little-endian at the parameter's length, an absent key yields the parameter.
         */
        static byte[] atomic(MutationType type, byte[] old, byte[] param, int valueSizeMax) {
            if (type == MutationType.COMPARE_AND_CLEAR) {
                return old != null && Arrays.equals(old, param) ? null : old;
            }
            if (old == null) {
                return param;
            }
            int n = param.length;
            switch (type) {
                case ADD:
                    return littleEndian(unsigned(old, n).add(unsigned(param, n)), n);
                case BIT_AND:
                case BIT_OR:
                case BIT_XOR: {
                    byte[] r = new byte[n];
                    for (int i = 0; i < n; i++) {
                        int a = i < old.length ? old[i] & 0xFF : 0;
                        int b = param[i] & 0xFF;
                        r[i] = (byte) (type == MutationType.BIT_AND ? a & b : type == MutationType.BIT_OR ? a | b : a ^ b);
                    }
                    return r;
                }
                case APPEND_IF_FITS:
                    return old.length + param.length > valueSizeMax ? old : concat(old, param);
                case MAX:
                    return unsigned(old, n).compareTo(unsigned(param, n)) >= 0 ? littleEndian(unsigned(old, n), n) : param;
                case MIN:
                    return unsigned(old, n).compareTo(unsigned(param, n)) <= 0 ? littleEndian(unsigned(old, n), n) : param;
                case BYTE_MIN:
                    return ORDER.compare(old, param) < 0 ? old : param;
                case BYTE_MAX:
                    return ORDER.compare(old, param) > 0 ? old : param;
                default:
                    throw new IllegalArgumentException(type.toString());
            }
        }

        /** The first {@code n} bytes of {@code v} (zero-extended) as an unsigned little-endian integer. */
        private static BigInteger unsigned(byte[] v, int n) {
            BigInteger r = BigInteger.ZERO;
            for (int i = Math.min(n, v.length) - 1; i >= 0; i--) {
                r = r.shiftLeft(8).or(BigInteger.valueOf(v[i] & 0xFF));
            }
            return r;
        }

        private static byte[] littleEndian(BigInteger x, int n) {
            byte[] r = new byte[n];
            for (int i = 0; i < n; i++) {
                r[i] = x.shiftRight(8 * i).byteValue();
            }
            return r;
        }
    }

    // ------------------------------------------------------------------ helpers

    private static TreeMap<byte[], byte[]> readAll(Database db) {
        List<KeyValue> rows = db.read(tr -> tr.getRange(ByteArrays.EMPTY, KEYSPACE_END).asList().join());
        TreeMap<byte[], byte[]> m = new TreeMap<>(ORDER);
        for (KeyValue kv : rows) {
            m.put(kv.getKey(), kv.getValue());
        }
        return m;
    }

    private static List<KeyValue> collect(AsyncIterable<KeyValue> range, boolean iterate) {
        if (!iterate) {
            return range.asList().join();
        }
        List<KeyValue> out = new ArrayList<>();
        AsyncIterator<KeyValue> it = range.iterator();
        while (it.hasNext()) {
            out.add(it.next());
        }
        return out;
    }

    static TxkvException errorOf(Supplier<?> action) {
        return TestSupport.errorOf(action);
    }

    /** 1 to 3 bytes of the alphabet; rarely the empty key, the first of the keyspace. */
    static byte[] randomKey(Random rnd) {
        byte[] k = new byte[rnd.nextInt(50) == 0 ? 0 : 1 + rnd.nextInt(3)];
        for (int i = 0; i < k.length; i++) {
            k[i] = ALPHABET[rnd.nextInt(ALPHABET.length)];
        }
        return k;
    }

    /**
     * Mostly 0 to 3 bytes from a few symbols, so equal values and carries are common; now and
     * then long enough for an append to reach the value size limit.
     */
    static byte[] randomValue(Random rnd) {
        byte[] v = new byte[rnd.nextInt(8) == 0 ? 8 + rnd.nextInt(VALUE_SIZE_MAX - 7) : rnd.nextInt(4)];
        for (int i = 0; i < v.length; i++) {
            int c = rnd.nextInt(4);
            v[i] = (byte) (c == 0 ? 0x00 : c == 1 ? 0x01 : c == 2 ? 0x7F : 0xFF);
        }
        return v;
    }

    static byte[] randomBytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    /** A range bound: usually a key of the alphabet, sometimes the very start or end of the keyspace. */
    static byte[] randomBound(Random rnd) {
        int c = rnd.nextInt(12);
        return c == 0 ? ByteArrays.EMPTY : c == 1 ? KEYSPACE_END : randomKey(rnd);
    }

    static byte[][] randomRange(Random rnd) {
        byte[] a = randomBound(rnd);
        byte[] b = randomBound(rnd);
        return ORDER.compare(a, b) <= 0 ? new byte[][] {a, b} : new byte[][] {b, a};
    }

    static KeySelector randomSelector(Random rnd) {
        byte[] k = randomBound(rnd);
        KeySelector base;
        switch (rnd.nextInt(4)) {
            case 0:
                base = KeySelector.firstGreaterOrEqual(k);
                break;
            case 1:
                base = KeySelector.firstGreaterThan(k);
                break;
            case 2:
                base = KeySelector.lastLessThan(k);
                break;
            default:
                base = KeySelector.lastLessOrEqual(k);
                break;
        }
        return rnd.nextInt(3) == 0 ? base.add(rnd.nextInt(7) - 3) : base;
    }

    static int randomLimit(Random rnd) {
        int[] limits = {0, 0, 1, 2, 3, 5, 10, 70, 200};
        return limits[rnd.nextInt(limits.length)];
    }

    static byte[] concat(byte[]... parts) {
        byte[] r = new byte[0];
        for (byte[] part : parts) {
            r = ByteArrays.concat(r, part);
        }
        return r;
    }

    static byte[] withOffset(byte[] body, int offset) {
        return concat(body, new byte[] {(byte) offset, (byte) (offset >>> 8), (byte) (offset >>> 16), (byte) (offset >>> 24)});
    }

    static byte[] bigEndian(long v) {
        byte[] r = new byte[8];
        for (int i = 0; i < 8; i++) {
            r[i] = (byte) (v >>> (56 - 8 * i));
        }
        return r;
    }

    static String p(byte[] b) {
        return ByteArrays.printable(b);
    }

    static List<String> render(List<KeyValue> rows) {
        List<String> out = new ArrayList<>(rows.size());
        for (KeyValue kv : rows) {
            out.add(p(kv.getKey()) + "=" + p(kv.getValue()));
        }
        return out;
    }

    static List<String> render(TreeMap<byte[], byte[]> m) {
        List<String> out = new ArrayList<>(m.size());
        for (Map.Entry<byte[], byte[]> e : m.entrySet()) {
            out.add(p(e.getKey()) + "=" + p(e.getValue()));
        }
        return out;
    }
}
