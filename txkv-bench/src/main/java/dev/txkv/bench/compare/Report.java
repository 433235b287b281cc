package dev.txkv.bench.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** The comparison's figures as a console ratio table, a Markdown page and charts. */
final class Report {
    private final CompareBench.Settings settings;
    private final boolean quick;
    private final Instant started;
    private final Instant finished;
    private final boolean externalTxkv;
    private final List<String> systems;
    private final List<YcsbRun.Result> ycsb;
    private final List<BankWorkload.Result> bank;
    private final Path repo;
    private final String loadStart;

    Report(Path repo, String loadStart, CompareBench.Settings settings, boolean quick, Instant started, Instant finished, boolean externalTxkv,
            List<String> systems, List<YcsbRun.Result> ycsb, List<BankWorkload.Result> bank) {
        this.repo = repo;
        this.loadStart = loadStart;
        this.settings = settings;
        this.quick = quick;
        this.started = started;
        this.finished = finished;
        this.externalTxkv = externalTxkv;
        this.systems = systems;
        this.ycsb = ycsb;
        this.bank = bank;
    }

    boolean moneyConservedEverywhere() {
        return bank.stream().allMatch(BankWorkload.Result::moneyConserved);
    }

    /** One comparable figure, by system (NaN where a system has none). */
    private record Row(String measurement, String unit, Map<String, Double> bySystem) {
        double of(String system) {
            return bySystem.getOrDefault(system, Double.NaN);
        }
    }

    /**
     * The like-for-like ratios: replicated txkv against replicated etcd (three copies each, every
     * commit on a majority's disks), and the single txkv server against the single PostgreSQL server.
     */
    private static final List<String[]> RATIOS = List.of(
            new String[] {CompareBench.TXKV_REPLICATED, CompareBench.ETCD},
            new String[] {CompareBench.TXKV, CompareBench.POSTGRES});

    private List<String[]> ratios() {
        return RATIOS.stream().filter(pair -> systems.contains(pair[0]) && systems.contains(pair[1])).toList();
    }

    private Optional<YcsbRun.Result> ycsb(String system, String workload) {
        return ycsb.stream().filter(r -> r.system().equals(system) && r.workload().equals(workload)).findFirst();
    }

    private Optional<BankWorkload.Result> bank(String system, int accounts, int clients) {
        return bank.stream().filter(r -> r.system().equals(system) && r.accounts() == accounts && r.clients() == clients)
                .findFirst();
    }

    private List<Row> rows() {
        List<Row> rows = new java.util.ArrayList<>();
        for (String workload : List.of("workloada", "workloadb", "workloadc", "workloadd", "workloade", "workloadf", "writes")) {
            Map<String, Double> values = new LinkedHashMap<>();
            int threads = 0;
            for (String system : systems) {
                Optional<YcsbRun.Result> r = ycsb(system, workload);
                if (r.isPresent()) {
                    values.put(system, r.get().opsPerSecond());
                    threads = r.get().threads();
                }
            }
            if (values.isEmpty()) {
                continue;
            }
            String name = workload.equals("writes") ? "YCSB writes (inserts only)" : "YCSB " + workload.substring(8).toUpperCase(Locale.ROOT);
            rows.add(new Row(name + ", " + threads + " threads", "ops/s", values));
        }
        for (int accounts : settings.bankAccounts()) {
            for (int clients : settings.bankClients()) {
                Map<String, Double> values = new LinkedHashMap<>();
                for (String system : systems) {
                    bank(system, accounts, clients).ifPresent(r -> values.put(system, r.commitsPerSecond()));
                }
                if (!values.isEmpty()) {
                    rows.add(new Row(String.format("bank, %,d accounts, %d clients", accounts, clients), "commits/s", values));
                }
            }
        }
        return rows;
    }

