package dev.txkv.directory;

import dev.txkv.ByteArrays;
import dev.txkv.KeyValue;
import dev.txkv.MutationType;
import dev.txkv.Transaction;
import dev.txkv.subspace.Subspace;
import dev.txkv.tuple.Tuple;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * Allocates short, never-reused key prefixes for directories, with the algorithm and key
 * layout of FoundationDB's directory layer, so that either implementation can allocate in a
 * database the other has used.
 *
 * <p>Implementation notes. Prefixes are the packed tuples {@code (n)} for integers n. The
 * integers are handed out from a <em>window</em> {@code [start, start + size)}: a counter
 * {@code counters[start]} (an atomic little-endian ADD, read with a snapshot read so that
 * concurrent allocators do not conflict on it) tracks how many allocations tried the window,
 * and when it reaches half the size the window moves on and the old counters and markers are
 * cleared. Within the window a candidate is picked at random and claimed by writing
 * {@code recent[candidate]}; the claim reads that key with a normal (conflict-checked) read, so
 * two transactions that pick the same candidate cannot both commit. A snapshot read of the
 * newest counter detects a window that moved while choosing, in which case the search starts
 * over. The window grows (64, 1024, 8192) with the number of allocations so that prefixes stay
 * short while there are few directories and contention stays low when there are many.
 *
 * <pre>
 * key                                     value
 * subspace + (0, start)                   allocations tried in window start, 8 bytes little-endian
 * subspace + (1, candidate)               empty: candidate has been handed out
 * </pre>
 *
 * <p>Two differences from FoundationDB's client, because txkv has no "next write without a
 * write conflict range" option: the marker is written only once a candidate is known to be
 * free (FoundationDB writes it before, without a conflict range, and adds the conflict key
 * afterwards), and clearing the markers of an old window adds a write conflict range. Both
 * leave the stored keys identical; the second can cause an extra retry when a window moves.
 * Allocations issued concurrently within one transaction are run one after another so that
 * each sees the markers written by the previous one.
 */
public final class HighContentionAllocator {
    private static final byte[] LITTLE_ENDIAN_ONE = {1, 0, 0, 0, 0, 0, 0, 0};
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
    // Keyed by identity: a transaction is one object for its whole life, whatever its equals says.
    private static final Map<Transaction, CompletableFuture<Void>> ALLOCATIONS_IN_FLIGHT = new IdentityHashMap<>();

    private final Subspace counters;
    private final Subspace recent;
    private final Random random;

    /** An allocator keeping its state in {@code subspace} (the directory layer uses {@code rootNode + ("hca")}). */
    public HighContentionAllocator(Subspace subspace) {
        this(subspace, new Random());
    }

    /** As above with a given source of randomness, so that a test can replay its choices. */
    public HighContentionAllocator(Subspace subspace, Random random) {
        this.counters = subspace.get(0L);
        this.recent = subspace.get(1L);
        this.random = Objects.requireNonNull(random, "random");
    }

    /**
     * Completes with a packed tuple {@code (n)} that no other committed call of this method on
     * the same subspace has returned or will return, provided that {@code tr} commits.
     */
    public CompletableFuture<byte[]> allocate(Transaction tr) {
        Objects.requireNonNull(tr, "tr");
        synchronized (ALLOCATIONS_IN_FLIGHT) {
            CompletableFuture<Void> previous = ALLOCATIONS_IN_FLIGHT.getOrDefault(tr, DONE);
            CompletableFuture<byte[]> result = previous.thenCompose(v -> new Search(tr).run());
            CompletableFuture<Void> tail = result.handle((prefix, error) -> null);
            ALLOCATIONS_IN_FLIGHT.put(tr, tail);
            tail.whenComplete((v, error) -> {
                synchronized (ALLOCATIONS_IN_FLIGHT) {
                    ALLOCATIONS_IN_FLIGHT.remove(tr, tail);
                }
            });
            return result;
        }
    }

    /** The window size for a window starting at {@code start}, as FoundationDB's. */
    static int windowSize(long start) {
        if (start < 255) {
            return 64;
        }
        if (start < 65535) {
            return 1024;
        }
        return 8192;
    }

    /** One allocation: find the current window, then claim a free candidate in it. */
    private final class Search {
        private final Transaction tr;
        private long windowStart;
        private int windowSize;
        private byte[] allocated;

        Search(Transaction tr) {
            this.tr = tr;
        }

        CompletableFuture<byte[]> run() {
            return AsyncLoops.whileTrue(() -> latestWindowStart()
                    .thenCompose(latest -> {
                        windowStart = latest;
                        return chooseWindow();
                    })
                    .thenCompose(v -> choosePrefix()))
                    .thenApply(v -> allocated);
        }

        private CompletableFuture<Long> latestWindowStart() {
            return tr.snapshot().getRange(counters.range(), 1, true).asList().thenApply(this::windowStartOf);
        }

        private long windowStartOf(List<KeyValue> lastCounter) {
            return lastCounter.isEmpty() ? 0 : counters.unpack(lastCounter.get(0).getKey()).getLong(0);
        }

        /** Counts this allocation against a window, moving to the next while the current is half used. */
        private CompletableFuture<Void> chooseWindow() {
            long initialStart = windowStart;
            return AsyncLoops.whileTrue(() -> {
                byte[] counterKey = counters.pack(windowStart);
                if (windowStart > initialStart) {
                    tr.clear(counters.getKey(), counterKey);
                    tr.clear(recent.getKey(), recent.pack(windowStart));
                }
                tr.mutate(MutationType.ADD, counterKey, LITTLE_ENDIAN_ONE);
                return tr.snapshot().get(counterKey).thenApply(countBytes -> {
                    long count = countBytes == null ? 0 : littleEndian(countBytes);
                    windowSize = windowSize(windowStart);
                    if (count * 2 < windowSize) {
                        return false;
                    }
                    windowStart += windowSize;
                    return true;
                });
            });
        }

        /** Completes with true when the window moved underneath and the search must start over. */
        private CompletableFuture<Boolean> choosePrefix() {
            boolean[] restart = {false};
            return AsyncLoops.whileTrue(() -> {
                long candidate = windowStart + random.nextInt(windowSize);
                byte[] markerKey = recent.pack(candidate);
                CompletableFuture<Long> latest = latestWindowStart();
                CompletableFuture<byte[]> marker = tr.get(markerKey);
                return latest.thenCombine(marker, (latestStart, markerValue) -> {
                    if (latestStart > windowStart) {
                        restart[0] = true;
                        return false;
                    }
                    if (markerValue != null) {
                        return true;
                    }
                    tr.set(markerKey, ByteArrays.EMPTY);
                    tr.addWriteConflictKey(markerKey);
                    allocated = Tuple.from(candidate).pack();
                    return false;
                });
            }).thenApply(v -> restart[0]);
        }
    }

    private static long littleEndian(byte[] bytes) {
        long v = 0;
        for (int i = Math.min(bytes.length, Long.BYTES) - 1; i >= 0; i--) {
            v = (v << 8) | (bytes[i] & 0xFF);
        }
        return v;
    }
}
