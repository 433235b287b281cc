package dev.txkv.server;

import com.google.protobuf.BoolValue;
import com.google.protobuf.DoubleValue;
import com.google.protobuf.Int64Value;
import dev.txkv.proto.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The status records to the wire's {@code dev.txkv.proto.Status} and back: back only for a
 * process, which is what one member takes from another's answer.
 */
final class StatusProtos {
    private StatusProtos() {
    }

    static Status toProto(ClusterStatus s) {
        Status.Builder b = Status.newBuilder()
                .setTimestampMs(s.timestampMs())
                .setProtocolVersion(s.protocolVersion())
                .setAnsweredBy(s.answeredBy())
                .setDatabase(toProto(s.database()))
                .setLatestVersion(s.latestVersion())
                .setWorkload(toProto(s.workload()))
                .setQueues(toProto(s.queues()))
                .setLimits(toProto(s.limits()))
                .setLatencyProbe(toProto(s.latencyProbe()));
        if (s.cluster() != null) {
            Status.Cluster.Builder c = Status.Cluster.newBuilder().setName(s.cluster().name())
                    .setLeader(s.cluster().leader()).setTerm(s.cluster().term());
            for (ClusterStatus.Shard shard : s.cluster().shards()) {
                Status.Shard.Builder sb = Status.Shard.newBuilder().setId(shard.id())
                        .setBegin(com.google.protobuf.ByteString.copyFrom(shard.begin()))
                        .setEnd(com.google.protobuf.ByteString.copyFrom(shard.end())).addAllReplicas(shard.replicas())
                        .setLeader(shard.leader()).setTwoPhase(shard.twoPhase())
                        .setLeaderAddress(shard.leaderAddress()).addAllMovingTo(shard.movingTo())
                        .setMoveReason(shard.moveReason());
                shard.appliedVersion().ifPresent(v -> sb.setAppliedVersion(Int64Value.of(v)));
                shard.kvBytesEstimate().ifPresent(v -> sb.setKvSizeBytesEstimate(Int64Value.of(v)));
                shard.undecided().ifPresent(v -> sb.setUndecided(Int64Value.of(v)));
                c.addShards(sb);
            }
            c.addAllExcluded(s.cluster().excluded());
            if (s.cluster().sequencer() != null) {
                Status.Sequencer.Builder q = Status.Sequencer.newBuilder().setLeader(s.cluster().sequencer().leader())
                        .setLeaderAddress(s.cluster().sequencer().leaderAddress());
                s.cluster().sequencer().epoch().ifPresent(e -> q.setEpoch(Int64Value.of(e)));
                c.setSequencer(q);
            }
            b.setCluster(c);
        }
        for (ProcessStatus p : s.processes()) {
            b.addProcesses(toProto(p));
        }
        return b.build();
    }

    static Status.Process toProto(ProcessStatus p) {
        Status.Process.Builder b = Status.Process.newBuilder()
                .setId(p.id())
                .setClientAddress(p.clientAddress())
                .setRaftAddress(p.raftAddress())
                .setRole(p.role().wireName())
                .setError(p.error());
        MemberStatus r = p.report();
        if (r != null) {
            b.setHealth(toProto(r.health()))
                    .setAcceptingCommits(BoolValue.of(r.acceptingCommits()))
                    .setTerm(Int64Value.of(r.term()))
                    .setAppliedVersion(Int64Value.of(r.appliedVersion()))
                    .setAppliedIndex(Int64Value.of(r.appliedIndex()))
                    .setCommitIndex(Int64Value.of(r.commitIndex()))
                    .setUptimeSeconds(Int64Value.of(r.uptimeSeconds()))
                    .setStorage(toProto(r.storage()));
        }
        p.lagVersions().ifPresent(v -> b.setLagVersions(Int64Value.of(v)));
        p.lagEntries().ifPresent(v -> b.setLagEntries(Int64Value.of(v)));
        p.lastContactMs().ifPresent(v -> b.setLastContactMs(Int64Value.of(v)));
        return b.build();
    }

    static Status.Health toProto(Health h) {
        Status.Health.Builder b = Status.Health.newBuilder().setAvailable(h.available()).setHealthy(h.healthy());
        for (Health.Message m : h.messages()) {
            b.addMessages(Status.Message.newBuilder().setName(m.name()).setDescription(m.description()));
        }
        return b.build();
    }

