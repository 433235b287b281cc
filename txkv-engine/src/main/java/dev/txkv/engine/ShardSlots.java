package dev.txkv.engine;

import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.Environment;
import dev.txkv.spi.Mutation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shard leader's version slots, on the resolve thread of its {@link CommitPipeline}: the
 * shard's own batches and the prepared slices of cross-shard transactions each take the
 * version the sequencer granted them, and are resolved strictly in the order of the grants to
 * this shard. Each grant names the one before it ({@code previous}); a slot waits until that
 * one was taken here ({@code chainHead}), so the resolver sees every write below a version
 * before it checks that version's reads (docs/sharding.md, "Slots").
 *
 * <p>A slot whose predecessor never comes (its coordinator died between the grant and the
 * prepare, or the message was lost) waits {@link ShardConfig#holeWaitMs()}; then the slot
 * asks the predecessor's coordinator for its outcome: rolled back (or unknown to a leader
 * that has applied its log: presumed abort) lets it pass, and the predecessor, should it come
 * later, is refused. A newer sequencer epoch closes the older one: its slots not yet taken
 * here are refused.
 *
 * <p>Undecided prepared slices ask their coordinator after {@link ShardConfig#inDoubtMs()}.
 */
final class ShardSlots {
    private static final Logger LOG = LoggerFactory.getLogger(ShardSlots.class);

    private abstract static class Slot {
        final long version;
        final long epoch;
        final long previous;
        final long parkedNanos;

        Slot(long version, long epoch, long previous, long parkedNanos) {
            this.version = version;
            this.epoch = epoch;
            this.previous = previous;
            this.parkedNanos = parkedNanos;
        }
    }

    /** This shard's own batch of single-shard commits. */
    private static final class OwnSlot extends Slot {
        final List<CommitPipeline.Pending> batch;

        OwnSlot(long version, long epoch, long previous, long parkedNanos, List<CommitPipeline.Pending> batch) {
            super(version, epoch, previous, parkedNanos);
            this.batch = batch;
        }
    }

    /** A cross-shard transaction's slice, sent by its coordinator. */
    private static final class PrepareSlot extends Slot {
        final ShardNetwork.Prepare request;
        final CompletableFuture<Void> vote;

        PrepareSlot(ShardNetwork.Prepare request, long parkedNanos, CompletableFuture<Void> vote) {
            super(request.version(), request.epoch(), request.previous(), parkedNanos);
            this.request = request;
            this.vote = vote;
        }
    }

    /**
     * A split of this shard at a key: the keys from it on go to a new shard from this slot's
     * version; at its first key ({@code whole}), all its keys go to the shard that absorbs it.
     */
    private static final class FenceSlot extends Slot {
        final byte[] key;
        final int child;
        final boolean whole;
        final CompletableFuture<Long> done;

        FenceSlot(long version, long epoch, long previous, long parkedNanos, byte[] key, int child, boolean whole,
                CompletableFuture<Long> done) {
            super(version, epoch, previous, parkedNanos);
            this.key = key;
            this.child = child;
            this.whole = whole;
            this.done = done;
        }
    }

    /** This shard takes the keys of its right neighbour, fenced at {@code fence}, from this slot's version. */
    private static final class AbsorbSlot extends Slot {
        final int other;
        final long fence;
        final byte[] begin;
        final byte[] end;
        final CompletableFuture<Long> done;

        AbsorbSlot(long version, long epoch, long previous, long parkedNanos, int other, long fence, byte[] begin,
                byte[] end, CompletableFuture<Long> done) {
            super(version, epoch, previous, parkedNanos);
            this.other = other;
            this.fence = fence;
            this.begin = begin;
            this.end = end;
            this.done = done;
        }
    }

    private final CommitPipeline pipeline;
    private final ShardLedger ledger;
    /**
     * The keys this shard holds as its leader resolves (resolve thread; others read it): those
     * of its log, less a split taken and not yet applied. Null while a new shard is not born.
     */
    private volatile dev.txkv.spi.ShardMap.Shard resolveRange;
    /** A new shard's born record on its way into the log (resolve thread), or null. */
    private CompletableFuture<Void> bornAppend;
    /** An absorb taken by this leader and not yet applied (resolve thread): [begin, end) and its version. */
    private AbsorbSlot absorbing;
    /** An absorb asked and not yet taken or failed (resolve thread): another ask joins it. */
    private CompletableFuture<Long> absorbAsked;
    private final ShardConfig config;
    private final Environment env;
    private final Runnable chainMoved;
    /** Set once the engine made its coordinator: whether it has a transaction at a version in flight. */
    private volatile java.util.function.LongPredicate coordinating = v -> false;
    /** The coordinator's periodic work, run with {@link #tick} while this member leads. */
    private volatile Runnable coordinatorTick = () -> { };
    /** The newest slot taken here (or skipped as a hole); slots at or below it come too late. */
    private volatile long chainHead = -1;
    /** The sequencer epoch this shard is in; -1 until known at the start of a term. */
    private volatile long epoch = -1;
    private boolean epochAsked;
    private final TreeMap<Long, Slot> parked = new TreeMap<>();
    /**
     * Own batches a shard may have between asking for their grant and being resolved. One:
     * while its grant crosses the network, new commits gather into the next batch. Four were
     * measured on two shared cores (docs/benchmarks.md, 2026-12-07) and gave smaller batches and
     * no more throughput; the chain takes any number.
     */
    static final int OWN_BATCHES_IN_FLIGHT = 1;
    /** This shard's batches whose grant has not come back yet (resolve thread). */
    private int awaitingGrants;
    /** When each of those grants was asked for (environment nanos), oldest first (resolve thread). */
    private final java.util.ArrayDeque<Long> grantsAsked = new java.util.ArrayDeque<>();
    /** Prepares whose record is being made durable, by version: a repeated prepare gets the same vote. */
    private final Map<Long, CompletableFuture<Void>> preparing = new HashMap<>();
    private long holeAskedFor = -1;
    /** Versions whose rollback came before their prepare was taken: refused when their turn comes. */
    private final java.util.TreeSet<Long> rolledBack = new java.util.TreeSet<>();
    /** The newest missing version a read waits for, and since when. */
    private long readWaitsFor = -1;
    private long readWaitingSince;
    private final Set<Long> askingOutcome = new HashSet<>();
    private long lastTickNanos;
    private final CrashPoints crashPoints;

    /** A planted bug (tests only): keys outside this shard are taken as if it held them. */
    private final boolean acceptAnyKeys;
    /** A planted bug (tests only, {@link ShardFault#MERGED_AWAY_KEYS_ACCEPTED}): giving all keys away keeps taking them. */
    private volatile boolean mergedAwayKeysAccepted;

    /** Plants {@link ShardFault#MERGED_AWAY_KEYS_ACCEPTED} (tests only). */
    void plantMergedAwayKeysAccepted() {
        mergedAwayKeysAccepted = true;
    }

    ShardSlots(CommitPipeline pipeline, ShardLedger ledger, ShardConfig config, Environment env, Runnable chainMoved,
            CrashPoints crashPoints, boolean acceptAnyKeys) {
        this.acceptAnyKeys = acceptAnyKeys;
        this.crashPoints = crashPoints;
        this.pipeline = pipeline;
        this.ledger = ledger;
        this.config = config;
        this.env = env;
        this.chainMoved = chainMoved;
        this.resolveRange = ledger.owned();
    }

    void coordinating(java.util.function.LongPredicate inFlight, Runnable everyTick) {
        this.coordinating = inFlight;
        this.coordinatorTick = everyTick;
    }

    long chainHead() {
        return chainHead;
    }

    /** The newest epoch a read asked this shard to enter; posted to the resolve thread only when it rises. */
    private final java.util.concurrent.atomic.AtomicLong wantedEpoch = new java.util.concurrent.atomic.AtomicLong(-1);

    /** A read of epoch {@code e} came (any thread): the resolve thread enters it, once per newer epoch. */
    void wantEpoch(long e) {
        if (e > epoch && wantedEpoch.getAndAccumulate(e, Math::max) < e) {
            pipeline.onResolveThread(() -> adoptEpoch(e));
        }
    }

    /** The newest read version a read brought here. */
    private final java.util.concurrent.atomic.AtomicLong newestRead = new java.util.concurrent.atomic.AtomicLong(-1);

    /** A read at {@code version} of the sequencer came here (any thread). */
    void sawReadVersion(long version) {
        newestRead.accumulateAndGet(version, Math::max);
    }

    /**
     * The newest version of the sequencer this shard has seen, in a slot or a read: what "now"
     * is for the window here, so that the window does not depend on how this machine's clock
     * stands against the sequencer's.
     */
    long newestVersion() {
        return Math.max(chainHead, newestRead.get());
    }

    long epoch() {
        return epoch;
    }

    private int self() {
        return config.shardId();
    }

    // ------------------------------------------------------------------ terms

    /**
     * A new term (resolve thread): the chain continues from the newest slot in the log, the
     * epoch is asked of the sequencer again, and whatever an earlier term left waiting is
     * refused. Returns the chain head, the new resolver's horizon.
     */
    long newTerm() {
        refuseAll(new TxkvException(ErrorCode.NOT_LEADER, "This shard's leader changed; retry"));
        ledger.forgetTaken();
        chainHead = ledger.slotHead();
        resolveRange = ledger.owned();
        bornAppend = null;
        absorbing = null;
        epoch = -1;
        epochAsked = false;
        wantedEpoch.set(-1);
        holeAskedFor = -1;
        chainMoved.run();
        return chainHead;
    }

    private void refuseAll(TxkvException why) {
        for (Slot s : parked.values()) {
            refuse(s, why);
        }
        parked.clear();
    }

    /**
     * Whether {@link #OWN_BATCHES_IN_FLIGHT} own batches are waiting (for their grant or their
     * turn): new commits wait behind them.
     */
    boolean holdsOwnBatch() {
        int waiting = awaitingGrants;
        for (Slot s : parked.values()) {
            if (waiting >= OWN_BATCHES_IN_FLIGHT) {
                break;
            }
            if (s instanceof OwnSlot) {
                waiting++;
            }
        }
        return waiting >= OWN_BATCHES_IN_FLIGHT;
    }

    // ------------------------------------------------------------------ slots arriving

    /** Asks the sequencer for a version for this shard's batch; it is resolved when its turn comes. */
    void requestGrant(List<CommitPipeline.Pending> batch) {
        requestOwnGrant(grant -> new OwnSlot(grant.version(), grant.epoch(), grant.previous()[0], env.nanoTime(), batch),
                why -> failOwn(batch, why));
    }

    /** Fails an own batch's commits; an empty one (a probe, CommitPipeline) is asked for again. */
    private void failOwn(List<CommitPipeline.Pending> batch, TxkvException why) {
        if (batch.isEmpty()) {
            pipeline.probeAgain();
        } else {
            CommitPipeline.failAll(batch, why);
        }
    }

    /** Asks the sequencer for a version of this shard's own (a batch or a split), parked as {@code slot} makes it. */
    private void requestOwnGrant(java.util.function.Function<VersionSequencer.Grant, Slot> slot,
            java.util.function.Consumer<TxkvException> fail) {
        awaitingGrants++;
        Long asked = env.nanoTime();
        grantsAsked.addLast(asked);
        config.network().grant(self(), new int[] {self()}).whenComplete((grant, error) -> pipeline.onResolveThread(() -> {
            awaitingGrants--;
            grantsAsked.removeFirstOccurrence(asked);
            if (error != null) {
                fail.accept(new TxkvException(ErrorCode.PROCESS_BEHIND,
                        "No commit version from the sequencer: " + unwrap(error).getMessage() + "; retry"));
                return;
            }
            parked.put(grant.version(), slot.apply(grant));
        }));
    }

    // ------------------------------------------------------------------ splits

    /**
     * Splits this shard at {@code key} for new shard {@code child} (resolve thread): the split
     * takes a version of this shard's chain like a batch, so every slot below it is resolved
     * here first and every slot above it is checked against the keys left.
     */
    void splitOff(byte[] key, int child, CompletableFuture<Long> done) {
        pipeline.catchUpTerm();
        TxkvException refused = pipeline.refusal();
        if (refused != null) {
            done.completeExceptionally(refused);
            return;
        }
        long[] earlier = ledger.splitAt(key);
        if (earlier != null) {
            if (earlier[0] == child) {
                done.complete(earlier[1]);
            } else {
                done.completeExceptionally(new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Shard " + self()
                        + " was already split at " + dev.txkv.ByteArrays.printable(key) + " for shard " + earlier[0]));
            }
            return;
        }
        TxkvException outside = notSplittable(key, false);
        if (outside != null) {
            done.completeExceptionally(outside);
            return;
        }
        requestOwnGrant(grant -> new FenceSlot(grant.version(), grant.epoch(), grant.previous()[0], env.nanoTime(), key,
                child, false, done), done::completeExceptionally);
    }

    /**
     * Gives all this shard's keys to shard {@code into}, which absorbs them (resolve thread): a
     * split at this shard's first key, taken like one; from its version on this shard refuses
     * every key. Asked again, answers that version.
     */
    void mergeAway(int into, CompletableFuture<Long> done) {
        pipeline.catchUpTerm();
        TxkvException refused = pipeline.refusal();
        if (refused != null) {
            done.completeExceptionally(refused);
            return;
        }
        dev.txkv.spi.ShardMap.Shard r = resolveRange;
        if (r == null) {
            done.completeExceptionally(new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Shard " + self()
                    + " holds no keys yet (made by a split, not yet born); it cannot merge"));
            return;
        }
        byte[] key = r.begin();
        long[] earlier = ledger.splitAt(key);
        if (earlier != null) {
            if (earlier[0] == into) {
                done.complete(earlier[1]);
            } else {
                done.completeExceptionally(new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Shard " + self()
                        + " already gave its keys to shard " + earlier[0]));
            }
            return;
        }
        requestOwnGrant(grant -> new FenceSlot(grant.version(), grant.epoch(), grant.previous()[0], env.nanoTime(), key,
                into, true, done), done::completeExceptionally);
    }

    /**
     * Why this shard cannot split at {@code key} now, or null: the key must lie inside its keys
     * after the first, or end them already (a split taken whose record's fate is not known yet:
     * it is made again, and a record that lands twice splits once).
     */
    private TxkvException notSplittable(byte[] key, boolean whole) {
        dev.txkv.spi.ShardMap.Shard r = resolveRange;
        if (whole) {
            // All keys, from the first: the range may already be empty (taken, fate unknown).
            return r != null && java.util.Arrays.equals(r.begin(), key) ? null
                    : new TxkvException(ErrorCode.OPERATION_FAILED, "Shard " + self() + " no longer begins at "
                            + dev.txkv.ByteArrays.printable(key) + "; it cannot give all its keys away");
        }
        boolean taken = r != null && java.util.Arrays.equals(r.end(), key);
        if (r == null || (!r.contains(key) && !taken) || java.util.Arrays.equals(key, r.begin())) {
            return new TxkvException(ErrorCode.INVALID_OPTION_VALUE, "Cannot split " + (r == null ? "shard " + self() : r)
                    + " at " + dev.txkv.ByteArrays.printable(key) + ": a split key lies inside the shard, after its first key");
        }
        return null;
    }

    private void takeFence(FenceSlot f) {
        TxkvException outside = notSplittable(f.key, f.whole);
        if (outside != null) {
            f.done.completeExceptionally(outside);
            return;
        }
        long v = f.version;
        dev.txkv.spi.ShardMap.Shard r = resolveRange;
        // Kept even should the record fail: keys refused here by mistake cost a retry, while
        // keys taken here after a split that did land would be lost to the new shard.
        if (!(f.whole && mergedAwayKeysAccepted)) {
            resolveRange = new dev.txkv.spi.ShardMap.Shard(self(), r.begin(), f.key);
        }
        ledger.taken(v);
        CompletableFuture<Void> durable = pipeline.appendRecord(CommittedBatch.split(v, env.currentTimeMillis(), f.child, f.key));
        durable.whenComplete((x, e) -> {
            if (e == null) {
                if (f.whole) {
                    LOG.info("Shard {}: gave all its keys to shard {} at version {}", self(), f.child, v);
                } else {
                    LOG.info("Shard {}: split at {} for shard {} at version {}", self(), dev.txkv.ByteArrays.printable(f.key),
                            f.child, v);
                }
                f.done.complete(v);
            } else {
                appendFailed(v, e);
                f.done.completeExceptionally(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                        "The split's outcome is unknown: " + unwrap(e).getMessage() + "; ask again", e));
            }
        });
    }

    /**
     * This new shard takes its keys [begin, end) as its parent held them from version {@code
     * version} on (resolve thread): reads and conflict checks below that version are too old
     * here, and the slots granted here below it (all refused: it held no keys) are past.
     */
    void born(int parent, long version, byte[] begin, byte[] end, CompletableFuture<Void> done) {
        pipeline.catchUpTerm();
        TxkvException refused = pipeline.refusal();
        if (refused != null) {
            done.completeExceptionally(refused);
            return;
        }
        dev.txkv.spi.ShardMap.Shard held = ledger.owned() != null ? ledger.owned() : resolveRange;
        if (held != null && !(java.util.Arrays.equals(held.begin(), begin) && java.util.Arrays.equals(held.end(), end))) {
            done.completeExceptionally(new TxkvException(ErrorCode.INVALID_OPTION_VALUE,
                    "Shard " + self() + " already holds " + held + "; it cannot be born again with other keys"));
            return;
        }
        if (ledger.owned() != null) {
            done.complete(null);
            return;
        }
        if (bornAppend != null) {
            bornAppend.whenComplete((x, e) -> complete(done, e));
            return;
        }
        // Not born by the log yet, and no born record on its way: (again) append one. Should an
        // earlier one land too, the second is a no-op.
        if (!config.splits().child()) {
            done.completeExceptionally(new TxkvException(ErrorCode.INVALID_OPTION_VALUE,
                    "Shard " + self() + " was not made by a split"));
            return;
        }
        resolveRange = new dev.txkv.spi.ShardMap.Shard(self(), begin, end);
        chainHead = Math.max(chainHead, version);
        rolledBack.headSet(chainHead, true).clear();
        pipeline.resolver().forgetUpTo(version);
        CompletableFuture<Void> durable = pipeline.appendRecord(
                CommittedBatch.born(version, env.currentTimeMillis(), parent, begin, end));
        bornAppend = durable;
        durable.whenComplete((x, e) -> pipeline.onResolveThread(() -> {
            if (bornAppend == durable) {
                bornAppend = null;
            }
        }));
        durable.whenComplete((x, e) -> complete(done, e));
        chainMoved.run();
    }

    /**
     * This shard takes [begin, end), the keys of its right neighbour {@code other}, which gave
     * them all away at {@code fence} (resolve thread): the absorb takes a version of this shard's
     * chain like a batch. Completes with that version once its record is durable; asked again
     * once the log applied it, at once with -1.
     */
    void absorb(int other, long fence, byte[] begin, byte[] end, CompletableFuture<Long> done) {
        pipeline.catchUpTerm();
        TxkvException refused = pipeline.refusal();
        if (refused != null) {
            done.completeExceptionally(refused);
            return;
        }
        dev.txkv.spi.ShardMap.Shard o = ledger.owned();
        if (o != null && o.contains(begin) && (o.end() == null
                || (end != null && dev.txkv.ByteArrays.compareUnsigned(end, o.end()) <= 0))) {
            done.complete(-1L);
            return;
        }
        if (absorbAsked != null) {
            absorbAsked.whenComplete((v, e) -> {
                if (e == null) {
                    done.complete(v);
                } else {
                    done.completeExceptionally(e);
                }
            });
            return;
        }
        TxkvException apart = notAbsorbable(begin);
        if (apart != null) {
            done.completeExceptionally(apart);
            return;
        }
        CompletableFuture<Long> asked = new CompletableFuture<>();
        absorbAsked = asked;
        asked.whenComplete((v, e) -> pipeline.onResolveThread(() -> {
            if (absorbAsked == asked) {
                absorbAsked = null;
            }
        }));
        asked.whenComplete((v, e) -> {
            if (e == null) {
                done.complete(v);
            } else {
                done.completeExceptionally(e);
            }
        });
        requestOwnGrant(grant -> new AbsorbSlot(grant.version(), grant.epoch(), grant.previous()[0], env.nanoTime(), other,
                fence, begin, end, asked), asked::completeExceptionally);
    }

    /** Why this shard cannot absorb keys from {@code begin} on now, or null: they must begin where its keys end. */
    private TxkvException notAbsorbable(byte[] begin) {
        dev.txkv.spi.ShardMap.Shard o = ledger.owned();
        dev.txkv.spi.ShardMap.Shard r = resolveRange;
        if (o == null || r == null || o.end() == null || !java.util.Arrays.equals(o.end(), begin)
                || !java.util.Arrays.equals(r.end(), begin)) {
            return new TxkvException(ErrorCode.OPERATION_FAILED, "Shard " + self() + " (" + (r == null ? "no keys" : r)
                    + ") does not end at " + dev.txkv.ByteArrays.printable(begin) + "; it cannot absorb the keys from there");
        }
        return null;
    }

    /**
     * Takes an absorb in its turn: the resolver forgets every write below its version (it knows
     * none of the absorbed keys' history: older transactions are too old here), and the keys
     * are resolved here once the log applied the record (so a record that never lands never
     * lets this shard take writes it does not hold).
     */
    private void takeAbsorb(AbsorbSlot a) {
        TxkvException apart = notAbsorbable(a.begin);
        if (apart != null) {
            a.done.completeExceptionally(apart);
            return;
        }
        long v = a.version;
        ledger.taken(v);
        pipeline.resolver().forgetUpTo(v);
        absorbing = a;
        CompletableFuture<Void> durable = pipeline.appendRecord(
                CommittedBatch.absorb(v, env.currentTimeMillis(), a.other, a.begin, a.end, a.fence));
        durable.whenComplete((x, e) -> {
            if (e == null) {
                LOG.info("Shard {}: absorbs shard {} ({} to {}) at version {}", self(), a.other,
                        dev.txkv.ByteArrays.printable(a.begin), a.end == null ? "end" : dev.txkv.ByteArrays.printable(a.end), v);
                a.done.complete(v);
            } else {
                appendFailed(v, e);
                a.done.completeExceptionally(new TxkvException(ErrorCode.COMMIT_UNKNOWN_RESULT,
                        "The absorb's outcome is unknown: " + unwrap(e).getMessage() + "; ask again", e));
            }
        });
    }

    /**
     * The log changed the keys this shard holds (a split, a birth or an absorb applied; any
     * thread): the keys it resolves for become at most those, a birth this leader did not take
     * itself (an earlier term's) gives it its keys, and an absorb this leader took, once
     * applied, adds the absorbed keys.
     */
    void logRangeChanged() {
        pipeline.onResolveThread(() -> {
            dev.txkv.spi.ShardMap.Shard o = ledger.owned();
            dev.txkv.spi.ShardMap.Shard r = resolveRange;
            if (o == null) {
                return;
            }
            if (r == null) {
                resolveRange = o;
                return;
            }
            AbsorbSlot a = absorbing;
            if (a != null && r.end() != null && java.util.Arrays.equals(r.end(), a.begin) && o.contains(a.begin)
                    && (o.end() == null || (a.end != null && dev.txkv.ByteArrays.compareUnsigned(a.end, o.end()) <= 0))) {
                resolveRange = new dev.txkv.spi.ShardMap.Shard(self(), r.begin(), a.end);
                absorbing = null;
                return;
            }
            byte[] begin = dev.txkv.ByteArrays.compareUnsigned(r.begin(), o.begin()) >= 0 ? r.begin() : o.begin();
            byte[] end = r.end() == null ? o.end() : o.end() == null ? r.end()
                    : dev.txkv.ByteArrays.compareUnsigned(r.end(), o.end()) <= 0 ? r.end() : o.end();
            if (end == null || dev.txkv.ByteArrays.compareUnsigned(begin, end) < 0) {
                resolveRange = new dev.txkv.spi.ShardMap.Shard(self(), begin, end);
            }
        });
    }

    /** wrong_shard_server if a commit of this shard's own reaches beyond the keys it holds as it resolves. */
    TxkvException outsideOwned(CommitRequest request) {
        return outsideShard(request);
    }

    /** A coordinator's prepare (resolve thread). */
    void prepare(ShardNetwork.Prepare request, CompletableFuture<Void> vote) {
        TxkvException refused = pipeline.refusal();
        if (refused != null) {
            vote.completeExceptionally(refused);
            return;
        }
        parked.put(request.version(), new PrepareSlot(request, env.nanoTime(), vote));
    }

    private enum Admission { READY, WAIT, LATE, REFUSED }

    /** Takes every parked slot whose turn has come; returns whether any was. */
    boolean runParked() {
        boolean did = false;
        while (!parked.isEmpty()) {
            Slot s = parked.firstEntry().getValue();
            Admission a = admit(s);
            if (a == Admission.WAIT) {
                askAboutHole(s);
                break;
            }
            parked.remove(s.version);
            did = true;
            switch (a) {
                case READY -> take(s);
                case LATE -> late(s);
                default -> refuse(s, new TxkvException(ErrorCode.PROCESS_BEHIND,
                        "Version " + s.version + " belongs to an older sequencer epoch; retry"));
            }
        }
        return did;
    }

    private Admission admit(Slot s) {
        if (epoch < 0) {
            askEpoch();
            return Admission.WAIT;
        }
        if (s.epoch < epoch) {
            return Admission.REFUSED;
        }
        if (s.epoch > epoch) {
            adoptEpoch(s.epoch);
        }
        if (s.version <= chainHead) {
            return Admission.LATE;
        }
        return s.previous <= chainHead ? Admission.READY : Admission.WAIT;
    }

    private void askEpoch() {
        if (epochAsked) {
            return;
        }
        epochAsked = true;
        config.network().epoch().whenComplete((e, error) -> pipeline.onResolveThread(() -> {
            if (error != null) {
                epochAsked = false;
            } else if (e > epoch) {
                adoptEpoch(e);
            }
        }));
    }

    /**
     * Enters sequencer epoch {@code e} (resolve thread): slots of earlier epochs that have not
     * been taken here are refused from now on, so a read version of the new epoch never misses
     * one of them.
     */
    void adoptEpoch(long e) {
        if (e <= epoch) {
            return;
        }
        epoch = e;
        List<Slot> old = new ArrayList<>();
        for (Slot s : parked.values()) {
            if (s.epoch < e) {
                old.add(s);
            }
        }
        for (Slot s : old) {
            parked.remove(s.version);
            refuse(s, new TxkvException(ErrorCode.PROCESS_BEHIND, "The sequencer moved to a new epoch; retry"));
        }
        holeAskedFor = -1;
        chainMoved.run();
    }

    private void take(Slot s) {
        if (s instanceof OwnSlot own) {
            pipeline.resolveBatch(own.batch, s.version);
        } else if (s instanceof FenceSlot f) {
            takeFence(f);
        } else if (s instanceof AbsorbSlot a) {
            takeAbsorb(a);
        } else {
            takePrepare((PrepareSlot) s);
        }
        chainHead = Math.max(chainHead, s.version);
        rolledBack.headSet(chainHead, true).clear();
        chainMoved.run();
    }

    private void late(Slot s) {
        if (s instanceof PrepareSlot p) {
            CompletableFuture<Void> inFlight = preparing.get(s.version);
            if (inFlight != null) {
                inFlight.whenComplete((x, e) -> complete(p.vote, e));
                return;
            }
            if (ledger.prepared(s.version) != null) {
                p.vote.complete(null);
                return;
            }
        }
        refuse(s, new TxkvException(ErrorCode.PROCESS_BEHIND, "Version " + s.version + " came after this shard moved past it; retry"));
    }

    private void refuse(Slot s, TxkvException why) {
        if (s instanceof OwnSlot own) {
            failOwn(own.batch, why);
        } else if (s instanceof FenceSlot f) {
            f.done.completeExceptionally(why);
        } else if (s instanceof AbsorbSlot a) {
            a.done.completeExceptionally(why);
        } else {
            ((PrepareSlot) s).vote.completeExceptionally(why);
        }
    }

    /**
     * Resolves a slice at its version and, if it passes, makes it durable as prepared: the
     * yes vote. Its writes enter the resolver now, decided or not (a rollback leaves them as
     * possible false conflicts for the window).
     */
    private void takePrepare(PrepareSlot p) {
        CommitRequest slice = p.request.slice();
        long v = p.version;
        if (rolledBack.remove(v)) {
            p.vote.completeExceptionally(new TxkvException(ErrorCode.PROCESS_BEHIND,
                    "Version " + v + " was rolled back before this shard prepared it; retry"));
            return;
        }
        TxkvException wrong = outsideShard(slice);
        if (wrong != null) {
            p.vote.completeExceptionally(wrong);
            return;
        }
        TxkvException error = pipeline.resolve(slice, v);
        if (error != null) {
            p.vote.completeExceptionally(error);
            return;
        }
        if (slice.mutations().isEmpty() && slice.writeConflicts().isEmpty()) {
            // A read-only slice: its reads met every write below its version here (slots are
            // taken in chain order), and nothing of it needs applying, so its yes vote needs no
            // record. Should this leader fail, its successor finds the slot missing and learns
            // from the coordinator that it passed (docs/sharding.md, "Read-only participants").
            p.vote.complete(null);
            return;
        }
        for (Range w : slice.writeConflicts()) {
            pipeline.resolver().addWrite(w.begin, w.end, v);
        }
        CommittedBatch record = new CommittedBatch(CommittedBatch.Kind.PREPARED, v, env.currentTimeMillis(),
                List.of(new CommittedBatch.Transaction(0, null, slice.mutations())),
                new CommittedBatch.TwoPhase(p.request.coordinator(), p.request.participants(), false));
        ledger.taken(v);
        CompletableFuture<Void> durable = pipeline.appendRecord(record);
        preparing.put(v, durable);
        durable.whenComplete((x, e) -> {
            pipeline.onResolveThread(() -> preparing.remove(v));
            if (e != null) {
                appendFailed(v, e);
            }
            complete(p.vote, e);
            if (e == null) {
                crashPoints.reach(CrashPoints.Point.PARTICIPANT_AFTER_VOTE);
            }
        });
    }

    /** wrong_shard_server if the slice reaches beyond this shard's keys. */
    private TxkvException outsideShard(CommitRequest slice) {
        dev.txkv.spi.ShardMap.Shard shard = resolveRange;
        if (acceptAnyKeys && shard != null) {
            return null;
        }
        if (shard == null) {
            return wrongShard();
        }
        for (Mutation m : slice.mutations()) {
            // A point write lies in the shard exactly when its key does (no range to build).
            boolean point = m.type() != Mutation.CLEAR_RANGE
                    && m.type() != dev.txkv.MutationType.SET_VERSIONSTAMPED_KEY.code();
            if (point ? !shard.contains(m.key()) : !within(shard, dev.txkv.spi.ShardMap.writtenRange(m))) {
                return wrongShard();
            }
        }
        for (Range r : slice.readConflicts()) {
            if (!within(shard, r)) {
                return wrongShard();
            }
        }
        for (Range r : slice.writeConflicts()) {
            if (!within(shard, r)) {
                return wrongShard();
            }
        }
        return null;
    }

    static boolean within(dev.txkv.spi.ShardMap.Shard shard, Range r) {
        Range clipped = shard.clip(r.begin, r.end);
        return clipped != null && java.util.Arrays.equals(clipped.begin, r.begin) && java.util.Arrays.equals(clipped.end, r.end);
    }

    TxkvException wrongShard() {
        dev.txkv.spi.ShardMap.Shard held = resolveRange;
        return new TxkvException(ErrorCode.WRONG_SHARD_SERVER, (held == null ? "Shard " + self()
                + " holds no keys yet (made by a split, not yet born)" : "Keys outside " + held) + "; refresh the shard map");
    }

    private static void complete(CompletableFuture<Void> vote, Throwable error) {
        if (error == null) {
            vote.complete(null);
        } else {
            Throwable cause = unwrap(error);
            vote.completeExceptionally(cause instanceof TxkvException t && t.getError() != ErrorCode.COMMIT_UNKNOWN_RESULT ? t
                    : new TxkvException(ErrorCode.PROCESS_BEHIND, "The prepare's outcome is unknown: " + cause.getMessage()));
        }
    }

    // ------------------------------------------------------------------ holes and doubts

    /**
     * The first parked slot waits for its predecessor: after the hole wait, ask the
     * predecessor's coordinator for its outcome; rolled back (or presumed so) lets the chain
     * move past it.
     */
    private void askAboutHole(Slot s) {
        if (s.epoch == epoch) {
            askAbout(s.previous, s.parkedNanos);
        }
    }

    /**
     * A read waits for version {@code lastGrant} of {@code readEpoch}, the last the sequencer
     * granted here below its read version (resolve thread). If it does not come within the
     * hole wait, its coordinator is asked, as for a hole before a parked slot.
     */
    void awaitedByRead(long lastGrant, long readEpoch) {
        if (readEpoch == epoch && lastGrant > readWaitsFor) {
            readWaitsFor = lastGrant;
            readWaitingSince = env.nanoTime();
        }
    }

    /** Asks about a missing version a read waits for, unless a parked slot already waits for it. */
    private void askForReads() {
        long missing = readWaitsFor;
        if (missing > chainHead && !parked.containsKey(missing)) {
            askAbout(missing, readWaitingSince);
        }
    }

    /**
     * Version {@code missing}, granted here, has not come since {@code sinceNanos}: after the
     * hole wait, ask its coordinator for its outcome; rolled back (or presumed so) lets the
     * chain move past it, and it is refused should it come later.
     */
    private void askAbout(long missing, long sinceNanos) {
        if (epoch < 0 || missing <= chainHead || holeAskedFor == missing
                || env.nanoTime() - sinceNanos < TimeUnit.MILLISECONDS.toNanos(config.holeWaitMs())) {
            return;
        }
        holeAskedFor = missing;
        long asOfEpoch = epoch;
        config.network().coordinatorOf(missing)
                .thenCompose(c -> c < 0 ? CompletableFuture.completedFuture(ShardNetwork.Outcome.ABORT)
                        : c == self() ? CompletableFuture.completedFuture(ownOutcome(missing, sinceNanos))
                                : config.network().queryDecision(c, missing))
                .whenComplete((outcome, error) -> pipeline.onResolveThread(() -> {
                    if (holeAskedFor == missing) {
                        holeAskedFor = -1;
                    }
                    // Rolled back: it can never commit, and is refused should it come. Committed
                    // without a record here: this shard's part was read-only (a writing part is
                    // durable before its yes vote), taken by an earlier leader; nothing to apply.
                    if (error == null && outcome != ShardNetwork.Outcome.PENDING && epoch == asOfEpoch
                            && chainHead < missing && !parked.containsKey(missing)) {
                        LOG.debug("Shard {}: version {} is not in the log ({}); moving past it", self(), missing, outcome);
                        chainHead = missing;
                        chainMoved.run();
                    }
                }));
    }

    /**
     * This shard's own answer for a version it coordinates or was granted (resolve thread):
     * pending while it coordinates it, or while a grant for an own batch asked before
     * {@code grantedBefore} has not come back (it may be that version, granted and on its way);
     * else committed or abort ({@code Long.MIN_VALUE}: no own grant can be it). A grant asked
     * later than that cannot be the version: the
     * sequencer granted it before {@code grantedBefore}. Should an own batch's grant still come
     * with a version already answered abort, its slot comes too late and the batch is refused
     * (retryable).
     */
    ShardNetwork.Outcome ownOutcome(long version, long grantedBefore) {
        if (ledger.committed(version)) {
            return ShardNetwork.Outcome.COMMIT;
        }
        Long oldestAsked = grantsAsked.peekFirst();
        boolean mayBeOwn = grantedBefore != Long.MIN_VALUE && oldestAsked != null && oldestAsked - grantedBefore <= 0;
        if (coordinating.test(version) || mayBeOwn) {
            return ShardNetwork.Outcome.PENDING;
        }
        return ShardNetwork.Outcome.ABORT;
    }

    /** Periodic work (resolve thread): ask coordinators about slices undecided for too long. */
    void tick() {
        long now = env.nanoTime();
        if (now - lastTickNanos < TimeUnit.MILLISECONDS.toNanos(Math.max(1, config.holeWaitMs() / 2))) {
            return;
        }
        lastTickNanos = now;
        if (pipeline.refusal() != null) {
            return;
        }
        askForReads();
        coordinatorTick.run();
        for (CommittedBatch slice : ledger.inDoubt(TimeUnit.MILLISECONDS.toNanos(config.inDoubtMs()))) {
            long v = slice.version();
            if (!askingOutcome.add(v)) {
                continue;
            }
            int coordinator = slice.twoPhase().coordinator();
            CompletableFuture<ShardNetwork.Outcome> asked = coordinator == self()
                    // A prepared slice is never an own batch's: no own grant can be it.
                    ? CompletableFuture.completedFuture(ownOutcome(v, Long.MIN_VALUE))
                    : config.network().queryDecision(coordinator, v);
            asked.whenComplete((outcome, error) -> pipeline.onResolveThread(() -> {
                if (error != null || outcome == ShardNetwork.Outcome.PENDING || ledger.prepared(v) == null) {
                    askingOutcome.remove(v);
                    return;
                }
                note(v, outcome == ShardNetwork.Outcome.COMMIT).whenComplete((x, e) ->
                        pipeline.onResolveThread(() -> askingOutcome.remove(v)));
            }));
        }
    }

    /**
     * The coordinator's outcome for {@code version} (resolve thread): noted durably if this
     * shard prepared the slice; if its prepare is still being made durable, once it is; a
     * rollback that comes before the prepare was taken makes the prepare a no vote when its
     * turn comes, so the slice never waits for an outcome already known.
     */
    void decided(long version, boolean commit, CompletableFuture<Void> done) {
        if (ledger.prepared(version) != null) {
            note(version, commit).whenComplete((x, e) -> complete(done, e));
            return;
        }
        CompletableFuture<Void> inFlight = preparing.get(version);
        if (inFlight != null) {
            inFlight.whenComplete((x, e) -> pipeline.onResolveThread(() -> decided(version, commit, done)));
            return;
        }
        if (!commit && version > chainHead) {
            rolledBack.add(version);
            while (rolledBack.size() > 10_000) {
                rolledBack.pollFirst();
            }
        }
        done.complete(null);
    }

    /** Appends this shard's note of the outcome of {@code v} (resolve thread). */
    CompletableFuture<Void> note(long version, boolean commit) {
        CommittedBatch record = new CommittedBatch(CommittedBatch.Kind.DECIDED, version, env.currentTimeMillis(), List.of(),
                new CommittedBatch.TwoPhase(self(), new int[0], commit));
        return pipeline.appendRecord(record);
    }

    /** What the chain is doing, for a stuck simulation's report and for status. */
    String describe() {
        StringBuilder out = new StringBuilder("epoch ").append(epoch).append(", chain head ").append(chainHead);
        if (awaitingGrants > 0) {
            out.append(", ").append(awaitingGrants).append(" batches awaiting their grants");
        }
        for (Slot s : parked.values()) {
            out.append(", parked ").append(s instanceof OwnSlot ? "batch" : s instanceof FenceSlot ? "split"
                    : s instanceof AbsorbSlot ? "absorb" : "prepare").append(" v").append(s.version)
                    .append(" (epoch ").append(s.epoch).append(", after v").append(s.previous).append(")");
        }
        if (holeAskedFor >= 0) {
            out.append(", asking about v").append(holeAskedFor);
        }
        return out.toString();
    }

    // ------------------------------------------------------------------ for the pipeline

    void taken(long version) {
        ledger.taken(version);
    }

    /**
     * The append of slot {@code version}'s record failed with {@code error}: refused (never in
     * the log) or outcome unknown. An unknown one stays unresolved until this log applies a
     * newer record, so the pipeline appends an empty batch soon ({@link CommitPipeline#probeAgain}):
     * a leader that keeps its term (a hand-over that failed, say) would otherwise hold every
     * read at or above the slot back until some commit happened to come, and readers that
     * retry leave none to come.
     */
    void appendFailed(long version, Throwable error) {
        ledger.appendFailed(version, error);
        if (CommitLog.refusal(error) == null) {
            pipeline.probeAgain();
        }
    }

    /** The cause a completion stage wrapped. */
    static Throwable unwrap(Throwable e) {
        return dev.txkv.spi.Causes.unwrap(e);
    }
}
