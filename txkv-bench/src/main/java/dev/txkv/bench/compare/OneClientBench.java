package dev.txkv.bench.compare;

import dev.txkv.Database;
import dev.txkv.Transaction;
import dev.txkv.Txkv;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import site.ycsb.ByteIterator;
import site.ycsb.DB;
import site.ycsb.RandomByteIterator;

/**
 * One client, one transaction at a time: txkv (one server), txkv ×3 (a 3-node cluster) and
 * PostgreSQL 15 (SERIALIZABLE, fsync on) side by side, interleaved round by round. Per system
 * and round: bank transfers/s from one thread over 1,000 accounts, YCSB C read p50 and YCSB A
 * update p50 (the comparison's YCSB bindings driven from one thread), a one-key write commit
 * p50, and the cold start of a fresh client JVM (transfers per 250 ms over its first seconds).
 * For txkv also the breakdown of one transfer made step by step (read version, get, get,
 * commit) against the server's own timing of each call, and the CPU per transfer.
 */
@Command(name = "bench-one-client", mixinStandardHelpOptions = true,
        description = {"One client thread, one transaction at a time: txkv, a 3-node txkv cluster and PostgreSQL",
            "side by side (bank transfers, YCSB C reads, YCSB A updates, one-key commits, cold start of a new JVM),",
            "interleaved over rounds; medians printed. Also: txkv bench one-client."})
public final class OneClientBench implements Callable<Integer> {
    @Option(names = "--rounds", defaultValue = "3", description = "Interleaved rounds; medians are reported (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--seconds", defaultValue = "5", description = "Measured seconds per figure (default ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--warmup", defaultValue = "2", description = "Unmeasured seconds before each figure (default ${DEFAULT-VALUE}).")
    int warmupSeconds;

    @Option(names = "--cold-seconds", defaultValue = "5", description = "Seconds of the cold-start curve (default ${DEFAULT-VALUE}).")
    int coldSeconds;

    @Option(names = "--accounts", defaultValue = "1000", description = "Bank accounts (default ${DEFAULT-VALUE}).")
    int accounts;

    @Option(names = "--records", defaultValue = "2000", description = "YCSB records of 10 fields × 100 bytes (default ${DEFAULT-VALUE}).")
    int records;

    @Option(names = "--systems", split = ",", description = "Of: txkv, txkv3, postgresql (default: all).")
    List<String> systemsChosen;

    @Option(names = "--jar", description = "txkv.jar to run the servers and cold clients from (default: the running jar).")
    Path jar;

    static final String TXKV = CompareBench.TXKV;
    static final String TXKV3 = CompareBench.TXKV_REPLICATED;
    static final String POSTGRES = CompareBench.POSTGRES;
    private static final String TABLE = "usertable";
    private static final int BUCKET_MS = 250;

    /** One system under test and what its figures need. */
    private static final class Sut {
        final String name;
        final String endpoint;
        final List<String> processes;
        final int httpPort;
        BankStore bank;
        DB ycsb;
        Database db;
        Connection pg;
        final Map<String, List<Double>> figures = new LinkedHashMap<>();

        Sut(String name, String endpoint, List<String> processes, int httpPort) {
            this.name = name;
            this.endpoint = endpoint;
            this.processes = processes;
            this.httpPort = httpPort;
        }

        boolean isTxkv() {
            return !name.equals(POSTGRES);
        }

        void add(String figure, double value) {
            figures.computeIfAbsent(figure, f -> new ArrayList<>()).add(value);
        }
    }

