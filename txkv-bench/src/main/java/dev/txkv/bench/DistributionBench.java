package dev.txkv.bench;

import dev.txkv.Database;
import dev.txkv.Transaction;
import dev.txkv.Txkv;
import dev.txkv.TxkvException;
import dev.txkv.spi.RemoteAdminProvider;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code txkv bench distribution}: what a shard's move (or split) costs the clients of a sharded
 * cluster. It fills one shard with {@code --fill-mib} MiB (keys that start with the byte
 * {@code --first-byte}), runs one-key writers into the same keys, and measures their commits per
 * 250 ms before, during and after a {@code txkv move} of the shard (or a {@code txkv split}),
 * with every error the writers meet (their own loop: nothing is retried out of sight).
 */
@Command(name = "distribution", mixinStandardHelpOptions = true,
        description = {"Fills a shard of a running sharded cluster, runs writers into it, then moves the shard's"
                + " replicas (--to) or splits it (--split) and reports the time it took, the writers' throughput"
                + " before, during and after, and the errors they met."})
public final class DistributionBench implements Callable<Integer> {
    @Option(names = "--cluster", required = true, description = "The sharded cluster: host:port[,...].")
    String cluster;

    @Option(names = "--shard", defaultValue = "0", description = "The shard that holds the keys (default ${DEFAULT-VALUE}).")
    int shard;

    @Option(names = "--to", split = ",", description = "Move the shard to these members (ids, comma-separated).")
    List<String> to;

    @Option(names = "--split", description = "Split the shard instead, at the fill key with this index (e.g. 30000).")
    Long splitAt;

    @Option(names = "--first-byte", defaultValue = "16", description = "The first byte of every key (default ${DEFAULT-VALUE},"
            + " in shard 0 of an even split).")
    int firstByte;

    @Option(names = "--fill-mib", defaultValue = "64", description = "MiB of 1 KiB values written first (default ${DEFAULT-VALUE}; 0: none).")
    int fillMib;

    @Option(names = "--threads", defaultValue = "16", description = "Writers (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--warmup", defaultValue = "10", description = "Seconds of writes before measuring (default ${DEFAULT-VALUE}).")
    int warmupSeconds;

    @Option(names = "--before", defaultValue = "10", description = "Seconds measured before the move (default ${DEFAULT-VALUE}).")
    int beforeSeconds;

    @Option(names = "--after", defaultValue = "10", description = "Seconds measured after the move (default ${DEFAULT-VALUE}).")
    int afterSeconds;

