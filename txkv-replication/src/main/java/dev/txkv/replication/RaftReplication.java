package dev.txkv.replication;

import dev.txkv.TxkvConfig;
import dev.txkv.engine.CommitLog;
import dev.txkv.engine.Engine;
import java.nio.file.Path;

/**
 * Opens a member of a replicated cluster: an {@link Engine} whose commit log is a Raft group
 * on Apache Ratis. Only the leader accepts commits and hands out read versions (others answer
 * not_leader, 1060, retryable); every member serves reads at a version once it has applied it.
 */
public final class RaftReplication {
    private RaftReplication() {
    }

    /** Opens the member {@code replication.selfId()} with data in {@code dir} and its Raft log in {@code dir/raft}. */
    public static Engine open(Path dir, TxkvConfig config, ReplicationConfig replication) {
        return Engine.builder(dir, config).log(log(replication, dir.resolve("raft"))).open();
    }

    /** For tests in this package: as {@link #open}, handing the member's Raft log to {@code created}. */
    static Engine open(Path dir, TxkvConfig config, ReplicationConfig replication,
            java.util.function.Consumer<RaftReplica> created) {
        return Engine.builder(dir, config).log(log(replication, dir.resolve("raft"), created)).open();
    }

    /** A Raft commit log for an engine being built, with its log in {@code raftDir}. */
    public static CommitLog.Factory log(ReplicationConfig replication, Path raftDir) {
        return log(replication, raftDir, r -> { });
    }

    /**
     * A Raft commit log for an engine being built, as the group {@code replication.clusterName()}
     * on a Raft host shared with other groups (a process hosting several shards).
     */
    public static CommitLog.Factory log(ReplicationConfig replication, RaftHost host) {
        return factory(logHost -> new RaftReplica(logHost, replication, host));
    }

    private static CommitLog.Factory log(ReplicationConfig replication, Path raftDir,
            java.util.function.Consumer<RaftReplica> created) {
        return factory(logHost -> {
            RaftReplica replica = new RaftReplica(logHost, replication, raftDir);
            created.accept(replica);
            return replica;
        });
    }

    private static CommitLog.Factory factory(java.util.function.Function<dev.txkv.engine.LogHost, RaftReplica> open) {
        return new CommitLog.Factory() {
            @Override
            public CommitLog open(dev.txkv.engine.LogHost host) {
                return open.apply(host);
            }

            @Override
            public boolean durableByItself() {
                // The Raft log is the durable log, so the engine's RocksDB needs no fsync of its own.
                return true;
            }
        };
    }
}
