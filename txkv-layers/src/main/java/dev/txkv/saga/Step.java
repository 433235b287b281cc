package dev.txkv.saga;

import java.time.Duration;
import java.util.Objects;

/**
 * One step of a saga: an action on a system txkv does not hold, the compensation that undoes
 * it, and its retry policy. Immutable.
 *
 * @param name a name for logs and failure reasons
 * @param action the forward action
 * @param compensation undoes the action; null if there is nothing to undo
 * @param maxAttempts attempts of the action (and, separately, of the compensation), 1 to {@link #ATTEMPTS_MAX}
 * @param backoffInitial delay after the first failed attempt; doubled per attempt up to {@link #BACKOFF_MAX}
 * @param timeout longest wait for one attempt; a timed-out attempt counts as failed, with unknown effect
 */
public record Step(String name, Action action, Compensation compensation, int maxAttempts, Duration backoffInitial,
        Duration timeout) {
    /** Most attempts of one action or compensation. */
    public static final int ATTEMPTS_MAX = 100;
    /** Longest backoff between attempts. */
    public static final Duration BACKOFF_MAX = Duration.ofMinutes(10);
    /** Longest attempt timeout. */
    public static final Duration TIMEOUT_MAX = Duration.ofMinutes(10);

    /** The forward action of a step. */
    @FunctionalInterface
    public interface Action {
        /** Does the step's work and returns its output (kept in txkv; null for none). Idempotent by {@link StepContext#idempotencyKey()}. */
        byte[] execute(StepContext context) throws Exception;
    }

    /** The compensation of a step. */
    @FunctionalInterface
    public interface Compensation {
        /**
         * Undoes the step. {@code output} is the action's recorded output, or null when the
         * action's outcome is unknown (it timed out): then undo it if it happened. Idempotent.
         */
        void compensate(StepContext context, byte[] output) throws Exception;
    }

    /** Checks the limits. */
    public Step {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(backoffInitial, "backoffInitial");
        Objects.requireNonNull(timeout, "timeout");
        if (maxAttempts < 1 || maxAttempts > ATTEMPTS_MAX) {
            throw new IllegalArgumentException("maxAttempts must be in [1, " + ATTEMPTS_MAX + "], got " + maxAttempts);
        }
        if (backoffInitial.isNegative() || backoffInitial.compareTo(BACKOFF_MAX) > 0) {
            throw new IllegalArgumentException("backoff must be in [0, " + BACKOFF_MAX + "]");
        }
        if (timeout.toMillis() < 1 || timeout.compareTo(TIMEOUT_MAX) > 0) {
            throw new IllegalArgumentException("timeout must be in [1 ms, " + TIMEOUT_MAX + "]");
        }
    }

    /** A step with 3 attempts, 100 ms initial backoff and a 30 s attempt timeout. */
    public static Step of(String name, Action action, Compensation compensation) {
        return new Step(name, action, compensation, 3, Duration.ofMillis(100), Duration.ofSeconds(30));
    }

    /** This step with another retry policy. */
    public Step withRetries(int maxAttempts, Duration backoffInitial) {
        return new Step(name, action, compensation, maxAttempts, backoffInitial, timeout);
    }

    /** This step with another attempt timeout. */
    public Step withTimeout(Duration timeout) {
        return new Step(name, action, compensation, maxAttempts, backoffInitial, timeout);
    }

    /** The delay before attempt {@code failedAttempts + 1}. */
    long backoffMs(int failedAttempts) {
        long delay = backoffInitial.toMillis() << Math.min(Math.max(failedAttempts - 1, 0), 30);
        return Math.min(delay < 0 ? Long.MAX_VALUE : delay, BACKOFF_MAX.toMillis());
    }
}