    @Override
    public Integer call() throws Exception {
        Path jarPath = jar != null ? jar : runningJar();
        if (jarPath == null || !Files.isRegularFile(jarPath)) {
            System.err.println("cannot find txkv.jar: run through bin/txkv or pass --jar");
            return 2;
        }
        List<String> systems = systems();
        String java = ProcessHandle.current().info().command().orElse("java");
        if (systems.contains(POSTGRES)) {
            Peers.installMissing();
        }
        System.out.printf("one client: %s; %d rounds, %d s per figure after %d s warm-up; load average %s%n",
                String.join(", ", systems), rounds, seconds, warmupSeconds, Report.loadAverage());
        try (Peers peers = new Peers()) {
            double fsyncMs = fsyncP50Ms(peers.directory());
            System.out.printf("fsync of this disk (4 KiB appended, then force): p50 %.3f ms%n", fsyncMs);
            List<Sut> suts = new ArrayList<>();
            for (String system : systems) {
                switch (system) {
                    case TXKV -> {
                        int http = Peers.freePort();
                        suts.add(new Sut(TXKV, peers.startTxkv(java, jarPath, http), List.of("txkv"), http));
                    }
                    case TXKV3 -> suts.add(new Sut(TXKV3, peers.startTxkvCluster(java, jarPath, 3),
                            List.of("txkv-n1", "txkv-n2", "txkv-n3"), 0));
                    default -> suts.add(new Sut(POSTGRES, peers.startPostgres(32), List.of("postgres"), 0));
                }
            }
            try {
                for (Sut s : suts) {
                    open(s);
                    load(s);
                }
                // Unmeasured: a round that JIT-compiles the servers and this JVM's client code.
                System.out.println("warm-up round (not reported)");
                for (Sut s : suts) {
                    measureRound(s, peers, java, jarPath, false);
                }
                for (int round = 1; round <= rounds; round++) {
                    System.out.printf("round %d%n", round);
                    for (Sut s : suts) {
                        measureRound(s, peers, java, jarPath, true);
                    }
                }
            } finally {
                for (Sut s : suts) {
                    close(s);
                }
            }
            System.out.println();
            System.out.print(table(suts, fsyncMs));
        }
        return 0;
    }

