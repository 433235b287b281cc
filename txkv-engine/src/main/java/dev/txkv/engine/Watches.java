package dev.txkv.engine;

import dev.txkv.ErrorCode;
import dev.txkv.TxkvException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Outstanding watches: each waits for a committed change of one key away from the value the
 * key had when the watch was set. Bounded by the configured maximum (too_many_watches).
 * Watches are a wake-up hint, as in FoundationDB: a change and change-back between two
 * batches may be seen as no change.
 */
final class Watches {
    private static final class Watch {
        final byte[] baseline;
        final CompletableFuture<Void> future;

        Watch(byte[] baseline, CompletableFuture<Void> future) {
            this.baseline = baseline;
            this.future = future;
        }
    }

    private final TreeMap<byte[], List<Watch>> byKey = new TreeMap<>(Arrays::compareUnsigned);
    private final int max;
    private final Executor completions;
    private int count;

    Watches(int max, Executor completions) {
        this.max = max;
        this.completions = completions;
    }

    /** Adds a watch; {@code current} is the key's latest value, checked under the same lock as changes. */
    synchronized CompletableFuture<Void> add(byte[] key, byte[] baseline, byte[] current) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        if (!Arrays.equals(baseline, current)) {
            f.complete(null);
            return f;
        }
        if (count >= max) {
            return CompletableFuture.failedFuture(new TxkvException(ErrorCode.TOO_MANY_WATCHES,
                    "Watch limit of " + max + " reached"));
        }
        Watch w = new Watch(baseline, f);
        byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(w);
        count++;
        f.whenComplete((v, e) -> {
            if (f.isCancelled()) {
                remove(key, w);
            }
        });
        return f;
    }

    private synchronized void remove(byte[] key, Watch w) {
        List<Watch> list = byKey.get(key);
        if (list != null && list.remove(w)) {
            count--;
            if (list.isEmpty()) {
                byKey.remove(key);
            }
        }
    }

    synchronized int count() {
        return count;
    }

    /** Fires watches whose keys a batch changed: point changes, then keys inside cleared ranges. */
    void onBatch(Map<byte[], byte[]> pointChanges, List<byte[]> clearedRanges) {
        List<CompletableFuture<Void>> fired = new ArrayList<>();
        synchronized (this) {
            if (count == 0) {
                return;
            }
            for (int i = 0; i < clearedRanges.size(); i += 2) {
                for (Map.Entry<byte[], List<Watch>> e
                        : byKey.subMap(clearedRanges.get(i), true, clearedRanges.get(i + 1), false).entrySet()) {
                    if (!pointChanges.containsKey(e.getKey())) {
                        fire(e.getValue(), null, fired);
                    }
                }
            }
            if (byKey.size() < pointChanges.size()) {
                for (Map.Entry<byte[], List<Watch>> e : byKey.entrySet()) {
                    if (pointChanges.containsKey(e.getKey())) {
                        fire(e.getValue(), pointChanges.get(e.getKey()), fired);
                    }
                }
            } else {
                for (Map.Entry<byte[], byte[]> c : pointChanges.entrySet()) {
                    List<Watch> list = byKey.get(c.getKey());
                    if (list != null) {
                        fire(list, c.getValue(), fired);
                    }
                }
            }
            byKey.values().removeIf(List::isEmpty);
        }
        if (!fired.isEmpty()) {
            completions.execute(() -> fired.forEach(f -> f.complete(null)));
        }
    }

    private void fire(List<Watch> list, byte[] newValue, List<CompletableFuture<Void>> fired) {
        Iterator<Watch> it = list.iterator();
        while (it.hasNext()) {
            Watch w = it.next();
            if (!Arrays.equals(w.baseline, newValue)) {
                it.remove();
                count--;
                fired.add(w.future);
            }
        }
    }

    /**
     * Fires the watches of [begin, end) ({@code end} null: to the end of the keyspace): their
     * keys moved to another shard by a split, where they may change unseen here.
     */
    void fireRange(byte[] begin, byte[] end) {
        List<CompletableFuture<Void>> fired = new ArrayList<>();
        synchronized (this) {
            java.util.SortedMap<byte[], List<Watch>> moved = end == null ? byKey.tailMap(begin) : byKey.subMap(begin, end);
            for (List<Watch> list : moved.values()) {
                for (Watch w : list) {
                    fired.add(w.future);
                    count--;
                }
            }
            moved.clear();
        }
        if (!fired.isEmpty()) {
            completions.execute(() -> fired.forEach(f -> f.complete(null)));
        }
    }

    /** Fires every watch: after storage was replaced wholesale, any key may have changed. */
    void fireAll() {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        synchronized (this) {
            byKey.values().forEach(list -> list.forEach(w -> all.add(w.future)));
            byKey.clear();
            count = 0;
        }
        if (!all.isEmpty()) {
            completions.execute(() -> all.forEach(f -> f.complete(null)));
        }
    }

    /** Fails every watch, for shutdown. */
    void failAll(TxkvException error) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        synchronized (this) {
            byKey.values().forEach(list -> list.forEach(w -> all.add(w.future)));
            byKey.clear();
            count = 0;
        }
        all.forEach(f -> f.completeExceptionally(error));
    }
}
