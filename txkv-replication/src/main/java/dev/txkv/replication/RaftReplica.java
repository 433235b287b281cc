package dev.txkv.replication;

import dev.txkv.engine.CommitLog;
import dev.txkv.engine.CommittedBatch;
import dev.txkv.engine.LogHost;
import dev.txkv.engine.Replication;
import dev.txkv.engine.ReplicationState;
import java.util.Optional;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The replicated commit log: an Apache Ratis group whose entries are {@link CommittedBatch}
 * records. The leader's resolve thread appends batches in version order straight into its
 * local Raft server (no client hop); Ratis replicates them, and once a majority has each on
 * disk every member's {@link TxkvStateMachine} applies it to its own storage. The append's
 * future completes when the entry is applied on this (leading) member, which is when the
 * commits in it may be acknowledged.
 *
 * <p>Settings that differ from Ratis's defaults, and why: automatic snapshots (RocksDB
 * checkpoints, see {@link SnapshotStore}) with the log purged up to them, else the log grows
 * without bound; linearizable reads (ReadIndex),
 * used to confirm leadership for read versions and to let followers serve reads at a
 * version; election timeouts of 1 to 1.5 s; append-entries composition and log metadata off
 * (see RATIS-NOTES); storage in the data directory, never a shared temporary folder.
 */
