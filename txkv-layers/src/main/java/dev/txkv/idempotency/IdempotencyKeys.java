package dev.txkv.idempotency;

import dev.txkv.Database;
import dev.txkv.ReadTransaction;
import dev.txkv.Transaction;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Remembers which requests or messages were processed, together with the response given, in
 * the same transaction as their effect; a retried request gets the first response back
 * without the effect happening again. Entries expire after a time-to-live. Thread-safe.
 *
 * <h2>Implementation notes</h2>
 *
 * Key layout under subspace {@code I}, with {@code bucket = recordedAtMs / bucketWidthMs}:
 *
 * <pre>
 * I + (bucket, id) → (response, recordedAtMs)
 * </pre>
 *
 * Bucket {@code b} holds entries recorded in {@code [b·width, (b+1)·width)}; all of them have
 * expired once {@code now - ttl >= (b+1)·width}, so the live buckets are those from
 * {@code floor((now - ttl) / width)} on.
 *
 * <ul>
 *   <li><b>Expiry is a range clear.</b> Entries sort by bucket first, so every bucket older
 *       than the time-to-live is the single range {@code [I + (), I + (oldestLiveBucket))}. An
 *       entry is honoured for exactly {@code ttl} (its stored time is checked on lookup) and
 *       occupies space for at most {@code ttl + bucketWidth} plus the gap until the next
 *       {@link #expire}.</li>
 *   <li><b>Lookup</b> reads the id's key in every live bucket and the next one (a writer whose
 *       clock is up to one bucket ahead), in parallel. These reads carry conflict ranges, so
 *       of two concurrent first attempts with the same id, at most one commits: the other
 *       conflicts, retries, and finds the stored response.</li>
 *   <li><b>Exactly-once effects in txkv</b> follow from the effect, the record and the check
 *       committing in one transaction. Effects outside txkv cannot be undone by an abort; pass
 *       the id on to that system instead.</li>
 * </ul>
 *
 * Times come from the given clock; clients' clocks should be in sync to within a bucket width.
 */
public final class IdempotencyKeys {
    /** Longest request id, in UTF-8 bytes. */
    public static final int ID_BYTES_MAX = 256;
    /** Largest stored response, in bytes. */
    public static final int RESPONSE_BYTES_MAX = 64 * 1024;
    /** Most buckets one time-to-live may span; a lookup reads one key per live bucket. */
    public static final int LIVE_BUCKETS_MAX = 128;

    /** The outcome of {@link #execute}. {@code response} is the stored array; do not modify it. */
    public record Result(byte[] response, boolean replayed) {
    }

    private final Subspace root;
    private final Clock clock;
    private final long ttlMs;
    private final long bucketWidthMs;

    /**
     * Keys under {@code root} remembered for {@code ttl}, grouped in buckets of
     * {@code bucketWidth} (at most {@link #LIVE_BUCKETS_MAX} buckets per ttl).
     */
    public IdempotencyKeys(Subspace root, Clock clock, Duration ttl, Duration bucketWidth) {
        this.root = Objects.requireNonNull(root, "root");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.ttlMs = ttl.toMillis();
        this.bucketWidthMs = bucketWidth.toMillis();
        if (ttlMs < 1 || bucketWidthMs < 1) {
            throw new IllegalArgumentException("ttl and bucket width must be at least 1 ms");
        }
        if (liveBuckets() > LIVE_BUCKETS_MAX) {
            throw new IllegalArgumentException("ttl spans more than " + LIVE_BUCKETS_MAX + " buckets; widen them");
        }
    }

    /** The stored response for {@code id} if it was recorded within the time-to-live. */
    public CompletableFuture<Optional<byte[]>> lookup(ReadTransaction tr, String id) {
        checkId(id);
        long now = clock.millis();
        long current = Math.floorDiv(now, bucketWidthMs);
        List<CompletableFuture<byte[]>> reads = new ArrayList<>();
        for (long bucket = firstLiveBucket(now); bucket <= current + 1; bucket++) {
            reads.add(tr.get(root.pack(Tuple.from(bucket, id))));
        }
        return CompletableFuture.allOf(reads.toArray(new CompletableFuture<?>[0])).thenApply(ignored -> {
            for (CompletableFuture<byte[]> read : reads) {
                byte[] raw = read.join();
                if (raw != null) {
                    Tuple entry = Tuple.fromBytes(raw);
                    if (entry.getLong(1) + ttlMs > now) {
                        return Optional.of(entry.getBytes(0));
                    }
                }
            }
            return Optional.empty();
        });
    }

    /** Records in {@code tr} that {@code id} was processed with {@code response} (empty for none). */
    public void record(Transaction tr, String id, byte[] response) {
        checkId(id);
        byte[] stored = response == null ? new byte[0] : response;
        if (stored.length > RESPONSE_BYTES_MAX) {
            throw new IllegalArgumentException("response of " + stored.length + " bytes exceeds " + RESPONSE_BYTES_MAX);
        }
        long now = clock.millis();
        tr.set(root.pack(Tuple.from(Math.floorDiv(now, bucketWidthMs), id)), Tuple.from(stored, now).pack());
    }

    /**
     * Runs {@code effect} and records its response under {@code id} in one transaction, unless
     * {@code id} was already processed: then returns the stored response and runs nothing.
     * {@code effect} may run more than once if the transaction retries; its writes commit once.
     */
    public Result execute(Transaction tr, String id, Function<? super Transaction, byte[]> effect) {
        Optional<byte[]> earlier = lookup(tr, id).join();
        if (earlier.isPresent()) {
            return new Result(earlier.get(), true);
        }
        byte[] response = effect.apply(tr);
        record(tr, id, response);
        return new Result(response == null ? new byte[0] : response, false);
    }

    /** As {@link #execute(Transaction, String, Function)} in a retry loop of its own. */
    public Result execute(Database db, String id, Function<? super Transaction, byte[]> effect) {
        return db.run(tr -> execute(tr, id, effect));
    }

    /** Clears every bucket whose entries have all outlived the time-to-live: one range clear. */
    public void expire(Database db) {
        long oldestLive = firstLiveBucket(clock.millis());
        db.run(tr -> {
            tr.clear(root.range().begin, root.pack(Tuple.from(oldestLive)));
            return null;
        });
    }

    /** The oldest bucket that may hold an entry recorded less than ttl ago. */
    private long firstLiveBucket(long nowMs) {
        return Math.floorDiv(nowMs - ttlMs, bucketWidthMs);
    }

    /** Buckets a lookup reads: the live ones, the current one and the next. */
    private long liveBuckets() {
        return (ttlMs + bucketWidthMs - 1) / bucketWidthMs + 2;
    }

    private static void checkId(String id) {
        Objects.requireNonNull(id, "id");
        if (id.getBytes(StandardCharsets.UTF_8).length > ID_BYTES_MAX) {
            throw new IllegalArgumentException("id exceeds " + ID_BYTES_MAX + " bytes");
        }
    }
}
