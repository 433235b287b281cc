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
    STRANGER(Category.STRANGER, false);

    /** What {@code --faults} names. */
    enum Category {
        KILL, PAUSE, RESTART, PARTITION, STRANGER;

        String token() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Category ofToken(String token) {
            for (Category c : values()) {
                if (c.token().equals(token.trim().toLowerCase(Locale.ROOT))) {
                    return c;
                }
            }
            throw new IllegalArgumentException("unknown fault '" + token + "' (known: kill, pause, restart, partition, stranger)");
        }
    }

    private final Category category;
    private final boolean targetsLeader;

    FaultKind(Category category, boolean targetsLeader) {
        this.category = category;
        this.targetsLeader = targetsLeader;
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
