package dev.txkv.check;

import java.util.Locale;

/**
 * The fault catalogue. Each fault is injected on one node, held for a while, then healed; the
 * category is what {@code --faults} selects.
 */
enum FaultKind {
    /** SIGKILL of the leader; restarted on its data directory after the hold. Measures failover. */
    KILL_LEADER(Category.KILL, true),
    /** SIGKILL of a follower; restarted on its data directory after the hold. */
    KILL_FOLLOWER(Category.KILL, false),
    /** SIGSTOP of the leader for the hold (1 to 5 s), then SIGCONT. */
    PAUSE_LEADER(Category.PAUSE, true),
    /** SIGSTOP of a follower for the hold, then SIGCONT. */
    PAUSE_FOLLOWER(Category.PAUSE, false),
    /** SIGTERM (graceful stop) of a random node, down for the hold, then started again. */
    RESTART(Category.RESTART, false),
    /** The leader cut off from every other member (clients still reach all nodes) for the hold. */
    PARTITION_LEADER(Category.PARTITION, true),
    /** A follower cut off from every other member for the hold. */
    PARTITION_FOLLOWER(Category.PARTITION, false),
    /**
     * A stranger on the Raft port: a plain Ratis client sends every member garbage, a forged
     * commit batch, a membership change, a leadership transfer and a group removal
     * ({@link dev.txkv.testkit.RaftStranger}). Each must be refused, and the forged key must
     * never be readable; either failing makes the run invalid.
     */
    STRANGER(Category.STRANGER, false),
    /**
     * Sharded clusters only: every running member is armed to halt (as under SIGKILL) the next
     * time one of its shards coordinates a cross-shard commit and holds every yes vote, before
     * its decision is in its log; the first that does halts, the others are disarmed; it is
     * restarted after the hold. Its participants must learn the abort (presumed)
     * and no acknowledged write may be lost.
     */
    CRASH_COORDINATOR(Category.TWO_PHASE, false, "coordinator-before-decision"),
    /** The same, once the coordinator's commit decision is durable but before the client is answered. */
    CRASH_DECIDED_COORDINATOR(Category.TWO_PHASE, false, "coordinator-after-decision"),
    /** The same, on a participant once its prepared slice is durable and its yes vote goes out. */
    CRASH_VOTED_PARTICIPANT(Category.TWO_PHASE, false, "participant-after-vote"),
    /**
     * Sharded clusters only: a shard split online at a key among the workloads' keys (txkv
     * split, through a random node), while the traffic runs; the split must complete and the
     * histories stay valid. Healing needs nothing.
     */
    SPLIT_SHARD(Category.SPLIT, false),
    /**
     * Sharded clusters only: a shard's replicas moved online to another set of 2 or 3 nodes (txkv
     * move, through a random node), while the traffic runs and other faults come and go; the move
     * must complete and the histories stay valid. Healing needs nothing.
     */
    MOVE_SHARD(Category.MOVE, false),
    /**
     * Sharded clusters with more nodes than replicas per shard only: a node excluded (txkv
     * exclude) while the traffic runs; the fault waits until no shard has a replica left on it,
     * holds, then includes it again, and the rebalancer may move replicas back. The moves must
     * complete and the histories stay valid.
     */
    EXCLUDE_MEMBER(Category.EXCLUDE, false),
    /**
     * Sharded clusters only: a shard merged online with its right neighbour (txkv merge, through a
     * random node) when the two have their replicas on the same nodes, while the traffic runs; when
     * no two neighbours do, the right neighbour of a shard is moved onto that shard's nodes instead
     * (txkv move), so a later merge fault can merge them. The merge or move must complete and the
     * histories stay valid. Healing needs nothing.
     */
    MERGE_SHARD(Category.MERGE, false);

    /** What {@code --faults} names. */
    enum Category {
        KILL, PAUSE, RESTART, PARTITION, STRANGER, TWO_PHASE, SPLIT, MOVE, EXCLUDE, MERGE;

        String token() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        static Category ofToken(String token) {
            for (Category c : values()) {
                if (c.token().equals(token.trim().toLowerCase(Locale.ROOT))) {
                    return c;
                }
            }
            throw new IllegalArgumentException("unknown fault '" + token + "' (known: kill, pause, restart, partition,"
                    + " stranger, two-phase, split, move, exclude, merge)");
        }
    }

    private final Category category;
    private final boolean targetsLeader;
    private final String crashPoint;

    FaultKind(Category category, boolean targetsLeader) {
        this(category, targetsLeader, null);
    }

    FaultKind(Category category, boolean targetsLeader, String crashPoint) {
        this.category = category;
        this.targetsLeader = targetsLeader;
        this.crashPoint = crashPoint;
    }

    /** The server's crash point this fault arms (shard.proto, ArmCrashPoint); null for other faults. */
    String crashPoint() {
        return crashPoint;
    }

    /** Whether any running node may be the target (else a follower unless {@link #targetsLeader()}). */
    boolean anyNode() {
        return this == RESTART || this == STRANGER || category == Category.TWO_PHASE || this == SPLIT_SHARD
                || this == MOVE_SHARD || this == EXCLUDE_MEMBER || this == MERGE_SHARD;
    }

    Category category() {
        return category;
    }

    boolean targetsLeader() {
        return targetsLeader;
    }

    String token() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
