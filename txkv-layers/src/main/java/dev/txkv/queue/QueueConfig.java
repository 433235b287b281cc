package dev.txkv.queue;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Random;

/**
 * Settings of a {@link Queue}: priorities, visibility timeout, retries and their backoff, how
 * widely consumers spread over the head of the queue, and the clock and randomness the queue
 * uses. Every value has a named upper bound; setters refuse values outside it with
 * {@link IllegalArgumentException}. Not thread-safe while being built; hand it to the queue
 * and leave it alone.
 */
public final class QueueConfig {
    /** Most priority levels a queue may have (level 0 is served first). */
    public static final int PRIORITY_LEVELS_MAX = 16;
    /** Most deliveries of one message before it goes to the dead-letter queue. */
    public static final int ATTEMPTS_MAX = 1_000;
    /** Most ready items one dequeue chooses among at random. */
    public static final int CANDIDATE_SPREAD_MAX = 64;
    /** Most partitions one dequeue looks at before reporting the queue empty. */
    public static final int PARTITIONS_SCANNED_MAX = 1_024;
    /** Longest visibility timeout, delay or backoff: one week. */
    public static final long DURATION_MS_MAX = Duration.ofDays(7).toMillis();

    private int priorityLevels = 4;
    private long visibilityTimeoutMs = 30_000;
    private int maxAttempts = 5;
    private long backoffInitialMs = 1_000;
    private long backoffMaxMs = 60_000;
    private int candidateSpread = 8;
    private int partitionsScanned = 64;
    private Clock clock = Clock.systemUTC();
    private Random random = new Random();

    /** Number of priority levels, 1 to {@link #PRIORITY_LEVELS_MAX} (default 4). */
    public QueueConfig priorityLevels(int levels) {
        this.priorityLevels = checkRange(levels, 1, PRIORITY_LEVELS_MAX, "priority levels");
        return this;
    }

    /** How long a dequeued item stays hidden before it is delivered again unless acked (default 30 s). */
    public QueueConfig visibilityTimeout(Duration timeout) {
        this.visibilityTimeoutMs = checkRange(timeout.toMillis(), 1, DURATION_MS_MAX, "visibility timeout");
        return this;
    }

    /** Deliveries of a message before it is dead-lettered, 1 to {@link #ATTEMPTS_MAX} (default 5). */
    public QueueConfig maxAttempts(int attempts) {
        this.maxAttempts = checkRange(attempts, 1, ATTEMPTS_MAX, "max attempts");
        return this;
    }

    /** Delay after the first failed attempt; doubled per further attempt up to {@code max} (defaults 1 s, 60 s). */
    public QueueConfig backoff(Duration initial, Duration max) {
        long initialMs = checkRange(initial.toMillis(), 0, DURATION_MS_MAX, "initial backoff");
        long maxMs = checkRange(max.toMillis(), initialMs, DURATION_MS_MAX, "max backoff");
        this.backoffInitialMs = initialMs;
        this.backoffMaxMs = maxMs;
        return this;
    }

    /** How many ready items at the head a dequeue picks from at random, 1 to {@link #CANDIDATE_SPREAD_MAX} (default 8). */
    public QueueConfig candidateSpread(int count) {
        this.candidateSpread = checkRange(count, 1, CANDIDATE_SPREAD_MAX, "candidate spread");
        return this;
    }

    /** Partitions a dequeue examines, 1 to {@link #PARTITIONS_SCANNED_MAX} (default 64). */
    public QueueConfig partitionsScanned(int count) {
        this.partitionsScanned = checkRange(count, 1, PARTITIONS_SCANNED_MAX, "partitions scanned");
        return this;
    }

    /** The clock for vesting and lease times (default the system UTC clock). */
    public QueueConfig clock(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        return this;
    }

    /** The randomness for picking candidates and lease ids; seed it in tests. */
    public QueueConfig random(Random random) {
        this.random = Objects.requireNonNull(random, "random");
        return this;
    }

    /** The number of priority levels. */
    public int priorityLevels() {
        return priorityLevels;
    }

    /** The visibility timeout in milliseconds. */
    public long visibilityTimeoutMs() {
        return visibilityTimeoutMs;
    }

    /** The deliveries before dead-lettering. */
    public int maxAttempts() {
        return maxAttempts;
    }

    /** The first retry delay in milliseconds. */
    public long backoffInitialMs() {
        return backoffInitialMs;
    }

    /** The largest retry delay in milliseconds. */
    public long backoffMaxMs() {
        return backoffMaxMs;
    }

    /** How many head items a dequeue chooses among. */
    public int candidateSpread() {
        return candidateSpread;
    }

    /** How many partitions a dequeue examines. */
    public int partitionsScanned() {
        return partitionsScanned;
    }

    /** The clock. */
    public Clock clock() {
        return clock;
    }

    /** The randomness. */
    public Random random() {
        return random;
    }

    /** The retry delay after failed delivery number {@code attempt} (1-based): exponential, capped. */
    public long backoffMs(int attempt) {
        int doublings = Math.min(Math.max(attempt - 1, 0), 62);
        long delay = backoffInitialMs << doublings;
        if (delay < 0 || (doublings > 0 && delay >>> doublings != backoffInitialMs)) {
            return backoffMaxMs;
        }
        return Math.min(delay, backoffMaxMs);
    }

    private static int checkRange(int value, int min, int max, String what) {
        return (int) checkRange((long) value, min, max, what);
    }

    private static long checkRange(long value, long min, long max, String what) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(what + " must be in [" + min + ", " + max + "], got " + value);
        }
        return value;
    }
}
