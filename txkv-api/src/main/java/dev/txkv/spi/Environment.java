package dev.txkv.spi;

import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/**
 * Time, randomness and delayed work, as the engine's commit path and the client's retry loop
 * see them. Production code uses {@link #SYSTEM}; a deterministic simulation passes its own,
 * whose clock moves only when the simulation says so and whose random numbers come from one
 * seed, so that a run replays exactly from its seed.
 */
public interface Environment {
    /** A monotonic clock in nanoseconds, as {@link System#nanoTime()}. */
    long nanoTime();

    /** Wall-clock time in milliseconds since the epoch, as {@link System#currentTimeMillis()}. */
    long currentTimeMillis();

    /** Runs {@code task} once after {@code delay}, on a thread (or step) of the environment's choosing. */
    void schedule(Runnable task, long delay, TimeUnit unit);

    /** A source of random numbers for backoff jitter. */
    RandomGenerator random();

    /** Fills {@code id} with random bytes for an id that must be unique among all clients (an idempotency id). */
    void uniqueId(byte[] id);

    /** The real clock, {@link ThreadLocalRandom}, {@link SecureRandom} ids and {@link CompletableFuture#delayedExecutor}. */
    Environment SYSTEM = new Environment() {
        private final SecureRandom ids = new SecureRandom();

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long currentTimeMillis() {
            return System.currentTimeMillis();
        }

        @Override
        public void schedule(Runnable task, long delay, TimeUnit unit) {
            CompletableFuture.delayedExecutor(delay, unit).execute(task);
        }

        @Override
        public RandomGenerator random() {
            return ThreadLocalRandom.current();
        }

        @Override
        public void uniqueId(byte[] id) {
            ids.nextBytes(id);
        }
    };
}
