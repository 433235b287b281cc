package dev.txkv.bench.compare;

import dev.txkv.Txkv;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * txkv beside etcd (3 members) and PostgreSQL 15 (SERIALIZABLE) on this machine, in one run:
 * YCSB workloads A-F plus a 256-client write run, and the contended bank workload. Measurements
 * are interleaved (txkv, etcd, PostgreSQL, txkv, etcd, PostgreSQL, ...) so machine noise falls
 * on all three. Writes docs/benchmarks-compare.md and PNG charts in docs/charts/.
 *
 * <p>fsync is on everywhere: txkv's default, etcd's default, PostgreSQL fsync=on and
 * synchronous_commit=on. Everything listens on 127.0.0.1 and is stopped at the end, on
 * failure and on Ctrl-C ({@link Peers}).
 *
 * <p>Each system is reached through its own client: txkv's Java client, PostgreSQL's JDBC
 * driver, and for etcd jetcd over gRPC, which runs from txkv-bench-etcd.jar in JVMs of its own
 * (YCSB, {@link EtcdBankDriver}) so that its libraries stay out of txkv.jar.
 */
@Command(name = "bench-compare", mixinStandardHelpOptions = true,
        description = {"txkv against etcd and PostgreSQL (YCSB A-F, 256-client writes, contended bank transfers),",
            "interleaved, with a ratio table, docs/benchmarks-compare.md and charts in docs/charts/.",
            "Installs etcd-server and postgresql-15 with apt-get when missing. Also: txkv bench compare."})
public final class CompareBench implements Callable<Integer> {
    @Option(names = "--quick", description = "Small counts and short runs: finishes within 5 minutes.")
    boolean quick;

    @Option(names = "--root", description = "Repository root: bench/workloads is read and docs/ written there "
            + "(default: found from txkv.jar's place, else the current directory).")
    Path root;

    @Option(names = "--jar", description = "txkv.jar to run the server and YCSB from (default: the running jar).")
    Path jar;

    @Option(names = "--etcd-jar", description = "The etcd driver, " + EtcdBankDriver.JAR + ": etcd's YCSB binding and "
            + "bank workload through jetcd (gRPC), run in JVMs of their own (default: txkv-bench-etcd/target/ in the "
            + "repository of txkv.jar; bin/txkv builds both).")
    Path etcdJar;

    @Option(names = "--txkv-cluster", description = "Benchmark this running replicated txkv (host:port,host:port,...) "
            + "as the '" + TXKV_REPLICATED + "' system instead of starting a 3-node cluster.")
    String txkvCluster;

    @Option(names = "--systems", split = ",", description = "The systems to run, of: txkv, txkv3 (the 3-replica "
            + "cluster), etcd, postgresql (default: all). Targets need the pairs they compare.")
    List<String> systemsChosen;

    @Option(names = "--workloads", split = ",", description = "The runs to make, of: a, b, c, d, e, f (YCSB), writes "
            + "(YCSB inserts at 256 threads), bank (default: all).")
    List<String> workloadsChosen;

    @Option(names = "--no-docs", description = "Print the figures only; do not write docs/ and charts "
            + "(a run restricted by --systems or --workloads never writes them).")
    boolean noDocs;

    /** A single txkv server. */
    static final String TXKV = "txkv";
    /** Three txkv servers replicating through Ratis. */
    static final String TXKV_REPLICATED = "txkv ×3";
    static final String ETCD = "etcd";
    static final String POSTGRES = "PostgreSQL";
    /** Every system, in the order runs are interleaved and reported. */
    static final List<String> SYSTEMS = List.of(TXKV, TXKV_REPLICATED, ETCD, POSTGRES);

    static final List<String> WORKLOADS = List.of("a", "b", "c", "d", "e", "f", "writes", "bank");

