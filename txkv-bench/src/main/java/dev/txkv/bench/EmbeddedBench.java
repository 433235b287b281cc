package dev.txkv.bench;

import dev.txkv.Database;
import dev.txkv.Range;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.engine.Engine;
import dev.txkv.engine.Resolver;
import java.util.Map;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.HdrHistogram.Recorder;
import dev.txkv.bench.compare.CompareBench;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

/**
 * Embedded benchmarks: point reads, single-key write transactions, single-committer
 * latency, the resolver alone, and resident memory. Every run prints its exact settings
 * beside its figures, so results can be reproduced.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Benchmarks: embedded by default, or against a server with --cluster.",
            "Workloads: reads, writes, latency, grv, rmw, matrix (grv, reads, writes, rmw at 1, 16, 256 clients),",
            "shards (two-key commits in one shard, then across two: run it against a sharded cluster),",
            "resolver and memory (embedded only), all;",
            "compare: txkv beside etcd and PostgreSQL (the same as txkv bench-compare; options after it go there);",
            "one-client: one thread, one transaction at a time, txkv beside PostgreSQL (txkv bench-one-client);",
            "distribution: a shard of a sharded cluster moved or split under writes (options after it go there);",
            "tls-auth: a plaintext server beside one with TLS and authorization, from one warm client (options after it go there);",
            "scale-model: a discrete-event model of a sharded cluster at 1 to 200+ processes (txkv bench-scale-model)."})
public final class EmbeddedBench implements Callable<Integer> {
    @Parameters(index = "0", description = "reads | writes | latency | grv | rmw | matrix | shards | resolver | memory | all | compare | one-client | distribution | tls-auth | scale-model")
    String workload;

    /** Arguments after {@code compare}, passed on to {@link dev.txkv.bench.compare.CompareBench}. */
    @Unmatched
    List<String> unmatched = new ArrayList<>();

    @Option(names = "--threads", description = "Concurrent clients (default: reads 2, writes 256, latency 1).")
    Integer threads;

    @Option(names = "--seconds", defaultValue = "20", description = "Measured seconds (default ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--warmup", defaultValue = "10", description = "Warm-up seconds (default ${DEFAULT-VALUE}).")
    int warmupSeconds;

    @Option(names = "--keys", defaultValue = "100000", description = "Keys preloaded for reads (default ${DEFAULT-VALUE}).")
    int keys;

    @Option(names = "--reads-per-tx", defaultValue = "10", description = "Point reads per read-only transaction.")
    int readsPerTransaction;

    @Option(names = "--dir", description = "Data directory (default: a new temporary one, deleted after).")
    Path dir;

    @Option(names = "--no-fsync", description = "Turn fsync off (not durable; for comparison only).")
    boolean noFsync;

    @Option(names = "--cluster", description = "Benchmark a running server (host:port[,...]) instead of an embedded database.")
    String cluster;

    @Option(names = "--spread", description = "writes and latency: start each key with a random byte, so that the"
            + " keys reach every shard of a sharded cluster (its key ranges split the first byte). The clients share"
            + " one database over every server of --cluster, which sends each commit to its shard's leader.")
    boolean spread;

    @Option(names = "--per-server", description = "With --spread: one database per server of --cluster, the clients"
            + " dealt out over them, so that each server forwards what it does not lead (as clients that know one"
            + " server each, e.g. over HTTP).")
    boolean perServer;

    @Option(names = "--own-shard", description = "With --spread against a cluster of S servers with S shards of one"
            + " replica each: each client writes only keys of the shard its server leads (server i of --cluster holds"
            + " shard i), so nothing is forwarded: what a client that routes by itself would see.")
    boolean ownShard;

    private static final int VALUE_BYTES = 100;
    /** With --spread against several servers: one database per server, the clients dealt out over them. */
    private final List<Database> gateways = new ArrayList<>();
    private final java.util.concurrent.atomic.AtomicInteger dealt = new java.util.concurrent.atomic.AtomicInteger();
    private final ThreadLocal<Database> gateway = new ThreadLocal<>();

    /** The database this client thread uses: {@code db}, or its server's with --spread. */
    private Database mine(Database db) {
        if (gateways.isEmpty()) {
            return db;
        }
        Database d = gateway.get();
        if (d == null) {
            d = gateways.get(dealt.getAndIncrement() % gateways.size());
            gateway.set(d);
        }
        return d;
    }

    @Override
    public Integer call() throws Exception {
        if (workload.equals("scale-model")) {
            return new CommandLine(new dev.txkv.bench.scale.ScaleModelCommand()).execute(unmatched.toArray(new String[0]));
        }
        if (workload.equals("compare")) {
            return new CommandLine(new CompareBench()).execute(unmatched.toArray(new String[0]));
        }
        if (workload.equals("distribution")) {
            // --cluster, --threads and --warmup are this command's options too: pass them on.
            List<String> args = new ArrayList<>(unmatched);
            if (cluster != null) {
                args.addAll(List.of("--cluster", cluster));
            }
            if (threads != null) {
                args.addAll(List.of("--threads", threads.toString()));
            }
            args.addAll(List.of("--warmup", Integer.toString(warmupSeconds)));
            return new CommandLine(new DistributionBench()).execute(args.toArray(new String[0]));
        }
        if (workload.equals("tls-auth")) {
            // --threads, --warmup and --keys are this command's options too: pass them on.
            List<String> args = new ArrayList<>(unmatched);
            if (threads != null) {
                args.addAll(List.of("--threads", threads.toString()));
            }
            args.addAll(List.of("--warmup", Integer.toString(warmupSeconds), "--keys", Integer.toString(keys)));
            return new CommandLine(new SecureBesidePlainBench()).execute(args.toArray(new String[0]));
        }
        if (workload.equals("one-client")) {
            return new CommandLine(new dev.txkv.bench.compare.OneClientBench()).execute(unmatched.toArray(new String[0]));
        }
        if (!unmatched.isEmpty()) {
            System.err.println("Unknown arguments: " + String.join(" ", unmatched));
            return 2;
        }
        switch (workload) {
            case "reads":
                return withDatabase(db -> reads(db, threads == null ? 2 : threads));
            case "writes":
                return withDatabase(db -> writes(db, threads == null ? 256 : threads));
            case "latency":
                return withDatabase(db -> writes(db, threads == null ? 1 : threads));
            case "grv":
                return withDatabase(db -> readVersions(db, threads == null ? 16 : threads));
            case "rmw":
                return withDatabase(db -> readModifyWrite(db, threads == null ? 16 : threads));
            case "matrix":
                return withDatabase(this::matrix);
            case "resolver":
                resolver();
                return 0;
            case "memory":
                return withDatabase(this::memory);
            case "shards":
                return withDatabase(db -> {
                    shardWrites(db, threads == null ? 1 : threads, false);
                    shardWrites(db, threads == null ? 1 : threads, true);
                });
            case "all":
                withDatabase(db -> reads(db, 2));
                withDatabase(db -> writes(db, 256));
                withDatabase(db -> writes(db, 1));
                resolver();
                return 0;
            default:
                System.err.println("Unknown workload '" + workload + "': use reads, writes, latency, resolver, memory or all");
                return 2;
        }
    }

    private interface Body {
        void run(Database db) throws Exception;
    }

    private int withDatabase(Body body) throws Exception {
        if (cluster != null) {
            try (Database db = Txkv.open(cluster)) {
                if (spread && (perServer || ownShard)) {
                    // Each server of a sharded cluster serves every key: spread the clients over them.
                    for (String server : cluster.split(",")) {
                        gateways.add(Txkv.open(server.trim()));
                    }
                }
                body.run(db);
            } finally {
                gateways.forEach(Database::close);
                gateways.clear();
            }
            return 0;
        }
        Path data = dir != null ? dir : Files.createTempDirectory("txkv-bench");
        TxkvConfig config = new TxkvConfig().durable(!noFsync);
        Engine engine = Engine.open(data, config);
        try (Database db = Txkv.open(engine, config)) {
            body.run(db);
            dev.txkv.engine.EngineCounters stats = engine.counters();
            long batches = Math.max(1, stats.commitBatches());
            System.out.printf("  engine: %,d commits in %,d batches (%.1f per batch), %.3f ms per batch write+fsync%n",
                    stats.commits(), batches, stats.commits() / (double) batches,
                    stats.commitWriteNanosTotal() / 1e6 / batches);
        } finally {
            if (dir == null) {
                deleteTree(data);
            }
        }
        return 0;
    }

    /** "k" and 15 decimal digits: 16-byte keys that sort in numeric order. */
    static byte[] key(long i) {
        byte[] k = new byte[16];
        k[0] = 'k';
        long v = i;
        for (int p = 15; p >= 1; p--) {
            k[p] = (byte) ('0' + v % 10);
            v /= 10;
        }
        return k;
    }

    private void load(Database db, int count) {
        byte[] value = new byte[VALUE_BYTES];
        long start = System.nanoTime();
        for (int i = 0; i < count; i += 1000) {
            int from = i;
            db.run(tr -> {
                for (int j = from; j < Math.min(from + 1000, count); j++) {
                    tr.set(key(j), value);
                }
                return null;
            });
            if ((i / 1000) % 100 == 99) {
                System.out.printf("  loaded %,d keys%n", i + 1000);
            }
        }
        System.out.printf("  loaded %,d keys of %d-byte values in %.1f s%n", count, VALUE_BYTES,
                (System.nanoTime() - start) / 1e9);
    }

    private void reads(Database db, int clients) throws Exception {
        reads(db, clients, true);
    }

    private void reads(Database db, int clients, boolean loadFirst) throws Exception {
        System.out.printf("reads: %d clients, %d point reads per read-only transaction, %,d keys, %d s (+%d s warm-up)%n",
                clients, readsPerTransaction, keys, seconds, warmupSeconds);
        if (loadFirst) {
            load(db, keys);
        }
        LongAdder reads = new LongAdder();
        Recorder latency = new Recorder(3);
        runClients(clients, () -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            long start = System.nanoTime();
            db.read(tr -> {
                for (int i = 0; i < readsPerTransaction; i++) {
                    tr.get(key(r.nextInt(keys))).join();
                }
                return null;
            });
            latency.recordValue((System.nanoTime() - start) / 1000);
            reads.add(readsPerTransaction);
        }, reads, latency, "reads/s", "read-only transaction latency");
    }

    private void writes(Database db, int clients) throws Exception {
        System.out.printf("writes: %d concurrent committers, one %d-byte key set per transaction%s, fsync %s, %d s (+%d s warm-up)%n",
                clients, VALUE_BYTES, spread ? " (keys spread over the first byte)" : "", noFsync ? "off" : "on", seconds,
                warmupSeconds);
        LongAdder commits = new LongAdder();
        Recorder latency = new Recorder(3);
        byte[] value = new byte[VALUE_BYTES];
        runClients(clients, () -> {
            long k = ThreadLocalRandom.current().nextLong(10_000_000);
            Database d = mine(db);
            int first = ThreadLocalRandom.current().nextInt(255);
            if (ownShard && !gateways.isEmpty()) {
                // Shard i of an even split into S holds the first bytes [256 i / S, 256 (i + 1) / S).
                int n = gateways.size();
                int i = gateways.indexOf(d);
                first = 256 * i / n + ThreadLocalRandom.current().nextInt(Math.max(1, 256 / n - 1));
            }
            byte[] key = spread ? dev.txkv.ByteArrays.concat(new byte[] {(byte) first}, key(k)) : key(k);
            long start = System.nanoTime();
            d.run(tr -> {
                tr.set(key, value);
                return null;
            });
            latency.recordValue((System.nanoTime() - start) / 1000);
            commits.increment();
        }, commits, latency, "commits/s", "commit latency");
    }

    /**
     * Two-key write transactions whose keys lie in one shard (first bytes 0x10 and 0x11) or in
     * two (0x10 and 0x90: shards 0 and 2 of an even split into 4, shards 0 and 1 of 2). Against
     * an unsharded cluster both are the same single-group commit: the baseline.
     */
    private void shardWrites(Database db, int clients, boolean crossShard) throws Exception {
        byte second = crossShard ? (byte) 0x90 : (byte) 0x11;
        System.out.printf("shards: %d committers, two %d-byte keys per transaction under first bytes 0x10 and 0x%02x"
                + " (%s), %d s (+%d s warm-up)%n", clients, VALUE_BYTES, second & 0xff,
                crossShard ? "two shards of 2 or 4" : "one shard", seconds, warmupSeconds);
        LongAdder commits = new LongAdder();
        Recorder latency = new Recorder(3);
        byte[] value = new byte[VALUE_BYTES];
        runClients(clients, () -> {
            long k = ThreadLocalRandom.current().nextLong(10_000_000);
            long start = System.nanoTime();
            db.run(tr -> {
                tr.set(dev.txkv.ByteArrays.concat(new byte[] {0x10}, key(k)), value);
                tr.set(dev.txkv.ByteArrays.concat(new byte[] {second}, key(k)), value);
                return null;
            });
            latency.recordValue((System.nanoTime() - start) / 1000);
            commits.increment();
        }, commits, latency, "commits/s", (crossShard ? "cross-shard" : "single-shard") + " commit latency");
    }

    private void readVersions(Database db, int clients) throws Exception {
        System.out.printf("grv: %d clients, one read version per transaction, %d s (+%d s warm-up)%n", clients, seconds,
                warmupSeconds);
        LongAdder count = new LongAdder();
        Recorder latency = new Recorder(3);
        runClients(clients, () -> {
            long start = System.nanoTime();
            try (dev.txkv.Transaction tr = db.createTransaction()) {
                tr.getReadVersion().join();
            }
            latency.recordValue((System.nanoTime() - start) / 1000);
            count.increment();
        }, count, latency, "read versions/s", "read version latency");
    }

    /** Ten keys read and rewritten in one transaction, over 100,000 keys: little contention. */
    private void readModifyWrite(Database db, int clients) throws Exception {
        System.out.printf("rmw: %d clients, 10-key read-modify-write transactions over %,d keys, %d s (+%d s warm-up)%n",
                clients, keys, seconds, warmupSeconds);
        LongAdder commits = new LongAdder();
        Recorder latency = new Recorder(3);
        byte[] value = new byte[VALUE_BYTES];
        runClients(clients, () -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            long start = System.nanoTime();
            db.run(tr -> {
                List<java.util.concurrent.CompletableFuture<byte[]>> reads = new ArrayList<>(10);
                byte[][] ks = new byte[10][];
                for (int i = 0; i < 10; i++) {
                    ks[i] = key(r.nextInt(keys));
                    reads.add(tr.get(ks[i]));
                }
                for (int i = 0; i < 10; i++) {
                    byte[] old = reads.get(i).join();
                    byte[] next = old == null ? value.clone() : old.clone();
                    next[0]++;
                    tr.set(ks[i], next);
                }
                return null;
            });
            latency.recordValue((System.nanoTime() - start) / 1000);
            commits.increment();
        }, commits, latency, "commits/s", "10-key read-modify-write latency");
    }

    /** Every network workload at 1, 16 and 256 clients; each RESULT line names its settings. */
    private void matrix(Database db) throws Exception {
        load(db, keys);
        for (int clients : new int[] {1, 16, 256}) {
            readVersions(db, clients);
            reads(db, clients, false);
            writes(db, clients);
            readModifyWrite(db, clients);
        }
    }

    private interface Op {
        void run() throws Exception;
    }

    private void runClients(int clients, Op op, LongAdder counter, Recorder latency, String unit, String latencyName)
            throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            Thread t = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        op.run();
                    } catch (Exception e) {
                        System.err.println("operation failed: " + e);
                    }
                }
            }, "bench-client-" + i);
            t.setDaemon(true);
            t.start();
            workers.add(t);
        }
        Thread.sleep(warmupSeconds * 1000L);
        counter.reset();
        latency.reset();
        long start = System.nanoTime();
        long before = 0;
        for (int s = 1; s <= seconds; s++) {
            Thread.sleep(1000);
            long now = counter.sum();
            System.out.printf("  %3d s: %,12d %s%n", s, now - before, unit);
            before = now;
        }
        long total = counter.sum();
        double elapsed = (System.nanoTime() - start) / 1e9;
        var h = latency.getIntervalHistogram();
        stop.set(true);
        for (Thread t : workers) {
            t.join(10_000);
        }
        System.out.printf("RESULT %s%d clients: %,.0f %s; %s p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms%n",
                cluster == null ? "embedded, " : "server " + cluster + ", ", clients, total / elapsed, unit, latencyName, h.getValueAtPercentile(50) / 1000.0,
                h.getValueAtPercentile(99) / 1000.0, h.getValueAtPercentile(99.9) / 1000.0, h.getMaxValue() / 1000.0);
    }

    /** The resolver alone: checks of random read ranges against a window of random writes. */
    private void resolver() {
        int writesInWindow = 100_000;
        System.out.printf("resolver: one thread, %,d write ranges in the window, 16-byte keys, %d s%n", writesInWindow,
                seconds);
        Random r = new Random(42);
        Resolver resolver = new Resolver(0);
        for (int i = 0; i < writesInWindow; i++) {
            byte[] k = randomKey(r);
            resolver.addWrite(k, dev.txkv.ByteArrays.keyAfter(k), 1 + i);
        }
        List<Range> reads = new ArrayList<>();
        for (int i = 0; i < 4096; i++) {
            byte[] k = randomKey(r);
            reads.add(new Range(k, dev.txkv.ByteArrays.keyAfter(k)));
        }
        long warmEnd = System.nanoTime() + warmupSeconds * 1_000_000_000L;
        while (System.nanoTime() < warmEnd) {
            resolver.conflicts(reads, writesInWindow / 2, true);
        }
        long checks = 0;
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            // Report all, so every range is checked rather than stopping at the first conflict.
            resolver.conflicts(reads, writesInWindow / 2, true);
            checks += reads.size();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        System.out.printf("RESULT %,.0f conflict-range checks/s%n", checks / elapsed);
        long version = writesInWindow;
        long writes = 0;
        start = System.nanoTime();
        end = start + Math.max(1, seconds / 4) * 1_000_000_000L;
        while (System.nanoTime() < end) {
            for (int j = 0; j < 1024; j++) {
                byte[] w = randomKey(r);
                resolver.addWrite(w, dev.txkv.ByteArrays.keyAfter(w), ++version);
            }
            writes += 1024;
        }
        elapsed = (System.nanoTime() - start) / 1e9;
        System.out.printf("RESULT %,.0f write ranges added/s (window grows from %,d)%n", writes / elapsed, writesInWindow);
    }

    private static byte[] randomKey(Random r) {
        return ByteBuffer.allocate(16).putLong(r.nextLong()).putLong(r.nextLong()).array();
    }

    private void memory(Database db) throws Exception {
        int count = keys == 100_000 ? 1_000_000 : keys;
        System.out.printf("memory: %,d keys of %d-byte values%n", count, VALUE_BYTES);
        long before = rssKb();
        load(db, count);
        System.gc();
        Thread.sleep(2000);
        long after = rssKb();
        long heapUsed = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        System.out.printf("RESULT resident memory %,d MiB after loading (was %,d MiB before); Java heap used %,d MiB%n",
                after / 1024, before / 1024, heapUsed >> 20);
    }

    private static long rssKb() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    private static void deleteTree(Path p) throws java.io.IOException {
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
