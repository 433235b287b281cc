package dev.txkv.bench.scale;

import java.util.Locale;

/**
 * The figures of one {@link ScaleSim} run, over its measured time.
 *
 * @param commitsPerSecond   commits answered per second
 * @param p50Ms              commit latency (read version to answer), median
 * @param p99Ms              the same, 99th percentile
 * @param sequencerUtil      the sequencer's busy share of its cores
 * @param grantUtil          the part of it spent on grants (the rest on read versions)
 * @param grantsPerSecond    version grants (shard batches and cross-shard transactions)
 * @param readVersionBatchesPerSecond read-version requests the sequencer answered
 * @param twoPhaseShare      share of commits that ran two-phase
 * @param twoPhaseCpuShare   share of leader and follower CPU spent on two-phase commits
 * @param serverUsPerCommit  server CPU (leaders, followers, heartbeats) per commit
 * @param clientUsPerCommit  client CPU per commit
 * @param minUtil            the least busy server process (busy share of its cores; with shared cores, the machine's)
 * @param meanUtil           the mean over server processes
 * @param maxUtil            the busiest server process
 * @param commitsPerBatch    commits per single-shard batch
 * @param logRecordsPerCommit Raft rounds (batches, PREPARED, DECIDE, DECIDED, FORGET) per commit
 */
public record ScaleResult(
        int processes, int shards, int replicas, double crossShard,
        double commitsPerSecond, double p50Ms, double p99Ms,
        double sequencerUtil, double grantUtil, double grantsPerSecond, double readVersionBatchesPerSecond,
        double twoPhaseShare, double twoPhaseCpuShare,
        double serverUsPerCommit, double clientUsPerCommit,
        double minUtil, double meanUtil, double maxUtil,
        double commitsPerBatch, double logRecordsPerCommit) {

    public static String header() {
        return String.format(Locale.ROOT, "%5s %6s %2s %5s %11s %9s %8s %8s %7s %7s %9s %9s %6s %6s %7s %-15s %6s %6s",
                "procs", "shards", "rf", "cross", "commits/s", "per proc", "p50 ms", "p99 ms",
                "seq %", "grant %", "grants/s", "rv/s", "2PC %", "2PCcpu", "us/cmt", "cpu min/mean/max", "batch", "rec/c");
    }

    public String row() {
        return String.format(Locale.ROOT, "%5d %6d %2d %5.2f %,11.0f %,9.0f %8.3f %8.3f %6.1f%% %6.1f%% %,9.0f %,9.0f %5.1f%% %5.1f%% %7.1f %4.0f/%3.0f/%3.0f%%    %6.1f %6.2f",
                processes, shards, replicas, crossShard, commitsPerSecond, commitsPerSecond / processes,
                p50Ms, p99Ms, 100 * sequencerUtil, 100 * grantUtil, grantsPerSecond, readVersionBatchesPerSecond,
                100 * twoPhaseShare, 100 * twoPhaseCpuShare, serverUsPerCommit,
                100 * minUtil, 100 * meanUtil, 100 * maxUtil, commitsPerBatch, logRecordsPerCommit);
    }
}