    private static String ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) || b == 0 ? "-" : String.format("%.2f×", a / b);
    }

    private static String ratioName(String[] pair) {
        return pair[0] + " / " + pair[1];
    }

    String ratioTable() {
        StringBuilder out = new StringBuilder();
        out.append(String.format("%-42s", "measurement"));
        systems.forEach(system -> out.append(String.format(" %12s", system)));
        ratios().forEach(pair -> out.append(String.format(" %22s", ratioName(pair))));
        out.append('\n');
        for (Row r : rows()) {
            out.append(String.format("%-42s", r.measurement()));
            systems.forEach(system -> out.append(String.format(" %12.0f", r.of(system))));
            ratios().forEach(pair -> out.append(String.format(" %22s", ratio(r.of(pair[0]), r.of(pair[1])))));
            out.append('\n');
        }
        if (!bank.isEmpty()) {
            out.append(moneyConservedEverywhere() ? "bank: money conserved in every run\n" : "bank: MONEY NOT CONSERVED in some run\n");
        }
        return out.toString();
    }

    void writeCharts(Path dir) throws IOException {
        for (int accounts : settings.bankAccounts()) {
            Charts.bankThroughput(dir.resolve("compare-bank-throughput-" + accounts + ".png"), accounts, bank, systems);
            int clientsMax = settings.bankClients().get(settings.bankClients().size() - 1);
            Charts.bankLatencyCdf(dir.resolve("compare-bank-latency-cdf-" + accounts + ".png"), accounts, clientsMax, bank);
        }
        Charts.ycsbThroughput(dir.resolve("compare-ycsb-throughput.png"), ycsb);
    }

    private static String join(List<Integer> values, String separator) {
        return String.join(separator, values.stream().map(v -> String.format("%,d", v)).toList());
    }

    private static String command(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            p.waitFor(30, TimeUnit.SECONDS);
            return out.lines().findFirst().orElse("");
        } catch (IOException | InterruptedException e) {
            return "?";
        }
    }

    /** The 1, 5 and 15 minute load averages, from /proc/loadavg. */
    static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return fields[0] + ", " + fields[1] + ", " + fields[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    private String target(String what, double ratio, double goal) {
        String verdict = Double.isNaN(ratio) ? "not measured" : ratio >= goal ? "met" : "**missed**";
        String measured = Double.isNaN(ratio) ? "-" : Double.isInfinite(ratio) ? "∞ (the other system finished no transfer inside the window)"
                : String.format("%.2f×", ratio);
        return String.format("| %s | ≥ %.0f× | %s | %s |%n", what, goal, measured, verdict);
    }

    private double ycsbRatio(String workload, String system, String other) {
        Optional<YcsbRun.Result> t = ycsb(system, workload);
        Optional<YcsbRun.Result> o = ycsb(other, workload);
        return t.isPresent() && o.isPresent() && o.get().opsPerSecond() > 0
                ? t.get().opsPerSecond() / o.get().opsPerSecond() : Double.NaN;
    }

    private double bankRatio(int accounts, int clients, String system, String other) {
        Optional<BankWorkload.Result> t = bank(system, accounts, clients);
        Optional<BankWorkload.Result> o = bank(other, accounts, clients);
        if (t.isEmpty() || o.isEmpty()) {
            return Double.NaN;
        }
        if (o.get().commitsPerSecond() == 0) {
            return t.get().commitsPerSecond() > 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        }
        return t.get().commitsPerSecond() / o.get().commitsPerSecond();
    }

    String markdown() {
        StringBuilder md = new StringBuilder();
        String invocation = "bin/txkv bench compare" + (quick ? " --quick" : "");
        md.append("# txkv beside etcd and PostgreSQL\n\n");
        md.append("Generated by `").append(invocation).append("` (the same as `bin/txkv bench-compare")
                .append(quick ? " --quick" : "").append("`); rerun it to refresh this page and the charts.\n\n");
        md.append(String.format("Built from commit %s%s. ", command(List.of("git", "-C", repo.toString(), "rev-parse", "--short", "HEAD")),
                command(List.of("git", "-C", repo.toString(), "status", "--porcelain", "--untracked-files=no")).equals("?")
                        || command(List.of("git", "-C", repo.toString(), "status", "--porcelain", "--untracked-files=no")).isEmpty()
                        ? "" : " (with uncommitted changes in the working tree)"));
        md.append(String.format("Run %s, %d s. Machine: %d cores (%s), %s. %s; %s; %s.%n%n",
                started.truncatedTo(ChronoUnit.SECONDS), Duration.between(started, finished).toSeconds(),
                Runtime.getRuntime().availableProcessors(), cpuModel(), command(List.of("uname", "-sr")),
                "Java " + Runtime.version(), command(List.of(Peers.ETCD, "--version")),
                command(List.of(Peers.POSTGRES_BIN + "/postgres", "--version"))));
        md.append("""
                ## Setup

                - **txkv**: a single server (`txkv server`), fsync on (the default), through the Java client \
                (`Txkv.open("127.0.0.1:PORT")`); every operation one strictly serializable transaction.
                - **txkv ×3**: %s: three server processes on 127.0.0.1 replicating through Apache Ratis; a commit \
                is acknowledged once a majority has it on disk (fsync), read versions are confirmed by the leader's lease (ReadIndex once it lapses), \
                the client connects with all three addresses and follows the leader.
                - **etcd** 3.4: a 3-member cluster on 127.0.0.1 (distinct client and peer ports, data in a temporary \
                directory), fsync on (etcd's default), through jetcd 0.8.5, etcd's own gRPC client for Java (one client \
                per JVM, spreading requests over the three members), run in JVMs of its own from \
                txkv-bench-etcd.jar: the YCSB runs, and one driver JVM kept for all bank runs; reads are \
                linearizable (etcd's default), a conditional write is a txn comparing mod_revisions.
                - **PostgreSQL 15**: one server on 127.0.0.1, `fsync=on`, `synchronous_commit=on`, every transaction \
                SERIALIZABLE, serialization failures (40001) retried.
                - Like for like: **txkv ×3 against etcd** (three copies each, every write on a majority's disks \
                before it is acknowledged) and **txkv against PostgreSQL** (one copy each). The targets are \
                judged on these pairs.
                - All systems, the YCSB client JVMs and the bank clients share this one machine; measurements are \
                interleaved (txkv, txkv ×3, etcd, PostgreSQL, txkv, ...) so noise falls on all of them. The machine may carry \
                other work: its load average was %s at the start and %s at the end (1, 5, 15 minutes).
                - YCSB 0.17.0 (`site.ycsb.Client`), bindings in txkv-bench (`dev.txkv.bench.compare`), workload files \
                in [bench/workloads](../bench/workloads): %,d records of 10 fields × 100 bytes (one value per record), \
                %d s per run, A–F at %d threads, inserts-only at %d threads; each YCSB run is a new JVM \
                (options `%s`); before the first figure every system gets an unmeasured YCSB A run of %d s \
                and one unmeasured bank run, so the txkv servers and the client code are past JIT warm-up.
                - Bank: transfers of 1–10 between two distinct random accounts (read both, check, write both) for %.1f s \
                after %.1f s warm-up, over %s accounts at %s clients; abort rate = retried attempts / all attempts; \
                latency includes retries (HdrHistogram); only transfers that finish inside the window count ("Late": \
                measured transfers that were still retrying when it closed); \
                the total balance is checked after every run.

                """.formatted(externalTxkv ? "the cluster given with `--txkv-cluster`" : "a 3-node cluster started by the benchmark",
                loadStart, loadAverage(),
                settings.records(), settings.ycsbSeconds(), settings.ycsbThreads(), settings.writeThreads(),
                String.join(" ", settings.ycsbJvmOptions()), settings.warmupSeconds(),
                settings.bankMeasureMs() / 1000.0, settings.bankWarmupMs() / 1000.0, join(settings.bankAccounts(), " and "),
                join(settings.bankClients(), ", ")));
        md.append("## Targets\n\n| Target | Goal | Measured | |\n|---|---|---|---|\n");
        String replicated = CompareBench.TXKV_REPLICATED;
        md.append(target(replicated + " / etcd, write throughput, " + settings.writeThreads() + " clients (YCSB inserts)",
                ycsbRatio("writes", replicated, CompareBench.ETCD), 5));
        md.append(target(replicated + " / etcd, linearizable point reads (YCSB C, " + settings.ycsbThreads() + " threads)",
                ycsbRatio("workloadc", replicated, CompareBench.ETCD), 5));
        int clientsMax = settings.bankClients().get(settings.bankClients().size() - 1);
        for (int accounts : settings.bankAccounts()) {
            md.append(target(String.format("txkv / PostgreSQL SERIALIZABLE, bank, %,d accounts, %d clients", accounts, clientsMax),
                    bankRatio(accounts, clientsMax, CompareBench.TXKV, CompareBench.POSTGRES), 3));
        }
        md.append(String.format("| money conserved in every bank run | all | %s | %s |%n%n",
                moneyConservedEverywhere() ? "all" : "not all", moneyConservedEverywhere() ? "met" : "**missed**"));
        md.append("## Ratios\n\n| Measurement | Unit |");
        systems.forEach(system -> md.append(' ').append(system).append(" |"));
        ratios().forEach(pair -> md.append(' ').append(ratioName(pair)).append(" |"));
        md.append("\n|---|---|").append("--:|".repeat(systems.size() + ratios().size())).append('\n');
        for (Row r : rows()) {
            md.append(String.format("| %s | %s |", r.measurement(), r.unit()));
            systems.forEach(system -> md.append(Double.isNaN(r.of(system)) ? " - |" : String.format(" %,.0f |", r.of(system))));
            ratios().forEach(pair -> md.append(' ').append(ratio(r.of(pair[0]), r.of(pair[1]))).append(" |"));
            md.append('\n');
        }
        md.append("\n## YCSB\n\n![YCSB throughput](charts/compare-ycsb-throughput.png)\n\n");
        md.append("| Workload | Threads | System | ops/s | Latency p50 / p99 (ms) by operation | Errors |\n|---|--:|---|--:|---|--:|\n");
        for (YcsbRun.Result r : ycsb) {
            StringBuilder latency = new StringBuilder();
            r.latencyMicrosByOperation().forEach((op, l) -> latency.append(latency.length() == 0 ? "" : "; ")
                    .append(String.format("%s %.2f / %.2f", op, l[0] / 1000, l[1] / 1000)));
            md.append(String.format("| %s | %d | %s | %,.0f | %s | %,d |%n", r.workload(), r.threads(), r.system(),
                    r.opsPerSecond(), latency, r.errors()));
        }
        md.append("\n## Bank transfers\n\n");
        for (int accounts : settings.bankAccounts()) {
            md.append(String.format("![Bank throughput, %d accounts](charts/compare-bank-throughput-%d.png)%n", accounts, accounts));
            md.append(String.format("![Bank latency CDF, %d accounts](charts/compare-bank-latency-cdf-%d.png)%n%n", accounts, accounts));
        }
        md.append("| Accounts | Clients | System | commits/s | Abort rate | p50 (ms) | p99 (ms) | Failed | Late | Money |\n"
                + "|--:|--:|---|--:|--:|--:|--:|--:|--:|---|\n");
        for (BankWorkload.Result r : bank) {
            md.append(String.format("| %,d | %d | %s | %,.0f | %.1f%% | %.2f | %.2f | %,d | %,d | %s |%n", r.accounts(), r.clients(),
                    r.system(), r.commitsPerSecond(), 100 * r.abortRate(), r.p50Ms(), r.p99Ms(), r.errors(), r.commitsLate(),
                    r.moneyConserved() ? "conserved" : "**not conserved**"));
        }
        md.append(NOTES);
        return md.toString();
    }

    private static final String NOTES = """

            ## Reading the figures

            - Quick runs (`--quick`) are a few seconds per measurement on a small data set: they show the shape \
            and rough ratios, not stable absolute numbers. On a shared machine (see the load average above) two \
            consecutive quick runs can differ by a factor of two in a single measurement, so a target counts as \
            met only when it also holds in a full run (no `--quick`), the one to quote figures from.
            - One machine runs the system under test, the others (idle but resident) and the load \
            generators. On a 2-core machine the client JVMs compete with the servers for CPU, which caps every \
            system's throughput and compresses the ratios.
            - Every system is reached through its own recommended client: txkv through its Java client, etcd \
            through jetcd over gRPC (HTTP/2, protobuf), PostgreSQL through its JDBC driver. jetcd runs in JVMs of \
            its own (txkv-bench-etcd.jar), so its gRPC, Vert.x and Netty never share a class path with txkv; the \
            txkv and PostgreSQL bank clients run in the comparison's own JVM.
            - In the bank workload every transfer that meets a conflict retries until it commits (bounded); \
            10 accounts at 64 clients is deliberately hot: almost every pair of transfers overlaps. PostgreSQL's \
            SERIALIZABLE makes the second writer of a row wait for the first and then fail with 40001, so under \
            that contention its transfers queue on row locks and retry for seconds; txkv (optimistic, conflicts \
            found at commit, no locks) and etcd (compare-and-swap) abort instead of waiting.
            - txkv ×3 runs three server JVMs on the same two cores: the leader's work is the single server's \
            plus sending every batch to two followers, and the followers' appends and applies take CPU from it.

            ## Where txkv falls short, and why

            The targets missed above, with the profile of the bottleneck behind each, are discussed in \
            [benchmarks.md](benchmarks.md#beside-etcd-and-postgresql) (written by hand from the full run; \
            this page is regenerated by every run).
            """;
}
