package dev.txkv.engine;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The commit log of a simulated process: batches wait in memory until a sync event makes them
 * durable, which applies them to the engine (its real applier and RocksDB storage) in order;
 * only then is the append answered. A crash drops the batches not yet synced, as a process
 * killed before its fsync loses them, and answers their appends with commit_unknown_result
 * (the connection to the process is gone).
 *
 * <p>A sharded process's log may also answer an append of a batch with commit_unknown_result
 * at once and still make it durable and apply it in its turn ({@code ambiguousP} of them), as a
 * Raft leader that lost its majority fails its pending appends that the next leader may commit.
 * It may also refuse a batch, a participant's PREPARED record or a coordinator's DECIDE or
 * FORGET record outright ({@code refusedP} of them): that record never applies, as a Raft
 * leader refuses requests while it hands over or is overloaded, and the leader keeps its term;
 * half of the refusals say so
 * ({@link CommitLog.Refused}), half are reported as of unknown outcome, as Ratis's are.
 *
 * <p>Planted bugs, to show that the simulation catches them: {@link Bug#ACK_BEFORE_DURABLE}
 * answers an append before the batch is durable; {@link Bug#APPLY_OUT_OF_ORDER} sometimes
 * applies a later batch before an earlier one.
 */
final class SimLog implements CommitLog {
    enum Bug { NONE, ACK_BEFORE_DURABLE, APPLY_OUT_OF_ORDER }

    /** A batch and when it may become durable at the earliest (simulated nanos). */
    private record Entry(CommittedBatch batch, CompletableFuture<Void> done, long readyAt) {
    }

    private final LogHost host;
    private final SimEnvironment env;
    private final Bug bug;
    private final List<Entry> pending = new ArrayList<>();
    private boolean crashed;
    private final double ambiguousP;
    private final double refusedP;

    SimLog(LogHost host, SimEnvironment env, Bug bug) {
        this(host, env, bug, 0, 0);
    }

    SimLog(LogHost host, SimEnvironment env, Bug bug, double ambiguousP, double refusedP) {
        this.host = host;
        this.env = env;
        this.bug = bug;
        this.ambiguousP = ambiguousP;
        this.refusedP = refusedP;
        host.beginTerm(0);
    }

    @Override
    public CompletableFuture<Void> append(CommittedBatch batch) {
        if (crashed) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT, "process crashed"));
        }
        boolean refusable = batch.kind() == CommittedBatch.Kind.BATCH || batch.kind() == CommittedBatch.Kind.PREPARED
                || batch.kind() == CommittedBatch.Kind.FORGET || batch.kind() == CommittedBatch.Kind.DECIDE;
        if (bug == Bug.NONE && refusable && refusedP > 0 && env.rng().nextDouble() < refusedP) {
            // Refused before it entered the log (a leader handing over, or overloaded): said so,
            // or (as Ratis answers) reported as of unknown outcome.
            return CompletableFuture.failedFuture(env.rng().nextBoolean()
                    ? new CommitLog.Refused(ErrorCode.NOT_LEADER, "refused by the log")
                    : new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT, "refused by the log, reported unknown"));
        }
        boolean ambiguous = bug == Bug.NONE && batch.kind() == CommittedBatch.Kind.BATCH && ambiguousP > 0
                && env.rng().nextDouble() < ambiguousP;
        // An ambiguous batch commits only later (a new majority), and everything after it waits.
        Entry e = new Entry(batch, new CompletableFuture<>(),
                ambiguous ? env.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5 + env.rng().nextInt(30)) : 0);
        pending.add(e);
        if (bug == Bug.ACK_BEFORE_DURABLE) {
            e.done().complete(null);
        } else if (ambiguous) {
            e.done().completeExceptionally(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                    "lost the majority (the batch may still commit)"));
        }
        env.schedule(this::syncOne, env.delayNanos(50, 2_000), TimeUnit.NANOSECONDS);
        return e.done();
    }

    /** One fsync: the oldest waiting batch (or, with the planted bug, sometimes the newest) becomes durable and applied. */
    private void syncOne() {
        if (crashed || pending.isEmpty()) {
            return;
        }
        int i = bug == Bug.APPLY_OUT_OF_ORDER && pending.size() > 1 && env.rng().nextBoolean() ? pending.size() - 1 : 0;
        long wait = pending.get(i).readyAt() - env.nanoTime();
        if (wait > 0) {
            env.schedule(this::syncOne, wait, TimeUnit.NANOSECONDS);
            return;
        }
        Entry e = pending.remove(i);
        host.apply(e.batch(), -1);
        if (!e.done().isDone()) {
            e.done().complete(null);
        }
    }

    /** The process dies: batches not yet durable are lost, their appends' outcome unknown to the pipeline. */
    void crash() {
        crashed = true;
        for (Entry e : pending) {
            e.done().completeExceptionally(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT, "process crashed"));
        }
        pending.clear();
    }

    @Override
    public void close() {
        crash();
    }
}
