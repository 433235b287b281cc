package dev.txkv.server;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import dev.txkv.ByteArrays;
import dev.txkv.Range;
import dev.txkv.TxkvConfig;
import dev.txkv.engine.Engine;
import dev.txkv.engine.ReplicaHealth;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.Mutation;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The status document, shaped like FoundationDB's {@code status json}: "client" (what a
 * client sees: is the database available), "cluster" (processes and roles, latest version,
 * data size, workload rates, queues against their limits, and a latency probe).
 *
 * <p>Implementation notes. Rates ("hz") are the change of a counter between the last two
 * samples, taken once a second by the server. The latency probe times a read version, a read
 * and a one-key commit under {@link #PROBE_KEY} in the system keyspace, which clients cannot
 * write; it runs at most once a second however often status is asked, so asking for status
 * in a loop cannot flood the commit pipeline.
 */
final class StatusDocument {
    /** The key the latency probe writes: in the system keyspace, so no client data is touched. */
    static final byte[] PROBE_KEY = "\u00ff/probe".getBytes(StandardCharsets.ISO_8859_1);
    private static final long PROBE_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long PROBE_TIMEOUT_MS = 5_000;
    /** A member that has applied no commit batch for this long reports the database unavailable. */
    static final long APPLY_STALE_MS = 5_000;

    private final Engine engine;
    private final ServerConfig config;
    private final String processId;
    private final Supplier<String> grpcAddress;
    private final Supplier<Integer> watchStreams;
    private final long startNanos = System.nanoTime();
    private final long startMillis = System.currentTimeMillis();
    private Map<String, Long> previousSample;
    private Map<String, Long> lastSample;
    private long previousSampleNanos;
    private long lastSampleNanos;
    private Struct lastProbe;
    private long lastProbeNanos;

    StatusDocument(Engine engine, ServerConfig config, String processId, Supplier<String> grpcAddress,
            Supplier<Integer> watchStreams) {
        this.engine = engine;
        this.config = config;
        this.processId = processId;
        this.grpcAddress = grpcAddress;
        this.watchStreams = watchStreams;
    }

    /** Takes a sample of the engine's counters for the rates; called once a second. */
    synchronized void sample() {
        previousSample = lastSample;
        previousSampleNanos = lastSampleNanos;
        lastSample = engine.stats();
        lastSampleNanos = System.nanoTime();
    }

    /** The document as JSON. */
    String json() {
        try {
            return JsonFormat.printer().print(document());
        } catch (InvalidProtocolBufferException e) {
            // A Struct built from numbers, strings and lists always prints.
            throw new IllegalStateException(e);
        }
    }

    /**
     * Whether the database is available and healthy as this member sees it, and why not. It
     * comes from what the member actually does, never from the process being up:
     * <ul>
     *   <li>A member that failed to apply the log is neither.
     *   <li>The leader (and a server without replication) is available when its probe, a real
     *       one-key commit through the commit pipeline and the log, succeeded within
     *       {@value #PROBE_TIMEOUT_MS} ms. The server asks for its health every second, so the
     *       leader commits that probe every second, and every member applies a commit batch at
     *       least once a second while the cluster can commit.
     *   <li>Any other member is available while it knows a leader and has applied a commit
     *       batch within the last {@value #APPLY_STALE_MS} ms.
     *   <li>Healthy: available, and on the leader every follower answered within an election
     *       timeout.
     * </ul>
     */
    Health health() {
        List<Value> messages = new java.util.ArrayList<>();
        ReplicaHealth self = engine.health();
        if (self.failed()) {
            messages.add(message("replica_failed", self.failure()
                    + ". Rebuild this member from the others: docs/replication.md, \"Rebuild a failed member\"."));
            return new Health(false, false, messages);
        }
        boolean available;
        boolean healthy = true;
        Map<String, Object> replica = engine.replicationStatus();
        if (!engine.isReplicated() || engine.isLeading()) {
            String error = probe().getFieldsOrThrow("error").getStringValue();
            available = error.isEmpty();
            if (!available) {
                messages.add(message("commit_probe_failed", "A probe commit through this server failed: " + error));
            }
        } else if ("removed".equals(replica.get("role"))) {
            available = false;
            messages.add(message("removed", "This server was removed from the cluster's membership"));
        } else if (String.valueOf(replica.getOrDefault("leader", "")).isEmpty()) {
            available = false;
            messages.add(message("no_leader", "No leader is known to this member (an election may be running, "
                    + "or a majority of members is unreachable)"));
        } else if (self.millisSinceApply() > APPLY_STALE_MS) {
            available = false;
            messages.add(message("no_commits_applied", "This member has applied no commit for "
                    + self.millisSinceApply() + " ms (the leader commits a probe every second while the cluster "
                    + "can commit); it may be cut off from the leader, or the cluster cannot commit"));
        } else {
            available = true;
        }
        Object contacts = replica.get("followers_last_contact_ms");
        if (engine.isLeading() && contacts instanceof Map) {
            long within = config.replication().electionTimeoutMaxMs();
            for (Map.Entry<?, ?> f : ((Map<?, ?>) contacts).entrySet()) {
                long lastContact = longValue(f.getValue());
                if (lastContact < 0 || lastContact > within) {
                    healthy = false;
                    messages.add(message("member_unreachable", "Member " + f.getKey() + " has not answered the "
                            + "leader for " + lastContact + " ms; if it failed, its own status says why"));
                }
            }
        }
        if (self.refusedRaftCalls() + self.refusedLogEntries() > 0) {
            messages.add(message("raft_port_strangers", (self.refusedRaftCalls() + self.refusedLogEntries())
                    + " requests to the Raft port that did not come from a member were refused since start"));
        }
        return new Health(available, available && healthy, messages);
    }

    /** See {@link #health()}. */
    record Health(boolean available, boolean healthy, List<Value> messages) {
        /** Why this server should not get traffic, or null when it should. */
        String problem() {
            if (available) {
                return null;
            }
            return messages.isEmpty() ? "unavailable"
                    : messages.get(0).getStructValue().getFieldsOrThrow("description").getStringValue();
        }
    }

    private static Value message(String name, String description) {
        return struct(object("name", string(name), "description", string(description)));
    }

    Struct document() {
        Map<String, Long> stats = engine.stats();
        Struct probe = probe();
        Health health = health();
        Struct client = object(
                "database_status", Value.newBuilder().setStructValue(object(
                        "available", bool(health.available()),
                        "healthy", bool(health.healthy()))).build(),
                "protocol_version", number(ProtocolVersion.CURRENT),
                "timestamp", number(System.currentTimeMillis() / 1000));
        Map<String, Object> replica = engine.replicationStatus();
        ListValue.Builder roles = ListValue.newBuilder().addValues(string("log"));
        if (replica.isEmpty() || engine.isLeading()) {
            roles.addValues(string("resolver"));
        }
        roles.addValues(string("storage"));
        Struct process = object(
                "address", string(grpcAddress.get()),
                "roles", Value.newBuilder().setListValue(roles).build(),
                "uptime_seconds", number((System.nanoTime() - startNanos) / 1e9),
                "start_time", number(startMillis / 1000));
        TxkvConfig limits = config.txkvConfig();
        Struct cluster = object(
                "processes", struct(object(processId, struct(process))),
                "latest_version", number(stats.get("version.committed")),
                "data", struct(object(
                        "total_kv_size_bytes_estimate", number(stats.get("storage.live_bytes_estimate")),
                        "mvcc_versions_retained", number(stats.get("mvcc.views")))),
                "workload", struct(object(
                        "transactions", struct(object(
                                "committed", rate(stats, "commits"),
                                "conflicted", rate(stats, "commit.conflicts"),
                                "too_old", rate(stats, "commit.too_old"),
                                "rejected_for_queue_full", rate(stats, "commit.rejected_queue_full"))),
                        "operations", struct(object(
                                "reads", rate(stats, "reads"),
                                "commit_batches", rate(stats, "commit.batches"))))),
                "qos", struct(object(
                        "commit_queue_depth", number(stats.get("commit.queue_depth")),
                        "commit_queue_limit", number(limits.commitQueueMax()),
                        "watches", number(stats.get("watches")),
                        "watches_limit", number(limits.watchesMax()),
                        "watch_streams", number(watchStreams.get()),
                        "watch_streams_limit", number(config.watchStreamsMax()))),
                "limits", struct(object(
                        "key_size_bytes", number(limits.keySizeMax()),
                        "value_size_bytes", number(limits.valueSizeMax()),
                        "transaction_size_bytes", number(limits.transactionSizeMax()),
                        "mvcc_window_seconds", number(limits.mvccWindowMs() / 1000.0),
                        "range_rows_per_call", number(config.rangeRowsMax()),
                        "range_bytes_per_call", number(config.rangeBytesMax()))),
                "latency_probe", struct(probe),
                "messages", Value.newBuilder().setListValue(ListValue.newBuilder().addAllValues(health.messages()))
                        .build());
        if (!replica.isEmpty()) {
            cluster = cluster.toBuilder().putFields("replication", struct(replication(replica))).build();
        }
        return object("client", struct(client), "cluster", struct(cluster));
    }

    /**
     * The "replication" section: this member's view of its Raft group. Every member reports
     * its role, the leader it knows, the term, log positions and the members; the leader also
     * reports each follower's progress: how far its log lags the commit index, how long since
     * it last answered, and whether that is within an election timeout (healthy).
     */
    private Struct replication(Map<String, Object> r) {
        String leader = String.valueOf(r.getOrDefault("leader", ""));
        long commitIndex = longValue(r.get("commit_index"));
        Struct.Builder b = Struct.newBuilder()
                .putFields("id", string(String.valueOf(r.get("id"))))
                .putFields("role", string(String.valueOf(r.get("role"))))
                .putFields("leader", string(leader))
                .putFields("term", number(longValue(r.get("term"))))
                .putFields("accepting_commits", bool(Boolean.TRUE.equals(r.get("accepting_commits"))))
                .putFields("applied_version", number(longValue(r.get("applied_version"))))
                .putFields("commit_index", number(commitIndex))
                .putFields("applied_index", number(longValue(r.get("applied_index"))));
        if (config.replication() != null) {
            b.putFields("cluster_name", string(config.replication().clusterName()));
        }
        if (r.containsKey("error")) {
            b.putFields("error", string(String.valueOf(r.get("error"))));
        }
        if (r.containsKey("failure")) {
            b.putFields("failure", string(String.valueOf(r.get("failure"))));
        }
        ListValue.Builder members = ListValue.newBuilder();
        Object memberMap = r.get("members");
        if (memberMap instanceof Map) {
            for (Map.Entry<?, ?> m : ((Map<?, ?>) memberMap).entrySet()) {
                String id = String.valueOf(m.getKey());
                members.addValues(struct(object(
                        "id", string(id),
                        "raft_address", string(String.valueOf(m.getValue())),
                        "role", string(id.equals(leader) ? "leader" : leader.isEmpty() ? "unknown" : "follower"))));
            }
        }
        b.putFields("members", Value.newBuilder().setListValue(members).build());
        Object contacts = r.get("followers_last_contact_ms");
        if (contacts instanceof Map) {
            long[] match = matchIndices(r.get("follower_match_indices"));
            long healthyWithinMs = config.replication() == null ? 2_000 : config.replication().electionTimeoutMaxMs();
            ListValue.Builder followers = ListValue.newBuilder();
            int i = 0;
            for (Map.Entry<?, ?> f : ((Map<?, ?>) contacts).entrySet()) {
                long lastContact = longValue(f.getValue());
                Struct.Builder fb = Struct.newBuilder()
                        .putFields("id", string(String.valueOf(f.getKey())))
                        .putFields("last_contact_ms", number(lastContact))
                        .putFields("healthy", bool(lastContact >= 0 && lastContact <= healthyWithinMs));
                // Ratis lists match indices in the same order as the followers' contact times.
                if (match != null && match.length == ((Map<?, ?>) contacts).size()) {
                    fb.putFields("match_index", number(match[i]));
                    fb.putFields("lag_entries", number(Math.max(0, commitIndex - match[i])));
                }
                followers.addValues(struct(fb.build()));
                i++;
            }
            b.putFields("followers", Value.newBuilder().setListValue(followers).build());
        }
        return b.build();
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

    private synchronized Value rate(Map<String, Long> now, String key) {
        double hz = 0;
        if (previousSample != null && lastSampleNanos > previousSampleNanos) {
            long delta = lastSample.getOrDefault(key, 0L) - previousSample.getOrDefault(key, 0L);
            hz = delta / ((lastSampleNanos - previousSampleNanos) / 1e9);
        }
        return struct(object("counter", number(now.getOrDefault(key, 0L)), "hz", number(hz)));
    }

    /** Times a read version, a read and a commit; reuses the last result within a second. */
    private synchronized Struct probe() {
        long now = System.nanoTime();
        if (lastProbe != null && now - lastProbeNanos < PROBE_EVERY_NANOS) {
            return lastProbe;
        }
        double grvSeconds = -1;
        double readSeconds = -1;
        double commitSeconds = -1;
        String error = "";
        if (engine.isReplicated() && !engine.isLeading()) {
            return followerProbe();
        }
        try {
            long t0 = System.nanoTime();
            long readVersion = engine.getReadVersion().get(PROBE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            long t1 = System.nanoTime();
            engine.get(PROBE_KEY, readVersion).get(PROBE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            long t2 = System.nanoTime();
            byte[] value = Long.toString(System.currentTimeMillis()).getBytes(StandardCharsets.US_ASCII);
            engine.commit(new CommitRequest(-1, List.of(),
                    List.of(new Range(PROBE_KEY, ByteArrays.keyAfter(PROBE_KEY))),
                    List.of(new Mutation(Mutation.SET, PROBE_KEY, value)), null, false))
                    .get(PROBE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            long t3 = System.nanoTime();
            grvSeconds = (t1 - t0) / 1e9;
            readSeconds = (t2 - t1) / 1e9;
            commitSeconds = (t3 - t2) / 1e9;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error = "interrupted";
        } catch (Exception e) {
            error = String.valueOf(ErrorMapping.toTxkvException(e).getMessage());
        }
        lastProbe = object(
                "read_version_seconds", number(grvSeconds),
                "read_seconds", number(readSeconds),
                "commit_seconds", number(commitSeconds),
                "error", string(error));
        lastProbeNanos = System.nanoTime();
        return lastProbe;
    }

    /**
     * A member that does not lead takes no commits and hands out no read versions: it times a
     * read at its newest applied version, and counts the database available when it knows a
     * leader (clients reach the leader through their other servers).
     */
    private Struct followerProbe() {
        double readSeconds = -1;
        String error = "";
        Map<String, Object> r = engine.replicationStatus();
        try {
            long version = longValue(r.get("applied_version"));
            long t0 = System.nanoTime();
            engine.get(PROBE_KEY, version).get(PROBE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            readSeconds = (System.nanoTime() - t0) / 1e9;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error = "interrupted";
        } catch (Exception e) {
            // Reading at an applied version can age out between the two calls; not a failure of the cluster.
            readSeconds = -1;
        }
        if (error.isEmpty() && String.valueOf(r.getOrDefault("leader", "")).isEmpty()) {
            error = "no leader is known to this member (an election may be running)";
        }
        lastProbe = object(
                "read_version_seconds", number(-1),
                "read_seconds", number(readSeconds),
                "commit_seconds", number(-1),
                "error", string(error));
        lastProbeNanos = System.nanoTime();
        return lastProbe;
    }

    private static Struct object(Object... namesAndValues) {
        Struct.Builder b = Struct.newBuilder();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            b.putFields((String) namesAndValues[i], (Value) namesAndValues[i + 1]);
        }
        return b.build();
    }

    private static Value struct(Struct s) {
        return Value.newBuilder().setStructValue(s).build();
    }

    private static Value number(double n) {
        return Value.newBuilder().setNumberValue(n).build();
    }

    private static Value number(Long n) {
        return number(n == null ? 0 : (double) n);
    }

    private static Value string(String s) {
        return Value.newBuilder().setStringValue(s).build();
    }

    private static Value bool(boolean b) {
        return Value.newBuilder().setBoolValue(b).build();
    }
}