    @Option(names = "--timeout", defaultValue = "300", description = "Longest wait for the move or split, in seconds (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    private static final long BUCKET_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final int FILL_VALUE_BYTES = 1024;
    private static final int WRITE_VALUE_BYTES = 100;
    private static final int FILL_KEYS_PER_TRANSACTION = 256;

    private long fillKeys() {
        return (long) fillMib * 1024 * 1024 / FILL_VALUE_BYTES;
    }

    private byte[] key(long i) {
        return String.format(Locale.ROOT, "%cmove/%010d", (char) firstByte, i).getBytes(StandardCharsets.ISO_8859_1);
    }

    @Override
    public Integer call() throws Exception {
        if ((to == null) == (splitAt == null)) {
            System.err.println("Give either --to MEMBERS (a move) or --split INDEX (a split)");
            return 2;
        }
        if (firstByte < 0 || firstByte > 0xFE || threads < 1 || fillMib < 0) {
            System.err.println("--first-byte must be 0 to 254, --threads at least 1, --fill-mib not negative");
            return 2;
        }
        RemoteAdminProvider admin = ServiceLoader.load(RemoteAdminProvider.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("No remote client on the class path"));
        try (Database db = Txkv.open(cluster)) {
            fill(db);
            long keys = Math.max(1000, fillKeys());
            AtomicBoolean stop = new AtomicBoolean();
            int buckets = (int) ((warmupSeconds + beforeSeconds + afterSeconds + timeoutSeconds + 10) * 4L);
            AtomicLongArray commits = new AtomicLongArray(buckets);
            Map<String, AtomicLong> errors = new ConcurrentHashMap<>();
            List<long[]> errorTimes = java.util.Collections.synchronizedList(new ArrayList<>());
            long start = System.nanoTime();
            List<Thread> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread w = new Thread(() -> write(db, keys, stop, start, commits, errors, errorTimes), "writer-" + t);
                w.setDaemon(true);
                w.start();
                writers.add(w);
            }
            Thread.sleep(TimeUnit.SECONDS.toMillis(warmupSeconds + beforeSeconds));
            long changeStart = System.nanoTime();
            String what;
            if (to != null) {
                what = "move of shard " + shard + " to " + String.join(",", to);
                admin.move(cluster, shard, to, "txkv bench distribution", Duration.ofSeconds(timeoutSeconds));
            } else {
                what = "split of shard " + shard + " at " + new String(key(splitAt), StandardCharsets.ISO_8859_1);
                admin.split(cluster, key(splitAt), Duration.ofSeconds(timeoutSeconds));
            }
            long changeEnd = System.nanoTime();
            Thread.sleep(TimeUnit.SECONDS.toMillis(afterSeconds));
            long end = System.nanoTime();
            stop.set(true);
            for (Thread w : writers) {
                w.join(10_000);
            }
            report(what, start, changeStart, changeEnd, end, commits, errors, errorTimes);
        }
        return 0;
    }

