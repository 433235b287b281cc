package dev.txkv.replication;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Membership of a replicated engine: this server's id and every member's Raft address. All
 * members must be started with the same member list; the group id is derived from the
 * cluster name, so members of different clusters never join each other.
 */
public final class ReplicationConfig {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private final String selfId;
    private final Map<String, String> members;
    private String clusterName = "txkv";
    private long electionTimeoutMinMs = 1_000;
    private long electionTimeoutMaxMs = 1_500;
    private long snapshotEveryEntries = 20_000;
    private long logSegmentBytes = 64L << 20;
    private boolean leaderLease = true;
    private javax.net.ssl.KeyManager peerKeyManager;
    private javax.net.ssl.TrustManager peerTrustManager;

    /**
     * @param selfId this server's id, one of {@code members}' keys
     * @param members id -> "host:port" of each member's Raft endpoint, in a stable order
     */
    public ReplicationConfig(String selfId, Map<String, String> members) {
        this(selfId, members, false);
    }

    private ReplicationConfig(String selfId, Map<String, String> members, boolean selfOutside) {
        if (members == null || (members.isEmpty() && !selfOutside)) {
            throw invalid("a cluster needs at least one member");
        }
        for (Map.Entry<String, String> m : members.entrySet()) {
            if (!ID.matcher(m.getKey()).matches()) {
                throw invalid("member id '" + m.getKey() + "' must be 1 to 64 letters, digits, '-' or '_'");
            }
            String address = m.getValue();
            int colon = address == null ? -1 : address.lastIndexOf(':');
            if (colon <= 0 || colon == address.length() - 1) {
                throw invalid("member " + m.getKey() + " needs an address host:port, got '" + address + "'");
            }
            int port;
            try {
                port = Integer.parseInt(address.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw invalid("member " + m.getKey() + " has a port that is not a number: '" + address + "'");
            }
            if (port < 1 || port > 65_535) {
                throw invalid("member " + m.getKey() + " has port " + port + ", outside 1..65535");
            }
        }
        if (!selfOutside && !members.containsKey(selfId)) {
            throw invalid("this server's id '" + selfId + "' is not among the members " + members.keySet());
        }
        this.selfId = selfId;
        this.members = new LinkedHashMap<>(members);
    }

    /**
     * Whether the leader confirms its leadership for read versions by a lease (default) or by a
     * ReadIndex heartbeat round for every batch of requests. The lease holds for 90% of the
     * minimum election timeout after a majority acknowledged a heartbeat, and assumes the
     * members' clocks run at rates within 10% of each other (docs/replication.md).
     */
    /**
     * This configuration for the Raft group {@code name} of the members {@code memberIds} (a
     * subset of {@link #members()}, in order), with every other setting the same: the group of
     * one shard, or the control group, of a sharded cluster.
     */
    public ReplicationConfig forGroup(String name, java.util.List<String> memberIds) {
        return forGroup(name, memberIds, Map.of());
    }

    /**
     * {@link #forGroup(String, java.util.List)} where members this configuration does not list
     * take their Raft address from {@code moreAddresses} (members that joined a running cluster).
     */
    public ReplicationConfig forGroup(String name, java.util.List<String> memberIds, Map<String, String> moreAddresses) {
        return forGroup(name, memberIds, moreAddresses, false);
    }

    /**
     * The group {@code name} with no members, for a member that is not in it yet: a server
     * joining a running cluster formats its replica so, and it never stands for election before
     * the group's leader adds it (the membership change reaches it through the log).
     */
    public ReplicationConfig forGroupToJoin(String name) {
        return forGroup(name, java.util.List.of(), Map.of(), true);
    }

    private ReplicationConfig forGroup(String name, java.util.List<String> memberIds, Map<String, String> moreAddresses,
            boolean selfOutside) {
        Map<String, String> subset = new java.util.LinkedHashMap<>();
        for (String id : memberIds) {
            String address = members().getOrDefault(id, moreAddresses.get(id));
            if (address == null) {
                throw invalid("member '" + id + "' of group " + name + " is not a member of the cluster");
            }
            subset.put(id, address);
        }
        return new ReplicationConfig(selfId(), subset, selfOutside).clusterName(name).leaderLease(leaderLease())
                .electionTimeoutMs(electionTimeoutMinMs(), electionTimeoutMaxMs())
                .snapshotEveryEntries(snapshotEveryEntries()).logSegmentBytes(logSegmentBytes())
                .peerTls(peerKeyManager, peerTrustManager);
    }

    /**
     * Mutual TLS between the members' Raft servers: this member presents {@code keyManager}'s
     * certificate, and {@code trustManager} decides which peers it accepts, both as a server and
     * as a client (it should accept member certificates only, so that a client certificate of
     * the same CA cannot join). Both null (the default): plaintext.
     */
    public ReplicationConfig peerTls(javax.net.ssl.KeyManager keyManager, javax.net.ssl.TrustManager trustManager) {
        if ((keyManager == null) != (trustManager == null)) {
            throw invalid("peer TLS needs both a key manager and a trust manager");
        }
        this.peerKeyManager = keyManager;
        this.peerTrustManager = trustManager;
        return this;
    }

    /** Whether the Raft servers talk mutual TLS ({@link #peerTls}). */
    public boolean peerTlsEnabled() {
        return peerKeyManager != null;
    }

    javax.net.ssl.KeyManager peerKeyManager() {
        return peerKeyManager;
    }

    javax.net.ssl.TrustManager peerTrustManager() {
        return peerTrustManager;
    }

    public ReplicationConfig leaderLease(boolean enabled) {
        this.leaderLease = enabled;
        return this;
    }

    public boolean leaderLease() {
        return leaderLease;
    }

    /** Names the cluster; members of one cluster must agree on it (default "txkv"). */
    public ReplicationConfig clusterName(String name) {
        if (name == null || name.isBlank()) {
            throw invalid("the cluster name must not be empty");
        }
        this.clusterName = name;
        return this;
    }

    /**
     * Election timeouts. The minimum (1 s by default) rides out garbage-collection pauses and
     * slow starts on a loaded two-core machine, where 150 to 300 ms caused needless elections and
     * 750 ms a re-election. Ratis's follower notices a dead leader one to two timeouts after
     * its last message, so the maximum (1.5 s by default) weighs on every failover too.
     */
    public ReplicationConfig electionTimeoutMs(long minMs, long maxMs) {
        if (minMs < 100 || maxMs <= minMs) {
            throw invalid("election timeouts need 100 <= min < max, got " + minMs + ", " + maxMs);
        }
        this.electionTimeoutMinMs = minMs;
        this.electionTimeoutMaxMs = maxMs;
        return this;
    }

    /**
     * How many log entries (commit batches) between snapshots (default 20,000). After a
     * snapshot the log before it is purged; a member that fell behind the purge catches up by
     * receiving the snapshot.
     */
    public ReplicationConfig snapshotEveryEntries(long entries) {
        if (entries < 10) {
            throw invalid("snapshots need at least 10 entries between them, got " + entries);
        }
        this.snapshotEveryEntries = entries;
        return this;
    }

    /**
     * Size of the Raft log's segment files (default 64 MiB). Purging after a snapshot removes
     * whole closed segments, so smaller segments free disk sooner.
     */
    public ReplicationConfig logSegmentBytes(long bytes) {
        if (bytes < 4096) {
            throw invalid("log segments need at least 4096 bytes, got " + bytes);
        }
        this.logSegmentBytes = bytes;
        return this;
    }

    public long logSegmentBytes() {
        return logSegmentBytes;
    }

    public long snapshotEveryEntries() {
        return snapshotEveryEntries;
    }

    public String selfId() {
        return selfId;
    }

    public Map<String, String> members() {
        return Map.copyOf(members);
    }

    Map<String, String> orderedMembers() {
        return members;
    }

    public String clusterName() {
        return clusterName;
    }

    public long electionTimeoutMinMs() {
        return electionTimeoutMinMs;
    }

    public long electionTimeoutMaxMs() {
        return electionTimeoutMaxMs;
    }

    private static TxkvException invalid(String why) {
        return new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Invalid cluster membership: " + why);
    }
}
