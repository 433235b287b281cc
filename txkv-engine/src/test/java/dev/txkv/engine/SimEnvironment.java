package dev.txkv.engine;

import dev.txkv.spi.Environment;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/**
 * The world of a deterministic simulation: a virtual clock that moves only from event to event,
 * one seeded source of randomness, and a queue of events run one at a time on the calling
 * thread. Everything the engine and the client would do later or on another thread (delayed
 * retries, completions, log syncs, network replies) becomes an event here, so a run is a pure
 * function of its seed.
 */
final class SimEnvironment implements Environment {
    private record Event(long atNanos, long sequence, Runnable task) {
    }

    private final Random random;
    private final PriorityQueue<Event> events = new PriorityQueue<>(
            Comparator.comparingLong(Event::atNanos).thenComparingLong(Event::sequence));
    private long nowNanos = TimeUnit.SECONDS.toNanos(1);
    private long sequence;
    private long eventsRun;

    SimEnvironment(long seed) {
        this.random = new Random(seed);
    }

    @Override
    public long nanoTime() {
        return nowNanos;
    }

    @Override
    public long currentTimeMillis() {
        // A fixed epoch: versions derive from it, and a run must not depend on the day.
        return 1_800_000_000_000L + TimeUnit.NANOSECONDS.toMillis(nowNanos);
    }

    @Override
    public void schedule(Runnable task, long delay, TimeUnit unit) {
        events.add(new Event(nowNanos + unit.toNanos(Math.max(0, delay)), sequence++, task));
    }

    @Override
    public RandomGenerator random() {
        return random;
    }

    @Override
    public void uniqueId(byte[] id) {
        random.nextBytes(id);
    }

    Random rng() {
        return random;
    }

    /** Runs tasks as events at the current time (the engine's completion executor in a simulation). */
    Executor executor() {
        return task -> schedule(task, 0, TimeUnit.NANOSECONDS);
    }

    /** A random delay in [minMicros, maxMicros] microseconds, as nanoseconds. */
    long delayNanos(long minMicros, long maxMicros) {
        return TimeUnit.MICROSECONDS.toNanos(minMicros + (long) (random.nextDouble() * (maxMicros - minMicros)));
    }

    /**
     * Runs {@code step} again and again, a random [minMicros, maxMicros] apart, for as long as
     * {@code alive} holds (a simulated process's pipeline, stepped by events).
     */
    void repeat(java.util.function.BooleanSupplier alive, Runnable step, long minMicros, long maxMicros) {
        schedule(() -> {
            if (alive.getAsBoolean()) {
                step.run();
                repeat(alive, step, minMicros, maxMicros);
            }
        }, delayNanos(minMicros, maxMicros), TimeUnit.NANOSECONDS);
    }

    /** Runs the next event, moving the clock to its time; false when none is left. */
    boolean runNext() {
        Event e = events.poll();
        if (e == null) {
            return false;
        }
        nowNanos = Math.max(nowNanos, e.atNanos);
        eventsRun++;
        e.task.run();
        return true;
    }

    long eventsRun() {
        return eventsRun;
    }
}