    private static Status.Storage toProto(StorageStatus s) {
        return Status.Storage.newBuilder()
                .setEngine(s.engine())
                .setEngineVersion(s.engineVersion())
                .setDataDirectory(s.dataDirectory())
                .setDiskUsedBytes(s.diskUsedBytes())
                .setKvSizeBytesEstimate(s.kvSizeBytesEstimate())
                .setMvccVersionsRetained(s.mvccVersionsRetained())
                .build();
    }

    private static Status.Workload toProto(ClusterStatus.Workload w) {
        return Status.Workload.newBuilder()
                .setCommitted(toProto(w.committed()))
                .setConflicted(toProto(w.conflicted()))
                .setTooOld(toProto(w.tooOld()))
                .setRejectedForQueueFull(toProto(w.rejectedForQueueFull()))
                .setReads(toProto(w.reads()))
                .setCommitBatches(toProto(w.commitBatches()))
                .build();
    }

    private static Status.Rate toProto(ClusterStatus.Rate r) {
        return Status.Rate.newBuilder().setCounter(r.counter()).setHz(r.hz()).build();
    }

    private static Status.Queues toProto(ClusterStatus.Queues q) {
        return Status.Queues.newBuilder()
                .setCommitQueueDepth(q.commitQueueDepth())
                .setCommitQueueLimit(q.commitQueueLimit())
                .setWatches(q.watches())
                .setWatchesLimit(q.watchesLimit())
                .setWatchStreams(q.watchStreams())
                .setWatchStreamsLimit(q.watchStreamsLimit())
                .build();
    }

    private static Status.Limits toProto(ClusterStatus.Limits l) {
        return Status.Limits.newBuilder()
                .setKeySizeBytes(l.keySizeBytes())
                .setValueSizeBytes(l.valueSizeBytes())
                .setTransactionSizeBytes(l.transactionSizeBytes())
                .setMvccWindowMs(l.mvccWindowMs())
                .setRangeRowsPerCall(l.rangeRowsPerCall())
                .setRangeBytesPerCall(l.rangeBytesPerCall())
                .build();
    }

    private static Status.LatencyProbe toProto(ClusterStatus.LatencyProbe p) {
        Status.LatencyProbe.Builder b = Status.LatencyProbe.newBuilder().setError(p.error());
        p.readVersionSeconds().ifPresent(v -> b.setReadVersionSeconds(DoubleValue.of(v)));
        p.readSeconds().ifPresent(v -> b.setReadSeconds(DoubleValue.of(v)));
        p.commitSeconds().ifPresent(v -> b.setCommitSeconds(DoubleValue.of(v)));
        return b.build();
    }

    /**
     * The process another member reported about itself, or an unreachable one when its answer
     * does not hold a process of that id or a role this server knows.
     */
    static ProcessStatus fromProto(Status answer, String id, String clientAddress, String raftAddress) {
        for (Status.Process p : answer.getProcessesList()) {
            if (!p.getId().equals(id)) {
                continue;
            }
            MemberRole role = MemberRole.fromWireName(p.getRole());
            if (role == null || role == MemberRole.UNREACHABLE || !p.hasHealth() || !p.hasStorage()) {
                return ProcessStatus.unreachable(id, clientAddress, raftAddress,
                        "its status answer has no report of itself (role '" + p.getRole() + "')");
            }
            Status.Storage s = p.getStorage();
            MemberStatus report = new MemberStatus(fromProto(p.getHealth()), p.getAcceptingCommits().getValue(),
                    p.getTerm().getValue(), p.getAppliedVersion().getValue(), p.getAppliedIndex().getValue(),
                    p.getCommitIndex().getValue(), p.getUptimeSeconds().getValue(),
                    new StorageStatus(s.getEngine(), s.getEngineVersion(), s.getDataDirectory(), s.getDiskUsedBytes(),
                            s.getKvSizeBytesEstimate(), s.getMvccVersionsRetained()));
            // Its raft address as it knows it; its client address as it was asked.
            return new ProcessStatus(id, clientAddress, p.getRaftAddress().isEmpty() ? raftAddress : p.getRaftAddress(),
                    role, "", report, OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty());
        }
        return ProcessStatus.unreachable(id, clientAddress, raftAddress,
                "the server at " + clientAddress + " answered as member '" + answer.getAnsweredBy() + "', not '" + id
                        + "'; check --peer-clients");
    }

    private static Health fromProto(Status.Health h) {
        List<Health.Message> messages = new ArrayList<>();
        for (Status.Message m : h.getMessagesList()) {
            messages.add(new Health.Message(m.getName(), m.getDescription()));
        }
        return new Health(h.getAvailable(), h.getHealthy() && h.getAvailable(), messages);
    }
}
