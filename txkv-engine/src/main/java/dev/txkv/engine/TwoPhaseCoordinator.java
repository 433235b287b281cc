package dev.txkv.engine;

import dev.txkv.ByteArrays;
import dev.txkv.ErrorCode;
import dev.txkv.MutationType;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.spi.AtomicOps;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.CommitResult;
import dev.txkv.spi.Environment;
import dev.txkv.spi.Mutation;
import dev.txkv.spi.ShardMap;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two-phase commit of a transaction that spans shards, run by the leader of one of them (the
 * coordinator; the client sends the commit to the shard of its first written key).
 *
 * <ol>
 * <li>Grant: one commit version for every participant, from the sequencer.
 * <li>Prepare: each participant resolves its slice at that version, in the order of its grants,
 * and votes yes once the slice is durable in its log (or no, with the reason).
 * <li>Decide: all yes, and this shard's log takes the commit decision (with the transaction's
 * idempotency id); once it is durable the client is answered: the commit point. Any no, or a
 * vote missing after {@link ShardConfig#voteWaitMs()}, and the transaction rolls back; nothing
 * is logged for that (presumed abort: a coordinator that does not know a version answers abort).
 * <li>Finish: the outcome goes to every participant until each has noted it durably; then the
 * decision is forgotten. A new leader sends every decision it still remembers again, and a
 * leader sends again any whose sending stopped ({@link #resendStalled}).
 * </ol>
 *
 * <p>A leader may refuse appends for a moment and go on leading in the same term (a hand-over
 * that failed): a refused or unknown DECIDE is appended again ({@code settleFailedDecision}).
 */
final class TwoPhaseCoordinator {
    private static final Logger LOG = LoggerFactory.getLogger(TwoPhaseCoordinator.class);

    private final class Coordination {
        final long version;
        final int[] participants;
        final CommitRequest request;
        final CompletableFuture<CommitResult> result;
        /** The participants with something to apply: only they hear the outcome. */
        final List<Integer> writers = new ArrayList<>();
        int yes;
        boolean decided;

        Coordination(long version, int[] participants, CommitRequest request, CompletableFuture<CommitResult> result) {
            this.version = version;
            this.participants = participants;
            this.request = request;
            this.result = result;
        }

        synchronized void vote(Throwable no) {
            if (decided) {
                return;
            }
            if (no != null) {
                decided = true;
                rollBack(this, reason(no));
            } else if (++yes == participants.length) {
                decided = true;
                commit(this);
            }
        }

        synchronized void timedOut() {
            if (!decided) {
                decided = true;
                rollBack(this, new TxkvException(ErrorCode.PROCESS_BEHIND,
                        "Not every shard voted within " + config.voteWaitMs() + " ms; rolled back; retry"));
            }
        }
    }

    private final ShardConfig config;
    private final Environment env;
    private final CommitPipeline pipeline;
    private final ShardLedger ledger;
    private final IdempotencyTable idempotency;
    /** Transactions between grant and durable decision, by version: their outcome is not known yet. */
    private final Map<Long, Coordination> inFlight = new ConcurrentHashMap<>();
    /** Transactions in flight by idempotency id: a repeated commit waits for the first. */
    private final Map<ByteBuffer, CompletableFuture<CommitResult>> byId = new ConcurrentHashMap<>();
    private volatile long term;
    /**
     * For each remembered commit decision, when its outcome was last sent (or first seen by
     * {@link #resendStalled}), environment nanos: a decision with none for a while has no
     * sending running and is sent again.
     */
    private final Map<Long, Long> lastSent = new ConcurrentHashMap<>();

    /** A planted bug (tests only): the client is answered before the decision is durable. */
    private final boolean ackBeforeDurable;
    private final CrashPoints crashPoints;

    TwoPhaseCoordinator(ShardConfig config, Environment env, CommitPipeline pipeline, ShardLedger ledger,
            IdempotencyTable idempotency, boolean ackBeforeDurable, CrashPoints crashPoints) {
        this.ackBeforeDurable = ackBeforeDurable;
        this.crashPoints = crashPoints;
        this.config = config;
        this.env = env;
        this.pipeline = pipeline;
        this.ledger = ledger;
        this.idempotency = idempotency;
    }

    /** Whether a transaction at {@code version} is between its grant and its durable decision here. */
    boolean inFlight(long version) {
        return inFlight.containsKey(version);
    }

    /**
     * Commits {@code request}, which touches {@code participants} (this shard among them) in
     * {@code map}, the map it is cut by: each participant checks that its slice lies in its keys.
     */
    CompletableFuture<CommitResult> commit(CommitRequest request, int[] participants, ShardMap map) {
        TxkvException refused = pipeline.refusal();
        if (refused != null) {
            return CompletableFuture.failedFuture(refused);
        }
        byte[] id = request.idempotencyId();
        CompletableFuture<CommitResult> result = new CompletableFuture<>();
        if (id != null) {
            CommitResult earlier = idempotency.lookup(id);
            if (earlier != null) {
                return CompletableFuture.completedFuture(earlier);
            }
            ByteBuffer key = ByteBuffer.wrap(id.clone());
            CompletableFuture<CommitResult> running = byId.putIfAbsent(key, result);
            if (running != null) {
                return running;
            }
            result.whenComplete((r, e) -> byId.remove(key, result));
        }
        long startedTerm = term;
        config.network().grant(config.shardId(), participants).whenComplete((grant, error) -> {
            if (error != null) {
                result.completeExceptionally(new TxkvException(ErrorCode.PROCESS_BEHIND,
                        "No commit version from the sequencer: " + ShardSlots.unwrap(error).getMessage() + "; retry"));
            } else if (term != startedTerm || pipeline.refusal() != null) {
                result.completeExceptionally(new TxkvException(ErrorCode.NOT_LEADER, "This shard's leader changed; retry"));
            } else {
                prepare(request, participants, map, grant, result);
            }
        });
        return result;
    }

    private void prepare(CommitRequest request, int[] participants, ShardMap map, VersionSequencer.Grant grant,
            CompletableFuture<CommitResult> result) {
        long v = grant.version();
        Coordination c = new Coordination(v, participants, request, result);
        inFlight.put(v, c);
        List<ShardNetwork.Prepare> prepares = new ArrayList<>(participants.length);
        for (int i = 0; i < participants.length; i++) {
            ShardMap.Shard shard = map.byId(participants[i]);
            CommitRequest slice = slice(request, shard, v);
            if (!slice.mutations().isEmpty() || !slice.writeConflicts().isEmpty()) {
                c.writers.add(participants[i]);
            }
            prepares.add(new ShardNetwork.Prepare(v, grant.epoch(), grant.previous()[i], config.shardId(), participants,
                    slice));
        }
        for (int i = 0; i < participants.length; i++) {
            config.network().prepare(participants[i], prepares.get(i)).whenComplete((x, e) -> c.vote(e));
        }
        env.schedule(c::timedOut, config.voteWaitMs(), TimeUnit.MILLISECONDS);
    }

    /**
     * {@code request} cut to {@code shard}'s keys at commit version {@code version}: its
     * mutations there (clear ranges cut; versionstamped keys placed, kept where they land),
     * its read and write conflict ranges cut.
     */
    static CommitRequest slice(CommitRequest request, ShardMap.Shard shard, long version) {
        List<Mutation> mutations = new ArrayList<>();
        List<Range> writes = new ArrayList<>();
        byte[] stamp = new CommitResult(version, 0).versionstamp();
        for (Mutation m : request.mutations()) {
            if (m.type() == MutationType.SET_VERSIONSTAMPED_KEY.code()) {
                byte[] key = AtomicOps.placeVersionstamp(m.key(), stamp);
                if (shard.contains(key)) {
                    mutations.add(new Mutation(Mutation.SET, key, m.param()));
                    writes.add(new Range(key, ByteArrays.keyAfter(key)));
                }
            } else if (m.type() == Mutation.CLEAR_RANGE) {
                Range r = shard.clip(m.key(), m.param());
                if (r != null) {
                    mutations.add(new Mutation(Mutation.CLEAR_RANGE, r.begin, r.end));
                }
            } else if (shard.contains(m.key())) {
                mutations.add(m);
            }
        }
        for (Range w : request.writeConflicts()) {
            Range r = shard.clip(w.begin, w.end);
            if (r != null) {
                writes.add(r);
            }
        }
        List<Range> reads = new ArrayList<>();
        for (Range rc : request.readConflicts()) {
            Range r = shard.clip(rc.begin, rc.end);
            if (r != null) {
                reads.add(r);
            }
        }
        return new CommitRequest(request.readVersion(), reads, writes, mutations, null, request.reportConflictingKeys());
    }

    private void commit(Coordination c) {
        long startedTerm = term;
        CommittedBatch decision = new CommittedBatch(CommittedBatch.Kind.DECIDE, c.version, env.currentTimeMillis(),
                List.of(new CommittedBatch.Transaction(0, c.request.idempotencyId(), List.of())),
                new CommittedBatch.TwoPhase(config.shardId(), c.participants, true));
        pipeline.onResolveThread(() -> {
            if (pipeline.refusal() != null) {
                // Nothing appended: the version stays in flight here, so this member never
                // answers abort for it. If it leads again in this term (a hand-over that
                // failed), it appends the decision then; a new term answers the client
                // commit_unknown_result and its leader decides from its log.
                settleFailedDecision(c, decision, startedTerm);
                return;
            }
            crashPoints.reach(CrashPoints.Point.COORDINATOR_BEFORE_DECISION);
            CompletableFuture<Void> durable = pipeline.appendRecord(decision);
            if (ackBeforeDurable) {
                c.result.complete(new CommitResult(c.version, 0));
            }
            durable.whenComplete((x, error) -> {
                if (error != null) {
                    // The decision may still become durable: keep the version in flight (never
                    // answered abort by this member) and append the decision again while this
                    // member leads in this term; the client waits (a retry with the same
                    // idempotency id waits for this attempt). A new term answers it
                    // commit_unknown_result (endTerm); the next leader knows from its log.
                    settleFailedDecision(c, decision, startedTerm);
                    return;
                }
                crashPoints.reach(CrashPoints.Point.COORDINATOR_AFTER_DECISION);
                inFlight.remove(c.version);
                c.result.complete(new CommitResult(c.version, 0));
                finish(c.version, c.writers, true);
            });
        });
    }

    /**
     * The append of {@code c}'s decision failed, its outcome unknown, while this member may go
     * on leading in the same term (a hand-over that failed; a new term ends it through
     * {@link #endTerm}): the decision is appended again until the log takes it, and then the
     * client is answered. Every vote was yes and this member never answered abort for the
     * version (it stayed in flight), so committing is what any outcome would have been; a
     * decision that lands twice is noted once. The client's answer waits meanwhile, so that a
     * retry with the same idempotency id waits for this attempt instead of running again.
     * Left in flight instead, it would be answered "pending" to its participants for as long as
     * this member leads, holding their slices and every read of their shards. (Waiting for a
     * newer record to apply would not do: the shard's own newer batches wait for this slice.)
     */
    private void settleFailedDecision(Coordination c, CommittedBatch decision, long startedTerm) {
        env.schedule(() -> pipeline.onResolveThread(() -> {
            if (term != startedTerm || !inFlight.containsKey(c.version)) {
                return;
            }
            TxkvException refused = pipeline.refusal();
            if (refused != null && refused.getError() != ErrorCode.NOT_LEADER) {
                // The log failed for good (a storage error): nothing will take the decision.
                // It stays in flight, never answered abort, until the member is rebuilt.
                c.result.completeExceptionally(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                        "The commit decision could not be logged: " + refused.getMessage(), refused));
                return;
            }
            if (refused != null) {
                settleFailedDecision(c, decision, startedTerm);
                return;
            }
            pipeline.appendRecord(decision).whenComplete((x, error) -> {
                if (error != null) {
                    settleFailedDecision(c, decision, startedTerm);
                } else if (term == startedTerm && inFlight.remove(c.version) != null) {
                    c.result.complete(new CommitResult(c.version, 0));
                    finish(c.version, c.writers, true);
                }
            });
        }), SETTLE_RETRY_MS, TimeUnit.MILLISECONDS);
    }

    /** The pause before a failed decision is appended again. */
    private static final long SETTLE_RETRY_MS = 50;

    private void rollBack(Coordination c, TxkvException why) {
        inFlight.remove(c.version);
        c.result.completeExceptionally(why);
        finish(c.version, c.writers, false);
    }

    /** The error a client gets when a vote was no: a participant's own answer when it is one a client can act on. */
    private static TxkvException reason(Throwable no) {
        Throwable e = ShardSlots.unwrap(no);
        if (e instanceof TxkvException t) {
            switch (t.getError()) {
                case NOT_COMMITTED, TRANSACTION_TOO_OLD, FUTURE_VERSION, WRONG_SHARD_SERVER, TRANSACTION_TOO_LARGE,
                        KEY_TOO_LARGE, VALUE_TOO_LARGE, INVALID_MUTATION_TYPE -> {
                    return t;
                }
                default -> {
                    return new TxkvException(ErrorCode.PROCESS_BEHIND,
                            "A shard could not prepare (" + t.getMessage() + "); rolled back; retry");
                }
            }
        }
        return new TxkvException(ErrorCode.PROCESS_BEHIND, "A shard could not prepare (" + e + "); rolled back; retry");
    }

    /**
     * Sends the outcome to every participant (a commit's own shard has it in its decision)
     * until each noted it; for a commit, then forgets the decision. Stops when this member
     * stops leading: the next leader sends its remembered decisions again.
     */
    private void finish(long version, List<Integer> participants, boolean commit) {
        List<Integer> waiting = new ArrayList<>();
        for (int p : participants) {
            if (!commit || p != config.shardId()) {
                waiting.add(p);
            }
        }
        sendOutcome(version, commit, waiting, term, 0);
    }

    private void sendOutcome(long version, boolean commit, List<Integer> waiting, long startedTerm, int round) {
        if (term != startedTerm || pipeline.refusal() != null) {
            return;
        }
        if (commit) {
            lastSent.put(version, env.nanoTime());
        }
        if (waiting.isEmpty()) {
            if (commit) {
                CommittedBatch forget = new CommittedBatch(CommittedBatch.Kind.FORGET, version, env.currentTimeMillis(),
                        List.of(), new CommittedBatch.TwoPhase(config.shardId(), new int[0], true));
                pipeline.onResolveThread(() -> {
                    if (pipeline.refusal() == null) {
                        pipeline.appendRecord(forget);
                    }
                });
            }
            return;
        }
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        for (int p : waiting) {
            sends.add(config.network().decided(p, version, commit));
        }
        CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).whenComplete((x, e) -> {
            List<Integer> still = new ArrayList<>();
            for (int i = 0; i < waiting.size(); i++) {
                if (sends.get(i).isCompletedExceptionally()) {
                    still.add(waiting.get(i));
                }
            }
            if (still.isEmpty() || !commit && round >= 3) {
                // An abort is presumed by anyone who asks: a few tries are a courtesy, not a duty.
                sendOutcome(version, commit, List.of(), startedTerm, round + 1);
                return;
            }
            env.schedule(() -> sendOutcome(version, commit, still, startedTerm, round + 1),
                    Math.min(config.inDoubtMs(), 50L << Math.min(round, 4)), TimeUnit.MILLISECONDS);
        });
    }

    /**
     * The outcome of {@code version} for a participant that asks (called once this member
     * confirmed it leads): committed if decided so, pending while in flight here, else abort.
     */
    ShardNetwork.Outcome outcome(long version) {
        if (ledger.committed(version)) {
            return ShardNetwork.Outcome.COMMIT;
        }
        return inFlight.containsKey(version) ? ShardNetwork.Outcome.PENDING : ShardNetwork.Outcome.ABORT;
    }

    /** This member leads from now on: send every remembered decision again. */
    void beginTerm() {
        long t = ++term;
        // On the resolve thread: the log may still be opening when a term begins.
        pipeline.onResolveThread(() -> {
            for (CommittedBatch d : ledger.openDecisions()) {
                List<Integer> waiting = new ArrayList<>();
                for (int p : d.twoPhase().participants()) {
                    if (p != config.shardId()) {
                        waiting.add(p);
                    }
                }
                sendOutcome(d.version(), true, waiting, t, 0);
            }
        });
    }

    /**
     * Periodic work while leading (resolve thread): sends again every remembered commit decision
     * whose sending stopped without forgetting it, after {@link #STALLED_IN_DOUBT_PERIODS} times
     * {@code inDoubtMs} without a send. A sending stops when this member refuses commits for a
     * moment (a leadership hand-over that then failed leaves it leading in the same term, so
     * no new term sends the decisions again), and a decision stays remembered when its FORGET
     * record's append failed. Participants acknowledge an outcome they noted already, and a
     * second FORGET changes nothing.
     */
    void resendStalled() {
        long now = env.nanoTime();
        long stalled = TimeUnit.MILLISECONDS.toNanos(STALLED_IN_DOUBT_PERIODS * config.inDoubtMs());
        java.util.Set<Long> open = new java.util.HashSet<>();
        for (CommittedBatch d : ledger.openDecisions()) {
            long v = d.version();
            open.add(v);
            Long last = lastSent.putIfAbsent(v, now);
            if (last == null || now - last < stalled) {
                continue;
            }
            List<Integer> waiting = new ArrayList<>();
            for (int p : d.twoPhase().participants()) {
                if (p != config.shardId()) {
                    waiting.add(p);
                }
            }
            LOG.info("Shard {}: sending the commit decision at version {} to shards {} again (its sending had stopped)",
                    config.shardId(), v, waiting);
            sendOutcome(v, true, waiting, term, 0);
        }
        lastSent.keySet().retainAll(open);
    }

    /** How many {@code inDoubtMs} periods without a send make a remembered decision's sending stalled. */
    static final int STALLED_IN_DOUBT_PERIODS = 5;

    /** This member stopped leading: what is in flight has an outcome only the next leader knows. */
    void endTerm() {
        term++;
        List<Coordination> open = new ArrayList<>(inFlight.values());
        inFlight.clear();
        for (Coordination c : open) {
            c.result.completeExceptionally(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                    "The shard's leader changed while committing"));
        }
        if (!open.isEmpty()) {
            LOG.info("Shard {}: {} cross-shard commits in flight when leadership ended", config.shardId(), open.size());
        }
    }
}
