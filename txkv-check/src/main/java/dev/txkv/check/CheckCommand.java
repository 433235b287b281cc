package dev.txkv.check;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code txkv check}: the robustness test on real processes. Exit 0 when every history checks
 * valid (no anomaly, no lost write, final reads done), 1 otherwise or when the run could not
 * be carried out, 2 for a usage error.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {
            "Robustness test on real server processes started from txkv.jar:",
            "list-append and bank traffic while faults are injected (kill, pause,",
            "restart, partition, a stranger on the Raft ports, two-phase crash points, online splits,",
            "replica moves and merges when sharded); the recorded history is checked (G0, G1a/b/c,",
            "G-single, G2, real-time order, lost writes, sharded: nothing left in",
            "doubt) and a report printed.",
            "Exit 0 when the history is valid, 1 otherwise. Partitions need root and",
            "iproute2 (network namespaces), else they are skipped with a message.",
            "See docs/robustness.md."})
public final class CheckCommand implements Callable<Integer> {
    @Option(names = "--duration", defaultValue = "60s", converter = DurationConverter.class,
            description = "Traffic time: 45s, 10m (the long soak), 2h (default ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(names = "--nodes", defaultValue = "3", description = "Cluster size (default ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--seed", description = "Replays a run's fault schedule and workloads (default: random, printed).")
    Long seed;

    @Option(names = "--faults", defaultValue = "kill,pause,partition,restart,stranger,two-phase,split,move,exclude,merge",
            split = ",",
            description = "Fault categories: kill, pause, partition, restart, stranger (requests from a stranger on the"
                    + " Raft ports), two-phase (with --shards: a member halted at a two-phase crash point: a"
                    + " coordinator before or after its decision, a participant after its vote), split (with --shards:"
                    + " a shard split online at a workload key), move (with --shards: a shard's replicas moved online"
                    + " to another 2 or 3 nodes), exclude (with --shards and more nodes than --shard-replicas: a node"
                    + " excluded until it is drained, then included again), merge (with --shards: a shard merged"
                    + " online with its right neighbour when both are on the same nodes, else that neighbour moved"
                    + " onto the shard's nodes) (default"
                    + " ${DEFAULT-VALUE}); none for a run without faults.")
    List<String> faults;

    @Option(names = "--dir", description = "Run directory (default: a new txkv-check-<time> under the temp directory).")
    Path dir;

    @Option(names = "--jar", description = "The txkv.jar to test (default: the jar this command runs from).")
    Path jar;

    @Option(names = "--server-java-options", defaultValue = "-Xmx512m -XX:+UseSerialGC",
            description = "JVM options of each server (default: ${DEFAULT-VALUE}).")
    String serverJavaOptions;

    @Option(names = "--clients", defaultValue = "4",
            description = "List-append client threads; bank gets half as many, at least 1 (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--shards", paramLabel = "N",
            description = "A sharded cluster: every server gets --shards N (the keyspace split by first key byte"
                    + " into N shards, 1 to 256), the workloads' keys spread over the shards, and faults aimed at the"
                    + " leader hit the control group's leader (the sequencer) (default: unsharded).")
    Integer shards;

    @Option(names = "--shard-replicas", paramLabel = "R",
            description = "With --shards: replicas per shard, 1 to --nodes (default: 3, or --nodes when fewer).")
    Integer shardReplicas;

    @Option(names = "--split-size", paramLabel = "SIZE",
            description = "With --shards: the servers' --split-size, e.g. 64KiB, so that shards split by themselves"
                    + " under the run's traffic and faults (default: the servers' own, 64MiB).")
    String splitSize;

    @Option(names = "--secure",
            description = "TLS on every port: the run makes a CA and a node certificate (txkv certs), the servers"
                    + " serve TLS and speak mutual TLS to each other, and the workloads connect over TLS; and"
                    + " authorization on: each workload signs in as its own user, which may read and write only that"
                    + " workload's keys (random passwords in DIR/auth, mode 600).")
    boolean secure;

    @Option(names = "--no-raft",
            description = "With --nodes 1: start a plain server, without --id/--peers (the unreplicated engine).")
    boolean noRaft;

    @Override
    public Integer call() throws Exception {
        return run(System.out, System.err);
    }

    int run(PrintStream out, PrintStream err) throws Exception {
        CheckSettings settings;
        try {
            settings = settings();
        } catch (IllegalArgumentException e) {
            err.println("txkv check: " + e.getMessage());
            return 2;
        }
        RobustnessRun run = new RobustnessRun(settings, out);
        RunReport report;
        try {
            report = run.run();
        } catch (RuntimeException e) {
            run.log("txkv check: the run could not be carried out: " + e.getMessage());
            run.log("txkv check: seed " + settings.seed() + ", logs in " + settings.runDir());
            return 1;
        }
        out.println();
        out.print(run.writeReport(report));
        out.println("history: " + settings.runDir().resolve("history.jsonl") + "; report: "
                + settings.runDir().resolve("report.txt") + " and report.json");
        out.flush();
        return report.valid() ? 0 : 1;
    }

    /** The settings the options give; IllegalArgumentException for a usage error. */
    CheckSettings settings() throws Exception {
        if (shardReplicas != null && shards == null) {
            throw new IllegalArgumentException("--shard-replicas needs --shards");
        }
        if (shards != null && shards < 1) {
            throw new IllegalArgumentException("--shards must be 1 to " + CheckSettings.SHARDS_MAX + ", got " + shards);
        }
        Set<FaultKind.Category> categories = EnumSet.noneOf(FaultKind.Category.class);
        for (String f : faults) {
            if (!f.isBlank() && !f.trim().equals("none")) {
                categories.add(FaultKind.Category.ofToken(f));
            }
        }
        Path jarPath = jar != null ? jar : runningJar();
        if (!Files.isRegularFile(jarPath)) {
            throw new IllegalArgumentException("no jar at " + jarPath + " (give --jar)");
        }
        Path runDir = dir != null ? dir : Path.of(System.getProperty("java.io.tmpdir"),
                "txkv-check-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        long chosenSeed = seed != null ? seed : ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        List<String> jvm = Arrays.stream(serverJavaOptions.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
        int shardCount = shards == null ? 0 : shards;
        int replicas = shardReplicas != null ? shardReplicas
                : shards == null ? 0 : CheckSettings.defaultShardReplicas(nodes);
        return new CheckSettings(duration, nodes, chosenSeed, categories, runDir.toAbsolutePath(),
                jarPath.toAbsolutePath(), jvm, clients, Math.max(1, clients / 2), noRaft, shardCount, replicas, splitSize, secure);
    }

    private static Path runningJar() throws Exception {
        var source = CheckCommand.class.getProtectionDomain().getCodeSource();
        Path location = source == null ? null : Path.of(source.getLocation().toURI());
        if (location == null || !location.toString().endsWith(".jar") || !Files.isRegularFile(location)) {
            throw new IllegalArgumentException("not running from txkv.jar; give --jar PATH");
        }
        return location;
    }

    /** Runs the command as the launcher would; for tests and a plain main. */
    public static int execute(String... args) {
        return new CommandLine(new CheckCommand()).execute(args);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }
}
