package dev.txkv.check;

/**
 * A fault as it happened. Times are {@link System#nanoTime()} values of the harness JVM, the
 * clock of the recorded histories, so faults and operations share one time line.
 *
 * @param number 1-based, in order of injection
 * @param kind what was done
 * @param node the node's id, or null when the fault was skipped
 * @param leaderBefore the leader's id when the fault started, or null if unknown
 * @param startNanos when it was injected
 * @param healNanos when healing began
 * @param healedNanos when healing was done (a restarted node ready again)
 * @param failoverMs for a killed leader: from the kill to the first successful commit of the
 *     probe client; -1 otherwise or when none succeeded within the probe's limit
 * @param note what was skipped or went wrong; empty when all went to plan
 */
record FaultEvent(int number, FaultKind kind, String node, String leaderBefore, long startNanos, long healNanos,
                  long healedNanos, long failoverMs, String note) {
    boolean injected() {
        return node != null && !note.startsWith(NOT_REACHED) && !note.startsWith(NOT_INJECTED);
    }

    /** A stranger's request to the Raft port was accepted, or what it forged became readable. */
    boolean breach() {
        return kind == FaultKind.STRANGER && note.startsWith(BREACH);
    }

    /** How the note of a {@link #breach()} starts. */
    static final String BREACH = "BREACH";
    /** How the note of a two-phase crash point that was armed but never reached starts. */
    static final String NOT_REACHED = "crash point not reached";
    /** How the note of a split the cluster refused (a key that begins a shard already, a split under way) starts. */
    static final String NOT_INJECTED = "not injected";
}
