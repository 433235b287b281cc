package dev.txkv.replication;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.util.ExitUtils;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * One Raft server of this process (one Raft port, one storage directory) that hosts any number
 * of Raft groups, each the commit log of one engine ({@link RaftReplica}). Groups are added and
 * removed through Ratis's group management; a group already in the storage directory is
 * recovered when the host starts, with the state machine registered for it.
 *
 * <p>A host serves only Raft peer traffic on its port: Ratis's client and admin services are
 * refused ({@link RaftPortGuard}); members reach their own host in-process.
 *
 * <p>Layout: {@code STORAGE/GROUP-UUID/} per group (Ratis's log, metadata and the state
 * machine's snapshots). A group directory that no registered state machine claims stops the
 * start with an error instead of being served with the wrong one.
 */
public final class RaftHost implements AutoCloseable {
    static {
        // Ratis ends the whole process (System.exit) when its gRPC server cannot start, for
        // example on a Raft port in use. txkv runs inside other programs too, so such a failure
        // is thrown instead (ExitUtils.ExitException) and reported as a failed start.
        ExitUtils.disableSystemExit();
    }

    /**
     * How long the leader waits before it tries again to reach a follower that failed (pairs
     * of wait and count, randomised by half either way): ten times at once, then for ten
     * seconds every 100 ms, then every 500 ms for as long as it takes. Ratis's default ends at
     * 5 s a try after 20 s of errors, so a member that came back after such an outage waited
     * up to 5 s for its leader, stood for election meanwhile (refused, as the others still had
     * their leader) and could lag for tens of seconds while every retry met it restarting.
     * Its last pair also ends after 1,030 errors, after which Ratis would retry without waiting.
     * A try against a stopped member is one refused connection: cheap even for many groups.
     */
    static final String APPENDER_RETRY_POLICY = "1ms,10, 100ms,100, 500ms," + Integer.MAX_VALUE;

    private final RaftPeerId self;
    private final String address;
    private final RaftProperties properties;
    private final Parameters parameters;
    /** Null until {@link #start()}. */
    private volatile RaftServer server;
    /** Registered groups, in the order they joined. */
    private final Map<RaftGroupId, RaftGroup> groups = java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>());
    private final Path storageDir;
    private final Map<RaftGroupId, StateMachine> machines = new ConcurrentHashMap<>();
    private final RaftPortGuard guard = new RaftPortGuard();
    private final ClientId adminClient = ClientId.randomId();
    private final AtomicLong callId = new AtomicLong();

    /**
     * The guarded host of member {@code config.selfId()} for a process that serves several
     * groups (a sharded server): log entries up to {@code entryBytesMax}. Open each group's
     * engine with {@link RaftReplication#log(ReplicationConfig, RaftHost)}, then {@link #start()}.
     */
    public RaftHost(ReplicationConfig config, Path storageDir, long entryBytesMax) {
        this(config, storageDir, entryBytesMax, true);
    }

    /**
     * The host of member {@code config.selfId()} on its Raft address, with storage in
     * {@code storageDir}; {@code entryBytesMax} bounds a log entry (a commit batch). It serves
     * nothing until {@link #start()}: register the groups this process serves first
     * ({@link #join}), so that those found in storage are recovered with their state machines.
     * When {@code guarded}, Ratis's client and admin services are refused on the Raft port.
     */
    RaftHost(ReplicationConfig config, Path storageDir, long entryBytesMax, boolean guarded) {
        this.self = RaftPeerId.valueOf(config.selfId());
        this.storageDir = storageDir;
        this.address = config.orderedMembers().get(config.selfId());
        int colon = address.lastIndexOf(':');
        RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(storageDir.toFile()));
        GrpcConfigKeys.Server.setHost(p, address.substring(0, colon));
        GrpcConfigKeys.Server.setPort(p, Integer.parseInt(address.substring(colon + 1)));
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(config.electionTimeoutMinMs(), TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(config.electionTimeoutMaxMs(), TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        // Read versions are confirmed by a lease while it lasts, else by a ReadIndex heartbeat round.
        RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, config.leaderLease());
        // The lease is safe only with pre-vote (Ratis's default, pinned here): a follower that
        // heard from its leader within the minimum timeout refuses a candidate only in the
        // pre-vote phase; in the vote of a higher term it no longer checks (docs/replication.md).
        RaftServerConfigKeys.LeaderElection.setPreVote(p, true);
        RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
        RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
        // Ratis takes no snapshots by default, so the log would grow without bound.
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, config.snapshotEveryEntries());
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.min(1024, config.snapshotEveryEntries()));
        SizeInBytes entryMax = SizeInBytes.valueOf(entryBytesMax);
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(config.logSegmentBytes()));
        RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, entryMax);
        RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, APPENDER_RETRY_POLICY);
        RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(entryMax.getSize() + (1 << 20)));
        GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(entryMax.getSize() + (1 << 20)));
        this.properties = p;
        this.parameters = new Parameters();
        if (config.peerTlsEnabled()) {
            // Mutual TLS for every connection of this Raft server, served and made: members
            // present their certificates both ways, and the trust manager admits members only.
            GrpcConfigKeys.TLS.setConf(parameters, new org.apache.ratis.grpc.GrpcTlsConfig(config.peerKeyManager(),
                    config.peerTrustManager(), true));
        }
        if (guarded) {
            // Only Raft peer traffic is served on the Raft port; Ratis's client and admin
            // services are refused there (txkv reaches its own Raft server in-process).
            GrpcConfigKeys.Server.setServicesCustomizer(parameters, (builder, types) -> builder.intercept(guard));
        }
    }

    /**
     * Starts serving: the registered groups found in storage are recovered, the others are
     * formatted and started. A group directory that no registered group claims stops the start.
     */
    public synchronized void start() {
        if (server != null) {
            return;
        }
        refuseUnknownGroupDirectories();
        try {
            RaftServer.Builder builder = RaftServer.newBuilder().setServerId(self).setProperties(properties)
                    .setParameters(parameters).setStateMachineRegistry(this::machineOf);
            // The first group starts with its configured members, as a server of one group does
            // (recovered, or formatted when new); Ratis knows groups it finds in storage by id only.
            RaftGroup first = groups.values().stream().findFirst().orElse(null);
            if (first != null) {
                builder.setGroup(first).setOption(stores(storageDir, first.getGroupId())
                        ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT);
            }
            server = builder.build();
            server.start();
        } catch (IOException | ExitUtils.ExitException e) {
            RaftServer failed = server;
            server = null;
            closeQuietly(failed);
            String why = causeChainMentions(e, "Address already in use")
                    ? "the Raft port " + address + " is in use (another txkv member, or a process not yet gone?)"
                    : e.toString();
            throw new TxkvException(ErrorCode.IO_ERROR, "Cannot start the replication log in " + storageDir + ": " + why, e);
        }
        for (RaftGroup group : groups.values()) {
            addIfNew(group);
        }
    }

    /** The id of the Raft group of a txkv cluster (or shard) named {@code name}: stable across restarts. */
    static RaftGroupId groupIdOf(String name) {
        return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(("txkv-cluster:" + name).getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Where this host keeps the Raft storage of the group named {@code name} (the group's name as
     * given to {@link ReplicationConfig#forGroup}); it exists only while, or after, it served it.
     */
    public Path groupDirectory(String name) {
        return storageDir.resolve(groupIdOf(name).getUuid().toString());
    }

    /** Whether this member's storage holds group {@code id} (it was a member before a restart). */
    static boolean stores(Path storageDir, RaftGroupId id) {
        return storageDir.resolve(id.getUuid().toString()).toFile().isDirectory();
    }

    private StateMachine machineOf(RaftGroupId id) {
        StateMachine m = machines.get(id);
        if (m == null) {
            throw new IllegalStateException("No state machine is registered for Raft group " + id);
        }
        return m;
    }

    private void refuseUnknownGroupDirectories() {
        File[] subs = storageDir.toFile().listFiles(File::isDirectory);
        if (subs == null) {
            return;
        }
        for (File sub : subs) {
            RaftGroupId id;
            try {
                id = RaftGroupId.valueOf(UUID.fromString(sub.getName()));
            } catch (IllegalArgumentException e) {
                continue; // not a group directory; Ratis ignores it too
            }
            if (!machines.containsKey(id)) {
                throw new TxkvException(ErrorCode.DATA_DIRECTORY_INVALID, "The replication log in " + storageDir
                        + " holds Raft group " + id + ", which this server does not serve (another cluster name?);"
                        + " move it away or start with the cluster name it belongs to");
            }
        }
    }

    /**
     * Makes this member serve {@code group} with {@code machine}. Before {@link #start()} it
     * only registers the group; after it, a group not yet served is formatted and started
     * through group management.
     */
    synchronized void join(RaftGroup group, StateMachine machine) {
        RaftGroupId id = group.getGroupId();
        StateMachine known = machines.putIfAbsent(id, machine);
        if (known != null && known != machine) {
            throw new IllegalStateException("Raft group " + id + " is already served by another state machine");
        }
        groups.put(id, group);
        if (server != null) {
            addIfNew(group);
        }
    }

    private void addIfNew(RaftGroup group) {
        RaftGroupId id = group.getGroupId();
        for (RaftGroupId served : server.getGroupIds()) {
            if (served.equals(id)) {
                // Recovered from storage at start, where Ratis knows the group by id only: tell
                // its transport where the configured members are, as a new group's start does.
                List<org.apache.ratis.protocol.RaftPeer> others = new java.util.ArrayList<>();
                for (org.apache.ratis.protocol.RaftPeer peer : group.getPeers()) {
                    if (!peer.getId().equals(self)) {
                        others.add(peer);
                    }
                }
                server.getServerRpc().addRaftPeers(others);
                return;
            }
        }
        try {
            RaftClientReply reply = server.groupManagement(
                    GroupManagementRequest.newAdd(adminClient, self, callId.incrementAndGet(), group, true));
            if (!reply.isSuccess()) {
                throw new TxkvException(ErrorCode.IO_ERROR, "Cannot start Raft group " + id + ": " + reply.getException());
            }
        } catch (IOException e) {
            throw new TxkvException(ErrorCode.IO_ERROR, "Cannot start Raft group " + id + ": " + e, e);
        }
    }

    /** Stops serving {@code id} (its storage stays); the other groups go on. */
    synchronized void leave(RaftGroupId id) throws IOException {
        if (server == null) {
            machines.remove(id);
            groups.remove(id);
            return;
        }
        RaftClientReply reply = server.groupManagement(
                GroupManagementRequest.newRemove(adminClient, self, callId.incrementAndGet(), id, false, false));
        machines.remove(id);
        groups.remove(id);
        if (!reply.isSuccess()) {
            throw new IOException("Cannot leave Raft group " + id + ": " + reply.getException());
        }
    }

    /** The Raft server; only once started. */
    RaftServer server() {
        RaftServer s = server;
        if (s == null) {
            throw new IllegalStateException("The Raft host is not started");
        }
        return s;
    }

    RaftPeerId self() {
        return self;
    }

    /** Calls refused on the Raft port (Ratis client and admin services) since start. */
    long refusedCalls() {
        return guard.refusedCalls();
    }

    private static boolean causeChainMentions(Throwable e, String text) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains(text)) {
                return true;
            }
        }
        return false;
    }

    private static void closeQuietly(RaftServer s) {
        if (s == null) {
            return;
        }
        try {
            s.close();
        } catch (IOException | RuntimeException e) {
            // Closing on shutdown or after a failed start: nothing more to do.
        }
    }

    @Override
    public synchronized void close() {
        closeQuietly(server);
    }
}
