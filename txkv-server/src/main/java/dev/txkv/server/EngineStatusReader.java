package dev.txkv.server;

import dev.txkv.engine.Engine;
import dev.txkv.engine.ReplicaHealth;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * The one place where the server reads the engine's status maps ({@link Engine#stats()} and
 * {@link Engine#replicationStatus()}) and turns them into typed records. Status, health,
 * metrics and SetMembers all go through here, so when the engine offers typed accessors only
 * this class changes.
 *
 * <p>Keys read from {@code stats()}: version.committed, commits, commit.batches,
 * commit.conflicts, commit.too_old, commit.rejected_queue_full, commit.queue_depth, reads,
 * watches, mvcc.views, storage.live_bytes_estimate, replica.failed, apply.ms_since_last,
 * raft.refused_calls, raft.refused_entries. Keys read from {@code replicationStatus()}: id,
 * role, leader, term, commit_index, applied_index, applied_version, accepting_commits, members
 * (id to Raft address), followers_last_contact_ms (id to milliseconds, leader only),
 * follower_match_indices (the text "[3, 5]", leader only, in the order of the contact times),
 * error, failure.
 */
final class EngineStatusReader implements ClusterAdmin {
    private static final String STORAGE_ENGINE = "RocksDB";
    private final Engine engine;

    EngineStatusReader(Engine engine) {
        this.engine = engine;
    }

    /**
     * The engine's counters and gauges at one moment.
     *
     * @param versionCommitted the newest version committed (or applied, on a follower)
     * @param liveBytesEstimate the storage engine's estimate of the live keys' and values' bytes
     * @param msSinceApply milliseconds since a commit batch was last applied
     */
    record EngineCounters(long versionCommitted, long commits, long commitBatches, long commitConflicts,
            long commitTooOld, long commitRejectedQueueFull, long commitQueueDepth, long reads, long watches,
            long mvccViews, long liveBytesEstimate, boolean replicaFailed, long msSinceApply, long raftRefusedCalls,
            long raftRefusedEntries) {
        /** Counters of an engine that is no longer asked (closed): all zero. */
        static final EngineCounters NONE = new EngineCounters(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0, 0);
    }

    /**
     * A follower's progress as its leader sees it.
     *
     * @param matchIndex the newest log entry known to be on the follower, when Ratis reported it
     */
    record FollowerProgress(String id, long lastContactMs, OptionalLong matchIndex) {
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
            List<FollowerProgress> followers, String error, String failure) {
        ReplicationView {
            members = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(members));
            followers = List.copyOf(followers);
        }
    }

    /** The name and version of the storage engine. */
    record StorageEngine(String name, String version) {
    }

    /** Reads {@link Engine#stats()}. */
    EngineCounters counters() {
        Map<String, Long> s = engine.stats();
        return new EngineCounters(
                s.getOrDefault("version.committed", 0L),
                s.getOrDefault("commits", 0L),
                s.getOrDefault("commit.batches", 0L),
                s.getOrDefault("commit.conflicts", 0L),
                s.getOrDefault("commit.too_old", 0L),
                s.getOrDefault("commit.rejected_queue_full", 0L),
                s.getOrDefault("commit.queue_depth", 0L),
                s.getOrDefault("reads", 0L),
                s.getOrDefault("watches", 0L),
                s.getOrDefault("mvcc.views", 0L),
                s.getOrDefault("storage.live_bytes_estimate", 0L),
                s.getOrDefault("replica.failed", 0L) != 0,
                s.getOrDefault("apply.ms_since_last", 0L),
                s.getOrDefault("raft.refused_calls", 0L),
                s.getOrDefault("raft.refused_entries", 0L));
    }

    /** Reads {@link Engine#replicationStatus()}; null when the engine is not replicated. */
    ReplicationView replication() {
        if (!engine.isReplicated()) {
            return null;
        }
        Map<String, Object> r = engine.replicationStatus();
        String role = text(r.get("role"));
        MemberRole parsed = MemberRole.fromWireName(role);
        if (parsed == null || parsed == MemberRole.STANDALONE || parsed == MemberRole.UNREACHABLE) {
            // No role (the Raft server could not be asked: "error" says why) or one this server does not know.
            parsed = MemberRole.STOPPED;
        }
        return new ReplicationView(text(r.get("id")), parsed, text(r.get("leader")), longValue(r.get("term")),
                longValue(r.get("commit_index")), longValue(r.get("applied_index")),
                longValue(r.get("applied_version")), Boolean.TRUE.equals(r.get("accepting_commits")),
                members(r.get("members")), followers(r.get("followers_last_contact_ms"),
                        r.get("follower_match_indices")),
                r.containsKey("error") ? text(r.get("error")) : null,
                r.containsKey("failure") ? text(r.get("failure")) : null);
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

    private static Map<String, String> members(Object o) {
        Map<String, String> out = new LinkedHashMap<>();
        if (o instanceof Map) {
            for (Map.Entry<?, ?> m : ((Map<?, ?>) o).entrySet()) {
                out.put(String.valueOf(m.getKey()), String.valueOf(m.getValue()));
            }
        }
        return out;
    }

    private static List<FollowerProgress> followers(Object contacts, Object matchIndices) {
        List<FollowerProgress> out = new ArrayList<>();
        if (!(contacts instanceof Map)) {
            return out;
        }
        Map<?, ?> byId = (Map<?, ?>) contacts;
        long[] match = matchIndices(matchIndices);
        int i = 0;
        for (Map.Entry<?, ?> f : byId.entrySet()) {
            // Ratis lists match indices in the same order as the followers' contact times.
            OptionalLong m = match != null && match.length == byId.size() ? OptionalLong.of(match[i]) : OptionalLong.empty();
            out.add(new FollowerProgress(String.valueOf(f.getKey()), longValue(f.getValue()), m));
            i++;
        }
        return out;
    }

    /** Parses "[3, 5]" (the engine's rendering of the leader's follower match indices). */
    private static long[] matchIndices(Object o) {
        if (o instanceof long[]) {
            return (long[]) o;
        }
        if (o == null) {
            return null;
        }
        String text = o.toString().replace("[", "").replace("]", "").trim();
        if (text.isEmpty()) {
            return new long[0];
        }
        String[] parts = text.split(",");
        long[] out = new long[parts.length];
        try {
            for (int i = 0; i < parts.length; i++) {
                out[i] = Long.parseLong(parts[i].trim());
            }
        } catch (NumberFormatException e) {
            return null;
        }
        return out;
    }

    private static String text(Object o) {
        return o == null ? "" : o.toString();
    }

    private static long longValue(Object o) {
        if (o instanceof Number) {
            return ((Number) o).longValue();
        }
        try {
            return o == null ? 0 : Long.parseLong(o.toString().trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
