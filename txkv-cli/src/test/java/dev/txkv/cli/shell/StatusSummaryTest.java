package dev.txkv.cli.shell;

import com.google.protobuf.BoolValue;
import com.google.protobuf.DoubleValue;
import com.google.protobuf.Int64Value;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.txkv.proto.Status;
import org.junit.jupiter.api.Test;

class StatusSummaryTest {
    /** Three members asked on a follower: the leader answered, one member did not. */
    static Status threeMembers() {
        Status.Health healthy = Status.Health.newBuilder().setAvailable(true).setHealthy(true).build();
        Status.Storage storage = Status.Storage.newBuilder().setEngine("RocksDB").setEngineVersion("10.10.1")
                .setDataDirectory("/var/txkv/b").setDiskUsedBytes(12_500_000).setKvSizeBytesEstimate(2_500_000)
                .setMvccVersionsRetained(4).build();
        Status.Rate rate = Status.Rate.newBuilder().setCounter(120).setHz(2.5).build();
        return Status.newBuilder()
                .setTimestampMs(1_790_000_000_000L)
                .setProtocolVersion(1)
                .setAnsweredBy("b")
                .setDatabase(healthy)
                .setCluster(Status.Cluster.newBuilder().setName("txkv").setLeader("a").setTerm(3))
                .addProcesses(Status.Process.newBuilder().setId("a").setClientAddress("127.0.0.1:4500")
                        .setRaftAddress("127.0.0.1:4502").setRole("leader").setHealth(healthy).setAcceptingCommits(BoolValue.of(true))
                        .setTerm(Int64Value.of(3)).setAppliedVersion(Int64Value.of(1_796_037_580_702_086L)).setAppliedIndex(Int64Value.of(57)).setCommitIndex(Int64Value.of(57))
                        .setLagVersions(Int64Value.of(0)).setLagEntries(Int64Value.of(0)).setUptimeSeconds(Int64Value.of(35)).setStorage(storage))
                .addProcesses(Status.Process.newBuilder().setId("b").setClientAddress("127.0.0.1:4510")
                        .setRaftAddress("127.0.0.1:4512").setRole("follower").setHealth(healthy)
                        .setAcceptingCommits(BoolValue.of(false)).setTerm(Int64Value.of(3)).setAppliedVersion(Int64Value.of(1_796_037_580_602_086L))
                        .setAppliedIndex(Int64Value.of(55)).setCommitIndex(Int64Value.of(57)).setLagVersions(Int64Value.of(100_000)).setLagEntries(Int64Value.of(2))
                        .setUptimeSeconds(Int64Value.of(34)).setStorage(storage))
                .addProcesses(Status.Process.newBuilder().setId("c").setClientAddress("127.0.0.1:4520")
                        .setRaftAddress("127.0.0.1:4522").setRole("unreachable")
                        .setError("UNAVAILABLE: io exception"))
                .setLatestVersion(1_796_037_580_602_086L)
                .setWorkload(Status.Workload.newBuilder().setCommitted(rate).setConflicted(rate).setTooOld(rate)
                        .setRejectedForQueueFull(rate).setReads(rate).setCommitBatches(rate))
                .setQueues(Status.Queues.newBuilder().setCommitQueueDepth(3).setCommitQueueLimit(8192).setWatches(1)
                        .setWatchesLimit(10_000).setWatchStreams(0).setWatchStreamsLimit(10_000))
                .setLimits(Status.Limits.newBuilder().setKeySizeBytes(10_000).setValueSizeBytes(100_000)
                        .setTransactionSizeBytes(10_000_000).setMvccWindowMs(5_000).setRangeRowsPerCall(10_000)
                        .setRangeBytesPerCall(8 << 20))
                .setLatencyProbe(Status.LatencyProbe.newBuilder().setReadSeconds(DoubleValue.of(0.000032)))
                .build();
    }

