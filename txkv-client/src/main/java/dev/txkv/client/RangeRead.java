package dev.txkv.client;

import dev.txkv.AsyncIterable;
import dev.txkv.AsyncIterator;
import dev.txkv.ByteArrays;
import dev.txkv.KeyValue;
import dev.txkv.StreamingMode;
import dev.txkv.spi.RangeChunk;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;

/**
 * A range read over the transaction's view: rows from the database at the read version
 * merged with the transaction's own writes, fetched in batches whose size the streaming mode
 * sets.
 *
 * <p>Implementation notes. Each database batch "covers" an interval of keys: up to the last
 * row it returned when it stopped at a limit, or to the end of the range otherwise. Within a
 * covered interval the merge is exact, because the batch holds every stored row there; the
 * transaction's own entries beyond it wait for the next batch. A non-snapshot read adds a
 * read conflict range for exactly the interval whose rows were handed out, so a limit
 * narrows the conflict as in FoundationDB.
 */
final class RangeRead implements AsyncIterable<KeyValue> {
    private static final int ROWS_SMALL = 64;
    private static final int ROWS_MEDIUM = 512;
    private static final int ROWS_LARGE = 4_096;
    private static final int ROWS_MAX = 10_000;
    private static final long BATCH_BYTES_MAX = 1 << 20;

    private final ClientTransaction tr;
    private final byte[] begin;
    private final byte[] end;
    private final int limit;
    private final boolean reverse;
    private final StreamingMode mode;
    private final boolean snapshot;

    RangeRead(ClientTransaction tr, byte[] begin, byte[] end, int limit, boolean reverse, StreamingMode mode,
            boolean snapshot) {
        this.tr = tr;
        this.begin = begin;
        this.end = end;
        this.limit = limit;
        this.reverse = reverse;
        this.mode = mode;
        this.snapshot = snapshot;
    }

    @Override
    public AsyncIterator<KeyValue> iterator() {
        return new Cursor(mode);
    }

    @Override
    public CompletableFuture<List<KeyValue>> asList() {
        Cursor c = new Cursor(mode == StreamingMode.EXACT ? StreamingMode.EXACT : StreamingMode.WANT_ALL);
        List<KeyValue> out = new ArrayList<>();
        return c.drainInto(out).thenApply(v -> out);
    }

    /** One pass over the range; not thread-safe, as iterators are not. */
    private final class Cursor implements AsyncIterator<KeyValue> {
        private final StreamingMode cursorMode;
        private final ArrayDeque<KeyValue> buffer = new ArrayDeque<>();
        /** The part of the range not yet handed out: [lo, hi). */
        private byte[] lo = begin;
        private byte[] hi = end;
        private int returned;
        private int iteration;
        private boolean exhausted;
        private boolean cancelled;

        Cursor(StreamingMode cursorMode) {
            this.cursorMode = cursorMode;
            if (Arrays.compareUnsigned(begin, end) >= 0 || limit < 0) {
                exhausted = true;
            }
        }

        CompletableFuture<Void> drainInto(List<KeyValue> out) {
            return onHasNext().thenCompose(has -> {
                if (!has) {
                    return CompletableFuture.completedFuture(null);
                }
                while (!buffer.isEmpty()) {
                    out.add(buffer.poll());
                }
                return drainInto(out);
            });
        }

        @Override
        public CompletableFuture<Boolean> onHasNext() {
            if (!buffer.isEmpty()) {
                return CompletableFuture.completedFuture(true);
            }
            if (exhausted || cancelled) {
                return CompletableFuture.completedFuture(false);
            }
            return fetch().thenCompose(v -> onHasNext());
        }

        @Override
        public boolean hasNext() {
            return Futures.join(onHasNext());
        }

        @Override
        public KeyValue next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return buffer.poll();
        }

        @Override
        public void cancel() {
            cancelled = true;
            buffer.clear();
        }

        private int rowsWanted() {
            int remaining = limit == 0 ? Integer.MAX_VALUE : limit - returned;
            int batch;
            switch (cursorMode) {
                case EXACT:
                case WANT_ALL:
                case SERIAL:
                    batch = ROWS_MAX;
                    break;
                case SMALL:
                    batch = ROWS_SMALL;
                    break;
                case MEDIUM:
                    batch = ROWS_MEDIUM;
                    break;
                case LARGE:
                    batch = ROWS_LARGE;
                    break;
                default:
                    batch = Math.min(ROWS_LARGE, ROWS_SMALL << Math.min(iteration, 6));
            }
            return Math.min(remaining, batch);
        }

        /** Fetches one database batch and merges it; may hand out no rows (all cleared locally). */
        private CompletableFuture<Void> fetch() {
            int want = rowsWanted();
            iteration++;
            byte[] fetchLo = lo;
            byte[] fetchHi = hi;
            return tr.readRangeChunk(fetchLo, fetchHi, want, BATCH_BYTES_MAX, reverse)
                    .thenAccept(chunk -> merge(chunk, fetchLo, fetchHi, want));
        }

        private void merge(RangeChunk chunk, byte[] fetchLo, byte[] fetchHi, int want) {
            List<KeyValue> rows = chunk.rows();
            byte[] coveredLo = fetchLo;
            byte[] coveredHi = fetchHi;
            if (chunk.more() && !rows.isEmpty()) {
                byte[] last = rows.get(rows.size() - 1).getKey();
                if (reverse) {
                    coveredLo = last;
                } else {
                    coveredHi = ByteArrays.keyAfter(last);
                }
            }
            List<KeyValue> merged = tr.mergeWithWrites(rows, coveredLo, coveredHi, reverse);
            boolean stoppedEarly = false;
            if (merged.size() > want) {
                merged = merged.subList(0, want);
                stoppedEarly = true;
            }
            boolean limitReached = limit != 0 && returned + merged.size() >= limit;
            if ((stoppedEarly || limitReached) && !merged.isEmpty()) {
                byte[] lastKey = merged.get(merged.size() - 1).getKey();
                if (reverse) {
                    coveredLo = lastKey;
                } else {
                    coveredHi = ByteArrays.keyAfter(lastKey);
                }
            }
            if (!snapshot) {
                tr.addReadConflictInternal(coveredLo, coveredHi);
            }
            buffer.addAll(merged);
            returned += merged.size();
            if (reverse) {
                hi = coveredLo;
            } else {
                lo = coveredHi;
            }
            if (limitReached || Arrays.compareUnsigned(lo, hi) >= 0 || (!chunk.more() && !stoppedEarly)) {
                exhausted = true;
            }
        }
    }
}
