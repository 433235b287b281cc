package dev.txkv.check;

import dev.txkv.Database;
import dev.txkv.Txkv;
import dev.txkv.TxkvConfig;
import dev.txkv.launcher.LocalCluster;
import dev.txkv.remote.RemoteBackend;
import dev.txkv.testkit.BankChecker;
import dev.txkv.testkit.BankWorkload;
import dev.txkv.testkit.CheckResult;
import dev.txkv.testkit.History;
import dev.txkv.testkit.HistoryRecorder;
import dev.txkv.testkit.ListAppendChecker;
import dev.txkv.testkit.ListAppendWorkload;
import dev.txkv.testkit.MicroOp;
import dev.txkv.testkit.OpType;
import dev.txkv.testkit.Operation;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One robustness run, end to end: start the cluster, run list-append and bank traffic through
 * {@code Txkv.open} while the {@link Nemesis} injects the schedule, heal, let the workloads do
 * their final reads, check the histories, write the JSON-lines history and the report.
 * Processes and network namespaces are removed at the end, on failure, and from a shutdown
 * hook if the JVM is stopped.
 */
final class RobustnessRun {
    /** How long traffic threads may overrun the duration (final reads, stuck calls). */
    static final long TRAFFIC_GRACE_MS = 120_000;
    static final long FIRST_LEADER_WAIT_MS = 60_000;
    static final long END_LEADER_WAIT_MS = 5_000;
    /** How long the settled cluster has to resolve every prepared slice in doubt (presumed abort takes seconds). */
    static final long IN_DOUBT_WAIT_MS = 30_000;
    static final long PROGRESS_EVERY_MS = 10_000;
    static final Duration OP_TIMEOUT = Duration.ofSeconds(6);
    static final long TXNS_PER_THREAD_MAX = 10_000_000;

    private final CheckSettings settings;
    private final PrintStream out;
    private final Path runLog;

    RobustnessRun(CheckSettings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
        this.runLog = settings.runDir().resolve("run.log");
    }

