package dev.txkv.check;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The settings of one robustness run.
 *
 * @param duration how long traffic runs; faults stop a tail earlier so the end is quiet
 * @param nodes cluster size
 * @param seed drives the fault schedule and the workloads
 * @param faults the fault categories to draw from
 * @param runDir where data directories, logs, histories and the report go
 * @param jar the txkv.jar whose server is tested
 * @param serverJvmOptions JVM options for each server process
 * @param listAppendThreads client threads of the list-append workload
 * @param bankThreads client threads of the bank workload
 * @param plainServer run the single node without cluster flags (only with one node)
 * @param shards 0 for an unsharded cluster, else the servers' {@code --shards}: the keyspace
 *     split by first key byte into this many shards (docs/sharding.md)
 * @param shardReplicas the servers' {@code --shard-replicas} (1 to the node count); 0 when
 *     unsharded
 * @param splitSize the servers' {@code --split-size} (shards split by themselves past it), or
 *     null for the servers' default
 * @param secure TLS on every port: a CA and a node certificate made for the run, mutual TLS
 *     between the members, the harness's clients over TLS; and authorization on, with a user
 *     per workload that may read and write that workload's keys only ({@link CheckAuth})
 */
record CheckSettings(Duration duration, int nodes, long seed, Set<FaultKind.Category> faults, Path runDir, Path jar,
                     List<String> serverJvmOptions, int listAppendThreads, int bankThreads,
                     boolean plainServer, int shards, int shardReplicas, String splitSize, boolean secure) {
    static final int NODES_MAX = 9;
    /** Most shards: the servers' limit (one per first key byte). */
    static final int SHARDS_MAX = 256;
    static final Duration DURATION_MIN = Duration.ofSeconds(10);
    static final Duration DURATION_MAX = Duration.ofHours(24);
    static final int THREADS_MAX = 64;
    static final Duration QUIET_TAIL_MIN = Duration.ofSeconds(10);
    static final Duration QUIET_TAIL_MAX = Duration.ofSeconds(60);
    /** The key prefixes of the workloads (after a first byte of their own when sharded). */
    static final byte[] LIST_APPEND_PREFIX = "check/list-append/".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    static final byte[] BANK_PREFIX = "check/bank/".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    CheckSettings {
        if (duration.compareTo(DURATION_MIN) < 0 || duration.compareTo(DURATION_MAX) > 0) {
            throw new IllegalArgumentException("--duration must be between 10s and 24h, got " + duration);
        }
        if (nodes < 1 || nodes > NODES_MAX) {
            throw new IllegalArgumentException("--nodes must be 1 to " + NODES_MAX + ", got " + nodes);
        }
        if (listAppendThreads < 1 || listAppendThreads > THREADS_MAX || bankThreads < 1 || bankThreads > THREADS_MAX) {
            throw new IllegalArgumentException("client threads must be 1 to " + THREADS_MAX);
        }
        if (plainServer && nodes != 1) {
            throw new IllegalArgumentException("--no-raft needs --nodes 1");
        }
        if (shards < 0 || shards > SHARDS_MAX) {
            throw new IllegalArgumentException("--shards must be 1 to " + SHARDS_MAX + ", got " + shards);
        }
        if (shards > 0 && plainServer) {
            throw new IllegalArgumentException("--shards needs replicated servers, not --no-raft");
        }
        if (shards == 0 && shardReplicas != 0) {
            throw new IllegalArgumentException("--shard-replicas needs --shards");
        }
        if (shards > 0 && (shardReplicas < 1 || shardReplicas > nodes)) {
            throw new IllegalArgumentException("--shard-replicas must be 1 to the " + nodes + " nodes, got "
                    + shardReplicas);
        }
        if (splitSize != null && shards == 0) {
            throw new IllegalArgumentException("--split-size needs --shards");
        }
        faults = faults.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(faults));
        serverJvmOptions = List.copyOf(serverJvmOptions);
    }

    /** Plaintext settings with the servers' default split size. */
    CheckSettings(Duration duration, int nodes, long seed, Set<FaultKind.Category> faults, Path runDir, Path jar,
                  List<String> serverJvmOptions, int listAppendThreads, int bankThreads, boolean plainServer,
                  int shards, int shardReplicas) {
        this(duration, nodes, seed, faults, runDir, jar, serverJvmOptions, listAppendThreads, bankThreads, plainServer,
                shards, shardReplicas, null, false);
    }

    /** Plaintext settings. */
    CheckSettings(Duration duration, int nodes, long seed, Set<FaultKind.Category> faults, Path runDir, Path jar,
                  List<String> serverJvmOptions, int listAppendThreads, int bankThreads, boolean plainServer,
                  int shards, int shardReplicas, String splitSize) {
        this(duration, nodes, seed, faults, runDir, jar, serverJvmOptions, listAppendThreads, bankThreads, plainServer,
                shards, shardReplicas, splitSize, false);
    }

    /** Unsharded settings. */
    CheckSettings(Duration duration, int nodes, long seed, Set<FaultKind.Category> faults, Path runDir, Path jar,
                  List<String> serverJvmOptions, int listAppendThreads, int bankThreads, boolean plainServer) {
        this(duration, nodes, seed, faults, runDir, jar, serverJvmOptions, listAppendThreads, bankThreads, plainServer,
                0, 0);
    }

    /** The replicas per shard when {@code --shard-replicas} is not given: 3, or fewer with fewer nodes. */
    static int defaultShardReplicas(int nodes) {
        return Math.min(3, nodes);
    }

    boolean sharded() {
        return shards > 0;
    }

    /**
     * Whether split, move, exclusion or merge faults can be drawn: all are admin calls, so a
     * secure run's status calls sign in as root.
     */
    boolean splitFaults() {
        return sharded() && (faults.contains(FaultKind.Category.SPLIT) || faults.contains(FaultKind.Category.MOVE)
                || faults.contains(FaultKind.Category.EXCLUDE) || faults.contains(FaultKind.Category.MERGE));
    }

    /**
     * The flags every server gets beyond the cluster's: {@code --shards N --shard-replicas R}
     * when sharded, {@code --crash-points} when two-phase faults are drawn, and
     * {@code --split-size} when given.
     */
    List<String> serverArgs() {
        if (!sharded()) {
            return List.of();
        }
        List<String> args = new java.util.ArrayList<>(
                List.of("--shards", Integer.toString(shards), "--shard-replicas", Integer.toString(shardReplicas)));
        if (faults.contains(FaultKind.Category.TWO_PHASE)) {
            args.add("--crash-points");
        }
        if (splitSize != null) {
            args.addAll(List.of("--split-size", splitSize));
        }
        return List.copyOf(args);
    }

    /**
     * The quiet tail: no fault is injected in the last quarter of the run (10 s to 60 s), so
     * the workloads' final reads meet a healed cluster.
     */
    Duration quietTail() {
        Duration quarter = duration.dividedBy(4);
        if (quarter.compareTo(QUIET_TAIL_MIN) < 0) {
            return QUIET_TAIL_MIN;
        }
        return quarter.compareTo(QUIET_TAIL_MAX) > 0 ? QUIET_TAIL_MAX : quarter;
    }

    /** The fault kinds to draw from, given what the cluster size and the network allow. */
    Set<FaultKind> faultKinds(boolean partitionsAvailable) {
        Set<FaultKind> kinds = EnumSet.noneOf(FaultKind.class);
        for (FaultKind kind : FaultKind.values()) {
            boolean needsFollower = !kind.targetsLeader() && !kind.anyNode();
            boolean isPartition = kind.category() == FaultKind.Category.PARTITION;
            if (faults.contains(kind.category()) && !(needsFollower && nodes < 2)
                    && !(kind == FaultKind.STRANGER && plainServer)
                    && !((kind.category() == FaultKind.Category.TWO_PHASE || kind.category() == FaultKind.Category.SPLIT
                            || kind.category() == FaultKind.Category.MOVE || kind.category() == FaultKind.Category.MERGE)
                            && !sharded())
                    && !(isPartition && (nodes < 2 || !partitionsAvailable))
                    && !(kind.category() == FaultKind.Category.EXCLUDE && !(sharded() && nodes > shardReplicas))) {
                kinds.add(kind);
            }
        }
        return kinds;
    }

    /** The settings as the report prints them. */
    Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("duration", duration.toSeconds() + " s (faults stop " + quietTail().toSeconds() + " s before the end)");
        m.put("nodes", nodes + (plainServer ? " (plain server, no Raft)" : ""));
        if (sharded()) {
            m.put("shards", shards + " (--shards " + shards + " --shard-replicas " + shardReplicas + ": "
                    + shardReplicas + " replicas each; workload keys spread over the first key bytes; faults aimed"
                    + " at the leader hit the control group's leader, which runs the sequencer)");
            if (splitSize != null) {
                m.put("split size", splitSize + " (--split-size: shards split by themselves past it)");
            }
        }
        if (secure) {
            m.put("tls", "on every port (--secure): a CA and a node certificate in " + runDir.resolve("certs")
                    + ", mutual TLS between members, clients over TLS");
            String spread = sharded() ? " (under each first byte 0x00 to 0xFE)" : "";
            m.put("authorization", "on (--secure), a user per workload: " + CheckAuth.userOf("list-append")
                    + " may read and write only " + dev.txkv.ByteArrays.printable(LIST_APPEND_PREFIX) + spread + ", "
                    + CheckAuth.userOf("bank") + " only " + dev.txkv.ByteArrays.printable(BANK_PREFIX) + spread + "; "
                    + CheckAuth.MONITOR_USER + " (roles monitor and " + CheckAuth.PROBE_ROLE + ": status and the"
                    + " probes' keys) for the leader and failover probes; status calls" + (splitFaults()
                    ? " and splits as " + CheckAuth.ROOT : " as " + CheckAuth.MONITOR_USER) + "; " + CheckAuth.ROOT
                    + " set them up; random passwords in " + runDir.resolve("auth") + " (mode 600); at the end each"
                    + " workload's user must be refused (6000) outside its keys");
        }
        m.put("faults", faults.stream().sorted().map(FaultKind.Category::token).collect(Collectors.joining(",")));
        m.put("clients", "list-append " + listAppendThreads + " threads, bank " + bankThreads + " threads");
        m.put("run directory", runDir.toString());
        m.put("jar", jar.toString());
        m.put("server JVM options", String.join(" ", serverJvmOptions));
        return m;
    }
}
