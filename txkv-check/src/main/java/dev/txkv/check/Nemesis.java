package dev.txkv.check;

import dev.txkv.launcher.LocalCluster;
import dev.txkv.testkit.RaftStranger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Injects a {@link FaultSchedule} into a running cluster, one fault at a time: wait the gap,
 * find the leader, pick the target, inject, hold, heal, wait until healed. No fault starts
 * unless it can be healed before the end of the fault window, and {@link #healAll} runs at the
 * end whatever happened, so the final reads meet a whole cluster.
 */
final class Nemesis {
    static final long LEADER_WAIT_MS = 15_000;
    /** Longest wait for an armed crash point to be reached. */
    static final long CRASH_WAIT_MS = 10_000;
    /** The key a stranger's forged batch would set: outside the workloads' keys. */
    static final byte[] FORGED_KEY = "check/forged-by-a-stranger".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    private final Cluster cluster;
    private final NodeNetwork network;
    private final FaultSchedule schedule;
    private final CommitProbe probe;
    private final long runStartNanos;
    private final long windowEndNanos;
    private final Consumer<String> log;
    private final List<FaultEvent> events = new ArrayList<>();
    /** The node an exclusion fault excluded and has not included again yet; -1: none. */
    private int excluded = -1;

    Nemesis(Cluster cluster, NodeNetwork network, FaultSchedule schedule, CommitProbe probe, long runStartNanos,
            long windowEndNanos, Consumer<String> log) {
        this.cluster = cluster;
        this.network = network;
        this.schedule = schedule;
        this.probe = probe;
        this.runStartNanos = runStartNanos;
        this.windowEndNanos = windowEndNanos;
        this.log = log;
    }

    /** Runs the schedule until its end or the window's, then heals everything; returns the events. */
    List<FaultEvent> run() {
        try {
            for (FaultSchedule.PlannedFault fault : schedule.faults()) {
                long holdNanos = TimeUnit.MILLISECONDS.toNanos(fault.gapBeforeMs() + fault.holdMs());
                if (Thread.currentThread().isInterrupted() || System.nanoTime() + holdNanos > windowEndNanos) {
                    break;
                }
                Cluster.sleep(fault.gapBeforeMs());
                events.add(inject(events.size() + 1, fault));
            }
        } finally {
            healAll();
        }
        return List.copyOf(events);
    }

    private FaultEvent inject(int number, FaultSchedule.PlannedFault fault) {
        FaultKind kind = fault.kind();
        long now = System.nanoTime();
        OptionalInt leader = cluster.leader(LEADER_WAIT_MS);
        String leaderId = leader.isPresent() ? cluster.node(leader.getAsInt()).id() : null;
        int target = target(fault, leader);
        if (target < 0) {
            String why = leader.isEmpty() ? "no leader found within " + LEADER_WAIT_MS + " ms" : "no follower to target";
            log.accept(String.format("[%s] fault %d %s skipped: %s", at(now), number, kind.token(), why));
            return new FaultEvent(number, kind, null, leaderId, now, now, now, -1, "skipped: " + why);
        }
        String node = cluster.node(target).id();
        String note = "";
        long start = System.nanoTime();
        long heal = start;
        long failoverMs = -1;
        CompletableFuture<Long> failover = null;
        try {
            switch (kind.category()) {
                case KILL -> cluster.kill(target);
                case PAUSE -> cluster.pause(target);
                case RESTART -> cluster.stop(target);
                case PARTITION -> network.isolate(target);
                case STRANGER -> note = strangerOnTheRaftPort(fault.targetChoice());
                case SPLIT -> note = splitShard(target, fault.targetChoice());
                case MOVE -> note = moveShard(target, fault.targetChoice());
                case MERGE -> note = mergeShards(target, fault.targetChoice());
                case EXCLUDE -> note = excludeMember(target);
                case TWO_PHASE -> {
                    CrashOutcome crash = crashAnywhere(kind);
                    note = crash.note();
                    if (crash.node() >= 0) {
                        target = crash.node();
                        node = cluster.node(target).id();
                    }
                }
            }
            start = System.nanoTime();
            log.accept(String.format("[%s] fault %d %s on %s (leader was %s), hold %d ms", at(start), number,
                    kind.token(), node, leaderId, fault.holdMs()));
            if (kind == FaultKind.KILL_LEADER) {
                long killed = start;
                failover = CompletableFuture.supplyAsync(() -> probe.millisToFirstCommit(killed),
                        r -> daemon(r, "check-failover-probe").start());
            }
            Cluster.sleep(fault.holdMs());
            heal = System.nanoTime();
            heal(kind, target);
        } catch (RuntimeException e) {
            note = "error: " + e.getMessage();
            log.accept("fault " + number + " " + kind.token() + " on " + node + " went wrong: " + e.getMessage());
            healAll();
        }
        if (failover != null) {
            failoverMs = join(failover);
        }
        long healed = System.nanoTime();
        log.accept(String.format("[%s] fault %d healed: %s %s after %d ms%s", at(healed), number, kind.token(), node,
                TimeUnit.NANOSECONDS.toMillis(healed - start),
                failover == null ? "" : ", first commit after the kill: " + (failoverMs < 0 ? "none" : failoverMs + " ms")));
        return new FaultEvent(number, kind, node, leaderId, start, heal, healed, failoverMs, note);
    }

    private int target(FaultSchedule.PlannedFault fault, OptionalInt leader) {
        if (leader.isEmpty()) {
            return -1;
        }
        if (fault.kind().targetsLeader()) {
            return leader.getAsInt();
        }
        List<Integer> candidates = new ArrayList<>();
        for (LocalCluster.Member node : cluster.nodes()) {
            boolean follower = node.index() != leader.getAsInt();
            if (node.state() == LocalCluster.State.RUNNING && (follower || fault.kind().anyNode())) {
                candidates.add(node.index());
            }
        }
        return candidates.isEmpty() ? -1 : candidates.get(fault.targetChoice() % candidates.size());
    }

    private void heal(FaultKind kind, int target) {
        switch (kind.category()) {
            case KILL, RESTART -> cluster.start(target);
            case PAUSE -> cluster.resume(target);
            case PARTITION -> network.heal();
            case EXCLUDE -> includeMember(target);
            case STRANGER, SPLIT, MOVE, MERGE -> {
                // Nothing to heal: every attempt was refused (or the run is invalid anyway), or
                // the split, move or merge is done.
            }
            case TWO_PHASE -> {
                // The node that halted, and any other that reached its point as it was disarmed.
                for (LocalCluster.Member n : cluster.nodes()) {
                    if (n.state() != LocalCluster.State.PAUSED && !n.isAlive()) {
                        cluster.kill(n.index());
                        cluster.start(n.index());
                    }
                }
            }
        }
    }

    /**
     * Splits a shard through node {@code index} at a key between the workloads' keys of one
     * first byte ({@code choice} picks it; bank keys sort before list-append keys there). A key
     * that already begins a shard, or a split still under way, counts as not injected.
     */
    private String splitShard(int index, int choice) {
        byte[] key = dev.txkv.ByteArrays.concat(new byte[] {(byte) (1 + choice % 255)},
                "check/c".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        long started = System.nanoTime();
        try {
            dev.txkv.proto.SplitResponse r = dev.txkv.remote.RemoteStatus.split(cluster.node(index).clientAddress(), key,
                    java.time.Duration.ofMillis(SPLIT_WAIT_MS));
            return "shard " + r.getShard() + " split at " + dev.txkv.ByteArrays.printable(key) + " into shard "
                    + r.getNewShard() + " at version " + r.getVersion() + " in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms";
        } catch (dev.txkv.TxkvException e) {
            if (e.getError() == dev.txkv.ErrorCode.INVALID_OPTION_VALUE || e.getError() == dev.txkv.ErrorCode.OPERATION_FAILED) {
                return FaultEvent.NOT_INJECTED + ": split at " + dev.txkv.ByteArrays.printable(key) + " refused: "
                        + e.getMessage();
            }
            throw e;
        }
    }

    /** How long a split fault waits for its split to complete. */
    private static final long SPLIT_WAIT_MS = 60_000;

    /**
     * Moves a shard ({@code choice} picks it, and its new members: 2 or 3 nodes, another set
     * than today's) through node {@code index}. A move refused (the shard is being split, or
     * another node is down and the move cannot finish in time) counts as not injected.
     */
    private String moveShard(int index, int choice) {
        String address = cluster.node(index).clientAddress();
        java.time.Duration wait = java.time.Duration.ofMillis(MOVE_WAIT_MS);
        List<dev.txkv.proto.Status.Shard> shards = dev.txkv.remote.RemoteStatus.fetch(address, java.time.Duration.ofSeconds(10))
                .getCluster().getShardsList();
        if (shards.isEmpty()) {
            return FaultEvent.NOT_INJECTED + ": not a sharded cluster";
        }
        dev.txkv.proto.Status.Shard shard = shards.get(Math.floorMod(choice, shards.size()));
        java.util.Random random = new java.util.Random(choice);
        List<String> ids = new ArrayList<>();
        for (LocalCluster.Member node : cluster.nodes()) {
            ids.add(node.id());
        }
        List<String> target;
        do {
            java.util.Collections.shuffle(ids, random);
            target = List.copyOf(ids.subList(0, Math.min(ids.size(), 2 + random.nextInt(2))));
        } while (ids.size() > 1 && new java.util.HashSet<>(target).equals(new java.util.HashSet<>(shard.getReplicasList())));
        long started = System.nanoTime();
        try {
            dev.txkv.remote.RemoteStatus.move(address, shard.getId(), target, "txkv check", wait);
            return "shard " + shard.getId() + " moved from " + String.join(",", shard.getReplicasList()) + " to "
                    + String.join(",", target) + " in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms";
        } catch (dev.txkv.TxkvException e) {
            if (e.getError() == dev.txkv.ErrorCode.INVALID_OPTION_VALUE || e.getError() == dev.txkv.ErrorCode.OPERATION_FAILED) {
                return FaultEvent.NOT_INJECTED + ": move of shard " + shard.getId() + " to " + String.join(",", target)
                        + " refused: " + e.getMessage();
            }
            throw e;
        }
    }

    /**
     * Merges two neighbouring shards through node {@code index}: of the shards whose right
     * neighbour (the next shard in key order) has its replicas on the same nodes, neither moving,
     * {@code choice} picks the left one, and the fault waits for the merge to complete. When no
     * two neighbours are on the same nodes, {@code choice} picks a shard and its right neighbour
     * is moved onto that shard's nodes instead, so that a later merge fault can merge them. A
     * merge or move refused (a split, move or other merge under way) counts as not injected, and
     * so does a cluster with one shard: there is nothing to merge.
     */
    private String mergeShards(int index, int choice) {
        String address = cluster.node(index).clientAddress();
        List<dev.txkv.proto.Status.Shard> shards = new ArrayList<>(dev.txkv.remote.RemoteStatus
                .fetch(address, java.time.Duration.ofSeconds(10)).getCluster().getShardsList());
        if (shards.isEmpty()) {
            return FaultEvent.NOT_INJECTED + ": not a sharded cluster";
        }
        if (shards.size() < 2) {
            return FaultEvent.NOT_INJECTED + ": nothing to merge, the cluster has one shard";
        }
        shards.sort((a, b) -> dev.txkv.ByteArrays.compareUnsigned(a.getBegin().toByteArray(), b.getBegin().toByteArray()));
        List<Integer> mergeable = new ArrayList<>();
        for (int i = 0; i + 1 < shards.size(); i++) {
            dev.txkv.proto.Status.Shard left = shards.get(i);
            dev.txkv.proto.Status.Shard right = shards.get(i + 1);
            if (left.getMovingToCount() == 0 && right.getMovingToCount() == 0
                    && new java.util.HashSet<>(left.getReplicasList()).equals(new java.util.HashSet<>(right.getReplicasList()))) {
                mergeable.add(i);
            }
        }
        java.time.Duration wait = java.time.Duration.ofMillis(MERGE_WAIT_MS);
        long started = System.nanoTime();
        if (mergeable.isEmpty()) {
            int at = Math.floorMod(choice, shards.size() - 1);
            dev.txkv.proto.Status.Shard left = shards.get(at);
            dev.txkv.proto.Status.Shard right = shards.get(at + 1);
            List<String> target = List.copyOf(left.getReplicasList());
            try {
                dev.txkv.remote.RemoteStatus.move(address, right.getId(), target, "txkv check", wait);
                return "no neighbouring shards on the same nodes: shard " + right.getId() + " moved from "
                        + String.join(",", right.getReplicasList()) + " to " + String.join(",", target)
                        + " (the nodes of shard " + left.getId() + ", to merge later) in "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms";
            } catch (dev.txkv.TxkvException e) {
                if (e.getError() == dev.txkv.ErrorCode.INVALID_OPTION_VALUE || e.getError() == dev.txkv.ErrorCode.OPERATION_FAILED) {
                    return FaultEvent.NOT_INJECTED + ": no neighbouring shards on the same nodes, and the move of shard "
                            + right.getId() + " to " + String.join(",", target) + " (the nodes of shard " + left.getId()
                            + ") refused: " + e.getMessage();
                }
                throw e;
            }
        }
        dev.txkv.proto.Status.Shard left = shards.get(mergeable.get(Math.floorMod(choice, mergeable.size())));
        try {
            dev.txkv.proto.MergeResponse r = dev.txkv.remote.RemoteStatus.merge(address, left.getId(), "txkv check", wait);
            return "shard " + r.getShard() + " absorbed shard " + r.getAbsorbed() + " (on "
                    + String.join(",", left.getReplicasList()) + ") in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms";
        } catch (dev.txkv.TxkvException e) {
            if (e.getError() == dev.txkv.ErrorCode.INVALID_OPTION_VALUE || e.getError() == dev.txkv.ErrorCode.OPERATION_FAILED) {
                return FaultEvent.NOT_INJECTED + ": merge of shard " + left.getId() + " with its right neighbour refused: "
                        + e.getMessage();
            }
            throw e;
        }
    }

    /** How long a merge fault waits for its merge (or its move) to complete. */
    private static final long MERGE_WAIT_MS = 60_000;

    /**
     * Excludes node {@code index} through another running node, and waits until no shard has a
     * replica on it (or is moving to it). An exclusion refused counts as not injected; one whose
     * drain does not finish within {@link #EXCLUDE_WAIT_MS} is noted so (and included again at
     * the heal all the same).
     */
    private String excludeMember(int index) {
        String member = cluster.node(index).id();
        String through = throughOther(index);
        long started = System.nanoTime();
        try {
            excluded = index;
            dev.txkv.remote.RemoteStatus.exclude(through, member, false, java.time.Duration.ofSeconds(30));
        } catch (dev.txkv.TxkvException e) {
            if (e.getError() == dev.txkv.ErrorCode.INVALID_OPTION_VALUE || e.getError() == dev.txkv.ErrorCode.OPERATION_FAILED) {
                return FaultEvent.NOT_INJECTED + ": exclusion of " + member + " refused: " + e.getMessage();
            }
            throw e;
        }
        long deadline = started + TimeUnit.MILLISECONDS.toNanos(EXCLUDE_WAIT_MS);
        while (System.nanoTime() < deadline && !Thread.currentThread().isInterrupted()) {
            try {
                List<dev.txkv.proto.Status.Shard> shards = dev.txkv.remote.RemoteStatus
                        .fetch(throughOther(index), java.time.Duration.ofSeconds(10)).getCluster().getShardsList();
                // A shard that every other node keeps already (3 replicas on 3 nodes, after a move
                // fault) has nowhere to go: it stays, as the cluster says in its log.
                List<String> ids = cluster.nodes().stream().map(LocalCluster.Member::id).toList();
                long stuck = shards.stream().filter(s -> s.getReplicasList().contains(member) && s.getMovingToCount() == 0
                        && s.getReplicasList().containsAll(ids)).count();
                boolean drained = shards.stream().noneMatch(s -> s.getMovingToList().contains(member)
                        || (s.getReplicasList().contains(member) && !s.getReplicasList().containsAll(ids)));
                if (drained) {
                    return member + " excluded and drained in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)
                            + " ms" + (stuck == 0 ? "" : " (" + stuck + " shard(s) with a replica on every node stay)");
                }
            } catch (dev.txkv.TxkvException e) {
                // A node down or busy with another fault's aftermath: ask again.
            }
            Cluster.sleep(500);
        }
        return member + " excluded; not drained within " + EXCLUDE_WAIT_MS + " ms";
    }

    /** Includes node {@code index} again (after {@link #excludeMember}); retried until it is recorded. */
    private void includeMember(int index) {
        String member = cluster.node(index).id();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(EXCLUDE_WAIT_MS);
        while (true) {
            try {
                dev.txkv.remote.RemoteStatus.exclude(throughOther(index), member, true, java.time.Duration.ofSeconds(30));
                excluded = -1;
                return;
            } catch (dev.txkv.TxkvException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Cluster.sleep(500);
            }
        }
    }

    /** The client address of a running node other than {@code index} (itself if none). */
    private String throughOther(int index) {
        for (LocalCluster.Member n : cluster.nodes()) {
            if (n.index() != index && n.state() == LocalCluster.State.RUNNING) {
                return n.clientAddress();
            }
        }
        return cluster.node(index).clientAddress();
    }

    /** How long an exclusion waits for its node to be drained. */
    private static final long EXCLUDE_WAIT_MS = 120_000;

    /** How long a move fault waits for its move to complete. */
    private static final long MOVE_WAIT_MS = 60_000;

    /** Which node halted at a crash point (-1: none) and the fault's note. */
    private record CrashOutcome(int node, String note) {
    }

    /**
     * Arms {@code kind}'s crash point on every running node (only a shard's leader coordinates
     * or votes, and which one meets the next cross-shard commit is not known ahead), waits (at
     * most {@link #CRASH_WAIT_MS}, never past the fault window) until one halts there, then
     * disarms the others. A note that starts with {@link FaultEvent#NOT_REACHED} counts the
     * fault as not injected.
     */
    private CrashOutcome crashAnywhere(FaultKind kind) {
        long armed = System.nanoTime();
        List<Integer> nodes = new ArrayList<>();
        for (LocalCluster.Member n : cluster.nodes()) {
            if (n.state() == LocalCluster.State.RUNNING) {
                try {
                    cluster.armCrashPoint(n.index(), kind.crashPoint(), true);
                    nodes.add(n.index());
                } catch (RuntimeException e) {
                    log.accept("cannot arm " + kind.crashPoint() + " on " + n.id() + ": " + e.getMessage());
                }
            }
        }
        long waitMs = Math.max(0, Math.min(CRASH_WAIT_MS, TimeUnit.NANOSECONDS.toMillis(windowEndNanos - armed)));
        long until = armed + TimeUnit.MILLISECONDS.toNanos(waitMs);
        int halted = -1;
        java.util.Optional<Integer> exit = java.util.Optional.empty();
        for (int round = 0; halted < 0 && !nodes.isEmpty() && round < 100_000; round++) {
            for (int i : nodes) {
                exit = cluster.awaitExit(i, 0);
                if (exit.isPresent()) {
                    halted = i;
                    break;
                }
            }
            if (halted >= 0 || System.nanoTime() - until >= 0) {
                break;
            }
            Cluster.sleep(20);
        }
        for (int i : nodes) {
            if (i != halted) {
                try {
                    cluster.armCrashPoint(i, kind.crashPoint(), false);
                } catch (RuntimeException e) {
                    // It halted as it was disarmed, or does not answer: heal() starts it if it is gone.
                }
            }
        }
        if (halted < 0) {
            return new CrashOutcome(-1, FaultEvent.NOT_REACHED + " on any of " + nodes.size() + " nodes within "
                    + waitMs + " ms; disarmed");
        }
        cluster.kill(halted);
        return new CrashOutcome(halted, "halted at " + kind.crashPoint() + " "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - armed) + " ms after it was armed (exit status "
                + exit.get() + ")");
    }

    /**
     * Sends a stranger's requests to every member's Raft port, for the cluster's Raft group or,
     * in a sharded cluster, for the control group and one shard's group ({@code choice} picks
     * it, so that a run's strangers visit the shards in turn and each attack stays short), then
     * reads the key the forged batch would have set. Returns the fault's note: a
     * {@link FaultEvent#BREACH} when any request was accepted or the forged key is readable.
     */
    private String strangerOnTheRaftPort(int choice) {
        Map<String, String> members = new LinkedHashMap<>();
        for (LocalCluster.Member n : cluster.nodes()) {
            members.put(n.id(), n.raftAddress());
        }
        List<RaftStranger.Attempt> attempts = new ArrayList<>();
        List<String> groups = cluster.raftGroups();
        List<String> attacked = groups.size() == 1 ? groups
                : List.of(groups.get(0), groups.get(1 + choice % (groups.size() - 1)));
        for (String group : attacked) {
            attempts.addAll(RaftStranger.attack(group, members, FORGED_KEY));
        }
        List<RaftStranger.Attempt> accepted = attempts.stream().filter(a -> !a.refused()).toList();
        if (!accepted.isEmpty()) {
            return FaultEvent.BREACH + ": accepted " + accepted;
        }
        try {
            byte[] forged = probe.read(FORGED_KEY);
            if (forged != null) {
                return FaultEvent.BREACH + ": the forged key is readable";
            }
        } catch (Exception e) {
            return "refused all " + attempts.size() + " requests" + to(attacked)
                    + "; the forged key could not be read back: " + e;
        }
        return "refused all " + attempts.size() + " requests" + to(attacked) + "; the forged key is absent";
    }

    /** Nothing for the cluster's one group (unchanged notes), else " to GROUP and GROUP". */
    private static String to(List<String> groups) {
        return groups.size() == 1 ? "" : " to " + String.join(" and ", groups);
    }

    /** Resumes paused nodes, removes partitions, starts nodes that are down. Never throws. */
    void healAll() {
        try {
            network.heal();
        } catch (RuntimeException e) {
            log.accept("warning: healing the network failed: " + e.getMessage());
        }
        for (LocalCluster.Member node : cluster.nodes()) {
            try {
                if (node.state() == LocalCluster.State.PAUSED) {
                    cluster.resume(node.index());
                } else if (node.state() == LocalCluster.State.DOWN) {
                    cluster.start(node.index());
                }
            } catch (RuntimeException e) {
                log.accept("warning: cannot heal " + node.id() + ": " + e.getMessage());
            }
        }
        if (excluded >= 0) {
            try {
                includeMember(excluded);
            } catch (RuntimeException e) {
                log.accept("warning: cannot include " + cluster.node(excluded).id() + " again: " + e.getMessage());
            }
        }
    }

    private static long join(CompletableFuture<Long> future) {
        try {
            return future.get(CommitProbe.PROBE_LIMIT_MS + 5_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        } catch (Exception e) {
            return -1;
        }
    }

    private String at(long nanos) {
        return String.format("+%.1fs", (nanos - runStartNanos) / 1e9);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
