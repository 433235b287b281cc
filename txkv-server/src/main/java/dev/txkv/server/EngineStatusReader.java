package dev.txkv.server;

import dev.txkv.engine.Engine;
import dev.txkv.engine.EngineCounters;
import dev.txkv.engine.ReplicationState;
import dev.txkv.engine.ReplicaHealth;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * What the server reads of the engine it opened, for status, health, metrics and SetMembers:
 * the engine's typed counters ({@link Engine#counters()}) and replication state
 * ({@link Engine#replicationState()}), with the member's role as the server names it.
 */
final class EngineStatusReader implements ClusterAdmin {
    private static final String STORAGE_ENGINE = "RocksDB";
    private final Engine engine;

    EngineStatusReader(Engine engine) {
        this.engine = engine;
    }

    /**
     * This member's view of its Raft group.
     *
     * @param role its role; {@link MemberRole#STOPPED} when its Raft server could not be asked
     * @param leader the leader's id, or empty when none is known
     * @param members every member, id to Raft address, in membership order
     * @param followers each follower's progress; only on the leader, empty elsewhere
     * @param error why its Raft server could not be asked, or null
     * @param failure why it failed to apply the log, or null
     */
    record ReplicationView(String id, MemberRole role, String leader, long term, long commitIndex, long appliedIndex,
            long appliedVersion, boolean acceptingCommits, Map<String, String> members,
            List<ReplicationState.FollowerProgress> followers, String error, String failure) {
        ReplicationView {
            members = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(members));
            followers = List.copyOf(followers);
        }
    }

    /** The name and version of the storage engine. */
    record StorageEngine(String name, String version) {
    }

    /** The engine's counters now. */
    EngineCounters counters() {
        return engine.counters();
    }

    /** The engine's replication state with the role as the server names it; null when the engine is not replicated. */
    ReplicationView replication() {
        ReplicationState r = engine.replicationState().orElse(null);
        if (r == null) {
            return null;
        }
        MemberRole parsed = MemberRole.fromWireName(r.role());
        if (parsed == null || parsed == MemberRole.STANDALONE || parsed == MemberRole.UNREACHABLE) {
            // No role (the log could not be asked: error says why) or one this server does not know.
            parsed = MemberRole.STOPPED;
        }
        return new ReplicationView(r.id(), parsed, r.leader(), r.term(), r.commitIndex(), r.appliedIndex(),
                r.appliedVersion(), r.acceptingCommits(), r.members(), r.followers(), r.error(), r.failure());
    }

    /** The engine's own health: {@link Engine#health()}. */
    ReplicaHealth health() {
        return engine.health();
    }

    @Override
    public boolean isReplicated() {
        return engine.isReplicated();
    }

    /** Whether this member takes commits now (always, when unreplicated). */
    boolean isLeading() {
        return engine.isLeading();
    }

    @Override
    public CompletableFuture<Void> setMembers(Map<String, String> members) {
        return engine.setMembers(members);
    }

    @Override
    public Map<String, String> members() {
        ReplicationView view = replication();
        return view == null ? Map.of() : view.members();
    }

    /** The storage engine under the txkv engine, and its version. */
    StorageEngine storageEngine() {
        return new StorageEngine(STORAGE_ENGINE, org.rocksdb.RocksDB.rocksdbVersion().toString());
    }
}