    /** Writes {@code --fill-mib} MiB into the shard, a few transactions at a time, with progress. */
    private void fill(Database db) throws InterruptedException {
        long keys = fillKeys();
        if (keys == 0) {
            return;
        }
        long started = System.nanoTime();
        AtomicLong next = new AtomicLong();
        AtomicLong written = new AtomicLong();
        List<Thread> fillers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread f = new Thread(() -> {
                byte[] value = new byte[FILL_VALUE_BYTES];
                for (long from = next.getAndAdd(FILL_KEYS_PER_TRANSACTION); from < keys;
                        from = next.getAndAdd(FILL_KEYS_PER_TRANSACTION)) {
                    long first = from;
                    long last = Math.min(keys, from + FILL_KEYS_PER_TRANSACTION);
                    db.run(tr -> {
                        for (long i = first; i < last; i++) {
                            ThreadLocalRandom.current().nextBytes(value);
                            tr.set(key(i), value);
                        }
                        return null;
                    });
                    long done = written.addAndGet(last - first);
                    if (done / 8192 != (done - (last - first)) / 8192) {
                        System.out.printf(Locale.ROOT, "fill: %,d of %,d keys (%.1f MiB)%n", done, keys,
                                done * (double) FILL_VALUE_BYTES / (1 << 20));
                    }
                }
            }, "filler-" + t);
            f.start();
            fillers.add(f);
        }
        for (Thread f : fillers) {
            f.join();
        }
        System.out.printf(Locale.ROOT, "fill: %,d keys of %d bytes (%d MiB) in %.1f s%n", keys, FILL_VALUE_BYTES, fillMib,
                (System.nanoTime() - started) / 1e9);
    }

    private void write(Database db, long keys, AtomicBoolean stop, long start, AtomicLongArray commits,
            Map<String, AtomicLong> errors, List<long[]> errorTimes) {
        byte[] value = new byte[WRITE_VALUE_BYTES];
        while (!stop.get()) {
            long i = ThreadLocalRandom.current().nextLong(keys);
            try (Transaction tr = db.createTransaction()) {
                tr.set(key(i), value);
                tr.commit().join();
                int b = (int) ((System.nanoTime() - start) / BUCKET_NANOS);
                if (b < commits.length()) {
                    commits.incrementAndGet(b);
                }
            } catch (TxkvException | CompletionException e) {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                boolean retryable = cause instanceof TxkvException t && t.isRetryable();
                String name = cause instanceof TxkvException t ? t.getError().name().toLowerCase(Locale.ROOT)
                        + " (" + t.getError().code() + ")" : cause.getClass().getSimpleName();
                errors.computeIfAbsent((retryable ? "retryable " : "NOT retryable ") + name, k -> new AtomicLong())
                        .incrementAndGet();
                errorTimes.add(new long[] {System.nanoTime(), retryable ? 1 : 0});
                try {
                    Thread.sleep(5);
                } catch (InterruptedException x) {
                    return;
                }
            }
        }
    }

    private void report(String what, long start, long changeStart, long changeEnd, long end, AtomicLongArray commits,
            Map<String, AtomicLong> errors, List<long[]> errorTimes) {
        int warm = warmupSeconds * 4;
        int from = (int) ((changeStart - start) / BUCKET_NANOS);
        int to = (int) ((changeEnd - start) / BUCKET_NANOS);
        int last = (int) Math.min(commits.length(), (end - start) / BUCKET_NANOS);
        double before = rate(commits, warm, from);
        double during = rate(commits, from, Math.max(from + 1, to + 1));
        double after = rate(commits, Math.min(last, to + 1), last);
        double worst = Double.MAX_VALUE;
        for (int b = from; b + 4 <= Math.max(from + 4, to + 1); b++) {
            worst = Math.min(worst, rate(commits, b, b + 4));
        }
        double seconds = (changeEnd - changeStart) / 1e9;
        System.out.printf(Locale.ROOT, "%s: %.1f s%n", what, seconds);
        System.out.printf(Locale.ROOT, "writers (%d, one-key commits): before %,.0f commits/s, during %,.0f (%+.1f %%),"
                + " worst 1 s during %,.0f (%+.1f %%), after %,.0f%n", threads, before, during,
                100 * (during / before - 1), worst, 100 * (worst / before - 1), after);
        System.out.println("per second from 2 s before to 2 s after (commits/s): " + perSecond(commits, from - 8, to + 9));
        long retryableFirst = Long.MAX_VALUE;
        long retryableLast = Long.MIN_VALUE;
        long notRetryable = 0;
        synchronized (errorTimes) {
            for (long[] e : errorTimes) {
                if (e[1] == 1) {
                    retryableFirst = Math.min(retryableFirst, e[0]);
                    retryableLast = Math.max(retryableLast, e[0]);
                } else {
                    notRetryable++;
                }
            }
        }
        if (errors.isEmpty()) {
            System.out.println("errors: none");
        } else {
            System.out.println("errors: " + new TreeMap<>(errors) + (retryableFirst == Long.MAX_VALUE ? ""
                    : String.format(Locale.ROOT, "; retryable ones from %+.2f s to %+.2f s of the start (%.2f s)",
                            (retryableFirst - changeStart) / 1e9, (retryableLast - changeStart) / 1e9,
                            (retryableLast - retryableFirst) / 1e9)));
        }
        System.out.printf(Locale.ROOT, "RESULT %s with %d MiB: %.1f s, throughput %+.1f %% during it, %d errors not"
                + " retryable%n", what, fillMib, seconds, 100 * (during / before - 1), notRetryable);
    }

    private static double rate(AtomicLongArray commits, int from, int to) {
        long sum = 0;
        int n = 0;
        for (int b = Math.max(0, from); b < to && b < commits.length(); b++) {
            sum += commits.get(b);
            n++;
        }
        return n == 0 ? 0 : sum * 4.0 / n;
    }

    private static String perSecond(AtomicLongArray commits, int from, int to) {
        StringBuilder sb = new StringBuilder();
        for (int b = Math.max(0, from); b + 4 <= to && b + 4 <= commits.length(); b += 4) {
            sb.append(sb.length() == 0 ? "" : " ").append(Math.round(rate(commits, b, b + 4)));
        }
        return sb.toString();
    }
}
