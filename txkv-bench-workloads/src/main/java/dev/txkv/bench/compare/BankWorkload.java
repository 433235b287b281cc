package dev.txkv.bench.compare;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The contended bank workload: {@code clients} threads each run transfers of 1 to 10 between
 * two distinct random accounts, for a fixed time. Reports commits per second, the abort rate
 * (retried attempts over all attempts) and transfer latency including retries, then checks
 * that the total balance is unchanged. Only transfers that finish inside the measured window
 * count; those still retrying when it closes finish (bounded) and are reported as late.
 *
 * <p>Every system stores the accounts alike: key {@code bank/NNNNNN} (six digits), value the
 * balance as 8 bytes big-endian ({@link #accountKey}, {@link #amount}).
 */
public final class BankWorkload {
    /** Starting balance of every account. */
    public static final long BALANCE_INITIAL = 1_000;

    /** What one measurement found. */
    public record Result(String system, int accounts, int clients, double seconds, long commits,
            long attempts, long errors, long commitsLate, Histogram latencyMicros, long totalBefore, long totalAfter) {
        public double commitsPerSecond() {
            return commits / seconds;
        }

        /** Aborted attempts over all attempts. */
        public double abortRate() {
            return attempts == 0 ? 0 : (attempts - commits) / (double) attempts;
        }

        public boolean moneyConserved() {
            return totalBefore == totalAfter;
        }

        public double p50Ms() {
            return latencyMicros.getValueAtPercentile(50) / 1000.0;
        }

        public double p99Ms() {
            return latencyMicros.getValueAtPercentile(99) / 1000.0;
        }

        /** This result as one line of JSON, the latency histogram in HdrHistogram's compressed form (base64). */
        public String toJson() {
            JsonObject json = new JsonObject();
            json.addProperty("system", system);
            json.addProperty("accounts", accounts);
            json.addProperty("clients", clients);
            json.addProperty("seconds", seconds);
            json.addProperty("commits", commits);
            json.addProperty("attempts", attempts);
            json.addProperty("errors", errors);
            json.addProperty("commitsLate", commitsLate);
            ByteBuffer histogram = ByteBuffer.allocate(latencyMicros.getNeededByteBufferCapacity());
            int length = latencyMicros.encodeIntoCompressedByteBuffer(histogram);
            json.addProperty("latencyMicros", Base64.getEncoder().encodeToString(Arrays.copyOf(histogram.array(), length)));
            json.addProperty("totalBefore", totalBefore);
            json.addProperty("totalAfter", totalAfter);
            return json.toString();
        }

        /** The result {@link #toJson()} wrote. */
        public static Result fromJson(String line) {
            JsonObject json = JsonParser.parseString(line).getAsJsonObject();
            Histogram latency;
            try {
                latency = Histogram.decodeFromCompressedByteBuffer(
                        ByteBuffer.wrap(Base64.getDecoder().decode(json.get("latencyMicros").getAsString())), 0);
            } catch (DataFormatException e) {
                throw new IllegalArgumentException("latency histogram not readable: " + e.getMessage(), e);
            }
            return new Result(json.get("system").getAsString(), json.get("accounts").getAsInt(), json.get("clients").getAsInt(),
                    json.get("seconds").getAsDouble(), json.get("commits").getAsLong(), json.get("attempts").getAsLong(),
                    json.get("errors").getAsLong(), json.get("commitsLate").getAsLong(), latency,
                    json.get("totalBefore").getAsLong(), json.get("totalAfter").getAsLong());
        }
    }

    /** The first key of the accounts' range. */
    public static byte[] accountsBegin() {
        return "bank/".getBytes(StandardCharsets.UTF_8);
    }

    /** The end (exclusive) of the accounts' range. */
    public static byte[] accountsEnd() {
        return "bank0".getBytes(StandardCharsets.UTF_8);
    }

    /** The key of account {@code id}. */
    public static byte[] accountKey(int id) {
        return String.format("bank/%06d", id).getBytes(StandardCharsets.UTF_8);
    }

    /** A balance as a value. */
    public static byte[] amount(long value) {
        return ByteBuffer.allocate(8).putLong(value).array();
    }

    /** The balance in {@code value}; 0 for a missing account. */
    public static long amountOf(byte[] value) {
        return value == null ? 0 : ByteBuffer.wrap(value).getLong();
    }

    private BankWorkload() {
    }

    /**
     * Resets {@code store} to {@code accounts} accounts and runs transfers from {@code clients}
     * threads: {@code warmupMs} unmeasured, then {@code measureMs} measured.
     */
    public static Result run(BankStore store, int accounts, int clients, long warmupMs, long measureMs)
            throws Exception {
        if (accounts < 2 || clients < 1 || measureMs <= 0) {
            throw new IllegalArgumentException("need 2+ accounts, 1+ clients and a positive time");
        }
        store.reset(accounts, BALANCE_INITIAL);
        long totalBefore = store.total(accounts);
        if (totalBefore != accounts * BALANCE_INITIAL) {
            throw new IllegalStateException(store.name() + ": reset left a total of " + totalBefore);
        }
        LongAdder commits = new LongAdder();
        LongAdder attempts = new LongAdder();
        LongAdder errors = new LongAdder();
        LongAdder late = new LongAdder();
        Recorder latency = new Recorder(3);
        AtomicReference<Exception> firstError = new AtomicReference<>();
        long start = System.nanoTime();
        long measureFrom = start + TimeUnit.MILLISECONDS.toNanos(warmupMs);
        long stopAt = measureFrom + TimeUnit.MILLISECONDS.toNanos(measureMs);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> workers = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            workers.add(pool.submit(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                boolean measuring = false;
                while (true) {
                    long now = System.nanoTime();
                    if (now >= stopAt) {
                        return;
                    }
                    if (!measuring && now >= measureFrom) {
                        measuring = true;
                    }
                    int from = random.nextInt(accounts);
                    int to = (from + 1 + random.nextInt(accounts - 1)) % accounts;
                    long begin = System.nanoTime();
                    try {
                        int tries = store.transfer(from, to, 1 + random.nextInt(10));
                        long end = System.nanoTime();
                        if (measuring && end <= stopAt) {
                            latency.recordValue(Math.max(1, (end - begin) / 1000));
                            commits.increment();
                            attempts.add(tries);
                        } else if (measuring) {
                            late.increment();
                        }
                    } catch (Exception e) {
                        errors.increment();
                        firstError.compareAndSet(null, e);
                    }
                }
            }));
        }
        pool.shutdown();
        long waitMs = warmupMs + measureMs + 60_000;
        if (!pool.awaitTermination(waitMs, TimeUnit.MILLISECONDS)) {
            pool.shutdownNow();
            throw new IllegalStateException(store.name() + ": clients still running " + waitMs + " ms after start");
        }
        for (Future<?> worker : workers) {
            worker.get();
        }
        if (firstError.get() != null) {
            System.err.println("  " + store.name() + ": " + errors.sum() + " failed transfers, first: " + firstError.get());
        }
        double seconds = measureMs / 1000.0;
        long totalAfter = store.total(accounts);
        return new Result(store.name(), accounts, clients, seconds, commits.sum(), attempts.sum(), errors.sum(),
                late.sum(), latency.getIntervalHistogram(), totalBefore, totalAfter);
    }
}