    /** True when the jar's server takes the cluster flags (--id, --peers). */
    static boolean serverHasClusterFlags(Path jar) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Shell.Result help = Shell.run(java, "-jar", jar.toString(), "server", "--help");
        return help.output().contains("--peers");
    }

    synchronized void log(String line) {
        out.println(line);
        out.flush();
        try {
            Files.writeString(runLog, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            // The console copy is enough.
        }
    }

    RunReport run() throws IOException {
        Files.createDirectories(settings.runDir());
        Instant startedAt = Instant.now();
        log("txkv check: seed " + settings.seed() + " (replay with --seed " + settings.seed() + "), "
                + settings.nodes() + " nodes, " + (settings.sharded() ? settings.shards() + " shards of "
                + settings.shardReplicas() + " replicas (faults aimed at the leader hit the control group's leader), "
                : "") + settings.duration().toSeconds() + " s, run directory "
                + settings.runDir());
        boolean clusterFlags = !settings.plainServer() && serverHasClusterFlags(settings.jar());
        if (settings.nodes() > 1 && !clusterFlags) {
            throw new IllegalStateException("the server in " + settings.jar()
                    + " has no cluster flags (server --help does not mention --peers); run with --nodes 1");
        }
        List<String> notes = new ArrayList<>();
        NodeNetwork network = network(notes);
        Set<FaultKind> kinds = settings.faultKinds(network.partitionsUnavailableReason() == null);
        FaultSchedule schedule = FaultSchedule.plan(settings.seed(), kinds,
                settings.duration().minus(settings.quietTail()).toMillis());
        log("fault schedule: " + schedule.faults().size() + " faults planned from " + kinds);
        Cluster cluster = null;
        Thread hook = null;
        try {
            List<String> serverArgs = new ArrayList<>(settings.serverArgs());
            if (settings.secure()) {
                serverArgs.addAll(secureFiles(network));
            } else if (!(network instanceof LoopbackNetwork)) {
                // The run's own network namespaces and bridge: addresses beyond loopback on a
                // network this run made and nothing else reaches, so plaintext is allowed there.
                serverArgs.add("--insecure");
            }
            cluster = new Cluster(settings.jar(), settings.serverJvmOptions(), settings.runDir(), settings.nodes(),
                    network, clusterFlags, serverArgs, settings.shards(), this::log);
            if (memberTls != null) {
                cluster.memberTls(memberTls);
            }
            Cluster forHook = cluster;
            hook = new Thread(() -> {
                forHook.close();
                network.close();
            }, "txkv-check-cleanup");
            Runtime.getRuntime().addShutdownHook(hook);
            cluster.startAll();
            OptionalInt leader = cluster.leader(FIRST_LEADER_WAIT_MS);
            if (leader.isEmpty()) {
                throw new IllegalStateException("no leader within " + FIRST_LEADER_WAIT_MS + " ms of the start");
            }
            if (!cluster.awaitShardLeaders(FIRST_LEADER_WAIT_MS)) {
                throw new IllegalStateException("not every shard had a leader within " + FIRST_LEADER_WAIT_MS
                        + " ms of the start: " + cluster.shardLeaders(END_LEADER_WAIT_MS));
            }
            if (settings.secure()) {
                leader = enableAuthorization(cluster);
            }
            log("cluster ready: " + cluster.connection() + ", leader " + cluster.node(leader.getAsInt()).id()
                    + (cluster.sharded() ? " (control group), shard leaders " + cluster.shardLeaders(END_LEADER_WAIT_MS)
                    : ""));
            return traffic(cluster, network, schedule, notes, startedAt);
        } finally {
            if (cluster != null) {
                cluster.close();
            }
            if (secured) {
                System.clearProperty(Cluster.TLS_CA_PROPERTY);
            }
            if (auth != null) {
                auth.restoreStatusProperties();
            }
            network.close();
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // Already shutting down: the hook runs, harmlessly, a second time.
                }
            }
        }
    }

    /**
     * Sets up the run's users and roles and turns authorization on ({@link CheckAuth}), has the
     * leader probes sign in as the harness's user, and finds the leader again through them.
     *
     * @return the leader, as the signed-in probes find it
     */
    private OptionalInt enableAuthorization(Cluster cluster) throws IOException {
        Map<String, byte[]> prefixes = new LinkedHashMap<>();
        prefixes.put("list-append", CheckSettings.LIST_APPEND_PREFIX);
        prefixes.put("bank", CheckSettings.BANK_PREFIX);
        auth = CheckAuth.forRun(settings.runDir().resolve("auth"), prefixes, settings.sharded(), settings.splitFaults());
        List<String> addresses = cluster.nodes().stream().map(LocalCluster.Member::clientAddress).toList();
        auth.enable(cluster.connection(), addresses, this::log);
        cluster.signIn(auth.monitor());
        OptionalInt leader = cluster.leader(FIRST_LEADER_WAIT_MS);
        if (leader.isEmpty()) {
            throw new IllegalStateException("authorization is on, but no leader answered the probes signed in as "
                    + auth.monitor().user() + " within " + FIRST_LEADER_WAIT_MS + " ms");
        }
        return leader;
    }

    /** A secure run's users, once {@link #enableAuthorization} made them; null otherwise. */
    private CheckAuth auth;
    /** A secure run's CA and member certificate ({@link #secureFiles}); null otherwise. */
    private Cluster.MemberTls memberTls;

    /**
     * Makes the run's CA and one node certificate for every node's address (and localhost) with
     * {@code txkv certs} from the jar under test, points the harness's clients at the CA, and
     * returns the servers' TLS flags.
     */
    private List<String> secureFiles(NodeNetwork network) throws IOException {
        Path certs = settings.runDir().resolve("certs");
        List<String> hosts = new ArrayList<>(List.of("localhost", "127.0.0.1"));
        for (int i = 0; i < settings.nodes(); i++) {
            if (!hosts.contains(network.host(i))) {
                hosts.add(network.host(i));
            }
        }
        certs(List.of("create-ca", "--dir", certs.toString(), "--name", "txkv check CA", "--days", "7"));
        certs(List.of("create-node", "--id", "check", "--host", String.join(",", hosts), "--dir", certs.toString(),
                "--days", "7"));
        System.setProperty(Cluster.TLS_CA_PROPERTY, certs.resolve("ca.crt").toString());
        secured = true;
        memberTls = new Cluster.MemberTls(certs.resolve("ca.crt"), certs.resolve("node-check.crt"),
                certs.resolve("node-check.key"));
        log("tls: a CA and a node certificate (txkv-node:check, hosts " + hosts + ") in " + certs);
        return List.of("--tls-cert", certs.resolve("node-check.crt").toString(), "--tls-key",
                certs.resolve("node-check.key").toString(), "--tls-ca", certs.resolve("ca.crt").toString());
    }

    /** Whether this run set the harness's CA property ({@link #secureFiles}), to clear it at the end. */
    private boolean secured;

    private void certs(List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", settings.jar().toString(), "certs"));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException("txkv certs " + String.join(" ", args) + " failed: " + output.strip());
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while txkv certs ran", e);
        }
    }

    private NodeNetwork network(List<String> notes) {
        boolean wanted = settings.faults().contains(FaultKind.Category.PARTITION) && settings.nodes() > 1;
        if (!wanted) {
            return new LoopbackNetwork(settings.nodes(), "partitions not requested");
        }
        NamespaceNetwork.Result created = NamespaceNetwork.create(settings.nodes(), settings.seed(), this::log);
        if (created.network() != null) {
            return created.network();
        }
        String note = "partition faults skipped: " + created.failure() + " (see docs/robustness.md)";
        notes.add(note);
        log(note);
        return new LoopbackNetwork(settings.nodes(), created.failure());
    }

    private RunReport traffic(Cluster cluster, NodeNetwork network, FaultSchedule schedule, List<String> notes,
                              Instant startedAt) throws IOException {
        Path listAppendFile = settings.runDir().resolve("list-append.history");
        Path bankFile = settings.runDir().resolve("bank.history");
        // Without authorization both workloads share one client; with it each signs in as its own user.
        try (Database db = Txkv.open(RemoteBackend.connect(cluster.connection(), auth == null ? Cluster.clientSettings()
                     : workloadSettings(auth.workload("list-append"))), new TxkvConfig());
             Database ownBankDb = auth == null ? null : Txkv.open(RemoteBackend.connect(cluster.connection(),
                     workloadSettings(auth.workload("bank"))), new TxkvConfig());
             Database probeDb = Txkv.open(RemoteBackend.connect(cluster.connection(),
                     Cluster.clientSettings(auth == null ? null : auth.monitor())), new TxkvConfig());
             HistoryRecorder listAppend = HistoryRecorder.streamingTo(listAppendFile);
             HistoryRecorder bank = HistoryRecorder.streamingTo(bankFile)) {
            Database bankDb = ownBankDb != null ? ownBankDb : db;
            long runStart = System.nanoTime();
            List<String> errors = new ArrayList<>();
            Thread la = workloadThread("list-append", errors, () -> ListAppendWorkload.run(db,
                    new ListAppendWorkload.Options().threads(settings.listAppendThreads())
                            .txnsPerThread((int) TXNS_PER_THREAD_MAX).seed(settings.seed())
                            .maxTime(settings.duration()).opTimeout(OP_TIMEOUT)
                            .keyPrefix(CheckSettings.LIST_APPEND_PREFIX)
                            .spreadFirstByte(settings.sharded()), listAppend));
            Thread bk = workloadThread("bank", errors, () -> BankWorkload.run(bankDb,
                    new BankWorkload.Options().threads(settings.bankThreads())
                            .txnsPerThread((int) TXNS_PER_THREAD_MAX).seed(settings.seed() * 31 + 7)
                            .maxTime(settings.duration()).opTimeout(OP_TIMEOUT)
                            .keyPrefix(CheckSettings.BANK_PREFIX)
                            .spreadFirstByte(settings.sharded()), bank));
            Thread progress = progressThread(runStart, Map.of("list-append", listAppend, "bank", bank));
            long windowEnd = runStart + settings.duration().minus(settings.quietTail()).toNanos();
            Nemesis nemesis = new Nemesis(cluster, network, schedule, new CommitProbe(probeDb), runStart, windowEnd,
                    this::log);
            List<FaultEvent> faults = nemesis.run();
            log(String.format("[+%.1fs] faults done (%d injected); the cluster is whole again, traffic runs to the end",
                    (System.nanoTime() - runStart) / 1e9, faults.stream().filter(FaultEvent::injected).count()));
            long joinUntil = runStart + settings.duration().toNanos() + TimeUnit.MILLISECONDS.toNanos(TRAFFIC_GRACE_MS);
            join(la, joinUntil);
            join(bk, joinUntil);
            progress.interrupt();
            if (la.isAlive() || bk.isAlive()) {
                notes.add("a workload did not finish within " + TRAFFIC_GRACE_MS + " ms after the duration");
                la.interrupt();
                bk.interrupt();
            }
            errors.forEach(e -> notes.add("workload error: " + e));
            endState(cluster, notes);
            long inDoubt = cluster.awaitNothingInDoubt(IN_DOUBT_WAIT_MS);
            if (cluster.sharded()) {
                notes.add("at the end: " + (inDoubt < 0 ? "a node did not say what it holds in doubt"
                        : inDoubt + " prepared slices in doubt"));
            }
            AuthProbe authProbe = null;
            if (auth != null) {
                byte[] bankKey = dev.txkv.testkit.FirstByteSpread.key(settings.sharded(), 0, CheckSettings.BANK_PREFIX,
                        "0".getBytes(StandardCharsets.US_ASCII));
                authProbe = CheckAuth.probeOutsidePrefixes(db, bankKey, bankDb);
                log("authorization: " + (authProbe.refused() ? "in force: " : "NOT SHOWN IN FORCE: ")
                        + authProbe.detail());
            }
            log(String.format("[+%.1fs] traffic done; checking", (System.nanoTime() - runStart) / 1e9));
            Map<String, History> histories = new LinkedHashMap<>();
            histories.put("list-append", listAppend.history());
            histories.put("bank", bank.history());
            List<WorkloadResult> results = new ArrayList<>();
            results.add(result("list-append", histories.get("list-append"),
                    ListAppendChecker.check(histories.get("list-append")),
                    listAppendFinalReadOk(histories.get("list-append"), settings.listAppendThreads())));
            results.add(result("bank", histories.get("bank"), BankChecker.check(histories.get("bank")),
                    bankFinalReadOk(histories.get("bank"))));
            HistoryJsonLines.write(settings.runDir().resolve("history.jsonl"), runStart, histories, faults);
            return new RunReport(settings.seed(), startedAt, runStart, settings.describe(), network.describe(), notes,
                    faults, results, workloadFailoverMs(faults, histories.values()), inDoubt, authProbe);
        }
    }

    /**
     * A workload's client settings with authorization on: signed in as the workload's user, and
     * without shard routing, which learns where shards lead from the Status call, which a user
     * with key grants only may not make (each refusal would be asked again at the next call).
     */
    private static dev.txkv.remote.RemoteSettings workloadSettings(CheckAuth.Login login) {
        return Cluster.clientSettings(login).shardRouting(false);
    }

    /**
     * Notes which node leads at the end; when none commits, the cluster was unavailable and
     * each server's thread dump goes to its directory (jstack.txt) for the diagnosis.
     */
    private void endState(Cluster cluster, List<String> notes) {
        OptionalInt leader = cluster.leader(END_LEADER_WAIT_MS);
        if (leader.isPresent()) {
            notes.add("at the end: leader " + cluster.node(leader.getAsInt()).id() + (cluster.sharded()
                    ? " (control group), shard leaders " + cluster.shardLeaders(END_LEADER_WAIT_MS) : ""));
            return;
        }
        String note = "at the end: no node committed within " + END_LEADER_WAIT_MS
                + " ms (cluster unavailable); thread dumps in node-*/jstack.txt";
        notes.add(note);
        log(note);
        Path jstack = Path.of(System.getProperty("java.home"), "bin", "jstack");
        for (LocalCluster.Member node : cluster.nodes()) {
            if (node.pid() > 0 && node.isAlive()) {
                Shell.Result dump = Shell.run(jstack.toString(), Long.toString(node.pid()));
                try {
                    Files.writeString(node.dataDir().resolveSibling("jstack.txt"), dump.output(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    log("cannot write the thread dump of " + node.id() + ": " + e.getMessage());
                }
            }
        }
    }

    private Thread workloadThread(String name, List<String> errors, Runnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (RuntimeException e) {
                synchronized (errors) {
                    errors.add(name + ": " + e);
                }
                log("workload " + name + " failed: " + e);
            }
        }, "check-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private Thread progressThread(long runStart, Map<String, HistoryRecorder> recorders) {
        Thread t = new Thread(() -> {
            long rounds = 0;
            while (!Thread.currentThread().isInterrupted() && rounds++ < 1_000_000) {
                try {
                    Thread.sleep(PROGRESS_EVERY_MS);
                } catch (InterruptedException e) {
                    return;
                }
                StringBuilder sb = new StringBuilder(String.format("[+%.1fs] traffic:", (System.nanoTime() - runStart) / 1e9));
                recorders.forEach((name, rec) -> {
                    History h = rec.history();
                    sb.append(String.format(" %s ok %d fail %d info %d;", name, h.count(OpType.OK),
                            h.count(OpType.FAIL), h.count(OpType.INFO)));
                });
                log(sb.toString());
            }
        }, "check-progress");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void join(Thread t, long untilNanos) {
        try {
            long ms = TimeUnit.NANOSECONDS.toMillis(untilNanos - System.nanoTime());
            t.join(Math.max(1, ms));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static WorkloadResult result(String name, History h, CheckResult check, boolean finalReadOk) {
        return new WorkloadResult(name, h.count(OpType.OK), h.count(OpType.FAIL), h.count(OpType.INFO), check,
                finalReadOk);
    }

    /**
     * True when the final reads (process {@code threads}, after the workers) covered every key
     * that an acknowledged or indeterminate attempt appended to.
     */
    static boolean listAppendFinalReadOk(History h, int threads) {
        Set<Long> appended = new HashSet<>();
        Set<Long> finallyRead = new HashSet<>();
        for (Operation op : h.operations()) {
            for (MicroOp step : op.ops()) {
                if (step.isWrite() && op.type() != OpType.FAIL) {
                    appended.add(step.key());
                } else if (step.isRead() && op.process() == threads && op.type() == OpType.OK) {
                    finallyRead.add(step.key());
                }
            }
        }
        return finallyRead.containsAll(appended);
    }

    /** True when the bank's final read of all accounts committed. */
    static boolean bankFinalReadOk(History h) {
        String id = h.metadata().get(BankWorkload.META_FINAL_OP);
        if (id == null) {
            return false;
        }
        long finalId = Long.parseLong(id);
        return h.operations().stream().anyMatch(op -> op.id() == finalId && op.type() == OpType.OK);
    }

    /**
     * Per killed leader, the milliseconds from the kill to the first acknowledged workload
     * attempt that wrote something; -1 when there was none.
     */
    static List<Long> workloadFailoverMs(List<FaultEvent> faults, Iterable<History> histories) {
        List<Long> result = new ArrayList<>();
        for (FaultEvent f : faults) {
            if (f.kind() != FaultKind.KILL_LEADER || !f.injected()) {
                continue;
            }
            AtomicReference<Long> first = new AtomicReference<>(Long.MAX_VALUE);
            for (History h : histories) {
                for (Operation op : h.operations()) {
                    if (op.type() == OpType.OK && op.completeNanos() > f.startNanos()
                            && op.ops().stream().anyMatch(MicroOp::isWrite)) {
                        first.set(Math.min(first.get(), op.completeNanos()));
                    }
                }
            }
            result.add(first.get() == Long.MAX_VALUE ? -1 : TimeUnit.NANOSECONDS.toMillis(first.get() - f.startNanos()));
        }
        return result;
    }

    /** Writes the report files and returns the report text. */
    String writeReport(RunReport report) {
        String text = report.text();
        try {
            Files.writeString(settings.runDir().resolve("report.txt"), text, StandardCharsets.UTF_8);
            Files.writeString(settings.runDir().resolve("report.json"), report.json() + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text;
    }
}