    List<String> systems() {
        if (systemsChosen == null || systemsChosen.isEmpty()) {
            return List.of(TXKV, TXKV3, POSTGRES);
        }
        List<String> out = new ArrayList<>();
        for (String n : systemsChosen) {
            switch (n.strip().toLowerCase(java.util.Locale.ROOT)) {
                case "txkv" -> out.add(TXKV);
                case "txkv3" -> out.add(TXKV3);
                case "postgresql", "postgres" -> out.add(POSTGRES);
                default -> throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "--systems: unknown system '" + n + "'; choose from txkv, txkv3, postgresql");
            }
        }
        return out;
    }

    private void open(Sut s) throws Exception {
        Properties p = new Properties();
        if (s.isTxkv()) {
            s.db = Txkv.open(s.endpoint);
            s.bank = new TxkvBank(s.name, s.db, false);
            s.ycsb = new TxkvYcsbClient(s.db);
        } else {
            s.bank = new PostgresBank(s.endpoint);
            s.pg = Postgres.connect(s.endpoint);
            try (var st = s.pg.createStatement()) {
                st.execute("DROP TABLE IF EXISTS onekey");
                st.execute("CREATE TABLE onekey (id integer PRIMARY KEY, v bytea NOT NULL)");
                st.execute("INSERT INTO onekey SELECT i, '\\x00' FROM generate_series(0, 999) i");
            }
            s.pg.commit();
            p.setProperty("postgres.url", s.endpoint);
            s.ycsb = new PostgresYcsbClient();
        }
        s.ycsb.setProperties(p);
        s.ycsb.init();
    }

    private void close(Sut s) throws Exception {
        if (s.ycsb != null) {
            s.ycsb.cleanup();
        }
        if (s.bank != null) {
            s.bank.close();
        }
        if (s.pg != null) {
            s.pg.close();
        }
        if (s.db != null) {
            s.db.close();
        }
    }

    private void load(Sut s) {
        for (int i = 0; i < records; i++) {
            s.ycsb.insert(TABLE, recordKey(i), record(10));
        }
    }

    private static String recordKey(int i) {
        return "user" + i;
    }

    private static Map<String, ByteIterator> record(int fields) {
        Map<String, ByteIterator> values = new HashMap<>();
        int first = fields == 10 ? 0 : ThreadLocalRandom.current().nextInt(10);
        for (int f = 0; f < fields; f++) {
            values.put("field" + (first + f), new RandomByteIterator(100));
        }
        return values;
    }

    private void measureRound(Sut s, Peers peers, String java, Path jarPath, boolean report) throws Exception {
        long warmMs = warmupSeconds * 1000L;
        long measureMs = seconds * 1000L;
        if (!report) {
            BankWorkload.run(s.bank, accounts, 1, 0, measureMs + warmMs);
            loop(0, measureMs, null, () -> s.ycsb.read(TABLE, recordKey(random(records)), null, new HashMap<>()));
            loop(0, measureMs, null, () -> s.ycsb.update(TABLE, recordKey(random(records)), record(1)));
            byte[] value = new byte[100];
            loop(0, measureMs, null, () -> oneKeyWrite(s, random(1000), value));
            return;
        }
        Duration serverCpu0 = peers.cpuTime(s.processes);
        long clientCpu0 = processCpuNanos();
        BankWorkload.Result bank = BankWorkload.run(s.bank, accounts, 1, warmMs, measureMs);
        long transfers = bank.commits();
        // CPU over warm-up and measurement alike; transfers are counted only in the measurement.
        double perTransfer = transfers * (warmMs + measureMs) / (double) measureMs;
        double clientCpuUs = (processCpuNanos() - clientCpu0) / 1e3 / perTransfer;
        double serverCpuUs = peers.cpuTime(s.processes).minus(serverCpu0).toNanos() / 1e3 / perTransfer;
        s.add("bank/s", bank.commitsPerSecond());
        s.add("bank p50", bank.p50Ms());
        s.add("client cpu us", clientCpuUs);
        s.add("server cpu us", serverCpuUs);

        Histogram reads = new Histogram(3);
        loop(warmMs, measureMs, reads, () -> s.ycsb.read(TABLE, recordKey(random(records)), null, new HashMap<>()));
        s.add("C read p50", reads.getValueAtPercentile(50) / 1000.0);

        Histogram aReads = new Histogram(3);
        Histogram aUpdates = new Histogram(3);
        loop(warmMs, measureMs, null, new Runnable() {
            @Override
            public void run() {
                long t0 = System.nanoTime();
                if (ThreadLocalRandom.current().nextBoolean()) {
                    s.ycsb.read(TABLE, recordKey(random(records)), null, new HashMap<>());
                    aReads.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
                } else {
                    s.ycsb.update(TABLE, recordKey(random(records)), record(1));
                    aUpdates.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
                }
            }
        });
        s.add("A read p50", aReads.getValueAtPercentile(50) / 1000.0);
        s.add("A update p50", aUpdates.getValueAtPercentile(50) / 1000.0);

        Histogram commits = new Histogram(3);
        byte[] value = new byte[100];
        loop(warmMs, measureMs, commits, () -> oneKeyWrite(s, random(1000), value));
        s.add("commit p50", commits.getValueAtPercentile(50) / 1000.0);

        if (s.isTxkv()) {
            breakdown(s, warmMs, measureMs);
        }

        double[] cold = coldStart(s, java, jarPath);
        double warm = bank.commitsPerSecond();
        int reach = -1;
        for (int b = 0; b < cold.length; b++) {
            if (cold[b] * 1000.0 / BUCKET_MS >= 0.8 * warm) {
                reach = b;
                break;
            }
        }
        double firstTwo = 0;
        for (int b = 0; b < Math.min(cold.length, 2000 / BUCKET_MS); b++) {
            firstTwo += cold[b];
        }
        s.add("cold 80% s", reach < 0 ? Double.NaN : (reach + 1) * BUCKET_MS / 1000.0);
        s.add("cold 0-2s /s", firstTwo / 2.0);

        System.out.printf("  %-10s bank %,6.0f/s p50 %.3f ms (client %.0f us, server %.0f us CPU a transfer)  C read p50 %.3f  "
                        + "A read p50 %.3f update p50 %.3f  commit p50 %.3f ms  cold: 80%% of warm at %s, 0-2 s %,.0f/s  per %d ms: %s%n",
                s.name, bank.commitsPerSecond(), bank.p50Ms(), clientCpuUs, serverCpuUs,
                reads.getValueAtPercentile(50) / 1000.0, aReads.getValueAtPercentile(50) / 1000.0,
                aUpdates.getValueAtPercentile(50) / 1000.0, commits.getValueAtPercentile(50) / 1000.0,
                reach < 0 ? "never" : (reach + 1) * BUCKET_MS + " ms", firstTwo / 2.0, BUCKET_MS, Arrays.toString(cold));
    }

    private static int random(int bound) {
        return ThreadLocalRandom.current().nextInt(bound);
    }

    private static void oneKeyWrite(Sut s, int id, byte[] value) {
        if (s.isTxkv()) {
            byte[] key = ("onekey/" + id).getBytes(StandardCharsets.UTF_8);
            s.db.run(tr -> {
                tr.set(key, value);
                return null;
            });
            return;
        }
        try {
            Postgres.transact(s.pg, c -> {
                try (PreparedStatement update = c.prepareStatement("UPDATE onekey SET v = ? WHERE id = ?")) {
                    update.setBytes(1, value);
                    update.setInt(2, id);
                    return update.executeUpdate();
                }
            }, null);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code op} for warm-up then measurement; records each call in {@code latency} (µs) if given. */
    private static void loop(long warmMs, long measureMs, Histogram latency, Runnable op) {
        long start = System.nanoTime();
        long measureFrom = start + TimeUnit.MILLISECONDS.toNanos(warmMs);
        long stopAt = measureFrom + TimeUnit.MILLISECONDS.toNanos(measureMs);
        while (true) {
            long t0 = System.nanoTime();
            if (t0 >= stopAt) {
                return;
            }
            op.run();
            if (latency != null && t0 >= measureFrom) {
                latency.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
            }
        }
    }

    /**
     * One transfer made call by call (read version, get, get, commit), each timed at the client,
     * beside the server's mean time for the same calls (its Prometheus timers, where the server
     * has an HTTP port): the difference is the network, gRPC and the hand-offs between threads.
     */
    private void breakdown(Sut s, long warmMs, long measureMs) throws Exception {
        Histogram grv = new Histogram(3);
        Histogram get1 = new Histogram(3);
        Histogram get2 = new Histogram(3);
        Histogram commit = new Histogram(3);
        Histogram reads = new Histogram(3);
        Histogram commitAfterReads = new Histogram(3);
        Map<String, Double> before = null;
        long[] measuredFrom = {System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(warmMs)};
        boolean[] scraped = {false};
        Map<String, Double>[] first = new Map[1];
        loop(warmMs, measureMs, null, () -> {
            long now = System.nanoTime();
            if (!scraped[0] && now >= measuredFrom[0]) {
                scraped[0] = true;
                first[0] = scrape(s);
            }
            boolean measuring = scraped[0];
            int a = random(accounts);
            int b = (a + 1 + random(accounts - 1)) % accounts;
            // Every other transfer as the bank writes it: both gets issued, then waited for.
            if (random(2) == 0) {
                try (Transaction tr = s.db.createTransaction()) {
                    long t0 = System.nanoTime();
                    var fa = tr.get(BankWorkload.accountKey(a));
                    var fb = tr.get(BankWorkload.accountKey(b));
                    byte[] va = fa.join();
                    byte[] vb = fb.join();
                    long t1 = System.nanoTime();
                    tr.set(BankWorkload.accountKey(a), BankWorkload.amount(BankWorkload.amountOf(va) - 1));
                    tr.set(BankWorkload.accountKey(b), BankWorkload.amount(BankWorkload.amountOf(vb) + 1));
                    tr.commit().join();
                    long t2 = System.nanoTime();
                    if (measuring) {
                        reads.recordValue(Math.max(1, (t1 - t0) / 1000));
                        commitAfterReads.recordValue(Math.max(1, (t2 - t1) / 1000));
                    }
                } catch (RuntimeException conflict) {
                    // A lone client does not conflict.
                }
                return;
            }
            try (Transaction tr = s.db.createTransaction()) {
                long t0 = System.nanoTime();
                tr.getReadVersion().join();
                long t1 = System.nanoTime();
                byte[] va = tr.get(BankWorkload.accountKey(a)).join();
                long t2 = System.nanoTime();
                byte[] vb = tr.get(BankWorkload.accountKey(b)).join();
                long t3 = System.nanoTime();
                tr.set(BankWorkload.accountKey(a), BankWorkload.amount(BankWorkload.amountOf(va) - 1));
                tr.set(BankWorkload.accountKey(b), BankWorkload.amount(BankWorkload.amountOf(vb) + 1));
                tr.commit().join();
                long t4 = System.nanoTime();
                if (measuring) {
                    grv.recordValue(Math.max(1, (t1 - t0) / 1000));
                    get1.recordValue(Math.max(1, (t2 - t1) / 1000));
                    get2.recordValue(Math.max(1, (t3 - t2) / 1000));
                    commit.recordValue(Math.max(1, (t4 - t3) / 1000));
                }
            } catch (RuntimeException conflict) {
                // A lone client does not conflict; anything else shows in the counts.
            }
        });
        before = first[0];
        Map<String, Double> after = scrape(s);
        s.add("bd grv", grv.getValueAtPercentile(50) / 1000.0);
        s.add("bd get", get1.getValueAtPercentile(50) / 1000.0);
        s.add("bd get2", get2.getValueAtPercentile(50) / 1000.0);
        s.add("bd commit", commit.getValueAtPercentile(50) / 1000.0);
        s.add("bd 2 gets", reads.getValueAtPercentile(50) / 1000.0);
        s.add("bd then commit", commitAfterReads.getValueAtPercentile(50) / 1000.0);
        StringBuilder server = new StringBuilder();
        if (before != null && after != null) {
            for (String m : List.of("grv", "get", "commit")) {
                double n = after.getOrDefault(m + "_count", 0.0) - before.getOrDefault(m + "_count", 0.0);
                double sum = after.getOrDefault(m + "_sum", 0.0) - before.getOrDefault(m + "_sum", 0.0);
                if (n > 0) {
                    s.add("srv " + m, sum / n * 1000.0);
                    server.append(String.format("  server %s mean %.3f ms", m, sum / n * 1000.0));
                }
            }
            double batches = after.getOrDefault("batches", 0.0) - before.getOrDefault("batches", 0.0);
            double commits = after.getOrDefault("commit_count", 0.0) - before.getOrDefault("commit_count", 0.0);
            if (commits > 0) {
                server.append(String.format("  (%.2f commit batches, one fsync each, per commit)", batches / commits));
            }
        }
        System.out.printf("  %-10s transfer call by call, p50: read version %.3f, get %.3f, get %.3f, commit %.3f ms%s; "
                        + "as the bank makes it: both gets %.3f, then commit %.3f ms%n",
                s.name, grv.getValueAtPercentile(50) / 1000.0, get1.getValueAtPercentile(50) / 1000.0,
                get2.getValueAtPercentile(50) / 1000.0, commit.getValueAtPercentile(50) / 1000.0, server,
                reads.getValueAtPercentile(50) / 1000.0, commitAfterReads.getValueAtPercentile(50) / 1000.0);
    }

    /** The server's call timers (sum in seconds, count) from its Prometheus page, or null. */
    private static Map<String, Double> scrape(Sut s) {
        if (s.httpPort == 0) {
            return null;
        }
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + s.httpPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            Map<String, Double> out = new HashMap<>();
            for (String line : r.body().split("\n")) {
                String name = null;
                if (line.startsWith("txkv_grv_latency_seconds_")) {
                    name = "grv";
                } else if (line.startsWith("txkv_read_latency_seconds_") && line.contains("operation=\"get\"")) {
                    name = "get";
                } else if (line.startsWith("txkv_commit_latency_seconds_")) {
                    name = "commit";
                } else if (line.startsWith("txkv_commit_batches_total")) {
                    out.put("batches", Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
                    continue;
                }
                if (name == null) {
                    continue;
                }
                String metric = line.substring(0, line.indexOf(line.contains("{") ? '{' : ' '));
                double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                if (metric.endsWith("_sum")) {
                    out.put(name + "_sum", value);
                } else if (metric.endsWith("_count")) {
                    out.put(name + "_count", value);
                }
            }
            return out;
        } catch (IOException | InterruptedException | RuntimeException e) {
            System.err.println("  metrics of " + s.name + ": " + e);
            return null;
        }
    }

    /** Transfers per {@value #BUCKET_MS} ms bucket of a fresh client JVM, from its main() on. */
    private double[] coldStart(Sut s, String java, Path jarPath) throws IOException, InterruptedException {
        List<String> command = List.of(java, "-cp", jarPath.toString(), ColdStartClient.class.getName(),
                s.isTxkv() ? "txkv" : "postgresql", s.endpoint, Integer.toString(coldSeconds), Integer.toString(accounts));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String result = null;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith("BUCKETS ")) {
                    result = line.substring("BUCKETS ".length());
                } else {
                    System.out.println("    cold client: " + line);
                }
            }
        }
        p.waitFor(coldSeconds + 60L, TimeUnit.SECONDS);
        if (result == null) {
            return new double[0];
        }
        return Arrays.stream(result.trim().split(" ")).mapToDouble(Double::parseDouble).toArray();
    }

    /** The process's CPU time so far (every thread). */
    private static long processCpuNanos() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        return 0;
    }

    /**
     * p50 of appending 4 KiB to a file and forcing it to disk (fdatasync), in the benchmark's
     * temporary directory: the floor of a durable commit on this machine.
     */
    static double fsyncP50Ms(Path dir) throws IOException {
        Path file = dir.resolve("fsync-probe");
        Histogram h = new Histogram(3);
        ByteBuffer block = ByteBuffer.allocate(4096);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            for (int i = 0; i < 1_500; i++) {
                block.clear();
                long t0 = System.nanoTime();
                ch.write(block);
                ch.force(false);
                if (i >= 500) {
                    h.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
                }
            }
        } finally {
            Files.deleteIfExists(file);
        }
        return h.getValueAtPercentile(50) / 1000.0;
    }

    private static double median(List<Double> values) {
        if (values == null || values.isEmpty()) {
            return Double.NaN;
        }
        // NaN (a cold start that never reached 80 %) sorts above every number.
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String number(double x) {
        return Double.isNaN(x) ? "never" : String.format("%.3f", x);
    }

    private String table(List<Sut> suts, double fsyncMs) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("medians of %d rounds (each round's figures in brackets); fsync p50 %.3f ms%n", rounds, fsyncMs));
        List<String> figures = new ArrayList<>();
        for (Sut s : suts) {
            for (String f : s.figures.keySet()) {
                if (!figures.contains(f)) {
                    figures.add(f);
                }
            }
        }
        out.append(String.format("%-14s", "figure"));
        for (Sut s : suts) {
            out.append(String.format(" | %-34s", s.name));
        }
        out.append('\n');
        for (String f : figures) {
            out.append(String.format("%-14s", f));
            for (Sut s : suts) {
                List<Double> v = s.figures.get(f);
                String cell = v == null ? "-" : String.format("%s %s", number(median(v)),
                        v.stream().map(OneClientBench::number).toList());
                out.append(String.format(" | %-34s", cell));
            }
            out.append('\n');
        }
        return out.toString();
    }

    private static Path runningJar() {
        try {
            Path location = Path.of(OneClientBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return location.toString().endsWith(".jar") ? location : null;
        } catch (Exception e) {
            return null;
        }
    }
}