final class RaftReplica implements CommitLog, Replication {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RaftReplica.class);
    private final LogHost host;
    private final ReadIndexBatcher readBarriers = new ReadIndexBatcher(this::readIndex);
    private final ReplicationConfig config;
    private final RaftGroup group;
    private final RaftPeerId self;
    private final RaftHost raftHost;
    /** Whether the Raft host serves this group alone (closed with it) or is shared with other groups. */
    private final boolean ownsHost;
    private final TxkvStateMachine stateMachine;
    private final ClientId clientId = ClientId.randomId();
    /**
     * Ratis completes futures on its own threads, among them the one that applies the log;
     * code that calls back into Ratis from there (the next ReadIndex round, a follower read
     * waiting for a ReadIndex) would deadlock it. Every future this class hands out
     * completes on these threads instead.
     */
    private final java.util.concurrent.ExecutorService callbacks = java.util.concurrent.Executors.newFixedThreadPool(2,
            r -> {
                Thread t = new Thread(r, "txkv-raft-callback");
                t.setDaemon(true);
                return t;
            });
    private final AtomicLong callId = new AtomicLong();
    /**
     * A planted bug for tests: members started while it is set serve Ratis's client and admin
     * services on the Raft port and admit any entry, as txkv once did, so that a test can show
     * that {@code RaftStranger} notices.
     */
    static volatile boolean unguardedForTest;
    private final java.util.concurrent.atomic.AtomicBoolean stopped = new java.util.concurrent.atomic.AtomicBoolean();

    /** The only group of a Raft host of its own, with storage in {@code raftDir}. */
    RaftReplica(LogHost host, ReplicationConfig config, Path raftDir) {
        this(host, config, null, raftDir);
    }

    /**
     * A group on {@code shared}, a Raft host that serves other groups too (one Raft port for
     * every group of this process). Start the host once every group of the process has joined
     * (those in storage are then recovered). Closing the replica leaves the group; the host
     * stays.
     */
    RaftReplica(LogHost host, ReplicationConfig config, RaftHost shared) {
        this(host, config, shared, null);
    }

    private RaftReplica(LogHost host, ReplicationConfig config, RaftHost shared, Path raftDir) {
        this.host = host;
        this.config = config;
        List<RaftPeer> peers = new ArrayList<>();
        for (Map.Entry<String, String> m : config.orderedMembers().entrySet()) {
            peers.add(RaftPeer.newBuilder().setId(m.getKey()).setAddress(m.getValue()).build());
        }
        this.group = RaftGroup.valueOf(RaftHost.groupIdOf(config.clusterName()), peers);
        this.self = RaftPeerId.valueOf(config.selfId());
        this.stateMachine = new TxkvStateMachine(host, this, self, unguardedForTest ? null : clientId);
        this.ownsHost = shared == null;
        // A commit batch may be up to the batch byte limit plus framing.
        long entryMax = Math.max(8 << 20, host.config().batchBytesMax() * 2L);
        this.raftHost = shared != null ? shared : new RaftHost(config, raftDir, entryMax, !unguardedForTest);
        try {
            raftHost.join(group, stateMachine);
            if (ownsHost) {
                raftHost.start();
            }
        } catch (RuntimeException e) {
            if (ownsHost) {
                raftHost.close();
            }
            throw e;
        }
    }

    @Override
    public CompletableFuture<Void> append(CommittedBatch batch) {
        RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(clientId).setServerId(self)
                .setGroupId(group.getGroupId()).setCallId(callId.incrementAndGet())
                .setMessage(Message.valueOf(ByteString.copyFrom(batch.encode())))
                .setType(RaftClientRequest.writeRequestType()).build();
        try {
            return raftHost.server().submitClientRequestAsync(request).handleAsync((reply, error) -> {
                if (error != null) {
                    throw new CompletionException(appendFailure(error));
                }
                if (!reply.isSuccess()) {
                    throw new CompletionException(appendFailure(reply));
                }
                return (Void) null;
            }, callbacks);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                    "The replication log refused the batch: " + e.getMessage(), e));
        }
    }

    /**
     * A linearizable read through Raft (ReadIndex): completes once this member has applied
     * everything committed when it was asked, with the leader confirmed by a majority. Returns
     * the version this member may then hand out or read at.
     */
    CompletableFuture<Long> readIndex() {
        RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(clientId).setServerId(self)
                .setGroupId(group.getGroupId()).setCallId(callId.incrementAndGet())
                .setMessage(Message.EMPTY).setType(RaftClientRequest.readRequestType()).build();
        try {
            return raftHost.server().submitClientRequestAsync(request).thenApplyAsync(reply -> {
                if (!reply.isSuccess()) {
                    throw new CompletionException(new TxkvException(
                            reply.getNotLeaderException() != null ? ErrorCode.NOT_LEADER : ErrorCode.PROCESS_BEHIND,
                            "Could not confirm the cluster state: " + describe(reply)));
                }
                return ByteBuffer.wrap(reply.getMessage().getContent().toByteArray()).getLong();
            }, callbacks);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.NOT_LEADER, e.getMessage(), e));
        }
    }

    /**
     * Why an append failed: always an unknown outcome ({@code commit_unknown_result}), even
     * when Ratis refused the request before its log. Ratis answers ResourceUnavailable both
     * before the append (too many pending) and after it (the entry is logged, but its
     * pending-request slot went with a leadership change). LeaderNotReady means this member was
     * elected again in a new term and has not yet applied what other leaders committed in
     * between: resolving the slot at once (the refusal is certain) let reads on this member skip
     * those entries, which ShardedClusterTest saw as wrong bank totals during shard moves. Left
     * unknown, the slot resolves once this log applies a newer record or a new term begins
     * (docs/sharding.md, "Reads"); the engine forgets its commits' outcomes then.
     */
    static TxkvException appendFailure(RaftClientReply reply) {
        return new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                "The replication log did not confirm the batch: " + describe(reply));
    }

    /** Why an append whose future failed (no reply) failed: an unknown outcome, as {@link #appendFailure(RaftClientReply)}. */
    static TxkvException appendFailure(Throwable error) {
        Throwable e = dev.txkv.spi.Causes.unwrap(error);
        return e instanceof TxkvException t ? t : new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                "The replication log did not confirm the batch: " + e, e);
    }

    private static String describe(RaftClientReply reply) {
        if (reply.getNotLeaderException() != null) {
            return "not the leader (leader hint: " + reply.getNotLeaderException().getSuggestedLeader() + ")";
        }
        return reply.getException() == null ? "no reason given" : reply.getException().getMessage();
    }

    /** Index of the last entry committed in the log, as this member knows it. */
    long committedIndex() {
        try {
            return raftHost.server().getDivision(group.getGroupId()).getRaftLog().getLastCommittedIndex();
        } catch (IOException | IllegalStateException e) {
            return -1;
        }
    }

    long appliedIndex() {
        return stateMachine.appliedIndex();
    }

    boolean isLeader() {
        try {
            return raftHost.server().getDivision(group.getGroupId()).getInfo().isLeader();
        } catch (IOException | IllegalStateException e) {
            return false;
        }
    }

    private long currentTerm() {
        try {
            return raftHost.server().getDivision(group.getGroupId()).getInfo().getCurrentTerm();
        } catch (IOException | IllegalStateException e) {
            return -1;
        }
    }

    /** The current leader's member id, when known. */
    @Override
    public Optional<String> leaderId() {
        try {
            RaftPeerId leader = raftHost.server().getDivision(group.getGroupId()).getInfo().getLeaderId();
            return leader == null ? Optional.empty() : Optional.of(leader.toString());
        } catch (IOException | IllegalStateException e) {
            return Optional.empty();
        }
    }

    /** One ReadIndex round shared by the callers that arrive while none is in flight. */
    @Override
    public CompletableFuture<Void> readBarrier() {
        return readBarriers.next().thenApply(applied -> null);
    }

    @Override
    public Optional<Replication> replication() {
        return Optional.of(this);
    }

    /**
     * Called once this member's first entry of its term is committed. It starts taking commits
     * only after applying everything the previous leaders committed, with a resolver that
     * knows nothing older (so older read versions get transaction_too_old) and versions that
     * jump one MVCC window past the newest applied one: read versions the previous leader
     * handed out followed its clock, and this clock may run behind it (clock assumption: the
     * members' clocks agree within the MVCC window, 5 s by default).
     */
    void onLeaderReady() {
        Thread t = new Thread(() -> {
            long started = System.nanoTime();
            long target = committedIndex();
            long deadline = started + TimeUnit.SECONDS.toNanos(60);
            while (appliedIndex() < target && System.nanoTime() < deadline && !host.closed()) {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
            if (!isLeader() || host.closed()) {
                return;
            }
            host.beginTerm(host.config().mvccWindowMs() * 1000L);
            LOG.info("{}: leader of term {} takes commits (applied up to log index {} in {} ms)", group.getGroupId(),
                    currentTerm(), target, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        }, "txkv-leader-start");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Replaces the membership with {@code members} (id -> Raft address), through Raft's joint
     * consensus. A new member must already run (started with the new member list); it catches
     * up from the leader's log. Completes when the new configuration is committed.
     */
    @Override
    public CompletableFuture<Void> setMembers(Map<String, String> members) {
        new ReplicationConfig(members.keySet().iterator().next(), members); // validates the list
        List<RaftPeer> peers = new ArrayList<>();
        for (Map.Entry<String, String> m : members.entrySet()) {
            peers.add(RaftPeer.newBuilder().setId(m.getKey()).setAddress(m.getValue()).build());
        }
        org.apache.ratis.protocol.SetConfigurationRequest request = new org.apache.ratis.protocol.SetConfigurationRequest(
                clientId, self, group.getGroupId(), callId.incrementAndGet(), peers);
        try {
            return raftHost.server().setConfigurationAsync(request).thenApplyAsync(reply -> {
                if (!reply.isSuccess()) {
                    throw new CompletionException(new TxkvException(
                            reply.getNotLeaderException() != null ? ErrorCode.NOT_LEADER : ErrorCode.OPERATION_FAILED,
                            "Membership change refused: " + describe(reply)));
                }
                return (Void) null;
            }, callbacks);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.OPERATION_FAILED, e.getMessage(), e));
        }
    }

    /** This member's view of the group: role, term, leader, log positions, members and their progress. */
    @Override
    public ReplicationState status() {
        try {
            RaftServer.Division division = raftHost.server().getDivision(group.getGroupId());
            org.apache.ratis.server.DivisionInfo info = division.getInfo();
            Map<String, String> members = new java.util.LinkedHashMap<>();
            for (RaftPeer p : division.getGroup().getPeers()) {
                members.put(p.getId().toString(), p.getAddress());
            }
            List<ReplicationState.FollowerProgress> followers = new ArrayList<>();
            if (info.isLeader()) {
                var contacts = info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
                long[] match = info.getFollowerMatchIndices();
                for (int i = 0; i < contacts.size(); i++) {
                    // Ratis lists match indices in the same order as the followers' contact times.
                    java.util.OptionalLong m = match != null && match.length == contacts.size()
                            ? java.util.OptionalLong.of(match[i]) : java.util.OptionalLong.empty();
                    followers.add(new ReplicationState.FollowerProgress(contacts.get(i).getId().getId().toStringUtf8(),
                            contacts.get(i).getLastRpcElapsedTimeMs(), m));
                }
            }
            return new ReplicationState(self.toString(),
                    info.getCurrentRole().name().toLowerCase(java.util.Locale.ROOT), info.getLeaderId() == null ? ""
                            : info.getLeaderId().toString(), info.getCurrentTerm(),
                    division.getRaftLog().getLastCommittedIndex(), info.getLastAppliedIndex(), 0, false, members,
                    followers, null, null);
        } catch (IOException | IllegalStateException e) {
            return new ReplicationState(self.toString(), "", "", 0, 0, 0, 0, false, Map.of(), List.of(),
                    String.valueOf(e.getMessage()), null);
        }
    }

    /** For tests that speak to the local Raft server as a stranger would. */
    RaftServer raftServer() {
        return raftHost.server();
    }

    ClientId pipelineClientId() {
        return clientId;
    }

    RaftGroup group() {
        return group;
    }

    @Override
    public String selfId() {
        return self.toString();
    }

    /** The members this replica was started with (id -> Raft address). */
    @Override
    public Map<String, String> configuredMembers() {
        return config.orderedMembers();
    }

    /** Calls refused on the Raft port (Ratis client and admin services) since start. */
    @Override
    public long refusedCalls() {
        return raftHost.refusedCalls();
    }

    /** Log entries refused before they were appended (not from this member's pipeline, or malformed). */
    @Override
    public long refusedEntries() {
        return stateMachine.refusedEntries();
    }

    /**
     * Takes this member out of the group's work after it failed to apply an entry: it stops
     * voting, following and leading (so a leader that cannot apply does not hold the cluster),
     * and the others carry on with their majority. On its own thread: Ratis's apply thread,
     * which reports the failure, must not wait for its own server to close.
     */
    void stopAfterFailure() {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        Thread t = new Thread(() -> {
            try {
                if (ownsHost) {
                    raftHost.close();
                } else {
                    raftHost.leave(group.getGroupId());
                }
            } catch (IOException | RuntimeException e) {
                // Already failed; the status says why.
            }
        }, "txkv-raft-stop-after-failure");
        t.setDaemon(true);
        t.start();
    }

    /** Longest a clean shutdown waits for leadership to pass to another member. */
    static final long HANDOVER_TIMEOUT_MS = 2_000;
    /** How long closing waits for the Raft group's applier thread to exit. */
    static final long STOP_WAIT_MS = 15_000;

    /**
     * On a clean shutdown of the leader (the commit pipeline already drained): hands
     * leadership to the follower whose log is furthest along and waits until it has taken
     * over, so clients meet a new leader within a round trip or two instead of an election
     * timeout. Best effort: a member that does not lead, has no follower that answered within
     * the minimum election timeout, or whose handover does not finish within
     * {@link #HANDOVER_TIMEOUT_MS} just closes.
     */
    private void handOverLeadership() {
        try {
            RaftServer.Division division = raftHost.server().getDivision(group.getGroupId());
            if (!division.getInfo().isLeader()) {
                return;
            }
            var followers = division.getInfo().getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
            long[] match = division.getInfo().getFollowerMatchIndices();
            RaftPeerId target = null;
            long best = -1;
            for (int i = 0; i < followers.size() && i < match.length; i++) {
                // Only a follower that answered recently can take over in time.
                boolean answering = followers.get(i).getLastRpcElapsedTimeMs() < config.electionTimeoutMinMs();
                if (answering && match[i] > best) {
                    best = match[i];
                    target = RaftPeerId.valueOf(followers.get(i).getId().getId());
                }
            }
            if (target == null) {
                return;
            }
            transferLeadership(target.toString()).get(HANDOVER_TIMEOUT_MS + 500, TimeUnit.MILLISECONDS);
            LOG.info("Leadership handed over to {} before shutdown", target);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException
                | RuntimeException e) {
            LOG.info("No leadership handover before shutdown: {}", e.toString());
        }
    }

    @Override
    public CompletableFuture<Void> transferLeadership(String to) {
        org.apache.ratis.protocol.TransferLeadershipRequest request = new org.apache.ratis.protocol.TransferLeadershipRequest(
                clientId, self, group.getGroupId(), callId.incrementAndGet(), RaftPeerId.valueOf(to), HANDOVER_TIMEOUT_MS);
        try {
            return raftHost.server().transferLeadershipAsync(request).thenApply(reply -> {
                if (!reply.isSuccess()) {
                    throw new CompletionException(new TxkvException(ErrorCode.NOT_LEADER,
                            "Leadership did not pass to " + to + ": " + describe(reply)));
                }
                return (Void) null;
            });
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.NOT_LEADER, e.getMessage(), e));
        }
    }

    @Override
    public void close() {
        try {
            if (!stopped.get()) {
                handOverLeadership();
            }
            boolean alreadyStopped = stopped.getAndSet(true);
            if (ownsHost) {
                raftHost.close(); // idempotent: also after stopAfterFailure
            } else if (!alreadyStopped) {
                raftHost.leave(group.getGroupId());
            }
        } catch (IOException e) {
            // Closing on shutdown: nothing more to do.
        } finally {
            callbacks.shutdown();
        }
        // The engine closes its storage after this returns: the group's applier thread must be
        // gone by then (a close that Ratis could not finish, interrupted, leaves it running).
        if (!stateMachine.awaitStopped(STOP_WAIT_MS)) {
            LOG.warn("{}: the Raft group's applier did not stop within {} ms", group.getGroupId(), STOP_WAIT_MS);
        }
    }
}