    @Test
    void summaryShowsEveryMemberWithAddressesRoleAndLag() {
        String summary = StatusSummary.render(threeMembers());
        assertThat(summary).contains("Leader", " - a\n", "Raft term", " - 3\n", "Members", "Answered by");
        assertThat(summary).contains("a  leader (takes commits), client 127.0.0.1:4500, raft 127.0.0.1:4502");
        assertThat(summary).contains("b *  follower, client 127.0.0.1:4510, raft 127.0.0.1:4512",
                "applied version 1796037580602086", "behind the leader by 100000 versions, 2 log entries");
        assertThat(summary).contains("c  unreachable, client 127.0.0.1:4520, raft 127.0.0.1:4522",
                "UNAVAILABLE: io exception");
        assertThat(summary).contains("Storage engine", "RocksDB 10.10.1", "Sum of key-value sizes", "2.5 MB",
                "Disk space used", "12.5 MB", "Commit queue", "3 of 8192", "Transactions committed", "2.50 Hz");
        assertThat(summary).contains("Read", "0.032 ms");
    }

    @Test
    void summaryPrintsNothingTheStatusDoesNotHold() {
        String summary = StatusSummary.render(threeMembers());
        assertThat(summary).doesNotContainIgnoringCase("unknown");
        // A follower times no read version or commit: those lines are left out, not shown as placeholders.
        assertThat(summary).doesNotContain("Transaction start", "Commit   ", "Probe error");
        // Even an empty status (nothing reported at all) prints without placeholders.
        assertThat(StatusSummary.render(Status.getDefaultInstance())).doesNotContainIgnoringCase("unknown");
    }

    /** {@link #threeMembers()} sharded: two shards, the second moving off b, which is excluded. */
    static Status sharded(String... excluded) {
        Status status = threeMembers();
        return status.toBuilder().setCluster(status.getCluster().toBuilder()
                .addShards(Status.Shard.newBuilder().setId(0).setEnd(com.google.protobuf.ByteString.copyFromUtf8("m"))
                        .addReplicas("a").addReplicas("c").setLeader("a").setTwoPhase("epoch 1, 0 undecided"))
                .addShards(Status.Shard.newBuilder().setId(1).setBegin(com.google.protobuf.ByteString.copyFromUtf8("m"))
                        .addReplicas("b").addReplicas("c").addMovingTo("a").addMovingTo("c").setMoveReason("exclude b")
                        .setTwoPhase("moving to a,c (exclude b)"))
                .addAllExcluded(java.util.List.of(excluded))).build();
    }

    @Test
    void shardsListTheShardsThenTheExcludedMembers() {
        String table = StatusSummary.shards(sharded("b", "c")).replace(System.lineSeparator(), "\n");
        String[] lines = table.split("\n");
        assertThat(lines).hasSize(4);
        assertThat(lines[0]).startsWith("id    range").contains("replicas", "two-phase state (on b)");
        assertThat(lines[1]).startsWith("0     [, m)").contains("a,c", "epoch 1, 0 undecided");
        assertThat(lines[2]).startsWith("1     [m, \\xff)").contains("b,c", "moving to a,c (exclude b)");
        assertThat(lines[3]).isEqualTo("excluded: b, c");
        assertThat(StatusSummary.shards(sharded())).doesNotContain("excluded");
        assertThat(StatusSummary.shards(threeMembers())).startsWith("The cluster is not sharded");
    }

    @Test
    void summaryNamesTheExcludedMembersOfAShardedCluster() {
        assertThat(StatusSummary.render(sharded("b"))).contains("Shards", " - 2\n", "Excluded members", " - b\n");
        assertThat(StatusSummary.render(sharded())).doesNotContain("Excluded");
    }

    @Test
    void jsonHasTheProtoFieldNamesAndReadsBackStrictly() throws Exception {
        Status status = threeMembers();
        String json = StatusSummary.json(status);
        assertThat(json).contains("\"answered_by\": \"b\"", "\"client_address\": \"127.0.0.1:4520\"",
                "\"lag_entries\": \"2\"", "\"role\": \"unreachable\"");
        // No field unknown to message Status: the strict parser refuses any.
        Status.Builder back = Status.newBuilder();
        JsonFormat.parser().merge(json, back);
        assertThat(back.build()).isEqualTo(status);
    }

    @Test
    void numbersAndBytesFormat() {
        assertThat(StatusSummary.formatNumber(3.0)).isEqualTo("3");
        assertThat(StatusSummary.formatNumber(1796037699758654.0)).isEqualTo("1796037699758654");
        assertThat(StatusSummary.formatNumber(0.125)).isEqualTo("0.13");
        assertThat(StatusSummary.formatBytes(999)).isEqualTo("999 B");
        assertThat(StatusSummary.formatBytes(1_500_000_000)).isEqualTo("1.5 GB");
    }
}
