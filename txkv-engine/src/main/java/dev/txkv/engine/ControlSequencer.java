package dev.txkv.engine;

import dev.txkv.ErrorCode;
import dev.txkv.Range;
import dev.txkv.TxkvException;
import dev.txkv.spi.CommitRequest;
import dev.txkv.spi.Environment;
import dev.txkv.spi.Mutation;
import dev.txkv.spi.ReadStamp;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The sequencer of a sharded cluster, run by the leader of its control group (a replicated
 * engine that is not a shard). Its state is two keys of the control group: the epoch and the
 * high-water mark, a version no sequencer hands out beyond.
 *
 * <p>Each time its member begins leading the control group, it starts a new epoch: it reads the
 * last epoch and high-water mark, makes epoch + 1 and a new high-water mark durable, and only
 * then hands out versions, all above the old mark (so above every version any earlier
 * sequencer handed out). While it serves, it raises the mark a lease ahead before versions reach
 * it. Read versions are handed out only after the control group confirmed this member still
 * leads, so a deposed sequencer never hands out a read version below a newer commit.
 */
public final class ControlSequencer {
    static final byte[] EPOCH_KEY = "\u00ff\u0002/sequencer/epoch".getBytes(StandardCharsets.ISO_8859_1);
    static final byte[] HIGH_WATER_KEY = "\u00ff\u0002/sequencer/high-water".getBytes(StandardCharsets.ISO_8859_1);

    private final Engine control;
    private final Environment env;
    private final long leaseVersions;
    private final Object lock = new Object();
    /** Guarded by lock: the sequencer of the current term, once its epoch is durable; else null. */
    private VersionSequencer current;
    private long currentTerm = -1;
    private CompletableFuture<VersionSequencer> starting;
    /** Guarded by lock: the raise of the mark in flight, or null. */
    private CompletableFuture<Void> renewal;

    /**
     * @param control the control group's engine on this member
     * @param leaseMs how far ahead of the versions handed out the durable high-water mark runs
     */
    public ControlSequencer(Engine control, Environment env, long leaseMs) {
        this.control = control;
        this.env = env;
        this.leaseVersions = VersionClock.msToVersions(leaseMs);
    }

    /** The sequencer of this term, started first if this member just began leading. */
    private CompletableFuture<VersionSequencer> sequencer() {
        if (!control.isLeading()) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.NOT_LEADER,
                    "This member does not lead the control group; the sequencer runs on its leader"));
        }
        long term = control.terms();
        synchronized (lock) {
            if (current != null && currentTerm == term) {
                return CompletableFuture.completedFuture(current);
            }
            if (starting == null || currentTerm != term) {
                current = null;
                currentTerm = term;
                starting = startEpoch(term);
            }
            return starting;
        }
    }

    /** Reads the last epoch and mark, makes the next epoch durable, and starts its sequencer above the mark. */
    private CompletableFuture<VersionSequencer> startEpoch(long term) {
        return control.getReadVersion().thenCompose(rv -> control.get(EPOCH_KEY, rv).thenCombine(
                control.get(HIGH_WATER_KEY, rv), (e, h) -> new long[] {rv, decode(e), decode(h)}))
                .thenCompose(state -> {
                    long epoch = state[1] + 1;
                    long floor = Math.max(state[2], state[0]);
                    long mark = Math.max(floor, new VersionClock(env, floor).now()) + leaseVersions;
                    return write(state[0], epoch, mark).thenApply(x -> {
                        VersionSequencer s = new VersionSequencer(env, epoch, floor);
                        s.ceiling(mark);
                        synchronized (lock) {
                            if (currentTerm == term) {
                                current = s;
                            }
                        }
                        return s;
                    });
                }).whenComplete((s, error) -> {
                    if (error != null) {
                        synchronized (lock) {
                            if (currentTerm == term) {
                                starting = null;
                            }
                        }
                    }
                });
    }

    private CompletableFuture<Void> write(long readVersion, long epoch, long mark) {
        List<Mutation> writes = List.of(new Mutation(Mutation.SET, EPOCH_KEY, encode(epoch)),
                new Mutation(Mutation.SET, HIGH_WATER_KEY, encode(mark)));
        List<Range> keys = List.of(new Range(EPOCH_KEY, dev.txkv.ByteArrays.keyAfter(EPOCH_KEY)),
                new Range(HIGH_WATER_KEY, dev.txkv.ByteArrays.keyAfter(HIGH_WATER_KEY)));
        return control.commit(new CommitRequest(readVersion, keys, keys, writes, null, false)).thenApply(r -> null);
    }

    /**
     * Raises the durable mark a lease ahead once versions have used half of it. Returns what a
     * caller must wait for before handing out a version: nothing while the clock is below the
     * mark, else the raise.
     */
    private CompletableFuture<Void> renewIfDue(VersionSequencer s, long term) {
        long mark;
        CompletableFuture<Void> raised;
        synchronized (lock) {
            long reached = Math.max(s.highWater(), s.now());
            boolean past = reached >= s.ceilingVersion();
            if (renewal != null) {
                return past ? renewal : CompletableFuture.completedFuture(null);
            }
            if (reached < s.ceilingVersion() - leaseVersions / 2) {
                return CompletableFuture.completedFuture(null);
            }
            mark = Math.max(s.ceilingVersion(), reached) + leaseVersions;
            raised = new CompletableFuture<>();
            renewal = raised;
        }
        control.getReadVersion().thenCompose(rv -> write(rv, s.epoch(), mark)).whenComplete((x, error) -> {
            synchronized (lock) {
                renewal = null;
                if (error == null && currentTerm == term && current == s) {
                    s.ceiling(mark);
                }
            }
            if (error != null) {
                raised.completeExceptionally(error);
            } else {
                raised.complete(null);
            }
        });
        synchronized (lock) {
            long reached = Math.max(s.highWater(), s.now());
            return reached >= s.ceilingVersion() ? raised : CompletableFuture.completedFuture(null);
        }
    }

    /** A commit version for {@code participants}, coordinated by shard {@code coordinator}. */
    public CompletableFuture<VersionSequencer.Grant> grant(int coordinator, int[] participants) {
        long term = control.terms();
        return sequencer().thenCompose(s -> renewIfDue(s, term).thenApply(x -> s.grant(coordinator, participants)));
    }

    /** A read version with its stamp, once this member confirmed it still leads the control group. */
    public CompletableFuture<ReadStamp> readVersion() {
        long term = control.terms();
        return sequencer().thenCompose(s -> control.getReadVersion().thenApply(confirmed -> {
            if (control.terms() != term || !control.isLeading()) {
                throw new TxkvException(ErrorCode.NOT_LEADER, "The control group's leader changed; retry");
            }
            return s;
        }).thenCompose(confirmed -> renewIfDue(confirmed, term).thenApply(x -> confirmed.readVersion())));
    }

    /** The current epoch. */
    public CompletableFuture<Long> epoch() {
        return sequencer().thenApply(VersionSequencer::epoch);
    }

    /** Which shard coordinates {@code version}, or -1 if this epoch's sequencer does not know. */
    public CompletableFuture<Integer> coordinatorOf(long version) {
        return sequencer().thenApply(s -> s.coordinatorOf(version));
    }

    private static byte[] encode(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    private static long decode(byte[] v) {
        if (v == null) {
            return 0;
        }
        if (v.length != 8) {
            throw new TxkvException(ErrorCode.DATA_DIRECTORY_INVALID, "Corrupt sequencer record of " + v.length + " bytes");
        }
        return ByteBuffer.wrap(v).getLong();
    }

}