    /** The runs chosen with --workloads, in {@link #WORKLOADS} order. */
    List<String> workloads() {
        if (workloadsChosen == null || workloadsChosen.isEmpty()) {
            return WORKLOADS;
        }
        java.util.Set<String> chosen = new java.util.HashSet<>();
        for (String name : workloadsChosen) {
            String w = name.strip().toLowerCase(java.util.Locale.ROOT);
            if (!WORKLOADS.contains(w)) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "--workloads: unknown run '" + name + "'; choose from " + String.join(", ", WORKLOADS));
            }
            chosen.add(w);
        }
        return WORKLOADS.stream().filter(chosen::contains).toList();
    }

    /** The systems chosen with --systems, in {@link #SYSTEMS} order. */
    List<String> systems() {
        if (systemsChosen == null || systemsChosen.isEmpty()) {
            return SYSTEMS;
        }
        java.util.Set<String> chosen = new java.util.HashSet<>();
        for (String name : systemsChosen) {
            switch (name.strip().toLowerCase(java.util.Locale.ROOT)) {
                case "txkv" -> chosen.add(TXKV);
                case "txkv3" -> chosen.add(TXKV_REPLICATED);
                case "etcd" -> chosen.add(ETCD);
                case "postgresql", "postgres" -> chosen.add(POSTGRES);
                default -> throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "--systems: unknown system '" + name + "'; choose from txkv, txkv3, etcd, postgresql");
            }
        }
        return SYSTEMS.stream().filter(chosen::contains).toList();
    }

    /** The settings of one run, quick or full. */
    record Settings(int records, int ycsbThreads, int ycsbSeconds, int warmupSeconds, int writeThreads, List<Integer> bankClients,
            List<Integer> bankAccounts, long bankWarmupMs, long bankMeasureMs, List<String> ycsbJvmOptions) {
    }

    Settings settings() {
        return quick
                // Short runs: C1 only, so the YCSB JVMs' few seconds are not spent compiling with C2.
                ? new Settings(1_000, 16, 4, 2, 256, List.of(1, 16, 64), List.of(10, 1_000), 500, 2_000,
                        List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"))
                // A minute of warm-up: three server JVMs sharing two cores need that long to be
                // JIT-compiled (measured: 12k writes/s cold, 25k warm on the 3-node cluster).
                : new Settings(100_000, 64, 30, 60, 256, List.of(1, 16, 64), List.of(10, 1_000), 5_000, 20_000,
                        List.of("-XX:+UseSerialGC"));
    }

    @Override
    public Integer call() throws Exception {
        // Charts are drawn off screen; set before any AWT class loads, so a DISPLAY is never needed.
        System.setProperty("java.awt.headless", "true");
        Instant started = Instant.now();
        String loadStart = Report.loadAverage();
        Settings s = settings();
        List<String> systems = systems();
        List<String> workloads = workloads();
        Path jarPath = jar != null ? jar : runningJar();
        if (jarPath == null || !Files.isRegularFile(jarPath)) {
            System.err.println("cannot find txkv.jar: run through bin/txkv or pass --jar");
            return 2;
        }
        Path repo = root != null ? root : guessRoot(jarPath);
        Path workloadFiles = repo.resolve("bench/workloads");
        if (!Files.isDirectory(workloadFiles)) {
            System.err.println("no " + workloadFiles + ": pass --root with the repository root");
            return 2;
        }
        Path etcdDriver = etcdJar != null ? etcdJar : EtcdBankDriver.besideTxkvJar(jarPath);
        if (systems.contains(ETCD) && !Files.isRegularFile(etcdDriver)) {
            System.err.println("cannot find the etcd driver " + etcdDriver + ": bin/txkv builds it with txkv.jar "
                    + "(or: mvn -pl txkv-dist,txkv-bench-etcd -am package -DskipTests); or pass --etcd-jar");
            return 2;
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        if (systems.contains(ETCD) || systems.contains(POSTGRES)) {
            Peers.installMissing();
        }
        try (Peers peers = new Peers()) {
            System.out.println("starting " + String.join(", ", systems) + " on 127.0.0.1 in " + peers.directory());
            // Connection strings by system; started one after another, each waited for.
            Map<String, String> endpoints = new LinkedHashMap<>();
            for (String system : systems) {
                endpoints.put(system, switch (system) {
                    case TXKV -> peers.startTxkv(java, jarPath);
                    case TXKV_REPLICATED -> txkvCluster != null ? txkvCluster : peers.startTxkvCluster(java, jarPath, 3);
                    case ETCD -> peers.startEtcd(3);
                    default -> peers.startPostgres(s.writeThreads() + 64);
                });
            }
            Map<String, Binding> bindings = new LinkedHashMap<>();
            endpoints.forEach((system, endpoint) -> bindings.put(system, switch (system) {
                case TXKV, TXKV_REPLICATED -> new Binding(jarPath, TxkvYcsbClient.class.getName(), Map.of("txkv.cluster", endpoint));
                case ETCD -> new Binding(etcdDriver, EtcdBankDriver.YCSB_BINDING, Map.of("etcd.endpoints", endpoint));
                default -> new Binding(jarPath, PostgresYcsbClient.class.getName(), Map.of("postgres.url", endpoint));
            }));

            List<String> ycsbRuns = workloads.stream().filter(w -> !w.equals("bank"))
                    .map(w -> w.equals("writes") ? w : "workload" + w).toList();
            List<YcsbRun.Result> ycsb = ycsbRuns.isEmpty() ? List.of()
                    : runYcsb(s, java, workloadFiles, bindings, ycsbRuns);
            List<BankWorkload.Result> bank = workloads.contains("bank") ? runBank(s, java, etcdDriver, endpoints) : List.of();

            Report report = new Report(repo, loadStart, s, quick, started, Instant.now(), txkvCluster != null, systems, ycsb, bank);
            System.out.println();
            System.out.print(report.ratioTable());
            boolean partial = systems.size() < SYSTEMS.size() || workloads.size() < WORKLOADS.size();
            if (partial && !noDocs) {
                System.out.println("a partial run (--systems, --workloads): docs/ left as it was");
            }
            if (!noDocs && !partial) {
                Path docs = repo.resolve("docs");
                Path charts = Files.createDirectories(docs.resolve("charts"));
                report.writeCharts(charts);
                Files.writeString(docs.resolve("benchmarks-compare.md"), report.markdown());
                System.out.println("wrote " + docs.resolve("benchmarks-compare.md") + " and charts in " + charts);
            }
            return report.moneyConservedEverywhere() ? 0 : 1;
        }
    }

    /** A YCSB binding class, the jar YCSB runs it from, and its connection properties. */
    record Binding(Path jar, String className, Map<String, String> properties) {
    }

    private List<YcsbRun.Result> runYcsb(Settings s, String java, Path workloads,
            Map<String, Binding> bindings, List<String> runs) throws Exception {
        Map<String, String> common = Map.of("recordcount", Integer.toString(s.records()),
                "operationcount", Integer.toString(s.records() * 1000));
        for (var b : bindings.entrySet()) {
            long t0 = System.nanoTime();
            Map<String, String> p = new LinkedHashMap<>(common);
            p.putAll(b.getValue().properties());
            YcsbRun.Result load = YcsbRun.run(b.getKey(), java, b.getValue().jar(), b.getValue().className(),
                    workloads.resolve("workloada"), true, s.ycsbThreads(), 600, s.ycsbJvmOptions(), p, !quick);
            System.out.printf("  load %-10s %,d records in %.1f s (%,.0f ops/s, %d errors)%n", b.getKey(), s.records(),
                    (System.nanoTime() - t0) / 1e9, load.opsPerSecond(), load.errors());
        }
        // Unmeasured: warms the txkv server's JIT and every system's caches before the first figure.
        for (var b : bindings.entrySet()) {
            Map<String, String> p = new LinkedHashMap<>(common);
            p.putAll(b.getValue().properties());
            YcsbRun.Result warm = YcsbRun.run(b.getKey(), java, b.getValue().jar(), b.getValue().className(),
                    workloads.resolve("workloada"), false, s.ycsbThreads(), s.warmupSeconds(),
                    s.ycsbJvmOptions(), p, !quick);
            System.out.printf("  warm-up %-10s workloada %,.0f ops/s (not reported)%n", b.getKey(), warm.opsPerSecond());
        }
        List<YcsbRun.Result> results = new ArrayList<>();
        for (String workload : runs) {
            int threads = workload.equals("writes") ? s.writeThreads() : s.ycsbThreads();
            for (var b : bindings.entrySet()) {
                Map<String, String> p = new LinkedHashMap<>(common);
                p.putAll(b.getValue().properties());
                YcsbRun.Result r = YcsbRun.run(b.getKey(), java, b.getValue().jar(), b.getValue().className(),
                        workloads.resolve(workload), false, threads, s.ycsbSeconds(), s.ycsbJvmOptions(), p, !quick);
                results.add(r);
                System.out.printf("  ycsb %-10s %-11s %3d threads %,10.0f ops/s  %s%s%n", workload, b.getKey(), threads,
                        r.opsPerSecond(), latencySummary(r), r.errors() > 0 ? "  errors " + r.errors() : "");
            }
        }
        return results;
    }

    private static String latencySummary(YcsbRun.Result r) {
        StringBuilder out = new StringBuilder();
        r.latencyMicrosByOperation().forEach((op, l) ->
                out.append(String.format("%s p50 %.2f p99 %.2f ms  ", op, l[0] / 1000, l[1] / 1000)));
        return out.toString();
    }

    private List<BankWorkload.Result> runBank(Settings s, String java, Path etcdDriver, Map<String, String> endpoints)
            throws Exception {
        List<BankWorkload.Result> results = new ArrayList<>();
        List<BankRunner> systems = new ArrayList<>();
        try {
            for (var e : endpoints.entrySet()) {
                systems.add(switch (e.getKey()) {
                    case TXKV, TXKV_REPLICATED -> BankRunner.local(new TxkvBank(e.getKey(), Txkv.open(e.getValue()), true));
                    case ETCD -> EtcdBankDriver.start(java, etcdDriver, e.getValue());
                    default -> BankRunner.local(new PostgresBank(e.getValue()));
                });
            }
            for (BankRunner system : systems) {
                // Unmeasured: warms the client code (JIT) for each system, in the JVM it runs in.
                BankWorkload.Result warm = system.run(1_000, 16, 0, s.bankWarmupMs() * 2);
                System.out.printf("  warm-up bank %-10s %,.0f commits/s (not reported)%n", system.name(), warm.commitsPerSecond());
            }
            for (int accounts : s.bankAccounts()) {
                for (int clients : s.bankClients()) {
                    for (BankRunner system : systems) {
                        BankWorkload.Result r = system.run(accounts, clients, s.bankWarmupMs(), s.bankMeasureMs());
                        results.add(r);
                        System.out.printf("  bank %,5d accounts %3d clients %-10s %,9.0f commits/s  aborts %5.1f%%  p50 %7.2f ms  p99 %7.2f ms  money %s%s%n",
                                accounts, clients, system.name(), r.commitsPerSecond(), 100 * r.abortRate(), r.p50Ms(), r.p99Ms(),
                                r.moneyConserved() ? "conserved" : "NOT CONSERVED (" + r.totalBefore() + " -> " + r.totalAfter() + ")",
                                (r.errors() > 0 ? "  failed transfers " + r.errors() : "")
                                        + (r.commitsLate() > 0 ? "  late " + r.commitsLate() : ""));
                    }
                }
            }
        } finally {
            for (BankRunner system : systems) {
                system.close();
            }
        }
        return results;
    }

    private static Path runningJar() {
        try {
            Path location = Path.of(CompareBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return location.toString().endsWith(".jar") ? location : null;
        } catch (Exception e) {
            return null;
        }
    }

    /** {@code ROOT/txkv-dist/target/txkv.jar} gives ROOT; otherwise the current directory. */
    private static Path guessRoot(Path jarPath) {
        Path target = jarPath.toAbsolutePath().getParent();
        if (target != null && target.getParent() != null && target.getParent().getParent() != null
                && Files.isDirectory(target.getParent().getParent().resolve("bench"))) {
            return target.getParent().getParent();
        }
        return Path.of("").toAbsolutePath();
    }
}
