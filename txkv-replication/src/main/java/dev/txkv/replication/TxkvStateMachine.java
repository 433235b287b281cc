package dev.txkv.replication;

import dev.txkv.engine.CommittedBatch;
import dev.txkv.engine.LogHost;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits log entries on the leader and applies committed ones (commit batches) to this
 * member's engine, in log order.
 *
 * <p>Admission ({@link #startTransaction}): Ratis calls it on the leader before it appends a
 * client request to the log. Only this member's own commit pipeline may append: a request from
 * any other Raft client id, or whose payload is not a sound commit batch record, is refused
 * there with an error to its sender and never reaches the log. The record is walked in full
 * ({@link CommittedBatch#problem}), so an entry no replica could decode is never appended.
 * (The Raft port refuses Ratis's client service from the network anyway, see
 * {@link RaftPortGuard}; this is the second wall.)
 *
 * <p>Apply: an entry at or below the Raft index recorded in storage was applied before a
 * restart and is skipped, so replaying the log is harmless. Errors never escape as exceptions
 * (an exception from applyTransaction stops the Ratis server): an entry this member cannot
 * apply fails the member ({@link LogHost#fail}), which then applies nothing more, serves
 * nothing, and leaves the group so that the others carry on without it.
 */
final class TxkvStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(TxkvStateMachine.class);

    private final LogHost host;
    private final RaftReplica replica;
    private final RaftPeerId self;
    /** The Raft client id of this member's commit pipeline: the only one allowed to append. */
    private final ClientId pipelineClient;
    private final SnapshotStore storage = new SnapshotStore();
    private final AtomicLong refusedEntries = new AtomicLong();
    private volatile long appliedIndex;

    TxkvStateMachine(LogHost host, RaftReplica replica, RaftPeerId self, ClientId pipelineClient) {
        this.host = host;
        this.replica = replica;
        this.self = self;
        this.pipelineClient = pipelineClient;
    }

    /** Refuses, before it is appended, any entry that is not a sound batch from this member's pipeline. */
    @Override
    public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
        TransactionContext trx = super.startTransaction(request);
        if (pipelineClient == null) {
            return trx; // RaftReplica.unguardedForTest
        }
        String problem;
        if (!pipelineClient.equals(request.getClientId())) {
            problem = "the request did not come from this member's commit pipeline";
        } else {
            problem = CommittedBatch.problem(request.getMessage().getContent().asReadOnlyByteBuffer());
            problem = problem == null ? null : "not a sound commit batch record: " + problem;
        }
        if (problem != null) {
            long count = refusedEntries.incrementAndGet();
            LOG.warn("Refused a log entry from Raft client {} ({} refused since start): {}", request.getClientId(),
                    count, problem);
            trx.setException(new IOException("txkv refused the log entry: " + problem));
        }
        return trx;
    }

    /** Log entries refused by {@link #startTransaction} since start. */
    long refusedEntries() {
        return refusedEntries.get();
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        started = true;
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        loadSnapshotIfNewer();
        appliedIndex = host.appliedLogIndex();
        getLifeCycle().transition(LifeCycle.State.STARTING);
        getLifeCycle().transition(LifeCycle.State.RUNNING);
    }

    /** Ratis pauses the state machine right before it publishes an installed snapshot. */
    @Override
    public void pause() {
        if (getLifeCycleState() == LifeCycle.State.RUNNING) {
            getLifeCycle().transition(LifeCycle.State.PAUSING);
            getLifeCycle().transition(LifeCycle.State.PAUSED);
        }
    }

    /**
     * A snapshot newer than what storage has applied (installed from the leader, possibly
     * before a crash) replaces storage; then Ratis replays the log from the snapshot on.
     */
    private void loadSnapshotIfNewer() throws IOException {
        org.apache.ratis.statemachine.SnapshotInfo snapshot = storage.rescan();
        if (snapshot != null && snapshot.getIndex() > host.appliedLogIndex()) {
            LOG.info("Loading snapshot at log index {} (storage had applied {})", snapshot.getIndex(),
                    host.appliedLogIndex());
            host.installCheckpoint(storage.folder(snapshot), SnapshotStore::isCheckpointFile);
        }
        if (snapshot != null) {
            // Ratis replays the log from the snapshot on; entries storage already holds are
            // skipped in applyTransaction (which still advances the applied index). Claiming
            // more here made Ratis refuse those replayed entries and stop the member.
            updateLastAppliedTermIndex(snapshot.getTerm(), snapshot.getIndex());
        }
        appliedIndex = host.appliedLogIndex();
    }

    /** A checkpoint of storage as it is now: exactly the state at the last applied index. */
    @Override
    public long takeSnapshot() throws IOException {
        org.apache.ratis.server.protocol.TermIndex last = getLastAppliedTermIndex();
        if (last == null || last.getIndex() <= 0) {
            return -1;
        }
        // Applies happen on the thread that calls this, so storage holds exactly 'last'.
        host.syncStorage();
        storage.take(host::writeCheckpoint, last);
        LOG.info("Took snapshot at log index {}", last.getIndex());
        return last.getIndex();
    }

    /** Loads the snapshot Ratis just installed, then runs again. */
    @Override
    public void reinitialize() throws IOException {
        loadSnapshotIfNewer();
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    /** The last applied log index, counting entries Ratis applies itself (configuration, no-ops). */
    long appliedIndex() {
        org.apache.ratis.server.protocol.TermIndex last = getLastAppliedTermIndex();
        return Math.max(appliedIndex, last == null ? 0 : last.getIndex());
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        long index = entry.getIndex();
        dev.txkv.TxkvException failed = host.failure();
        if (failed != null) {
            // After a failed entry nothing later may be applied: storage would skip that entry.
            return CompletableFuture.failedFuture(failed);
        }
        try {
            if (index > host.appliedLogIndex()) {
                if (FailPoints.hit(FailPoints.applyOf(self.toString()))) {
                    throw new IllegalStateException("fail point " + FailPoints.applyOf(self.toString()));
                }
                ByteString data = entry.getStateMachineLogEntry().getLogData();
                host.apply(CommittedBatch.decode(data.toByteArray()), index);
            }
            appliedIndex = index;
            updateLastAppliedTermIndex(entry.getTerm(), index);
            return CompletableFuture.completedFuture(Message.EMPTY);
        } catch (RuntimeException | Error e) {
            dev.txkv.TxkvException failure = host.fail(index, e);
            replica.stopAfterFailure();
            return CompletableFuture.failedFuture(failure);
        }
    }

    /** A linearizable read's answer, once this member has applied up to the read index. */
    @Override
    public CompletableFuture<Message> query(Message request) {
        long version = host.appliedVersion();
        return CompletableFuture.completedFuture(
                Message.valueOf(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(version).array())));
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
        if (!self.equals(newLeaderId)) {
            host.endTerm();
        }
    }

    /** Called for every configuration that takes effect, also when replayed from the log at start. */
    @Override
    public void notifyConfigurationChanged(long term, long index, RaftConfigurationProto conf) {
        boolean member = false;
        for (var peer : conf.getPeersList()) {
            member |= self.equals(RaftPeerId.valueOf(peer.getId()));
        }
        for (var peer : conf.getOldPeersList()) {
            member |= self.equals(RaftPeerId.valueOf(peer.getId()));
        }
        host.membershipChanged(member);
    }

    /** Whether Ratis started this state machine (its division then applies through it until {@link #close}). */
    private volatile boolean started;
    /** Completes when Ratis closed this state machine: its applier thread has exited. */
    private final java.util.concurrent.CompletableFuture<Void> stopped = new java.util.concurrent.CompletableFuture<>();

    /** Called by Ratis on the applier thread as it exits (its division closed): nothing applies or snapshots after it. */
    @Override
    public void close() throws IOException {
        try {
            super.close();
        } finally {
            stopped.complete(null);
        }
    }

    /**
     * Waits up to {@code ms} until the applier thread has exited (true), so that the engine's
     * storage may close: an interrupted division close leaves that thread running for a while.
     */
    boolean awaitStopped(long ms) {
        if (!started) {
            return true;
        }
        try {
            stopped.get(ms, java.util.concurrent.TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        }
    }

    /** This member's Raft server stopped (closed, or closed by Raft after its removal): it leads no more. */
    @Override
    public void notifyServerShutdown(RoleInfoProto roleInfo, boolean allServer) {
        host.endTerm();
    }

    /**
     * This member stopped leading without a new leader known yet (it lost its majority): Ratis
     * fails its pending appends, and no leaderChanged comes until another member wins an
     * election. The term ends here, so that it stops taking commits and serving reads as leader.
     */
    @Override
    public void notifyNotLeader(java.util.Collection<org.apache.ratis.statemachine.TransactionContext> pendingEntries) {
        host.endTerm();
    }

    @Override
    public void notifyLeaderReady() {
        replica.onLeaderReady();
    }
}
